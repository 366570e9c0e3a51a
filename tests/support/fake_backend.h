// A test double for the server's Remote NN: the logits are a function of the request's bytes
// (CRC-32 of the stream), so a test can check that every answered request got the logits of
// exactly the bytes it sent (corrupted data never accepted). Optional sleep per call and per
// request models the cost of a real network, with the per-call part amortised by batching.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <thread>
#include <vector>

#include "common/crc32.h"
#include "server/backend.h"
#include "wire/wire.h"

namespace agilenn::testing {

inline std::vector<float> fake_logits(std::span<const uint8_t> stream, unsigned classes = 10) {
  const uint32_t crc = agn_crc32(stream.data(), stream.size());
  std::vector<float> logits(classes);
  for (unsigned c = 0; c < classes; ++c) logits[c] = static_cast<float>((crc >> (c % 24)) & 0xFF) + 0.25f * c;
  return logits;
}

class FakeBackend : public server::Backend {
 public:
  explicit FakeBackend(double call_ms = 0, double per_request_ms = 0) : call_ms_(call_ms), per_request_ms_(per_request_ms) {}

  std::vector<server::BackendResult> run(std::span<const std::span<const uint8_t>> requests) override {
    calls.fetch_add(1);
    decoded.fetch_add(requests.size());
    const double sleep_ms = call_ms_ + per_request_ms_ * static_cast<double>(requests.size());
    if (sleep_ms > 0) std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(sleep_ms));
    std::vector<server::BackendResult> out;
    for (const auto& r : requests) {
      unsigned codec = 0;
      const uint8_t* stream = nullptr;
      size_t size = 0;
      if (agn_wire_request_parse(r.data(), r.size(), &codec, &stream, &size) != AGN_OK) {
        out.push_back({AGN_WIRE_REPLY_BAD_REQUEST, {}});
      } else {
        out.push_back({AGN_WIRE_REPLY_OK, fake_logits({stream, size})});
      }
    }
    return out;
  }

  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> decoded{0};  // requests that reached the backend

 private:
  double call_ms_, per_request_ms_;
};

// A request message: request header (codec AGN_WIRE_CODEC_PACKED) + `size` pseudo-random bytes.
inline std::vector<uint8_t> fake_request(size_t size, uint32_t seed) {
  std::vector<uint8_t> m(AGN_WIRE_REQUEST_HEADER + size);
  agn_wire_request_header_write(AGN_WIRE_CODEC_PACKED, m.data(), m.size());
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = AGN_WIRE_REQUEST_HEADER; i < m.size(); ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    m[i] = static_cast<uint8_t>(x);
  }
  return m;
}

}  // namespace agilenn::testing
