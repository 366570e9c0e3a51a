// What the server runs on complete requests: a batch of request messages in, one result each out.
// The real backend decodes the stream, dequantises the symbols and runs the Remote NN
// (torch_backend.h); tests use doubles. Called from the batcher's thread only.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "agilenn/wire_format.h"

namespace agilenn::server {

struct BackendResult {
  uint8_t status = AGN_WIRE_REPLY_OK;  // AGN_WIRE_REPLY_*; logits are empty unless OK
  std::vector<float> logits;
};

class Backend {
 public:
  virtual ~Backend() = default;
  // One result per request, in order. Each request is a whole request message (the 4-byte request
  // header and the stream). A request that does not decode gets AGN_WIRE_REPLY_BAD_REQUEST and
  // does not affect the others. Must not throw for bad input.
  virtual std::vector<BackendResult> run(std::span<const std::span<const uint8_t>> requests) = 0;
};

}  // namespace agilenn::server
