// A run killed with SIGKILL mid-epoch and resumed with --resume ends with the same parameters as
// an uninterrupted run of the same steps.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "host/file_io.h"
#include "support/format_writers.h"
#include "train/models.h"

extern char** environ;

namespace agilenn {
namespace {
namespace fs = std::filesystem;

pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

size_t lines(const fs::path& file) {
  std::ifstream in(file);
  size_t n = 0;
  std::string line;
  while (std::getline(in, line)) ++n;
  return n;
}

std::vector<std::string> train_args(const fs::path& out, bool resume) {
  // One compute thread: CTest runs this beside the trainer's smoke test on two cores.
  std::vector<std::string> a = {AGILENN_BIN, "train", "--preset", "smoke", "--stage", "reference", "--threads", "1",
                                "--reference-epochs", "3", "--train-limit", "3072", "--out", out.string()};
  if (resume) a.push_back("--resume");
  return a;
}

std::vector<torch::Tensor> reference_parameters(const fs::path& ckpt) {
  train::ReferenceNet net(train::ExtractorOptions{}, train::ReferenceOptions{24, 10, 8});  // smoke widths
  torch::serialize::InputArchive archive, sub;
  archive.load_from(ckpt.string());
  archive.read("net", sub);
  net->load(sub);
  std::vector<torch::Tensor> out;
  for (const auto& p : net->parameters()) out.push_back(p.detach().clone());
  for (const auto& b : net->buffers()) out.push_back(b.detach().clone().to(torch::kFloat64));
  return out;
}

TEST(TrainResume, KilledMidEpochThenResumedMatchesAnUninterruptedRun) {
  const fs::path shared = source_dir().parent_path() / "shared" / "data" / "cifar10-jpg.tar.gz";
  if (!fs::exists(shared) && !fs::exists(source_dir() / ".cache" / "data" / "cifar10")) GTEST_SKIP() << "no CIFAR-10";
  testing::TempDir dir;
  ASSERT_EQ(wait_exit(spawn(train_args(dir / "straight", false), dir / "straight.log")), 0) << read_text_file(dir / "straight.log");

  const fs::path killed = dir / "killed";
  const pid_t pid = spawn(train_args(killed, false), dir / "killed.log");
  // Wait for the first epoch's checkpoint, then kill it part-way through the second epoch.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (lines(killed / "metrics.jsonl") < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  const int status = wait_exit(pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run finished before it could be killed mid-epoch";
  ASSERT_EQ(lines(killed / "metrics.jsonl"), 1u) << "killed after the second epoch ended";

  ASSERT_EQ(wait_exit(spawn(train_args(killed, true), dir / "resumed.log")), 0) << read_text_file(dir / "resumed.log");
  EXPECT_EQ(lines(killed / "metrics.jsonl"), 3u);
  const auto a = reference_parameters(dir / "straight" / "reference.ckpt");
  const auto b = reference_parameters(killed / "reference.ckpt");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const double norm = a[i].to(torch::kFloat64).norm().item<double>();
    const double diff = (a[i].to(torch::kFloat64) - b[i].to(torch::kFloat64)).norm().item<double>();
    EXPECT_LE(diff, 1e-5 * std::max(norm, 1e-12)) << "tensor " << i;
  }
}

}  // namespace
}  // namespace agilenn
