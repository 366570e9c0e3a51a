#include "train/data/archive.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "host/file_io.h"
#include "support/error_message.h"
#include "support/format_writers.h"

namespace agilenn::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;
namespace fs = std::filesystem;

size_t entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(Archive, ExtractsSeveralArchivesIntoOneFolderOnce) {
  TempDir dir;
  testing::write_tar_gz(dir / "p1.tar.gz", {{"top/a/x.txt", "one"}, {"top/wnids.txt", "w"}});
  testing::write_tar_gz(dir / "p2.tar.gz", {{"top/b/y.txt", "two"}});
  const fs::path cache = dir / "cache";
  const fs::path out = extract_archives_once({dir / "p1.tar.gz", dir / "p2.tar.gz"}, cache, "top");
  EXPECT_EQ(out, cache / "top");
  EXPECT_EQ(read_text_file(out / "a" / "x.txt"), "one");
  EXPECT_EQ(read_text_file(out / "b" / "y.txt"), "two");
  // Second use: no extraction (a changed file stays changed).
  testing::write_text(out / "a" / "x.txt", "changed");
  extract_archives_once({dir / "p1.tar.gz", dir / "p2.tar.gz"}, cache, "top");
  EXPECT_EQ(read_text_file(out / "a" / "x.txt"), "changed");
}

TEST(Archive, ConcurrentFirstUsesExtractOnce) {
  TempDir dir;
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 200; ++i) files.push_back({"top/f" + std::to_string(i), std::string(1000, 'x')});
  testing::write_tar_gz(dir / "p.tar.gz", files);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] { extract_archives_once({dir / "p.tar.gz"}, dir / "cache", "top"); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(entries(dir / "cache" / "top"), 200u);
}

TEST(Archive, RejectsEntriesOutsideTheTopFolderAndLeavesNothing) {
  TempDir dir;
  testing::write_tar_gz(dir / "evil.tar.gz", {{"top/ok.txt", "fine"}, {"top/../../escape.txt", "bad"}});
  EXPECT_THAT(testing::error_message([&] { extract_archives_once({dir / "evil.tar.gz"}, dir / "cache", "top"); }),
              HasSubstr("evil.tar.gz: entry 'top/../../escape.txt' is outside the expected folder 'top/'"));
  EXPECT_FALSE(fs::exists(dir / "cache" / "top"));
  EXPECT_FALSE(fs::exists(dir / "escape.txt"));
  for (const auto& e : fs::directory_iterator(dir / "cache")) {
    EXPECT_THAT(e.path().filename().string(), HasSubstr(".lock-")) << "left behind: " << e.path();
  }
}

TEST(Archive, CorruptArchiveIsAnErrorAndLeavesNothing) {
  TempDir dir;
  std::vector<std::pair<std::string, std::string>> files;
  for (int i = 0; i < 50; ++i) files.push_back({"top/f" + std::to_string(i), std::string(5000, static_cast<char>('a' + i % 26))});
  testing::write_tar_gz(dir / "p.tar.gz", files);
  std::vector<uint8_t> bytes = read_file(dir / "p.tar.gz");
  bytes.resize(bytes.size() / 2);
  testing::write_bytes(dir / "cut.tar.gz", bytes);
  EXPECT_THAT(testing::error_message([&] { extract_archives_once({dir / "cut.tar.gz"}, dir / "cache", "top"); }),
              HasSubstr("cut.tar.gz"));
  EXPECT_FALSE(fs::exists(dir / "cache" / "top"));
}

}  // namespace
}  // namespace agilenn::data
