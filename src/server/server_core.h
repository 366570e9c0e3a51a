// The server's datagram handling, without sockets or threads, so that tests and the fuzzer drive
// it directly: checks, per-device state (sequence window, reassembly, reply cache), bounded
// memory, and reply building. Not thread-safe: the UDP server serialises calls with a mutex.
//
// Order of checks for every datagram (nothing is stored or decoded before all of them pass):
// agn_wire_parse (size, magic, version, type, header fields, CRC), direction (requests only),
// known device, SipHash tag, sequence window, message size limit, memory budgets.
#pragma once

#include <netinet/in.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "server/backend.h"
#include "wire/host/keys.h"
#include "wire/wire.h"

namespace agilenn::server {

using Clock = std::chrono::steady_clock;

struct ServerLimits {
  size_t max_datagram = AGN_WIRE_DEFAULT_MAX_DATAGRAM;  // largest datagram accepted and sent
  size_t max_message = 64 * 1024;           // largest request message in bytes
  double reassembly_timeout_ms = 1000;      // a partial message older than this is dropped
  size_t device_bytes = 256 * 1024;         // reassembly memory per device
  size_t total_bytes = 64u << 20;           // reassembly memory over all devices
  size_t max_partials = 4;                  // messages in reassembly per device
  size_t max_devices = 4096;                // device states held
  size_t reply_cache = 8;                   // last replies kept per device
};

// Why a datagram or a message was dropped. The first eight are agn_wire_verdict 1..8.
enum class Drop : int {
  truncated, oversized, bad_magic, wrong_version, bad_type, bad_header, bad_checksum, bad_mac,
  unknown_device,      // no key for the device id
  wrong_direction,     // a reply sent to the server
  replayed,            // sequence older than the window, or completed and no longer cached
  message_too_big,     // message size over ServerLimits::max_message
  memory,              // the per-device or total reassembly budget is spent
  too_many_devices,    // the device table is full
  reassembly_timeout,  // a partial message expired (counted once per message)
  busy,                // the Remote NN queue was full (counted once per message)
  count_
};
inline constexpr size_t kDropReasons = static_cast<size_t>(Drop::count_);
std::string_view drop_name(Drop reason);

struct Counters {
  uint64_t datagrams = 0;            // received
  uint64_t requests = 0;             // complete request messages handed to the Remote NN
  uint64_t replies = 0;              // replies built (each answered request once)
  uint64_t duplicates_answered = 0;  // fragments of answered requests: cached reply resent
  uint64_t duplicates_ignored = 0;   // fragments already stored, or of a request being served
  std::array<uint64_t, kDropReasons> drops{};
  uint64_t dropped() const;
};

// A complete, authenticated request, ready for the Remote NN.
struct Job {
  uint32_t device_id = 0;
  uint32_t seq = 0;
  sockaddr_in peer{};
  std::vector<uint8_t> request;
  Clock::time_point completed;  // when its last fragment arrived
};

struct Outgoing {
  sockaddr_in to{};
  std::vector<uint8_t> datagram;
};

class ServerCore {
 public:
  ServerCore(wire::KeyStore keys, ServerLimits limits);

  // Checks and handles one received datagram of `size` bytes (a size larger than the bytes at
  // `data` is allowed only above max_datagram: it is counted as oversized without reading).
  // Appends datagrams to send now (a cached reply) to `out`; returns the request this datagram
  // completed, if any.
  std::optional<Job> handle(const uint8_t* data, size_t size, const sockaddr_in& from, Clock::time_point now,
                            std::vector<Outgoing>& out);
  // The Remote NN's result for `job`: builds the reply datagrams (appended to `out`), marks the
  // sequence answered and caches the reply for resends.
  void reply(const Job& job, const BackendResult& result, uint32_t server_time_us, std::vector<Outgoing>& out);
  // `job` could not be queued: forget it so that a resend is reassembled again.
  void abandon(const Job& job);
  // Drops partial messages older than the reassembly timeout.
  void expire(Clock::time_point now);

  const Counters& counters() const { return counters_; }
  size_t reassembly_bytes() const { return total_bytes_; }
  size_t peak_reassembly_bytes() const { return peak_bytes_; }
  size_t devices() const { return devices_.size(); }
  const ServerLimits& limits() const { return limits_; }

 private:
  struct Partial {
    std::vector<uint8_t> buffer, bitmap;
    agn_wire_assembler assembler{};
    Clock::time_point started;
    size_t bytes = 0;
  };
  struct Cached {
    uint32_t seq = 0;
    std::vector<std::vector<uint8_t>> datagrams;
  };
  struct Device {
    agn_wire_window window{};
    std::map<uint32_t, Partial> partials;
    std::vector<uint32_t> in_flight;  // complete, handed to the Remote NN, not answered yet
    std::vector<Cached> cache;        // oldest first, at most limits_.reply_cache
    size_t bytes = 0;
  };

  void drop(Drop reason) { ++counters_.drops[static_cast<size_t>(reason)]; }
  void release(Device& device, std::map<uint32_t, Partial>::iterator it);

  wire::KeyStore keys_;
  ServerLimits limits_;
  std::unordered_map<uint32_t, Device> devices_;
  Counters counters_;
  size_t total_bytes_ = 0;
  size_t peak_bytes_ = 0;
};

}  // namespace agilenn::server
