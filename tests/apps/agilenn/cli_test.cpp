// The agilenn command as a user runs it: exit codes, stdout/stderr discipline, JSON contracts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "host/file_io.h"
#include "support/format_writers.h"
#include "support/run_command.h"
#include "train/data/image_decode.h"

namespace agilenn {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

using Result = testing::CommandResult;

void write_tree(const fs::path& root) {
  for (const char* split : {"train", "test"}) {
    for (const char* cls : {"cat", "dog", "eel"}) {
      for (int i = 0; i < 3; ++i) {
        testing::write_png(root / split / cls / (std::to_string(i) + ".png"), testing::make_image(16, 16, 3, static_cast<uint32_t>(i)), 16, 16, 3);
      }
    }
  }
}

TEST(Cli, HelpListsTheSubcommands) {
  testing::TempDir dir;
  const Result r = testing::run_agilenn("--help", dir);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("demo"));
  EXPECT_THAT(r.out, HasSubstr("data"));
  const Result info = testing::run_agilenn("data info --help", dir);
  EXPECT_EQ(info.exit_code, 0);
  EXPECT_THAT(info.out, HasSubstr("--dataset"));
  EXPECT_THAT(info.out, HasSubstr("--json"));
}

TEST(Cli, DataInfoJsonIsOneObjectOnStdout) {
  testing::TempDir dir;
  write_tree(dir / "tree");
  const Result r = testing::run_agilenn("data info --dataset imagefolder --data " + (dir / "tree").string() + " --json", dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);  // throws unless stdout is exactly one JSON value
  EXPECT_EQ(j["dataset"], "imagefolder");
  EXPECT_EQ(j["image"], nlohmann::json({16, 16, 3}));
  EXPECT_EQ(j["classes"], 3);
  EXPECT_EQ(j["splits"]["train"]["count"], 9);
  EXPECT_EQ(j["splits"]["test"]["count"], 9);
  ASSERT_EQ(j["mean"].size(), 3u);
  ASSERT_EQ(j["std"].size(), 3u);
  EXPECT_GT(j["mean"][0].get<double>(), 0.0);
  EXPECT_LT(j["mean"][0].get<double>(), 1.0);
  EXPECT_THAT(r.err, HasSubstr("class"));  // the table went to stderr
}

TEST(Cli, MissingDataSaysWhereItLooked) {
  testing::TempDir dir;
  const Result r = testing::run_agilenn("data info --dataset svhn --data " + (dir / "empty").string(), dir);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("no svhn data found; tried:"));
  EXPECT_THAT(r.err, HasSubstr((dir / "empty").string()));
  EXPECT_THAT(r.err, HasSubstr("train_32x32.mat"));
  EXPECT_TRUE(r.out.empty());
}

TEST(Cli, BadOptionValuesAreRejected) {
  testing::TempDir dir;
  const Result r = testing::run_agilenn("data info --dataset imagenet", dir);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("--dataset"));
}

TEST(Cli, DataShowWritesAContactSheet) {
  testing::TempDir dir;
  write_tree(dir / "tree");
  const fs::path sheet = dir / "out" / "sheet.png";
  const Result r = testing::run_agilenn("data show --dataset imagefolder --data " + (dir / "tree").string() + " --n 4 --split test --out " +
                           sheet.string(),
                       dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const data::RgbImage png = data::decode_image_file(sheet);
  EXPECT_GT(png.width, 100);
  EXPECT_GT(png.height, 100);
}

}  // namespace
}  // namespace agilenn
