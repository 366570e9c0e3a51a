// agilenn mcu <what>: the device half on the emulated Cortex-M7 (QEMU mps2-an500).
//   mcu bench --model DIR [--json]: instructions per stage, MACs, flash, SRAM, estimated time
//   (src/mcu/bench.h says where each figure comes from). Needs the cortex-m7 preset built.
//   mcu run --model DIR --n N [--json]: the firmware app in QEMU on N test images, the radio
//   bridge and the server (in this process, on loopback); accuracy, fallbacks, wire bytes and
//   modelled latency, checked against the host runtime on the same images (src/mcu/app_run.h).
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "client/link.h"
#include "commands.h"
#include "export/infer.h"
#include "host/progress.h"
#include "host/file_io.h"
#include "mcu/app_link.h"
#include "mcu/app_run.h"
#include "mcu/bench.h"
#include "server/model_backend.h"
#include "train/backend.h"
#include "server/udp_server.h"
#include "wire/host/keys.h"

namespace agilenn::cli {
namespace {

struct McuBenchArgs {
  mcu::BenchOptions options;
  bool json = false;
};

int run_mcu_bench(const McuBenchArgs& a) {
  const mcu::BenchResult r = mcu::run_bench(a.options);
  std::fputs(r.table().c_str(), a.json ? stderr : stdout);
  if (a.json) std::printf("%s\n", r.to_json().dump().c_str());
  return 0;
}

struct McuRunArgs {
  std::string model;
  int64_t count = 100;
  std::string data;
  std::string link_rate = "6mbps";
  double link_delay_ms = 0;
  double deadline_ms = 200;
  double cpu_mhz = 216.0;
  uint32_t device_id = 1;
  std::string key;
  std::string firmware = mcu::default_app_firmware().string();
  std::string qemu = "qemu-system-arm";
  int threads = 1;
  bool json = false;
};

void print_run_table(std::FILE* f, const nlohmann::json& j) {
  const auto& a = j["accuracy"];
  const auto& h = j["host_runtime"];
  const auto& l = j["latency_ms"];
  std::fprintf(f, "Firmware app on the emulated Cortex-M7, %lld test images, link %.0f bps + %.1f ms, deadline %.0f ms\n",
               j["count"].get<long long>(), j["link"]["rate_bps"].get<double>(), j["link"]["delay_ms"].get<double>(),
               j["link"]["deadline_ms"].get<double>());
  std::fprintf(f, "  accuracy        %8s %8s\n", "final", "local");
  std::fprintf(f, "  firmware        %8.4f %8.4f\n", a["final"].get<double>(), a["local"].get<double>());
  std::fprintf(f, "  host runtime    %8.4f %8.4f   (agilenn infer, in process)\n", h["final"].get<double>(),
               h["local"].get<double>());
  std::fprintf(f, "  bit-exact with the host runtime: logits %lld/%lld, payloads %lld/%lld\n",
               j["host_check"]["logits_equal"].get<long long>(), j["count"].get<long long>(),
               j["host_check"]["payload_equal"].get<long long>(), j["count"].get<long long>());
  std::fprintf(f, "  fallback rate %.4f; wire bytes per image %.1f (payload %.1f)\n", j["fallback_rate"].get<double>(),
               j["wire_bytes_per_image"].get<double>(), j["payload_bytes_per_image"].get<double>());
  std::fprintf(f,
               "  modelled latency, ms per image: device %.3f (%.0f instructions at %.0f MHz, 1 cycle each), link %.3f, "
               "server %.3f, total %.3f\n",
               l["device"].get<double>(), j["instructions_per_image"].get<double>(), j["cpu_mhz"].get<double>(),
               l["link"].get<double>(), l["server"].get<double>(), l["total"].get<double>());
  std::fprintf(f, "  emulator wall time %.1f s\n", j["wall_s"].get<double>());
}

int run_mcu_run(const McuRunArgs& a) {
  if (!std::filesystem::is_regular_file(a.firmware)) {
    throw std::runtime_error("firmware " + a.firmware + " does not exist (build it: cmake --build --preset cortex-m7)");
  }
  exporter::InferOptions io;
  io.model_dir = a.model;
  io.count = a.count;
  io.data_dir = a.data;
  const exporter::TestImages test = exporter::load_test_images(io);
  if (test.images.empty()) throw std::runtime_error(a.model + ": the test split is empty");

  mcu::AppOptions o;
  o.firmware = a.firmware;
  o.model_file = std::filesystem::path(a.model) / "model.agnm";
  o.qemu = a.qemu;
  o.cpu_mhz = a.cpu_mhz;
  o.rate_bps = client::parse_rate_bps(a.link_rate);
  o.delay_ms = a.link_delay_ms;
  o.deadline_ms = a.deadline_ms;
  o.device_id = a.device_id;
  if (a.key.empty()) {
    std::fprintf(stderr, "mcu run: using the development key derived from %s/model.agnm (loopback only)\n",
                 a.model.c_str());
  }
  o.key = a.key.empty() ? wire::development_key(a.model) : wire::parse_key_hex(a.key, "--key");

  // The server, in this process on loopback: one device, one image in flight, so no batching wait,
  // and by default one LibTorch thread (a batch of one gains nothing from more on a small host,
  // and QEMU needs a core: with every core, service times here grew from ~5 ms to ~300 ms).
  train::set_compute_threads(a.threads);
  server::ModelBackend backend(exporter::RemoteModel::load(a.model));
  server::ServeOptions so;
  so.batch.max_batch = 1;
  so.stats_interval_s = 0;
  server::UdpServer udp(wire::resolve_ipv4("127.0.0.1", 0), wire::KeyStore::of({{a.device_id, o.key}}), backend, so);
  o.server = udp.address();
  std::atomic<bool> stop{false};
  std::thread serving([&] { udp.run(stop); });
  mcu::AppResults r;
  try {
    Progress bar("mcu run", test.images.size(), "img");
    r = mcu::run_app(o, test.images, [&] { bar.add(1); });
    bar.finish();
  } catch (...) {
    stop = true;
    serving.join();
    throw;
  }
  stop = true;
  serving.join();

  const mcu::HostCheck check = mcu::check_against_host(read_file(o.model_file), test.images, r);
  size_t final_ok = 0, local_ok = 0;
  for (size_t i = 0; i < r.images.size(); ++i) {
    final_ok += r.images[i].final_class == test.labels[i];
    local_ok += r.images[i].local_class == test.labels[i];
  }
  const double n = static_cast<double>(r.images.size());
  // The host runtime on the same images, with the Remote NN in process (agilenn infer).
  exporter::InProcessRemote remote(exporter::RemoteModel::load(a.model));
  const exporter::InferReport host = exporter::run_infer(io, remote);

  nlohmann::json j = mcu::summarize(r, o);
  j["count"] = r.images.size();
  j["accuracy"] = {{"final", final_ok / n}, {"local", local_ok / n}};
  j["host_runtime"] = {{"final", host.final_accuracy}, {"local", host.local_accuracy}};
  const bool same_accuracy = final_ok / n == host.final_accuracy && local_ok / n == host.local_accuracy;
  j["host_check"] = {{"logits_equal", check.logits_equal}, {"payload_equal", check.payload_equal},
                     {"model_equal", check.model_equal}, {"bit_exact", check.all_equal()},
                     {"accuracy_equal", same_accuracy}};
  j["link"] = {{"rate_bps", o.rate_bps}, {"delay_ms", o.delay_ms}, {"deadline_ms", o.deadline_ms}};
  j["cpu_mhz"] = o.cpu_mhz;
  j["cycles_per_instruction"] = mcu::kCyclesPerInstruction;
  j["wall_s"] = r.wall_s;
  j["bridge"] = {{"requests", r.bridge.requests}, {"datagrams_up", r.bridge.datagrams_up},
                 {"datagrams_down", r.bridge.datagrams_down}, {"no_reply", r.bridge.no_reply}};
  print_run_table(a.json ? stderr : stdout, j);
  if (a.json) std::printf("%s\n", j.dump().c_str());
  if (!check.all_equal()) {
    std::fprintf(stderr, "mcu run: the firmware's logits or payloads differ from the host runtime's\n");
    return 1;
  }
  if (!same_accuracy) {
    // Expected only when the firmware fell back (the host runtime has no deadline).
    std::fprintf(stderr, "mcu run: %s: the accuracy differs from the host runtime's\n",
                 j["fallback_rate"].get<double>() > 0 ? "note (fallbacks at the deadline)" : "error");
    return j["fallback_rate"].get<double>() > 0 ? 0 : 1;
  }
  return 0;
}

}  // namespace

void add_mcu_command(CLI::App& root, int& exit_code) {
  CLI::App* mcu = root.add_subcommand("mcu", "The device half on an emulated Cortex-M7 (QEMU)");
  mcu->require_subcommand(1);
  auto args = std::make_shared<McuBenchArgs>();
  args->options.firmware = mcu::default_firmware();
  args->options.plugin = mcu::default_plugin();
  CLI::App* bench = mcu->add_subcommand(
      "bench", "Instructions per stage (exact, QEMU plugin), MACs, flash and SRAM of the device pipeline; "
               "milliseconds assume 1 cycle per instruction");
  bench->add_option("--model", args->options.model_dir, "Model folder (holds model.agnm)")->required();
  bench->add_flag("--json", args->json, "Print one JSON object on stdout (the table goes to stderr)");
  bench->add_option("--cpu-mhz", args->options.cpu_mhz, "Core clock for the time estimate")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  bench->add_option("--firmware", args->options.firmware, "Bench firmware (cortex-m7 preset)")->capture_default_str();
  bench->add_option("--plugin", args->options.plugin, "agn_icount QEMU plugin (cortex-m7 preset)")
      ->capture_default_str();
  bench->add_option("--qemu", args->options.qemu, "qemu-system-arm to run")->capture_default_str();
  bench->callback([args, &exit_code] { exit_code = run_mcu_bench(*args); });

  auto run_args = std::make_shared<McuRunArgs>();
  CLI::App* run = mcu->add_subcommand(
      "run", "The firmware app in QEMU on test images, with the radio bridge and the server; accuracy (checked "
             "against the host runtime), fallbacks, wire bytes, modelled latency");
  run->add_option("--model", run_args->model, "Export folder written by agilenn export")->required();
  run->add_option("--n", run_args->count, "Test images, evenly spaced over the test split (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run->add_option("--data", run_args->data, "Data folder, if not the run's");
  run->add_option("--link-rate", run_args->link_rate, "Modelled link rate: 6mbps (WiFi), 270kbps (BLE-class), ...")
      ->capture_default_str();
  run->add_option("--link-delay-ms", run_args->link_delay_ms, "Modelled one-way delay")
      ->check(CLI::Range(0.0, 60000.0))
      ->capture_default_str();
  run->add_option("--deadline-ms", run_args->deadline_ms,
                  "Modelled time from the end of compute after which the local prediction is used")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run->add_option("--cpu-mhz", run_args->cpu_mhz, "Modelled core clock (1 cycle per instruction)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  run->add_option("--device-id", run_args->device_id, "The device's id")->capture_default_str();
  run->add_option("--key", run_args->key, "The device's key, 32 hex digits (default: the model's development key)");
  run->add_option("--threads", run_args->threads, "LibTorch threads of the in-process server (0: every core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  run->add_option("--firmware", run_args->firmware, "App firmware (cortex-m7 preset)")->capture_default_str();
  run->add_option("--qemu", run_args->qemu, "qemu-system-arm to run")->capture_default_str();
  run->add_flag("--json", run_args->json, "Print one JSON object on stdout (the table goes to stderr)");
  run->callback([run_args, &exit_code] { exit_code = run_mcu_run(*run_args); });
}

}  // namespace agilenn::cli
