#include "mcu/bench.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "host/file_io.h"
#include "modelfile/random_model.h"

namespace {

using agilenn::mcu::BenchOptions;
using agilenn::mcu::parse_bench;

// Stages: table t at 1 + 4t (extractor, local, quantize, encode), framing 13.
const char* kPlugin =
    R"({"total": 0, "stages": [5, 4000, 10, 1000, 300, 1500, 10, 500, 300, 1800, 10, 0, 300, 90, 7, 0],)"
    R"( "entries": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]})";
const char* kUart =
    "agn-bench-table 0 reference\n"
    "agn-bench tables=3 model_bytes=1472 flash_image=40000 sram_static=150000 arena_capacity=65536 "
    "arena_used=26000 payload_capacity=40960 payload_max=29265 stack_high_water=1300 bench_buffers=40000 "
    "macs=175154 payload_bytes=9691 datagrams=9 codec=3\n"
    "agn-footprint model_bytes=1472 flash_image=30000 sram_static=105000 arena_capacity=49152 arena_used=26000 "
    "payload_capacity=40960 payload_max=29265 image_buffer=12288 stack_high_water=1500\n";

TEST(McuBench, AttributesTheFusedKernelLikeTheUnfusedBuild) {
  const auto r = parse_bench(kPlugin, kUart, 216.0);
  // Unfused: extractor 1500, quantize 500 -> 25 % of the fused 1800 is quantize.
  EXPECT_EQ(r.attributed.quantize, 450u);
  EXPECT_EQ(r.attributed.extractor, 1350u);
  EXPECT_EQ(r.attributed.local, 10u);
  EXPECT_EQ(r.attributed.encode, 300u);
  EXPECT_EQ(r.framing, 90u);
  EXPECT_EQ(r.total, 1350u + 10 + 450 + 300 + 90);
  EXPECT_EQ(r.reference.extractor, 4000u);
  EXPECT_EQ(r.macs, 175154u);
  // Memory from the footprint image.
  EXPECT_EQ(r.flash_bytes, 30000u + 1472u);
  EXPECT_EQ(r.sram_bytes, 105000u - 49152u - 40960u - 12288u + 26000u + 29265u + 1500u);
  EXPECT_DOUBLE_EQ(r.est_ms, static_cast<double>(r.total) / 216000.0);
}

TEST(McuBench, JsonHasExactlyTheIssuesKeys) {
  const nlohmann::json j = parse_bench(kPlugin, kUart, 100.0).to_json();
  std::set<std::string> keys, stage_keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  for (const auto& [k, v] : j["instructions"].items()) stage_keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"instructions", "macs", "flash_bytes", "sram_bytes", "cpu_mhz",
                                         "cycles_per_instruction", "est_ms", "images"}));
  EXPECT_EQ(stage_keys, (std::set<std::string>{"extractor", "local", "quantize", "encode", "framing", "total"}));
  EXPECT_DOUBLE_EQ(j["cpu_mhz"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j["cycles_per_instruction"].get<double>(), 1.0);
  EXPECT_NE(parse_bench(kPlugin, kUart, 100.0).table().find("1.0 cycle per instruction"), std::string::npos);
}

TEST(McuBench, MeansOfSeveralImagesKeepTheStagesSummingToTheTotal) {
  auto a = parse_bench(kPlugin, kUart, 216.0);
  std::string other = kPlugin;
  other.replace(other.find("1800"), 4, "2801");  // the fused block of the second image
  auto b = parse_bench(other, kUart, 216.0);
  const auto m = agilenn::mcu::mean_bench({a, b});
  EXPECT_EQ(m.images, 2u);
  EXPECT_EQ(m.fused.extractor, (1800u + 2801u + 1) / 2);
  EXPECT_EQ(m.attributed.quantize, (a.attributed.quantize + b.attributed.quantize + 1) / 2);
  EXPECT_EQ(m.total, m.attributed.extractor + m.attributed.local + m.attributed.quantize + m.attributed.encode +
                         m.framing);
  EXPECT_DOUBLE_EQ(m.est_ms, static_cast<double>(m.total) / 216000.0);
  EXPECT_EQ(m.flash_bytes, a.flash_bytes);
  EXPECT_NE(m.table().find("means over 2 test images"), std::string::npos);
  EXPECT_EQ(m.to_json()["images"].get<size_t>(), 2u);
  EXPECT_THROW(agilenn::mcu::mean_bench({}), std::invalid_argument);
}

