// Simulated devices: N RemoteClients on N threads, each sending its next request as soon as the
// previous one returned (closed loop, the most load N devices can offer). Used by
// `agilenn bench serve` and the load tests.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "client/remote_client.h"

namespace agilenn::client {

struct LoadOptions {
  ClientOptions client;         // server, key, limits, link; device ids are first_device + i
  uint32_t first_device = 1;
  int devices = 16;
  double seconds = 5;           // run until this much time has passed ...
  int64_t requests_per_device = 0;  // ... or, if > 0, exactly this many requests per device
  // The request message device `device` sends as its `index`-th request.
  std::function<std::vector<uint8_t>(uint32_t device, int64_t index)> make_request;
};

struct LoadReport {
  int64_t requests = 0;
  int64_t answered = 0;  // replies with status OK
  int64_t fallbacks = 0;  // deadline passed or an error status
  double seconds = 0;
  double answered_per_s = 0;
  double round_trip_p50_ms = 0, round_trip_p99_ms = 0;  // over answered requests
  double wire_bytes_per_request = 0;
};

LoadReport run_load(const LoadOptions& options);

}  // namespace agilenn::client
