// agilenn bench serve: server throughput of an exported model's Remote NN with dynamic batching
// and with batch size 1, in one run, from simulated devices over loopback UDP.
//
// Each simulated device sends real requests: symbols drawn per channel from the export's rANS
// tables (so the payloads have the trained statistics and size), rANS-encoded exactly as a device
// does, and waits for each reply before sending the next (closed loop). The server decodes them
// and runs the Remote NN in this process, with --max-batch/--max-wait-ms and with max batch 1
// (the same code path), alternating over --rounds rounds (the order swapped every round) so that
// a change in the load of a shared machine falls on both configurations alike.
#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <thread>

#include "client/load.h"
#include "codec/rans.h"
#include "codec/symbol_map.h"
#include "commands.h"
#include "server/model_backend.h"
#include "server/udp_server.h"
#include "train/backend.h"

namespace agilenn::cli {
namespace {

struct BenchServeArgs {
  std::string model;          // --model: export folder
  int devices = 64;           // --devices: simulated devices, each with one request in flight; twice
                              // the max batch, so one batch fills while the other runs
  double seconds = 5;         // --seconds: per configuration and round
  int rounds = 3;             // --rounds: batched and batch-1 runs, alternating
  int threads = 1;            // --threads: LibTorch intra-op threads of the batched configuration
  int batch1_threads = 1;     // --batch1-threads: the same for the batch-1 configuration
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
    std::vector<uint8_t> map(agn_symbol_map_size(size_t{model.channels} * model.height, model.width));
    if (agn_symbol_map_pack(symbols.data(), size_t{model.channels} * model.height, model.width, map.data()) != AGN_OK ||
        agn_rans_encode(&model, map.data(), map.size(), message.data() + AGN_WIRE_REQUEST_HEADER,
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
  server::ServingThread serving(server);
  client::LoadOptions lo;
  lo.client.server = server.address();
  lo.client.key = key;
  lo.client.deadline_ms = 10000;  // throughput: every request is answered, none falls back
  lo.devices = a.devices;
  lo.seconds = a.seconds;
  lo.make_request = [&](uint32_t device, int64_t i) { return requests[(device * 7 + static_cast<size_t>(i)) % requests.size()]; };
  Phase p;
  p.load = client::run_load(lo);
  serving.stop();
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
          {"seconds", p.load.seconds},
          {"service_ms", {{"p50", p.stats.service_p50_ms}, {"p99", p.stats.service_p99_ms}}},
          {"round_trip_ms", {{"p50", p.load.round_trip_p50_ms}, {"p99", p.load.round_trip_p99_ms}}},
          {"batch_histogram", histogram}};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// One configuration over all rounds: inferences/s over the total time, the rest the median of the
// rounds (each round's percentiles come from its own requests).
nlohmann::json summary_json(const std::vector<Phase>& phases, int max_batch, double max_wait_ms) {
  int64_t answered = 0, fallbacks = 0;
  double seconds = 0;
  std::vector<double> p50, p99, rt50, rt99;
  std::map<int, uint64_t> histogram;
  for (const Phase& p : phases) {
    answered += p.load.answered;
    fallbacks += p.load.fallbacks;
    seconds += p.load.seconds;
    p50.push_back(p.stats.service_p50_ms);
    p99.push_back(p.stats.service_p99_ms);
    rt50.push_back(p.load.round_trip_p50_ms);
    rt99.push_back(p.load.round_trip_p99_ms);
    for (const auto& [size, n] : p.stats.batch_histogram) histogram[size] += n;
  }
  nlohmann::json h = nlohmann::json::object();
  for (const auto& [size, n] : histogram) h[std::to_string(size)] = n;
  return {{"max_batch", max_batch},
          {"max_wait_ms", max_wait_ms},
          {"inferences_per_s", seconds > 0 ? static_cast<double>(answered) / seconds : 0},
          {"answered", answered},
          {"fallbacks", fallbacks},
          {"seconds", seconds},
          {"service_ms", {{"p50", median(p50)}, {"p99", median(p99)}}},
          {"round_trip_ms", {{"p50", median(rt50)}, {"p99", median(rt99)}}},
          {"batch_histogram", h}};
}

// Where the server's time goes, without the network: decoding one request (ModelBackend::prepare,
// on the receiving thread) and the Remote NN per image at batch sizes 1, 2, 4, ... up to max_batch
// (on the batcher's thread), each timed for about `seconds` in this process.
nlohmann::json profile_model(const server::ModelBackend& backend, const std::vector<std::vector<uint8_t>>& requests,
                             int max_batch, double seconds) {
  using steady = std::chrono::steady_clock;
  std::vector<std::vector<uint8_t>> symbols;
  const auto t0 = steady::now();
  for (const auto& r : requests) {
    std::vector<uint8_t> s = r;
    backend.prepare(s);
    symbols.push_back(std::move(s));
  }
  const double decode_ms = std::chrono::duration<double, std::milli>(steady::now() - t0).count() / static_cast<double>(requests.size());
  nlohmann::json nn = nlohmann::json::array();
  for (int b = 1;; b = std::min(2 * b, max_batch)) {
    std::vector<uint8_t> batch;
    for (int i = 0; i < b; ++i) {
      const auto& one = symbols[static_cast<size_t>(i) % symbols.size()];
      batch.insert(batch.end(), one.begin(), one.end());
    }
    backend.model().logits(batch.data(), static_cast<size_t>(b));  // warm-up
    int calls = 0;
    const auto start = steady::now();
    double elapsed = 0;
    do {
      backend.model().logits(batch.data(), static_cast<size_t>(b));
      ++calls;
      elapsed = std::chrono::duration<double>(steady::now() - start).count();
    } while (elapsed < seconds);
    nn.push_back({{"batch", b}, {"ms_per_image", 1e3 * elapsed / (static_cast<double>(calls) * b)}});
    if (b == max_batch) break;
  }
  return {{"decode_ms_per_request", decode_ms}, {"nn", nn}};
}

std::vector<double> load_average() {
  std::ifstream in("/proc/loadavg");
  std::vector<double> v(3, 0.0);
  in >> v[0] >> v[1] >> v[2];
  return v;
}

int run_bench_serve(const BenchServeArgs& a) {
  train::set_compute_threads(a.threads);
  server::ModelBackend backend(exporter::RemoteModel::load(a.model));
  const auto requests = make_requests(a.model, backend.model(), a.requests);
  double mean_bytes = 0;
  for (const auto& r : requests) mean_bytes += static_cast<double>(r.size()) / static_cast<double>(requests.size());
  const std::vector<double> load_before = load_average();
  std::fprintf(stderr,
               "bench serve: model %s, %d simulated devices, %d LibTorch thread(s) batched and %d at batch 1, %d rounds of %.0f s "
               "per configuration, requests of %.0f B (rANS); load average %.2f %.2f %.2f on %u hardware threads\n",
               a.model.c_str(), a.devices, a.threads, a.batch1_threads, a.rounds, a.seconds, mean_bytes, load_before[0], load_before[1],
               load_before[2], std::thread::hardware_concurrency());
  std::FILE* table = a.json ? stderr : stdout;
  const nlohmann::json profile = profile_model(backend, requests, a.max_batch, 0.3);
  std::fprintf(table, "without the network: decode %.3f ms per request; Remote NN ms per image at batch",
               profile["decode_ms_per_request"].get<double>());
  for (const auto& n : profile["nn"]) std::fprintf(table, " %d: %.3f", n["batch"].get<int>(), n["ms_per_image"].get<double>());
  std::fprintf(table, "\n");
  std::fprintf(table, "%-5s %-24s %12s %14s %14s %16s\n", "round", "configuration", "inferences/s", "service p50 ms",
               "service p99 ms", "round trip p99 ms");
  const std::string batched_name =
      "batch <= " + std::to_string(a.max_batch) + ", wait " + std::to_string(static_cast<int>(a.max_wait_ms)) + " ms";
  const auto print = [&](int round, const std::string& name, const Phase& p) {
    std::fprintf(table, "%-5d %-24s %12.1f %14.2f %14.2f %16.2f\n", round, name.c_str(), p.load.answered_per_s,
                 p.stats.service_p50_ms, p.stats.service_p99_ms, p.load.round_trip_p99_ms);
    std::fflush(table);
  };
  std::vector<Phase> batched, single;
  std::vector<double> ratios;
  nlohmann::json rounds = nlohmann::json::array();
  for (int round = 1; round <= a.rounds; ++round) {
    const bool batched_first = round % 2 == 1;
    for (int i = 0; i < 2; ++i) {
      if ((i == 0) == batched_first) {
        train::set_compute_threads(a.threads);  // read by the new batcher thread on its first operator
        batched.push_back(run_phase(backend, a, a.max_batch, a.max_wait_ms, requests));
        print(round, batched_name, batched.back());
      } else {
        train::set_compute_threads(a.batch1_threads);
        single.push_back(run_phase(backend, a, 1, 0, requests));
        print(round, "batch 1", single.back());
      }
    }
    const double b = batched.back().load.answered_per_s, s1 = single.back().load.answered_per_s;
    ratios.push_back(s1 > 0 ? b / s1 : 0);
    rounds.push_back({{"batched", phase_json(batched.back(), a.max_batch, a.max_wait_ms)},
                      {"batch1", phase_json(single.back(), 1, 0)},
                      {"ratio", ratios.back()}});
  }
  const nlohmann::json batched_summary = summary_json(batched, a.max_batch, a.max_wait_ms);
  const nlohmann::json single_summary = summary_json(single, 1, 0);
  const double single_ips = single_summary["inferences_per_s"].get<double>();
  const double ratio = single_ips > 0 ? batched_summary["inferences_per_s"].get<double>() / single_ips : 0;
  const auto [lowest, highest] = std::minmax_element(ratios.begin(), ratios.end());
  const std::vector<double> load_after = load_average();
  std::fprintf(table, "%-5s %-24s %12.1f %14.2f %14.2f %16.2f\n", "all", batched_name.c_str(),
               batched_summary["inferences_per_s"].get<double>(), batched_summary["service_ms"]["p50"].get<double>(),
               batched_summary["service_ms"]["p99"].get<double>(), batched_summary["round_trip_ms"]["p99"].get<double>());
  std::fprintf(table, "%-5s %-24s %12.1f %14.2f %14.2f %16.2f\n", "all", "batch 1", single_ips,
               single_summary["service_ms"]["p50"].get<double>(), single_summary["service_ms"]["p99"].get<double>(),
               single_summary["round_trip_ms"]["p99"].get<double>());
  std::fprintf(table, "ratio %.2fx (rounds %.2f-%.2fx; goal >= 3x); load average %.2f -> %.2f\nlast batched run: %s\n", ratio,
               *lowest, *highest, load_before[0], load_after[0], batched.back().stats.to_line().c_str());
  if (a.json) {
    const nlohmann::json j = {{"devices", a.devices},
                              {"seconds", a.seconds},
                              {"threads", a.threads},
                              {"batch1_threads", a.batch1_threads},
                              {"request_bytes", mean_bytes},
                              {"model_only", profile},
                              {"load_average", {{"before", load_before}, {"after", load_after}}},
                              {"batched", batched_summary},
                              {"batch1", single_summary},
                              {"ratio", ratio},
                              {"ratio_min", *lowest},
                              {"ratio_max", *highest},
                              {"rounds", rounds}};
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
  cmd->add_option("--seconds", args->seconds, "Duration of each configuration in each round")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--rounds", args->rounds, "Rounds of both configurations, alternating")
      ->check(CLI::Range(1, 100))->capture_default_str();
  cmd->add_option("--threads", args->threads, "LibTorch intra-op threads of the Remote NN, batched configuration")
      ->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--batch1-threads", args->batch1_threads,
                  "LibTorch intra-op threads of the Remote NN, batch-1 configuration (one image gains little or "
                  "loses from more)")
      ->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--max-batch", args->max_batch, "Max batch of the batched configuration")
      ->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--max-wait-ms", args->max_wait_ms, "Max wait of the batched configuration")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--requests", args->requests, "Distinct synthetic requests, cycled")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--json", args->json, "Print one JSON object on stdout (the table goes to stderr)");
  cmd->callback([args, &exit_code] { exit_code = run_bench_serve(*args); });
}

}  // namespace agilenn::cli
