// The trainer on a small real subset of CIFAR-10 (the shipped archive, extracted on first use).
#include "train/trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "host/file_io.h"
#include "train/run.h"
#include "support/error_message.h"
#include "support/format_writers.h"

namespace agilenn::train {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

bool cifar_available() {
  return fs::exists(source_dir().parent_path() / "shared" / "data" / "cifar10-jpg.tar.gz") ||
         fs::exists(source_dir() / ".cache" / "data" / "cifar10");
}

// One compute thread: CTest runs these tests beside others (and the resume test's training runs)
// on two cores, where two-thread runs oversubscribe the cores.
TrainConfig smoke(const fs::path& out) {
  TrainConfig c = TrainConfig::preset_values("smoke");
  c.out = out.string();
  c.threads = 1;
  c.train_limit = 256;
  c.test_limit = 64;
  return c;
}

std::vector<nlohmann::json> metrics(const fs::path& run, const std::string& stage) {
  std::ifstream in(run / "metrics.jsonl");
  std::vector<nlohmann::json> lines;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    if (j["stage"] == stage) lines.push_back(j);
  }
  return lines;
}

// A shifted image's new border is black with --augment-pad-mode zero and a mirror of the image
// with reflect: on an image whose columns are 10, 20, 30, ..., a shift right by 2 shows columns
// 30 20 | 10 20 30 ... (reflect) or 0 0 | 10 20 ... (zero).
TEST(Trainer, ShiftedImagesHaveBlackOrMirroredBorders) {
  data::ImageSet set;
  set.height = 6;
  set.width = 6;
  set.channels = 1;
  set.classes = {"a"};
  set.labels = {0};
  for (int y = 0; y < 6; ++y) {
    for (int x = 0; x < 6; ++x) set.pixels.push_back(static_cast<uint8_t>(10 * (x + 1)));
  }
  RunData d;
  d.mean = {0.0};
  d.std = {1.0 / 255.0};  // normalised value = pixel
  d.flip = false;
  const size_t idx = 0;
  for (bool reflect : {false, true}) {
    d.reflect_pad = reflect;
    for (uint64_t seed = 0; seed < 200; ++seed) {
      std::mt19937_64 rng(seed);
      const torch::Tensor img = make_images(set, &idx, 1, d, &rng, 2)[0][0];  // [6, 6]
      const torch::Tensor row = img[3];
      // Columns: x_out = x_src - dx, so a source column index is row[x] / 10 - 1.
      const int dx = static_cast<int>(std::lround(row[2].item<double>() / 10.0)) - 3;
      for (int x = 0; x < 6; ++x) {
        const int sx = x + dx;
        const int mirrored = sx < 0 ? -sx : sx >= 6 ? 10 - sx : sx;
        const double want = sx >= 0 && sx < 6 ? 10.0 * (sx + 1) : reflect ? 10.0 * (mirrored + 1) : 0.0;
        EXPECT_EQ(row[x].item<double>(), want) << "reflect " << reflect << " seed " << seed << " x " << x;
      }
    }
  }
}

