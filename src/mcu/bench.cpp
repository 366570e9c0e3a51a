#include "mcu/bench.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "common/byte_order.h"
#include "host/file_io.h"
#include "mcu/bench_link.h"

namespace agilenn::mcu {
namespace {

// Stage numbers of bench/mcu/pipeline_bench.cpp: table t's stages start at 1 + 4t.
constexpr int kTables = 3;
constexpr int kFramingStage = 13;
constexpr uint64_t kModelSlot = 0xC0000;

StageCounts table_counts(const nlohmann::json& stages, int t) {
  const int base = 1 + 4 * t;
  return {stages.at(base).get<uint64_t>(), stages.at(base + 1).get<uint64_t>(), stages.at(base + 2).get<uint64_t>(),
          stages.at(base + 3).get<uint64_t>()};
}

uint64_t field(const std::map<std::string, uint64_t>& fields, const std::string& key) {
  const auto it = fields.find(key);
  if (it == fields.end()) throw std::runtime_error("mcu bench: the firmware did not report " + key);
  return it->second;
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The key=value fields of the first line starting with `tag` + " "; false if there is none.
bool read_fields(const std::string& uart, const std::string& tag, std::map<std::string, uint64_t>* fields) {
  std::istringstream lines(uart);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(tag + " ", 0) != 0) continue;
    std::istringstream words(line.substr(tag.size() + 1));
    std::string word;
    while (words >> word) {
      const size_t eq = word.find('=');
      if (eq != std::string::npos) (*fields)[word.substr(0, eq)] = std::stoull(word.substr(eq + 1));
    }
    return true;
  }
  return false;
}

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// Removes its files when it goes out of scope, errors included.
struct TempFiles {
  std::vector<std::filesystem::path> paths;
  ~TempFiles() {
    std::error_code ignored;
    for (const auto& p : paths) std::filesystem::remove(p, ignored);
  }
};

void require_file(const std::filesystem::path& path, const std::string& what) {
  if (!std::filesystem::is_regular_file(path)) {
    throw std::runtime_error(what + " " + path.string() + " does not exist");
  }
}

}  // namespace

std::filesystem::path default_firmware() {
  return source_dir() / "build" / "cortex-m7" / "bin" / "mcu_pipeline_bench.elf";
}

std::filesystem::path default_plugin() {
  return source_dir() / "build" / "cortex-m7" / "tools" / "qemu_plugin" / "libagn_icount.so";
}

BenchResult parse_bench(const std::string& plugin_json, const std::string& uart, double cpu_mhz) {
  BenchResult r;
  r.cpu_mhz = cpu_mhz;
  const nlohmann::json plugin = nlohmann::json::parse(plugin_json, nullptr, false);
  if (plugin.is_discarded() || !plugin.contains("stages") || !plugin["stages"].is_array() ||
      plugin["stages"].size() != 16) {
    throw std::runtime_error("mcu bench: the plugin's output is not {\"total\", \"stages\": [16 counts]}");
  }
  const nlohmann::json& stages = plugin["stages"];
  r.reference = table_counts(stages, 0);
  r.unfused = table_counts(stages, 1);
  r.fused = table_counts(stages, 2);
  r.framing = stages.at(kFramingStage).get<uint64_t>();

  if (!read_fields(uart, "agn-bench", &r.firmware)) {
    throw std::runtime_error("mcu bench: no agn-bench line in the firmware's output:\n" + uart);
  }
  if (!read_fields(uart, "agn-footprint", &r.footprint)) {
    throw std::runtime_error("mcu bench: no agn-footprint line in the footprint firmware's output:\n" + uart);
  }
  if (field(r.firmware, "tables") != kTables) {
    throw std::runtime_error("mcu bench: the firmware measured " + std::to_string(field(r.firmware, "tables")) +
                             " kernel tables, expected " + std::to_string(kTables));
  }
  if (r.fused.extractor == 0 || r.unfused.extractor == 0 || r.fused.encode == 0 || r.framing == 0) {
    throw std::runtime_error("mcu bench: a stage counted no instructions: " + plugin_json);
  }

  // The fused kernel's count, split like the unfused build's extractor : quantize.
  const uint64_t fused_block = r.fused.extractor + r.fused.quantize;
  const double quantize_share = static_cast<double>(r.unfused.quantize) /
                                static_cast<double>(r.unfused.extractor + r.unfused.quantize);
  r.attributed = r.fused;
  r.attributed.quantize = static_cast<uint64_t>(static_cast<double>(fused_block) * quantize_share + 0.5);
  r.attributed.extractor = fused_block - r.attributed.quantize;
  r.total = r.attributed.extractor + r.attributed.local + r.attributed.quantize + r.attributed.encode + r.framing;

  r.macs = field(r.firmware, "macs");
  const auto& f = r.footprint;
  if (field(f, "model_bytes") != field(r.firmware, "model_bytes")) {
    throw std::runtime_error("mcu bench: the two firmwares saw different models");
  }
  r.flash_bytes = field(f, "flash_image") + field(f, "model_bytes");
  const uint64_t capacities = field(f, "arena_capacity") + field(f, "payload_capacity") + field(f, "image_buffer");
  const uint64_t sram_static = field(f, "sram_static");
  if (capacities > sram_static) throw std::runtime_error("mcu bench: the firmware's memory figures do not add up");
  r.sram_bytes = sram_static - capacities + field(f, "arena_used") + field(f, "payload_max") + field(f, "stack_high_water");
  r.est_ms = static_cast<double>(r.total) * kCyclesPerInstruction / (cpu_mhz * 1000.0);
  return r;
}

