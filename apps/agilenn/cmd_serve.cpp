// agilenn serve: the Remote NN half of an exported model as a UDP service (src/server).
#include <csignal>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "server/model_backend.h"
#include "server/udp_server.h"
#include "train/backend.h"
#include "wire/host/keys.h"
#include "wire/host/udp.h"

namespace agilenn::cli {
namespace {

struct ServeArgs {
  std::string model;               // --model: export folder
  int port = 0;                    // --port (0: any free port, printed)
  std::string bind = "127.0.0.1";  // --bind: loopback unless told otherwise
  std::string keys;                // --keys FILE; none: the model's development key (loopback only)
  server::ServeOptions serve;      // limits and batching, defaults in server/*.h
  int threads = 1;                 // --threads: LibTorch intra-op threads of the Remote NN
  bool json = false;
};

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) { g_stop.store(true); }

int run_serve(const ServeArgs& a) {
  const sockaddr_in address = wire::resolve_ipv4(a.bind, static_cast<uint16_t>(a.port));
  if (a.keys.empty() && !wire::is_loopback(address)) {
    throw std::invalid_argument("--bind " + a.bind + " is not a loopback address: it requires --keys FILE");
  }
  if (a.keys.empty()) {
    std::fprintf(stderr,
                 "serve: warning: no --keys: every device uses the development key derived from %s/model.agnm; "
                 "anyone with the model can forge requests (loopback only)\n",
                 a.model.c_str());
  }
  wire::KeyStore keys = a.keys.empty() ? wire::KeyStore::development(wire::development_key(a.model))
                                       : wire::KeyStore::from_file(a.keys);
  train::set_compute_threads(a.threads);
  server::ModelBackend backend(exporter::RemoteModel::load(a.model));
  const auto& m = backend.model();
  std::fprintf(stderr,
               "serve: model %s (%d remote channels x %dx%d, %d levels, %d classes); %d LibTorch thread(s), max batch %d, "
               "max wait %.1f ms, "
               "max datagram %zu B, reassembly %zu B per device / %zu B total, timeout %.0f ms, %s\n",
               a.model.c_str(), m.channels(), m.height(), m.width(), m.levels(), m.classes(), a.threads, a.serve.batch.max_batch,
               a.serve.batch.max_wait_ms, a.serve.limits.max_datagram, a.serve.limits.device_bytes,
               a.serve.limits.total_bytes, a.serve.limits.reassembly_timeout_ms,
               keys.is_development() ? "development key" : (std::to_string(keys.size()) + " device keys").c_str());
  server::UdpServer server(address, std::move(keys), backend, a.serve);

  struct sigaction action{};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  std::FILE* info = a.json ? stderr : stdout;
  std::fprintf(info, "listening on %s\n", wire::to_string(server.address()).c_str());
  std::fflush(info);
  server.run(g_stop, [](const server::Stats& s) { std::fprintf(stderr, "serve: %s\n", s.to_line().c_str()); });
  const server::Stats s = server.stats();
  std::fprintf(stderr, "serve: stopped; %s\n", s.to_line().c_str());
  if (a.json) std::printf("%s\n", s.to_json().dump().c_str());
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& root, int& exit_code) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = root.add_subcommand("serve", "Serve an exported model's Remote NN to devices over UDP");
  server::ServerLimits& l = args->serve.limits;
  server::BatchOptions& b = args->serve.batch;
  cmd->add_option("--model", args->model, "Export folder written by agilenn export")->required();
  cmd->add_option("--port", args->port, "UDP port (0: any free port; the one chosen is printed)")
      ->check(CLI::Range(0, 65535))->required();
  cmd->add_option("--bind", args->bind, "Address to bind; a non-loopback address requires --keys")->capture_default_str();
  cmd->add_option("--keys", args->keys, "Keys file: one '<device id> <32 hex digits>' line per device")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-datagram", l.max_datagram, "Largest datagram accepted and sent, bytes")
      ->check(CLI::Range(static_cast<size_t>(AGN_WIRE_MIN_DATAGRAM), static_cast<size_t>(AGN_WIRE_MAX_DATAGRAM)))
      ->capture_default_str();
  cmd->add_option("--max-message", l.max_message, "Largest request message, bytes")
      ->check(CLI::Range(static_cast<size_t>(1), static_cast<size_t>(AGN_WIRE_MAX_MESSAGE)))->capture_default_str();
  cmd->add_option("--reassembly-timeout-ms", l.reassembly_timeout_ms, "Drop a partial message after this long")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--device-memory", l.device_bytes, "Reassembly memory per device, bytes")->capture_default_str();
  cmd->add_option("--total-memory", l.total_bytes, "Reassembly memory over all devices, bytes")->capture_default_str();
  cmd->add_option("--max-devices", l.max_devices, "Device states held")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--reply-cache", l.reply_cache, "Last replies kept per device for resends")->capture_default_str();
  cmd->add_option("--max-batch", b.max_batch, "Requests per Remote NN call (1: no batching)")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--max-wait-ms", b.max_wait_ms, "How long the oldest request waits for a fuller batch")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--max-pending", b.max_pending, "Requests queued for the Remote NN; more are dropped as busy")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--threads", args->threads,
                  "LibTorch intra-op threads of the Remote NN (the receiving thread decodes requests besides)")
      ->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--stats-interval-s", args->serve.stats_interval_s, "Stats line on stderr every this many seconds (0: only at exit)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_flag("--json", args->json,
                "On exit print the stats as one JSON object on stdout ('listening on' then goes to stderr)");
  cmd->callback([args, &exit_code] { exit_code = run_serve(*args); });
}

}  // namespace agilenn::cli