TEST(Trainer, SmokeRunLowersTheLossAndWritesTheRun) {
  if (!cifar_available()) GTEST_SKIP() << "CIFAR-10 archive not present";
  testing::TempDir dir;
  TrainConfig c = smoke(dir.path());
  c.reference_epochs = 4;
  c.agilenn_epochs = 6;
  run_train(c);
  const auto ref = metrics(dir.path(), "reference");
  ASSERT_EQ(ref.size(), 4u);
  EXPECT_LT(ref.back()["train_loss"].get<double>(), ref.front()["train_loss"].get<double>());
  const auto agile = metrics(dir.path(), "agilenn");
  ASSERT_EQ(agile.size(), 6u);
  EXPECT_LT(agile.back()["train_loss"].get<double>(), agile.front()["train_loss"].get<double>());
  for (const char* key : {"val_accuracy", "val_local", "val_remote", "val_reference", "val_skewness", "val_disorder_rate",
                          "alpha", "epoch_s", "images_per_s"}) {
    EXPECT_TRUE(agile.back().contains(key)) << key;
  }
  for (const char* file : {"config.json", "reference.pt", "reference.ckpt", "channels.json", "agilenn.pt", "agilenn.ckpt",
                           "summary.json"}) {
    EXPECT_TRUE(fs::exists(dir / file)) << file;
  }
  // The smoke preset refits the Local NN at the end of the AgileNN stage (--local-refit).
  const auto refit = metrics(dir.path(), "local-refit");
  ASSERT_EQ(refit.size(), 1u);
  for (const char* key : {"train_local_before", "train_local", "val_local_before", "val_local", "val_accuracy_before",
                          "val_accuracy", "kept", "refit_s"}) {
    EXPECT_TRUE(refit[0].contains(key)) << key;
  }
  if (refit[0]["kept"].get<bool>()) {
    EXPECT_GT(refit[0]["val_local"].get<double>(), refit[0]["val_local_before"].get<double>());
  }
  // The convex fit on the training split's features is at least as good there as the trained layer.
  EXPECT_GE(refit[0]["train_local"].get<double>(), refit[0]["train_local_before"].get<double>() - 0.02);
  const nlohmann::json channels = nlohmann::json::parse(read_text_file(dir / "channels.json"));
  EXPECT_EQ(channels["local_channels"].size(), 5u);
  EXPECT_EQ(channels["order"].size(), 24u);

  const EvalReport r = evaluate_run(dir.path().string(), "test", -1.0, "");
  EXPECT_EQ(r.count, 64);
  EXPECT_GE(r.final_accuracy, 0.0);
  EXPECT_LE(r.final_accuracy, 1.0);
  EXPECT_NEAR(r.alpha, 0.5, 0.1);
  const nlohmann::json j = r.to_json();
  for (const char* key : {"final", "local", "remote", "reference"}) EXPECT_TRUE(j["accuracy"].contains(key)) << key;
  for (const char* key : {"skewness", "disorder_rate", "alpha", "count", "dead_local_rate"}) EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["channel_importance"].size(), 24u);
  EXPECT_EQ(j["disorder_weakest_local"].size(), 5u);
  const EvalReport local_only = evaluate_run(dir.path().string(), "test", 1.0, "");
  EXPECT_DOUBLE_EQ(local_only.final_accuracy, local_only.local_accuracy);

  // --stage local-refit on the finished run: one line again (it replaces the last), and a refit
  // of a layer that was already refit and kept is not kept again (no validation gain).
  c.stage = "local-refit";
  run_train(c);
  const auto again = metrics(dir.path(), "local-refit");
  ASSERT_EQ(again.size(), 1u);
  if (refit[0]["kept"].get<bool>()) {
    EXPECT_FALSE(again[0]["kept"].get<bool>());
  }

  // The plain stage beside it keeps the other stages' metrics.
  c.stage = "plain";
  c.plain_epochs = 1;
  run_train(c);
  EXPECT_EQ(metrics(dir.path(), "reference").size(), 4u);
  EXPECT_EQ(metrics(dir.path(), "agilenn").size(), 6u);
  EXPECT_EQ(metrics(dir.path(), "plain").size(), 1u);
}

// With --xai-every N only one step in N carries the XAI losses; the epoch's XAI figures are still
// means over the XAI samples (scaled by N), so they estimate the same quantity as a run with XAI
// on every step. Learning rate 0 and a frozen reference make every step's figures a function of
// its batch alone, so the two runs differ only by which batches they sample (about 12 % noise
// here; a missing scale would give a ratio of 1/4).
TEST(Trainer, XaiEveryNKeepsTheXaiFiguresPerXaiSample) {
  if (!cifar_available()) GTEST_SKIP() << "CIFAR-10 archive not present";
  testing::TempDir dir;
  TrainConfig c = smoke(dir.path() / "every1");
  c.stage = "reference";
  run_train(c);
  fs::copy(dir / "every1", dir / "every4", fs::copy_options::recursive);
  c.stage = "agilenn";
  c.train_limit = 1024;
  c.xai_samples = 0;
  c.lr = 0;
  c.reference_mode = "frozen";
  run_train(c);
  c.out = (dir / "every4").string();
  c.xai_every = 4;
  run_train(c);
  // The stages ran as separate commands: plain's budget (agilenn_run_s) still counts the
  // reference stage's wall time.
  const nlohmann::json summary = nlohmann::json::parse(read_text_file(dir / "every1" / "summary.json"));
  EXPECT_GE(summary["agilenn_run_s"].get<double>(),
            summary["reference"]["run_s"].get<double>() + summary["agilenn"]["train_s"].get<double>());
  const nlohmann::json every1 = metrics(dir / "every1", "agilenn").at(0);
  const nlohmann::json every4 = metrics(dir / "every4", "agilenn").at(0);
  for (const char* key : {"train_xai_correct", "train_skewness"}) {
    const double a = every1.at(key).get<double>(), b = every4.at(key).get<double>();
    EXPECT_GT(a, 0.0) << key;
    EXPECT_LE(b, 1.0) << key;
    EXPECT_GT(b / a, 0.6) << key << ": " << a << " vs " << b;
    EXPECT_LT(b / a, 1.6) << key << ": " << a << " vs " << b;
  }
  c.xai_every = 0;
  EXPECT_THAT(testing::error_message([&] { run_train(c); }), HasSubstr("--xai-every must be at least 1"));
}