nlohmann::json BenchResult::to_json() const {
  return {{"instructions",
           {{"extractor", attributed.extractor},
            {"local", attributed.local},
            {"quantize", attributed.quantize},
            {"encode", attributed.encode},
            {"framing", framing},
            {"total", total}}},
          {"macs", macs},
          {"flash_bytes", flash_bytes},
          {"sram_bytes", sram_bytes},
          {"cpu_mhz", cpu_mhz},
          {"cycles_per_instruction", kCyclesPerInstruction},
          {"est_ms", est_ms},
          {"images", images}};
}

std::string BenchResult::table() const {
  char buf[256];
  std::string out;
  auto ms = [&](uint64_t n) { return static_cast<double>(n) * kCyclesPerInstruction / (cpu_mhz * 1000.0); };
  auto row = [&](const char* name, uint64_t n, bool per_mac) {
    if (per_mac) {
      std::snprintf(buf, sizeof buf, "  %-22s %10llu  %6.2f  %8.3f\n", name, static_cast<unsigned long long>(n),
                    static_cast<double>(n) / static_cast<double>(macs), ms(n));
    } else {
      std::snprintf(buf, sizeof buf, "  %-22s %10llu  %6s  %8.3f\n", name, static_cast<unsigned long long>(n), "",
                    ms(n));
    }
    out += buf;
  };
  if (images > 0) {
    std::snprintf(buf, sizeof buf,
                  "Cortex-M7 (QEMU mps2-an500), fused cm7 kernels; %llu MACs; means over %zu test images\n",
                  static_cast<unsigned long long>(macs), images);
  } else {
    std::snprintf(buf, sizeof buf,
                  "Cortex-M7 (QEMU mps2-an500), fused cm7 kernels; %llu MACs; the synthetic image\n",
                  static_cast<unsigned long long>(macs));
  }
  out += buf;
  out += "  stage                  instructions  /MAC        ms\n";
  row("extractor", attributed.extractor, true);
  row("local", attributed.local, false);
  row("quantize", attributed.quantize, false);
  row("encode", attributed.encode, false);
  row("framing", framing, false);
  row("total", total, false);
  row("extractor + local", attributed.extractor + attributed.local, true);
  std::snprintf(buf, sizeof buf,
                "  (fused extractor+quantize kernel: %llu, split %.1f%% / %.1f%% as the unfused cm7 build measures)\n",
                static_cast<unsigned long long>(fused.extractor + fused.quantize),
                100.0 * static_cast<double>(attributed.extractor) /
                    static_cast<double>(attributed.extractor + attributed.quantize),
                100.0 * static_cast<double>(attributed.quantize) /
                    static_cast<double>(attributed.extractor + attributed.quantize));
  out += buf;
  std::snprintf(buf, sizeof buf, "  reference kernels: extractor %llu, local %llu, quantize %llu, encode %llu\n",
                static_cast<unsigned long long>(reference.extractor), static_cast<unsigned long long>(reference.local),
                static_cast<unsigned long long>(reference.quantize), static_cast<unsigned long long>(reference.encode));
  out += buf;
  std::snprintf(buf, sizeof buf, "  unfused cm7 kernels: extractor %llu, local %llu, quantize %llu, encode %llu\n",
                static_cast<unsigned long long>(unfused.extractor), static_cast<unsigned long long>(unfused.local),
                static_cast<unsigned long long>(unfused.quantize), static_cast<unsigned long long>(unfused.encode));
  out += buf;
  std::snprintf(buf, sizeof buf,
                "memory: flash %llu bytes (footprint image %llu + model %llu; the bench image with three kernel "
                "tables is %llu), SRAM %llu bytes (arena %llu, payload buffer %llu, stack high-water %llu)\n",
                static_cast<unsigned long long>(flash_bytes),
                static_cast<unsigned long long>(footprint.at("flash_image")),
                static_cast<unsigned long long>(footprint.at("model_bytes")),
                static_cast<unsigned long long>(firmware.at("flash_image")),
                static_cast<unsigned long long>(sram_bytes), static_cast<unsigned long long>(footprint.at("arena_used")),
                static_cast<unsigned long long>(footprint.at("payload_max")),
                static_cast<unsigned long long>(footprint.at("stack_high_water")));
  out += buf;
  std::snprintf(buf, sizeof buf,
                "est. %.3f ms at %.0f MHz assuming %.1f cycle per instruction (QEMU counts instructions, not "
                "cycles)\n",
                est_ms, cpu_mhz, kCyclesPerInstruction);
  out += buf;
  return out;
}

