// agilenn bench serve: server throughput of an exported model's Remote NN with dynamic batching
// and with batch size 1, in one run, from simulated devices over loopback UDP.
//
// Each simulated device sends real requests: symbols drawn per channel from the export's rANS
// tables (so the payloads have the trained statistics and size), rANS-encoded exactly as a device
// does, and waits for each reply before sending the next (closed loop). The server decodes them
// and runs the Remote NN in this process, first with --max-batch/--max-wait-ms, then with max
// batch 1 (the same code path).
#include <arpa/inet.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <thread>

#include "client/load.h"
#include "codec/rans.h"
#include "commands.h"
#include "server/model_backend.h"
#include "server/udp_server.h"

namespace agilenn::cli {
namespace {

struct BenchServeArgs {
  std::string model;          // --model: export folder
  int devices = 32;           // --devices: simulated devices, each with one request in flight
  double seconds = 10;        // --seconds: per configuration
  int max_batch = 32;         // --max-batch of the batched configuration
  double max_wait_ms = 5;     // --max-wait-ms of the batched configuration
  int requests = 64;          // distinct request payloads, cycled
  bool json = false;
};

// Requests of synthetic symbols as sparse as a feature map's (3 % nonzero, values uniform),
// encoded with the export's rANS tables.
std::vector<std::vector<uint8_t>> make_requests(const std::string& model_dir, const exporter::RemoteModel& m, int n) {
  const std::string path = model_dir + "/rans.bin";
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  agn_rans_model model;
  if (agn_rans_model_load(&model, bytes.data(), bytes.size()) != AGN_OK) {
    throw std::runtime_error(path + ": not a valid rANS model (codec/rans.h)");
  }
  std::mt19937 rng(1);
  std::bernoulli_distribution nonzero(0.03);
  std::uniform_int_distribution<int> value(1, model.levels - 1);
  std::vector<std::vector<uint8_t>> requests;
  std::vector<uint8_t> symbols(m.symbols_per_image());
  for (int r = 0; r < n; ++r) {
    for (uint8_t& s : symbols) s = nonzero(rng) ? static_cast<uint8_t>(value(rng)) : 0;
    std::vector<uint8_t> message(AGN_WIRE_REQUEST_HEADER + agn_rans_max_encoded_size(&model));
    agn_wire_request_header_write(AGN_WIRE_CODEC_RANS, message.data(), message.size());
    size_t written = 0;
    if (agn_rans_encode(&model, symbols.data(), symbols.size(), message.data() + AGN_WIRE_REQUEST_HEADER,
                        message.size() - AGN_WIRE_REQUEST_HEADER, &written) != AGN_OK) {
      throw std::runtime_error("rANS encoding of a synthetic request failed");
    }
    message.resize(AGN_WIRE_REQUEST_HEADER + written);
    requests.push_back(std::move(message));
  }
  return requests;
}

struct Phase {
  client::LoadReport load;
  server::Stats stats;
};

Phase run_phase(server::Backend& backend, const BenchServeArgs& a, int max_batch, double max_wait_ms,
                const std::vector<std::vector<uint8_t>>& requests) {
  server::ServeOptions so;
  so.batch.max_batch = max_batch;
  so.batch.max_wait_ms = max_wait_ms;
  so.limits.max_message = AGN_WIRE_MAX_MESSAGE;
  const wire::Key key{};  // loopback benchmark: any fixed key
  sockaddr_in loopback{};
  loopback.sin_family = AF_INET;
  loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  server::UdpServer server(loopback, wire::KeyStore::development(key), backend, so);
  std::atomic<bool> stop{false};
  std::thread thread([&] { server.run(stop); });
  client::LoadOptions lo;
  lo.client.server = server.address();
  lo.client.key = key;
  lo.client.deadline_ms = 10000;  // throughput: every request is answered, none falls back
  lo.devices = a.devices;
  lo.seconds = a.seconds;
  lo.make_request = [&](uint32_t device, int64_t i) { return requests[(device * 7 + static_cast<size_t>(i)) % requests.size()]; };
  Phase p;
  p.load = client::run_load(lo);
  stop = true;
  thread.join();
  p.stats = server.stats();
  return p;
}

nlohmann::json phase_json(const Phase& p, int max_batch, double max_wait_ms) {
  nlohmann::json histogram = nlohmann::json::object();
  for (const auto& [size, n] : p.stats.batch_histogram) histogram[std::to_string(size)] = n;
  return {{"max_batch", max_batch},
          {"max_wait_ms", max_wait_ms},
          {"inferences_per_s", p.load.answered_per_s},
          {"answered", p.load.answered},
          {"fallbacks", p.load.fallbacks},
          {"service_ms", {{"p50", p.stats.service_p50_ms}, {"p99", p.stats.service_p99_ms}}},
          {"round_trip_ms", {{"p50", p.load.round_trip_p50_ms}, {"p99", p.load.round_trip_p99_ms}}},
          {"batch_histogram", histogram}};
}

int run_bench_serve(const BenchServeArgs& a) {
  server::ModelBackend backend(exporter::RemoteModel::load(a.model));
  const auto requests = make_requests(a.model, backend.model(), a.requests);
  double mean_bytes = 0;
  for (const auto& r : requests) mean_bytes += static_cast<double>(r.size()) / static_cast<double>(requests.size());
  std::fprintf(stderr, "bench serve: model %s, %d simulated devices, %.0f s per configuration, requests of %.0f B (rANS)\n",
               a.model.c_str(), a.devices, a.seconds, mean_bytes);
  const Phase batched = run_phase(backend, a, a.max_batch, a.max_wait_ms, requests);
  const Phase single = run_phase(backend, a, 1, 0, requests);
  const double ratio = single.load.answered_per_s > 0 ? batched.load.answered_per_s / single.load.answered_per_s : 0;
  std::FILE* table = a.json ? stderr : stdout;
  std::fprintf(table, "%-22s %12s %14s %14s %16s\n", "configuration", "inferences/s", "service p50 ms", "service p99 ms",
               "round trip p99 ms");
  std::fprintf(table, "%-22s %12.1f %14.2f %14.2f %16.2f\n",
               ("batch <= " + std::to_string(a.max_batch) + ", wait " + std::to_string(static_cast<int>(a.max_wait_ms)) + " ms").c_str(),
               batched.load.answered_per_s, batched.stats.service_p50_ms, batched.stats.service_p99_ms,
               batched.load.round_trip_p99_ms);
  std::fprintf(table, "%-22s %12.1f %14.2f %14.2f %16.2f\n", "batch 1", single.load.answered_per_s,
               single.stats.service_p50_ms, single.stats.service_p99_ms, single.load.round_trip_p99_ms);
  std::fprintf(table, "ratio %.2fx (goal >= 3x)\nbatches: %s\n", ratio, batched.stats.to_line().c_str());
  if (a.json) {
    const nlohmann::json j = {{"devices", a.devices},
                              {"seconds", a.seconds},
                              {"request_bytes", mean_bytes},
                              {"batched", phase_json(batched, a.max_batch, a.max_wait_ms)},
                              {"batch1", phase_json(single, 1, 0)},
                              {"ratio", ratio}};
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}

}  // namespace

void add_bench_serve_command(CLI::App& bench, int& exit_code) {
  auto args = std::make_shared<BenchServeArgs>();
  CLI::App* cmd = bench.add_subcommand("serve", "Server inferences/s with dynamic batching and with batch 1 (loopback UDP)");
  cmd->add_option("--model", args->model, "Export folder written by agilenn export")->required();
  cmd->add_option("--devices", args->devices, "Simulated devices, one request in flight each")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--seconds", args->seconds, "Duration of each configuration")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-batch", args->max_batch, "Max batch of the batched configuration")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--max-wait-ms", args->max_wait_ms, "Max wait of the batched configuration")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--requests", args->requests, "Distinct synthetic requests, cycled")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--json", args->json, "Print one JSON object on stdout (the table goes to stderr)");
  cmd->callback([args, &exit_code] { exit_code = run_bench_serve(*args); });
}

}  // namespace agilenn::cli
