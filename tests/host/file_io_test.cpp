#include "host/file_io.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "support/format_writers.h"

namespace agilenn {
namespace {
namespace fs = std::filesystem;

TEST(FileIo, ReadsWholeFiles) {
  testing::TempDir dir;
  testing::write_text(dir / "a.txt", "hello\nworld");
  EXPECT_EQ(read_text_file(dir / "a.txt"), "hello\nworld");
  testing::write_bytes(dir / "empty", {});
  EXPECT_TRUE(read_file(dir / "empty").empty());
}

TEST(FileIo, MissingFileErrorNamesIt) {
  testing::TempDir dir;
  try {
    read_file(dir / "nope.bin");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.bin"), std::string::npos) << e.what();
  }
}

TEST(FileIo, AtomicWriteReplacesAndLeavesNoTemporary) {
  testing::TempDir dir;
  write_file_atomic(dir / "out" / "x.json", "first");
  write_file_atomic(dir / "out" / "x.json", "second");
  EXPECT_EQ(read_text_file(dir / "out" / "x.json"), "second");
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir / "out")) ++entries;
  EXPECT_EQ(entries, 1u);
}

TEST(FileIo, FailedWriteKeepsTheOldFile) {
  testing::TempDir dir;
  write_file_atomic(dir / "x", "old");
  EXPECT_THROW(write_file_atomic(dir / "x",
                                 [](const fs::path& tmp) {
                                   testing::write_text(tmp, "half");
                                   throw std::runtime_error("killed mid-write");
                                 }),
               std::runtime_error);
  EXPECT_EQ(read_text_file(dir / "x"), "old");
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u);
}

}  // namespace
}  // namespace agilenn