TEST(McuBench, RejectsIncompleteOutput) {
  EXPECT_THROW(parse_bench(kPlugin, "no bench line\n", 216.0), std::runtime_error);
  EXPECT_THROW(parse_bench(R"({"stages": [1, 2]})", kUart, 216.0), std::runtime_error);
  EXPECT_THROW(parse_bench("not json", kUart, 216.0), std::runtime_error);
  std::string two_tables = kUart;
  two_tables.replace(two_tables.find("tables=3"), 8, "tables=2");
  EXPECT_THROW(parse_bench(kPlugin, two_tables, 216.0), std::runtime_error);
  std::string no_macs = kUart;
  no_macs.replace(no_macs.find("macs=175154"), 11, "");
  EXPECT_THROW(parse_bench(kPlugin, no_macs, 216.0), std::runtime_error);
  const std::string no_footprint = std::string(kUart).substr(0, std::string(kUart).find("agn-footprint"));
  EXPECT_THROW(parse_bench(kPlugin, no_footprint, 216.0), std::runtime_error);
  std::string other_model = kUart;
  other_model.replace(other_model.find("agn-footprint model_bytes=1472"), 30, "agn-footprint model_bytes=1473");
  EXPECT_THROW(parse_bench(kPlugin, other_model, 216.0), std::runtime_error);
}

TEST(McuBench, MissingFilesAreNamed) {
  BenchOptions o;
  o.model_dir = "/no/such/model/dir";
  o.firmware = agilenn::mcu::default_firmware();
  o.plugin = agilenn::mcu::default_plugin();
  try {
    agilenn::mcu::run_bench(o);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/model/dir/model.agnm"), std::string::npos) << e.what();
  }
}

// The real thing, when the cortex-m7 preset has been built (CI builds it before the host tests).
TEST(McuBench, RunsTheFirmwareOnARandomModel) {
  BenchOptions o;
  o.firmware = agilenn::mcu::default_firmware();
  o.plugin = agilenn::mcu::default_plugin();
  if (!std::filesystem::exists(o.firmware) || !std::filesystem::exists(o.plugin)) {
    GTEST_SKIP() << "build the cortex-m7 preset first (" << o.firmware << ")";
  }
  o.model_dir = std::filesystem::path(testing::TempDir()) / "mcu_bench_model";
  std::filesystem::create_directories(o.model_dir);
  const auto bytes = agilenn::modelfile::write_model(agilenn::modelfile::random_model({}, 5));
  agilenn::write_file_atomic(o.model_dir / "model.agnm",
                             std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  const auto r = agilenn::mcu::run_bench(o);
  EXPECT_EQ(r.macs, 175154u);  // the default shape (dw 3x3 on 32x32x3, pw 3->4, dw on 32x32x4, pw 4->24, dense 5->10)
  EXPECT_GT(r.attributed.extractor, 0u);
  EXPECT_GT(r.attributed.quantize, 0u);
  EXPECT_GT(r.attributed.encode, 0u);
  EXPECT_LT(r.fused.extractor + r.fused.quantize, r.reference.extractor + r.reference.quantize);
  EXPECT_EQ(r.total, r.attributed.extractor + r.attributed.local + r.attributed.quantize + r.attributed.encode +
                         r.framing);
  EXPECT_GT(r.flash_bytes, bytes.size());
  EXPECT_GT(r.sram_bytes, r.footprint.at("arena_used"));
  EXPECT_LT(r.footprint.at("flash_image"), r.firmware.at("flash_image"));  // one kernel table, no checks
  EXPECT_EQ(r.images, 0u);
  EXPECT_EQ(r.firmware.at("real_image"), 0u);

  // Test images through the image slot: the firmware reads each (it says so), and the counts are
  // their means. A plain grey image leaves every symbol the same, so it codes differently from the
  // synthetic pattern.
  o.images = {std::vector<uint8_t>(32 * 32 * 3, 128), std::vector<uint8_t>(32 * 32 * 3, 30)};
  const auto grey = agilenn::mcu::run_bench(o);
  EXPECT_EQ(grey.images, 2u);
  EXPECT_EQ(grey.firmware.at("real_image"), 1u);
  EXPECT_NE(grey.attributed.encode, r.attributed.encode);
  EXPECT_EQ(grey.macs, r.macs);
  o.images = {std::vector<uint8_t>(100, 0)};  // not the model's input size: the firmware refuses it
  EXPECT_THROW(agilenn::mcu::run_bench(o), std::runtime_error);
}

// The same with every clamp the whole int8 range (as exported models have): the Cortex-M7 kernels
// take their assembly loops for that case, and the firmware fails unless every kernel table's
// logits, symbols and payload equal the reference table's.
TEST(McuBench, FullRangeClampsMatchTheReferenceOnTheTarget) {
  BenchOptions o;
  o.firmware = agilenn::mcu::default_firmware();
  o.plugin = agilenn::mcu::default_plugin();
  if (!std::filesystem::exists(o.firmware) || !std::filesystem::exists(o.plugin)) {
    GTEST_SKIP() << "build the cortex-m7 preset first (" << o.firmware << ")";
  }
  o.model_dir = std::filesystem::path(testing::TempDir()) / "mcu_bench_full_range";
  std::filesystem::create_directories(o.model_dir);
  auto spec = agilenn::modelfile::random_model({}, 6);
  for (auto& layer : spec.layers) {
    layer.act_min = -128;
    layer.act_max = 127;
  }
  const auto bytes = agilenn::modelfile::write_model(spec);
  agilenn::write_file_atomic(o.model_dir / "model.agnm",
                             std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  EXPECT_GT(agilenn::mcu::run_bench(o).fused.extractor, 0u);  // run_bench throws if the firmware failed
}

}  // namespace
