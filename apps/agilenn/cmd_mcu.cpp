// agilenn mcu <what>: the device half on the emulated Cortex-M7 (QEMU mps2-an500).
//   mcu bench --model DIR [--images N] [--json]: instructions per stage (means over N test images,
//   or on a synthetic image), MACs, flash, SRAM, estimated time (src/mcu/bench.h says where each
//   figure comes from). Needs the cortex-m7 preset built.
//   mcu run --model DIR --n N [--json]: the firmware app in QEMU on N test images, the radio
//   bridge and the server (in this process, on loopback); accuracy, fallbacks, wire bytes and
//   modelled latency, checked against the host runtime on the same images (src/mcu/app_run.h).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "export/infer.h"
#include "mcu/bench.h"
#include "mcu_run.h"

namespace agilenn::cli {
namespace {

struct McuBenchArgs {
  mcu::BenchOptions options;
  int images = 0;
  std::string data;
  bool json = false;
};

int run_mcu_bench(const McuBenchArgs& a) {
  mcu::BenchOptions o = a.options;
  if (a.images > 0) {  // the test images agilenn infer and mcu run would take
    exporter::InferOptions io;
    io.model_dir = o.model_dir.string();
    io.count = a.images;
    io.data_dir = a.data;
    o.images = exporter::load_test_images(io).images;
  }
  const mcu::BenchResult r = mcu::run_bench(o);
  std::fputs(r.table().c_str(), a.json ? stderr : stdout);
  if (a.json) std::printf("%s\n", r.to_json().dump().c_str());
  return 0;
}

int run_mcu_run(const McuRunArgs& a) {
  const McuRunReport r = run_firmware_app(a);
  print_run_table(a.json ? stderr : stdout, r.json);
  if (a.json) std::printf("%s\n", r.json.dump().c_str());
  if (!r.note.empty()) std::fprintf(stderr, "mcu run: note: %s\n", r.note.c_str());
  if (!r.problem.empty()) {
    std::fprintf(stderr, "mcu run: error: %s\n", r.problem.c_str());
    return 1;
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
  bench->add_option("--images", args->images,
                    "Test images, evenly spaced over the test split, to average the counts over (0 = the firmware's "
                    "synthetic image; needs an export folder and its data set)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  bench->add_option("--data", args->data, "Data folder for --images, if not the run's");
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
