// Link emulation on the client path: an emulated rate, one-way delay, loss and corruption, so
// link effects are reproducible without privileges. The client holds each datagram until the
// emulated link would have delivered it, then really sends it (uplink), and holds each received
// datagram the same way before looking at it (downlink): the server and the deadlines see
// realistic arrival times.
//
// Model, per direction: a datagram of n bytes occupies the link for (n + 28) * 8 / rate seconds
// (IPv4 + UDP headers counted) after the previous one has left, then arrives `delay_ms` later.
// Loss and corruption are independent per datagram (seeded, reproducible); a corrupted datagram
// has one random bit flipped.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace agilenn::client {

using Clock = std::chrono::steady_clock;

struct LinkOptions {
  double rate_bps = 0;  // 0: unlimited
  double delay_ms = 0;  // one way
  double loss = 0;      // probability that a datagram is lost, in [0, 1)
  double corrupt = 0;   // probability that a datagram gets one bit flipped, in [0, 1]
  uint64_t seed = 1;
};

// "6mbps", "270kbps", "1.5Mbps", "115200bps", "115200" (bits/s; k, M, G are powers of 1000;
// case-insensitive) -> bits per second. "0", "inf" and "unlimited" give 0 (no rate limit).
// Throws std::invalid_argument naming the text.
double parse_rate_bps(const std::string& text);

// Throws std::invalid_argument when a field is out of range.
void check_link_options(const LinkOptions& options);

class LinkDirection {
 public:
  LinkDirection(const LinkOptions& options, uint64_t stream);
  // `data` enters the link at `now`: when it arrives at the far end, or none if it is lost.
  // May flip one bit of `data`.
  std::optional<Clock::time_point> transmit(std::vector<uint8_t>& data, Clock::time_point now);
  bool passthrough() const;  // no rate, delay, loss or corruption

 private:
  LinkOptions options_;
  std::mt19937_64 rng_;
  Clock::time_point busy_until_{};
};

}  // namespace agilenn::client