BenchResult mean_bench(const std::vector<BenchResult>& runs) {
  if (runs.empty()) throw std::invalid_argument("mcu bench: no runs to average");
  BenchResult r = runs.front();
  const auto n = static_cast<double>(runs.size());
  auto mean = [&](auto member) {
    double sum = 0;
    for (const BenchResult& b : runs) sum += static_cast<double>(member(b));
    return static_cast<uint64_t>(std::llround(sum / n));
  };
  auto mean_counts = [&](StageCounts BenchResult::*counts) {
    return StageCounts{mean([&](const BenchResult& b) { return (b.*counts).extractor; }),
                       mean([&](const BenchResult& b) { return (b.*counts).local; }),
                       mean([&](const BenchResult& b) { return (b.*counts).quantize; }),
                       mean([&](const BenchResult& b) { return (b.*counts).encode; })};
  };
  r.reference = mean_counts(&BenchResult::reference);
  r.unfused = mean_counts(&BenchResult::unfused);
  r.fused = mean_counts(&BenchResult::fused);
  r.attributed = mean_counts(&BenchResult::attributed);
  r.framing = mean([](const BenchResult& b) { return b.framing; });
  r.total = r.attributed.extractor + r.attributed.local + r.attributed.quantize + r.attributed.encode + r.framing;
  r.est_ms = static_cast<double>(r.total) * kCyclesPerInstruction / (r.cpu_mhz * 1000.0);
  r.images = runs.size();
  return r;
}

