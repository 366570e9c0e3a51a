// `agilenn infer --server HOST:PORT`: the device pipeline of `infer` (src/export/infer.h) with the
// Remote NN behind `agilenn serve`, reached over UDP by the host client (src/client): resends,
// the deadline fallback and the link emulation apply to every image, one image at a time as a
// device streams them.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "client/remote_client.h"
#include "export/infer.h"

namespace agilenn::cli {

struct RemoteInferArgs {
  std::string server;          // --server HOST:PORT; empty: in-process mode
  uint32_t device_id = 1;      // --device-id
  std::string key;             // --key HEX (32 hex digits)
  std::string keys;            // --keys FILE (the line of --device-id)
  size_t max_datagram = AGN_WIRE_DEFAULT_MAX_DATAGRAM;
  double deadline_ms = 200;    // --deadline-ms
  double resend_ms = 0;        // --resend-ms (0: adaptive)
  std::string link_rate = "0"; // --link-rate (0: unlimited)
  double link_delay_ms = 0;
  double link_loss = 0;
  double link_corrupt = 0;
  uint64_t link_seed = 1;
};

// Adds --server and the client/link options to `infer`.
void add_remote_infer_options(CLI::App* cmd, RemoteInferArgs& args);

// The client options of `args`: the server, the key (--key, --keys, or the development key of
// `model_dir` with a warning), limits and link emulation. Throws std::invalid_argument.
client::ClientOptions remote_client_options(const RemoteInferArgs& args, const std::string& model_dir);

// The device's share of each image in `r`: the runtime and the rANS encoder, host milliseconds.
double device_ms_per_image(const exporter::InferReport& r);

// A RemoteBackend that sends each payload (rANS bytes) to the server as one request.
class UdpRemote : public exporter::RemoteBackend {
 public:
  explicit UdpRemote(const client::ClientOptions& options);
  std::vector<std::optional<std::vector<float>>> remote_logits(const std::vector<std::vector<uint8_t>>& payloads) override;

  // {"fallback_rate", "wire_bytes_per_image", "latency_ms": {"device", "link", "server", "total"}}
  // (means; link and server over answered images, total over all), given the device's own
  // milliseconds per image; plus "link" (the emulation) and "transmissions_per_image".
  nlohmann::json report(double device_ms) const;

 private:
  client::RemoteClient client_;
  client::LinkOptions link_;
  double deadline_ms_;
  int64_t images_ = 0, answered_ = 0, transmissions_ = 0;
  double wire_bytes_ = 0, round_trip_ms_ = 0, link_ms_ = 0, server_ms_ = 0;
};

}  // namespace agilenn::cli
