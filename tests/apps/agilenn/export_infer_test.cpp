// agilenn export and agilenn infer as a user runs them, on a run trained here (smoke preset, a tiny
// image-folder data set): the JSON contracts, the files of an export folder, the device runtime
// against the exported golden vectors bit for bit, and clear errors for bad folders. The chain is
// one test because CTest runs every test in its own process and training takes most of the time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "codec/symbol_map.h"
#include "device/device_model.h"
#include "device/runtime.h"
#include "export/golden.h"
#include "host/file_io.h"
#include "support/format_writers.h"
#include "support/run_command.h"

namespace agilenn {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

using Result = testing::CommandResult;

// A smoke run on a tiny image folder, trained here; the export folder of that run.
struct Exported {
  Result train, exported;
};

Exported train_and_export(const testing::TempDir& dir) {
  const fs::path data = dir / "data";
  for (const char* split : {"train", "test"}) {
    for (int cls = 0; cls < 3; ++cls) {
      for (int i = 0; i < (split == std::string("train") ? 16 : 4); ++i) {
        testing::write_png(data / split / ("class" + std::to_string(cls)) / (std::to_string(i) + ".png"),
                           testing::make_image(16, 16, 3, static_cast<uint32_t>(cls * 100 + i)), 16, 16, 3);
      }
    }
  }
  Exported e;
  e.train = testing::run_agilenn("train --preset smoke --dataset imagefolder --data " + data.string() + " --val-count 8 --batch 8 --out " +
                    (dir / "run").string(),
                dir.path());
  e.exported = testing::run_agilenn("export --run " + (dir / "run").string() + " --out " + (dir / "export").string() +
                       " --calibration 16 --golden 3 --json",
                   dir.path());
  return e;
}

TEST(ExportInfer, TrainExportInferEndToEnd) {
  testing::TempDir dir;
  const Exported e = train_and_export(dir);
  // export: one JSON object on stdout, its files, the table on stderr.
  ASSERT_EQ(e.train.exit_code, 0) << e.train.err;
  ASSERT_EQ(e.exported.exit_code, 0) << e.exported.err;
  const nlohmann::json j = nlohmann::json::parse(e.exported.out);  // throws on anything but one value
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["model_bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(dir / "export" / "model.agnm")));
  EXPECT_GT(j["arena_bytes"].get<int64_t>(), 0);
  EXPECT_EQ(j["calibration"]["images"], 16);
  EXPECT_EQ(j["calibration"]["statistic"], "min/max");
  EXPECT_EQ(j["layers"].size(), 6u);
  EXPECT_GT(j["macs"].get<int64_t>(), 0);
  for (const char* f : {"model.agnm", "agilenn_model.h", "agilenn_model.cpp", "golden.bin", "remote.pt", "remote.json",
                        "rans.bin", "float_device.pt", "train_config.json", "export.json"}) {
    EXPECT_TRUE(fs::exists(dir / "export" / f)) << f;
  }
  EXPECT_THAT(read_text_file(dir / "export" / "agilenn_model.h"), HasSubstr("extern const uint8_t agilenn_model["));
  EXPECT_THAT(e.exported.err, HasSubstr("calibration"));  // the table goes to stderr with --json

  // The device runtime equals the exported golden vectors bit for bit.
  const std::vector<uint8_t> bytes = read_file(dir / "export" / "model.agnm");
  const std::vector<exporter::GoldenImage> golden = exporter::read_golden(read_file(dir / "export" / "golden.bin"));
  ASSERT_EQ(golden.size(), 3u);
  agn_model model{};
  ASSERT_EQ(agn_model_load(&model, bytes.data(), bytes.size()), AGN_OK) << model.error;
  size_t arena_size = 0;
  ASSERT_EQ(agn_runtime_arena_size(&model, AGN_CODECS_ALL, &arena_size), AGN_OK);
  std::vector<uint32_t> arena((arena_size + 3) / 4);
  agn_runtime rt{};
  ASSERT_EQ(agn_runtime_init(&rt, &model, AGN_CODECS_ALL, nullptr, arena.data(), arena.size() * 4), AGN_OK) << rt.error;
  for (const exporter::GoldenImage& g : golden) {
    std::vector<int8_t> logits(model.local.classes);
    ASSERT_EQ(agn_runtime_run(&rt, g.input.data(), g.input.size(), logits.data(), logits.size()), AGN_OK) << rt.error;
    EXPECT_EQ(logits, g.expected.logits);
    ASSERT_EQ(model.symbol_count, g.expected.symbols.size());
    std::vector<uint8_t> symbols(model.symbol_count);  // the runtime's symbol map, one per byte
    agn_symbol_map_unpack(agn_runtime_symbols(&rt), model.symbol_count / model.feature_width, model.feature_width,
                          symbols.data());
    EXPECT_EQ(symbols, g.expected.symbols);
  }

  // infer: accuracy and bytes per image as one JSON object.
  const Result r = testing::run_agilenn("infer --model " + (dir / "export").string() + " --n 10 --json", dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["count"], 10);
  EXPECT_EQ(report["coder"], "rans");
  for (const char* key : {"final", "local", "float_final"}) {
    const double a = report["accuracy"][key].get<double>();
    EXPECT_GE(a, 0.0) << key;
    EXPECT_LE(a, 1.0) << key;
  }
  const auto& b = report["bytes_per_image"];
  for (const char* key : {"raw", "lzw", "lzw_fixed", "lzw_variable", "rans", "zstd", "gzip"}) EXPECT_GT(b[key].get<double>(), 0) << key;
  EXPECT_EQ(b["lzw"].get<double>(), std::min(b["lzw_fixed"].get<double>(), b["lzw_variable"].get<double>()));
  // 3-bit packing of (24 - 5) x 16 x 16 symbols.
  EXPECT_EQ(b["raw"].get<double>(), 19.0 * 16 * 16 * 3 / 8);
  EXPECT_EQ(report["fallbacks"], 0);

  // infer on a run folder (not an export folder) names the missing file.
  const Result infer = testing::run_agilenn("infer --model " + (dir / "run").string() + " --json", dir.path());
  EXPECT_EQ(infer.exit_code, 1);
  EXPECT_THAT(infer.err, HasSubstr("remote.json: not found"));
  EXPECT_EQ(infer.out, "");
}

TEST(ExportInfer, BadRunFoldersGiveClearErrors) {
  testing::TempDir dir;
  testing::write_text(dir / "data" / "readme.txt", "not a run\n");
  const Result missing = testing::run_agilenn("export --run " + (dir / "nowhere").string() + " --out " + (dir / "x").string(), dir.path());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nowhere: not a folder"));
  const Result not_run = testing::run_agilenn("export --run " + (dir / "data").string() + " --out " + (dir / "x").string(), dir.path());
  EXPECT_EQ(not_run.exit_code, 1);
  EXPECT_THAT(not_run.err, HasSubstr("config.json: not found"));
  EXPECT_FALSE(fs::exists(dir / "x"));
  // A run whose AgileNN stage never finished.
  testing::write_text(dir / "run" / "config.json", "{}\n");
  const Result unfinished = testing::run_agilenn("export --run " + (dir / "run").string() + " --out " + (dir / "x").string(), dir.path());
  EXPECT_EQ(unfinished.exit_code, 1);
  EXPECT_THAT(unfinished.err, HasSubstr("agilenn.pt: not found (the run's AgileNN stage has not finished)"));
}

}  // namespace
}  // namespace agilenn
