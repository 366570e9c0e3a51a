// agilenn mcu <what>: the device half on the emulated Cortex-M7 (QEMU mps2-an500).
//   mcu bench --model DIR [--json]: instructions per stage, MACs, flash, SRAM, estimated time
//   (src/mcu/bench.h says where each figure comes from). Needs the cortex-m7 preset built.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "mcu/bench.h"

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
}

}  // namespace agilenn::cli
