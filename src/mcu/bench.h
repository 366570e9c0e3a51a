// `agilenn mcu bench`: instructions per stage of the device pipeline on the emulated Cortex-M7,
// for a model folder (DIR/model.agnm, as the exporter or tools/mcu_vectors writes it).
//
// It runs the bench firmware (bench/mcu/pipeline_bench.cpp, built by the cortex-m7 preset) in
// qemu-system-arm with the model preloaded into the flash model slot and the agn_icount plugin
// (tools/qemu_plugin), then reads the plugin's per-stage counts and the firmware's memory line.
//
// Figures:
//   - Instructions come from the default device path, the fused Cortex-M7 kernels
//     (agn_kernels_cm7), encoding with rANS (raw packing if the model has no rANS tables), and
//     framing in wire datagrams. In the fused build the last layer and the quantiser are one
//     kernel: its count is split between "extractor" and "quantize" in the proportion the
//     unfused Cortex-M7 build (same kernels, instrumented per stage) measures for them, so the
//     stages sum to the fused total.
//   - macs: the model's multiply-accumulates (extractor layers and dense).
//   - flash_bytes and sram_bytes come from a second firmware, the footprint image
//     (bench/mcu/footprint.cpp: only the fused cm7 kernels and the default coder, run on the same
//     model): flash_bytes = that image + the model file; sram_bytes = its static data without
//     its fixed-capacity buffers (arena, payload, the camera frame), plus the arena and payload
//     buffer this model needs, plus the stack high-water mark measured by painting. The bench
//     image's own flash (three kernel tables) is shown in the table.
//   - images: the instruction counts are means over these test images (QEMU's loader puts each
//     in the image slot of src/mcu/bench_link.h, one firmware run per image); 0: one run on the
//     firmware's synthetic pattern, which codes more symbols than a real image.
//   - est_ms = total * cycles_per_instruction / (cpu_mhz * 1000), assuming one cycle per
//     instruction (QEMU counts instructions, not cycles: a real M7 dual-issues some pairs and
//     stalls on divisions, loads after stores and flash wait states).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace agilenn::mcu {

inline constexpr double kCyclesPerInstruction = 1.0;

struct BenchOptions {
  std::filesystem::path model_dir;
  std::filesystem::path firmware;   // mcu_pipeline_bench.elf
  std::filesystem::path footprint;  // mcu_footprint.elf; empty: beside `firmware`
  std::filesystem::path plugin;     // libagn_icount.so
  std::string qemu = "qemu-system-arm";
  double cpu_mhz = 216.0;
  // Test images (u8 HWC, the model's input) to average the counts over; empty: the synthetic
  // pattern.
  std::vector<std::vector<uint8_t>> images;
};

// Where the cortex-m7 preset puts the firmware and the plugin in this source tree.
std::filesystem::path default_firmware();
std::filesystem::path default_plugin();

struct StageCounts {
  uint64_t extractor = 0, local = 0, quantize = 0, encode = 0;
};

struct BenchResult {
  StageCounts reference, unfused, fused;  // per kernel table, as measured
  uint64_t framing = 0;
  StageCounts attributed;                 // fused, with its fused kernel split (see above)
  uint64_t total = 0;                     // attributed stages + framing
  std::map<std::string, uint64_t> firmware;   // the bench firmware's "agn-bench" fields
  std::map<std::string, uint64_t> footprint;  // the footprint firmware's "agn-footprint" fields
  uint64_t macs = 0;
  uint64_t flash_bytes = 0;
  uint64_t sram_bytes = 0;
  double cpu_mhz = 216.0;
  double est_ms = 0.0;
  size_t images = 0;  // test images the counts are means over (0: the synthetic pattern)

  // The keys of the issue: {"instructions": {"extractor", "local", "quantize", "encode",
  // "framing", "total"}, "macs", "flash_bytes", "sram_bytes", "cpu_mhz",
  // "cycles_per_instruction", "est_ms"}, and "images".
  nlohmann::json to_json() const;
  // A table: per stage instructions, instructions per MAC, est. ms; memory; the CPI assumption.
  std::string table() const;
};

// Builds the result from the plugin's JSON ({"total", "stages": [16 counts]}) and the UART output
// of both firmwares (the "agn-bench key=value ..." and "agn-footprint key=value ..." lines).
// Throws std::runtime_error naming what is missing or inconsistent.
BenchResult parse_bench(const std::string& plugin_json, const std::string& uart, double cpu_mhz);

// The mean of several runs' instruction counts (rounded; the rest from the first run), with
// `images` set to their number. Throws std::invalid_argument for none.
BenchResult mean_bench(const std::vector<BenchResult>& runs);

// Runs QEMU as described above. Throws std::runtime_error (missing files, QEMU failure with its
// output, bad figures).
BenchResult run_bench(const BenchOptions& options);

}  // namespace agilenn::mcu