BenchResult run_bench(const BenchOptions& o) {
  const std::filesystem::path model = o.model_dir / "model.agnm";
  require_file(model, "model file");
  require_file(o.firmware, "bench firmware (build it: cmake --build --preset cortex-m7)");
  require_file(o.plugin, "QEMU plugin (build it: cmake --build --preset cortex-m7)");
  if (!(o.cpu_mhz > 0.0)) throw std::runtime_error("--cpu-mhz must be positive");
  const auto model_size = std::filesystem::file_size(model);
  const uint64_t model_room = o.images.empty() ? 256 * 1024 : AGN_BENCH_IMAGE_OFFSET;
  if (model_size > model_room) {
    throw std::runtime_error(model.string() + " is " + std::to_string(model_size) +
                             " bytes; the firmware's model slot holds " + std::to_string(model_room) +
                             (o.images.empty() ? "" : " beside a test image"));
  }

  const std::filesystem::path footprint =
      o.footprint.empty() ? o.firmware.parent_path() / "mcu_footprint.elf" : o.footprint;
  require_file(footprint, "footprint firmware (build it: cmake --build --preset cortex-m7)");

  const std::string stem = "agilenn-mcu-bench-" + std::to_string(::getpid());
  const std::filesystem::path tmp = std::filesystem::temp_directory_path() / (stem + ".json");
  const std::filesystem::path image_file = std::filesystem::temp_directory_path() / (stem + ".image");
  const TempFiles cleanup{{tmp, image_file}};
  std::filesystem::remove(tmp);
  // QEMU with `elf`, the model in the flash model slot (and `extra` arguments); returns its output.
  auto run_qemu = [&](const std::filesystem::path& elf, const std::string& extra) {
    const std::string command =
        "timeout 120 " + quote(o.qemu) +
        " -M mps2-an500 -display none -monitor none -serial stdio -semihosting-config enable=on,target=native "
        "-kernel " +
        quote(elf.string()) + " -device " +
        quote("loader,file=" + model.string() + ",addr=" + hex(kModelSlot) + ",force-raw=on") + extra +
        " 2>&1";
    std::string out;
    std::FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) throw std::runtime_error("mcu bench: cannot run " + o.qemu);
    std::array<char, 4096> chunk;
    size_t n = 0;
    while ((n = std::fread(chunk.data(), 1, chunk.size(), pipe)) > 0) out.append(chunk.data(), n);
    const int status = ::pclose(pipe);
    if (status != 0) {
      throw std::runtime_error("mcu bench: QEMU failed on " + elf.string() + " (status " +
                               std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + "):\n" + out);
    }
    return out;
  };
  // One bench run: the plugin's counts and the firmware's output.
  auto bench_run = [&](const std::string& extra) {
    const std::string uart =
        run_qemu(o.firmware, " -plugin " + quote(o.plugin.string() + ",out=" + tmp.string()) + extra);
    if (!std::filesystem::exists(tmp)) throw std::runtime_error("mcu bench: the plugin wrote no counts:\n" + uart);
    std::pair<std::string, std::string> out{read_text_file(tmp), uart};
    std::filesystem::remove(tmp);
    return out;
  };
  const std::string footprint_uart = run_qemu(footprint, "");
  if (o.images.empty()) {
    const auto [counts, uart] = bench_run("");
    return parse_bench(counts, uart + footprint_uart, o.cpu_mhz);
  }
  std::vector<BenchResult> runs;
  for (const std::vector<uint8_t>& image : o.images) {
    if (image.size() > AGN_BENCH_IMAGE_MAX_BYTES) {
      throw std::runtime_error("mcu bench: a test image of " + std::to_string(image.size()) +
                               " bytes does not fit the image slot");
    }
    std::string slot(AGN_BENCH_IMAGE_HEADER, '\0');
    agn_store_u32le(reinterpret_cast<uint8_t*>(slot.data()), AGN_BENCH_IMAGE_MAGIC);
    agn_store_u32le(reinterpret_cast<uint8_t*>(slot.data()) + 4, static_cast<uint32_t>(image.size()));
    slot.append(image.begin(), image.end());
    write_file_atomic(image_file, slot);
    const auto [counts, uart] = bench_run(
        " -device " + quote("loader,file=" + image_file.string() + ",addr=" + hex(kModelSlot + AGN_BENCH_IMAGE_OFFSET) +
                            ",force-raw=on"));
    runs.push_back(parse_bench(counts, uart + footprint_uart, o.cpu_mhz));
    if (runs.back().firmware.count("real_image") == 0 || runs.back().firmware.at("real_image") != 1) {
      throw std::runtime_error("mcu bench: the firmware did not read the test image from its image slot");
    }
  }
  return mean_bench(runs);
}

}  // namespace agilenn::mcu
