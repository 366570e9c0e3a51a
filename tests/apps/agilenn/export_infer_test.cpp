// agilenn export and agilenn infer as a user runs them, on a run trained here (smoke preset, a tiny
// image-folder data set): the JSON contracts, the files of an export folder, the device runtime
// against the exported golden vectors bit for bit, and clear errors for bad folders.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "device/device_model.h"
#include "device/runtime.h"
#include "export/golden.h"
#include "host/file_io.h"
#include "support/format_writers.h"

namespace agilenn {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

Result run(const std::string& args, const fs::path& dir) {
  const fs::path err_file = dir / "stderr.txt";
  const std::string command = std::string(AGILENN_BIN) + " " + args + " 2>" + err_file.string();
  Result r;
  FILE* pipe = popen(command.c_str(), "r");
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_text_file(err_file);
  return r;
}

// One trained run and its export for every test of this file (training takes seconds).
class ExportInfer : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir;
    const fs::path data = *dir_ / "data";
    for (const char* split : {"train", "test"}) {
      for (int cls = 0; cls < 3; ++cls) {
        for (int i = 0; i < (split == std::string("train") ? 16 : 4); ++i) {
          testing::write_png(data / split / ("class" + std::to_string(cls)) / (std::to_string(i) + ".png"),
                             testing::make_image(16, 16, 3, static_cast<uint32_t>(cls * 100 + i)), 16, 16, 3);
        }
      }
    }
    train_ = new Result(run("train --preset smoke --dataset imagefolder --data " + data.string() +
                                " --val-count 8 --batch 8 --out " + (*dir_ / "run").string(),
                            dir_->path()));
    export_ = new Result(run("export --run " + (*dir_ / "run").string() + " --out " + (*dir_ / "export").string() +
                                 " --calibration 16 --golden 3 --json",
                             dir_->path()));
  }
  static void TearDownTestSuite() {
    delete export_;
    delete train_;
    delete dir_;
  }
  static testing::TempDir* dir_;
  static Result* train_;
  static Result* export_;
};
testing::TempDir* ExportInfer::dir_ = nullptr;
Result* ExportInfer::train_ = nullptr;
Result* ExportInfer::export_ = nullptr;

TEST_F(ExportInfer, ExportPrintsOneJsonObjectAndWritesItsFiles) {
  ASSERT_EQ(train_->exit_code, 0) << train_->err;
  ASSERT_EQ(export_->exit_code, 0) << export_->err;
  const nlohmann::json j = nlohmann::json::parse(export_->out);  // throws on anything but one value
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["model_bytes"].get<int64_t>(), static_cast<int64_t>(fs::file_size(*dir_ / "export" / "model.agnm")));
  EXPECT_GT(j["arena_bytes"].get<int64_t>(), 0);
  EXPECT_EQ(j["calibration"]["images"], 16);
  EXPECT_EQ(j["calibration"]["statistic"], "min/max");
  EXPECT_EQ(j["layers"].size(), 6u);
  EXPECT_GT(j["macs"].get<int64_t>(), 0);
  for (const char* f : {"model.agnm", "agilenn_model.h", "agilenn_model.cpp", "golden.bin", "remote.pt", "remote.json",
                        "rans.bin", "float_device.pt", "train_config.json", "export.json"}) {
    EXPECT_TRUE(fs::exists(*dir_ / "export" / f)) << f;
  }
  EXPECT_THAT(read_text_file(*dir_ / "export" / "agilenn_model.h"), HasSubstr("extern const uint8_t agilenn_model["));
  EXPECT_THAT(export_->err, HasSubstr("calibration"));  // the table goes to stderr with --json
}

TEST_F(ExportInfer, RuntimeEqualsTheExportedGoldenVectors) {
  ASSERT_EQ(export_->exit_code, 0) << export_->err;
  const std::vector<uint8_t> bytes = read_file(*dir_ / "export" / "model.agnm");
  const std::vector<exporter::GoldenImage> golden = exporter::read_golden(read_file(*dir_ / "export" / "golden.bin"));
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
    EXPECT_TRUE(std::equal(g.expected.symbols.begin(), g.expected.symbols.end(), agn_runtime_symbols(&rt)));
  }
}

TEST_F(ExportInfer, InferReportsAccuracyAndBytesAsOneJsonObject) {
  ASSERT_EQ(export_->exit_code, 0) << export_->err;
  const Result r = run("infer --model " + (*dir_ / "export").string() + " --n 10 --json", dir_->path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["count"], 10);
  EXPECT_EQ(j["coder"], "rans");
  for (const char* key : {"final", "local", "float_final"}) {
    const double a = j["accuracy"][key].get<double>();
    EXPECT_GE(a, 0.0) << key;
    EXPECT_LE(a, 1.0) << key;
  }
  const auto& b = j["bytes_per_image"];
  for (const char* key : {"raw", "lzw", "lzw_fixed", "lzw_variable", "rans", "zstd", "gzip"}) EXPECT_GT(b[key].get<double>(), 0) << key;
  EXPECT_EQ(b["lzw"].get<double>(), std::min(b["lzw_fixed"].get<double>(), b["lzw_variable"].get<double>()));
  // 3-bit packing of (24 - 5) x 16 x 16 symbols.
  EXPECT_EQ(b["raw"].get<double>(), 19.0 * 16 * 16 * 3 / 8);
  EXPECT_EQ(j["fallbacks"], 0);
}

TEST_F(ExportInfer, BadFoldersGiveClearErrors) {
  const Result missing = run("export --run " + (*dir_ / "nowhere").string() + " --out " + (*dir_ / "x").string(), dir_->path());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nowhere: not a folder"));
  const Result not_run = run("export --run " + (*dir_ / "data").string() + " --out " + (*dir_ / "x").string(), dir_->path());
  EXPECT_EQ(not_run.exit_code, 1);
  EXPECT_THAT(not_run.err, HasSubstr("config.json: not found"));
  EXPECT_FALSE(fs::exists(*dir_ / "x"));
  const Result infer = run("infer --model " + (*dir_ / "run").string() + " --json", dir_->path());
  EXPECT_EQ(infer.exit_code, 1);
  EXPECT_THAT(infer.err, HasSubstr("remote.json: not found"));
  EXPECT_EQ(infer.out, "");
}

}  // namespace
}  // namespace agilenn