// Checked before any data is read.
TEST(Trainer, AnUnknownBorderModeIsAClearError) {
  testing::TempDir dir;
  TrainConfig c = smoke(dir.path());
  c.augment_pad_mode = "edge";
  EXPECT_THAT(testing::error_message([&] { run_train(c); }),
              HasSubstr("--augment-pad-mode must be zero or reflect, got 'edge'"));
}

TEST(Trainer, BenchTimesBothStepsAndEachRemoteDetachMode) {
  if (!cifar_available()) GTEST_SKIP() << "CIFAR-10 archive not present";
  testing::TempDir dir;
  TrainConfig c = smoke(dir.path());
  c.xai_every = 1;  // every AgileNN step takes the XAI losses
  for (const std::string mode : {"full", "detach", "detach-skewness"}) {
    c.xai_remote = mode;
    const StepBenchReport r = bench_train_step(c, 2);
    EXPECT_GT(r.agilenn_step_s, 0.0) << mode;
    EXPECT_GT(r.plain_step_s, 0.0) << mode;
    EXPECT_DOUBLE_EQ(r.ratio, r.agilenn_step_s / r.plain_step_s) << mode;
    EXPECT_EQ(r.to_json().at("xai_every"), 1) << mode;
  }
  c.xai_remote = "half";
  EXPECT_THAT(testing::error_message([&] { bench_train_step(c, 1); }),
              HasSubstr("--xai-remote must be full, detach or detach-skewness, got 'half'"));
}

TEST(Trainer, ANonFiniteLossStopsTheStageWithAClearError) {
  if (!cifar_available()) GTEST_SKIP() << "CIFAR-10 archive not present";
  testing::TempDir dir;
  TrainConfig c = smoke(dir.path());
  c.stage = "reference";
  c.reference_lr = std::numeric_limits<double>::infinity();  // the first step makes every weight inf or NaN
  EXPECT_THAT(testing::error_message([&] { run_train(c); }),
              HasSubstr("reference stage: the training loss is not finite at step 1 (epoch 1)"));
}

TEST(Trainer, MissingCorruptOrMismatchedCheckpointsAreClearErrors) {
  if (!cifar_available()) GTEST_SKIP() << "CIFAR-10 archive not present";
  testing::TempDir dir;
  TrainConfig c = smoke(dir.path());
  c.train_limit = 64;
  c.stage = "agilenn";
  EXPECT_THAT(testing::error_message([&] { run_train(c); }),
              HasSubstr("reference.pt: not found; run the reference stage first"));

  testing::write_text(dir / "reference.pt", "definitely not a checkpoint");
  EXPECT_THAT(testing::error_message([&] { run_train(c); }), HasSubstr("reference.pt: not a checkpoint of this model"));

  c.stage = "reference";
  run_train(c);
  c.stage = "agilenn";
  c.reference_width = 16;  // the saved reference has width 8
  EXPECT_THAT(testing::error_message([&] { run_train(c); }), HasSubstr("reference.pt: not a checkpoint of this model"));

  EXPECT_THAT(testing::error_message([&] { evaluate_run((dir / "nothing").string(), "test", -1, ""); }),
              HasSubstr("config.json: not found"));

  // The refit of a run with no AgileNN stage (config.json is there, agilenn.pt is not).
  c.stage = "local-refit";
  EXPECT_THAT(testing::error_message([&] { run_train(c); }), HasSubstr("agilenn.pt: not found"));
  c.out = (dir / "nothing").string();
  EXPECT_THAT(testing::error_message([&] { run_train(c); }), HasSubstr("config.json: not found (--stage local-refit"));
}

TEST(Trainer, ConfigRoundTripsThroughJson) {
  TrainConfig c = TrainConfig::preset_values("paper");
  c.out = "x";
  c.remote_blocks = {2, 2, 2, 2, 2, 2, 2};
  c.remote_strides = {1, 2, 1, 2, 1, 2, 1};
  c.xai_every = 3;
  const TrainConfig back = config_from_json(to_json(c));
  EXPECT_EQ(to_json(back), to_json(c));
  EXPECT_THAT(testing::error_message([] { config_from_json({{"batch", "many"}}); }), HasSubstr("config field 'batch'"));
  EXPECT_THAT(testing::error_message([] { TrainConfig::preset_values("huge"); }), HasSubstr("expected smoke|quick|paper"));
}

}  // namespace
}  // namespace agilenn::train
