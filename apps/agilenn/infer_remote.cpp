#include "infer_remote.h"

#include <cstdio>
#include <stdexcept>

#include "wire/host/keys.h"
#include "wire/host/udp.h"

namespace agilenn::cli {
client::ClientOptions remote_client_options(const RemoteInferArgs& a, const std::string& model_dir) {
  client::ClientOptions o;
  o.server = wire::parse_host_port(a.server);
  o.device_id = a.device_id;
  if (!a.key.empty() && !a.keys.empty()) throw std::invalid_argument("give --key or --keys, not both");
  if (!a.key.empty()) {
    o.key = wire::parse_key_hex(a.key, "--key");
  } else if (!a.keys.empty()) {
    const wire::KeyStore store = wire::KeyStore::from_file(a.keys);
    const wire::Key* key = store.find(a.device_id);
    if (key == nullptr) throw std::invalid_argument(a.keys + ": no key for device id " + std::to_string(a.device_id));
    o.key = *key;
  } else {
    std::fprintf(stderr,
                 "infer: warning: no --key/--keys: using the development key derived from %s/model.agnm "
                 "(the server must run without --keys too)\n",
                 model_dir.c_str());
    o.key = wire::development_key(model_dir);
  }
  o.max_datagram = a.max_datagram;
  o.deadline_ms = a.deadline_ms;
  o.resend_ms = a.resend_ms;
  o.link.rate_bps = client::parse_rate_bps(a.link_rate);
  o.link.delay_ms = a.link_delay_ms;
  o.link.loss = a.link_loss;
  o.link.corrupt = a.link_corrupt;
  o.link.seed = a.link_seed;
  return o;
}

void add_remote_infer_options(CLI::App* cmd, RemoteInferArgs& a) {
  cmd->add_option("--server", a.server, "HOST:PORT of agilenn serve; the Remote NN then runs there, over UDP");
  cmd->add_option("--device-id", a.device_id, "This device's id (selects its key)")->capture_default_str();
  cmd->add_option("--key", a.key, "This device's key, 32 hex digits");
  cmd->add_option("--keys", a.keys, "Keys file; the line of --device-id is used")->check(CLI::ExistingFile);
  cmd->add_option("--max-datagram", a.max_datagram, "Largest datagram sent, bytes")
      ->check(CLI::Range(static_cast<size_t>(AGN_WIRE_MIN_DATAGRAM), static_cast<size_t>(AGN_WIRE_MAX_DATAGRAM)))
      ->capture_default_str();
  cmd->add_option("--deadline-ms", a.deadline_ms, "After this long without a reply the local prediction is used")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--resend-ms", a.resend_ms, "Resend interval (0: adaptive, twice the smoothed round trip)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--link-rate", a.link_rate, "Emulated link rate, e.g. 6mbps, 270kbps (0: unlimited)")->capture_default_str();
  cmd->add_option("--link-delay-ms", a.link_delay_ms, "Emulated one-way delay")->check(CLI::Range(0.0, 60000.0))->capture_default_str();
  cmd->add_option("--link-loss", a.link_loss, "Emulated datagram loss, a fraction in [0, 1), each direction")
      ->check(CLI::Range(0.0, 0.999999))->capture_default_str();
  cmd->add_option("--link-corrupt", a.link_corrupt, "Emulated fraction of datagrams with one bit flipped")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--link-seed", a.link_seed, "Seed of the emulated loss and corruption")->capture_default_str();
}

UdpRemote::UdpRemote(const client::ClientOptions& options)
    : client_(options), link_(options.link), deadline_ms_(options.deadline_ms) {}

std::vector<std::optional<std::vector<float>>> UdpRemote::remote_logits(const std::vector<std::vector<uint8_t>>& payloads) {
  std::vector<std::optional<std::vector<float>>> out;
  std::vector<uint8_t> message;
  for (const auto& payload : payloads) {
    message.assign(AGN_WIRE_REQUEST_HEADER, 0);
    agn_wire_request_header_write(AGN_WIRE_CODEC_RANS, message.data(), message.size());
    message.insert(message.end(), payload.begin(), payload.end());
    const client::RemoteResult r = client_.request(message);
    ++images_;
    transmissions_ += r.transmissions;
    wire_bytes_ += static_cast<double>(r.wire_bytes);
    round_trip_ms_ += r.round_trip_ms;
    if (r.answered) {
      ++answered_;
      server_ms_ += r.server_ms;
      link_ms_ += r.round_trip_ms - r.server_ms;
      out.emplace_back(r.logits);
    } else {
      out.emplace_back(std::nullopt);
    }
  }
  return out;
}

double device_ms_per_image(const exporter::InferReport& r) {
  double device_ms = 0;
  for (const auto& [stage, ms] : r.host_ms) device_ms += stage == "device_run" || stage == "encode_rans" ? ms : 0;
  return device_ms;
}

nlohmann::json UdpRemote::report(double device_ms) const {
  const double n = static_cast<double>(std::max<int64_t>(images_, 1));
  const double a = static_cast<double>(std::max<int64_t>(answered_, 1));
  return {{"fallback_rate", images_ > 0 ? static_cast<double>(images_ - answered_) / n : 0.0},
          {"wire_bytes_per_image", wire_bytes_ / n},
          {"transmissions_per_image", static_cast<double>(transmissions_) / n},
          {"latency_ms",
           {{"device", device_ms}, {"link", link_ms_ / a}, {"server", server_ms_ / a}, {"total", device_ms + round_trip_ms_ / n}}},
          {"link",
           {{"rate_bps", link_.rate_bps}, {"delay_ms", link_.delay_ms}, {"loss", link_.loss}, {"corrupt", link_.corrupt},
            {"deadline_ms", deadline_ms_}}}};
}

}  // namespace agilenn::cli
