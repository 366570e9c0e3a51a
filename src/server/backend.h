// What the server runs on complete requests: each request is prepared alone on the receiving
// thread as soon as it is complete (the real backend decodes the stream there, while the Remote NN
// runs the batch before on the batcher's thread), then batches of prepared requests go through
// run() on the batcher's thread, one result each out. The real backend is ModelBackend
// (model_backend.h); tests use doubles.
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
  // Turns a whole request message (the 4-byte request header and the stream) into what run() takes
  // for it, in place; work that needs no other request belongs here. The default keeps the
  // message. Must not throw for bad input (a request that does not decode can become empty).
  virtual void prepare(std::vector<uint8_t>& request) const { (void)request; }
  // One result per request, in order; each request as prepare() left it. A request that does not
  // decode gets AGN_WIRE_REPLY_BAD_REQUEST and does not affect the others. Must not throw for bad
  // input.
  virtual std::vector<BackendResult> run(std::span<const std::span<const uint8_t>> requests) = 0;
};

}  // namespace agilenn::server
