#include "train/data/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "host/file_io.h"
#include "support/error_message.h"
#include "support/format_writers.h"

namespace agilenn::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

void write_mnist_like(const std::filesystem::path& dir, const std::string& prefix, bool gzip, size_t n) {
  const std::string ext = gzip ? ".gz" : "";
  std::vector<uint8_t> pixels = testing::make_image(static_cast<int>(n) * 28, 28, 1, 3);
  std::vector<uint8_t> labels;
  for (size_t i = 0; i < n; ++i) labels.push_back(static_cast<uint8_t>(i % 10));
  testing::write_idx(dir / (prefix + "-images-idx3-ubyte" + ext), {static_cast<uint32_t>(n), 28, 28}, pixels, gzip);
  testing::write_idx(dir / (prefix + "-labels-idx1-ubyte" + ext), {static_cast<uint32_t>(n)}, labels, gzip);
}

TEST(Idx, ReadsPlainAndGzip) {
  for (bool gzip : {false, true}) {
    TempDir dir;
    write_mnist_like(dir.path(), "train", gzip, 12);
    const auto [images, labels] = find_idx_files(dir.path(), Split::kTrain);
    const ImageSet set = read_idx(images, labels);
    ASSERT_EQ(set.size(), 12u);
    EXPECT_EQ(set.height, 28);
    EXPECT_EQ(set.width, 28);
    EXPECT_EQ(set.channels, 1);
    EXPECT_EQ(set.labels[11], 1);
    EXPECT_EQ(set.classes.size(), 10u);
    const auto expected = testing::make_image(12 * 28, 28, 1, 3);
    EXPECT_EQ(set.pixels, expected);
  }
}

TEST(Idx, FindsTestFilesByMnistAndEmnistNames) {
  TempDir dir;
  write_mnist_like(dir.path(), "t10k", true, 2);
  EXPECT_EQ(find_idx_files(dir.path(), Split::kTest).first.filename(), "t10k-images-idx3-ubyte.gz");
  TempDir emnist;
  write_mnist_like(emnist.path(), "emnist-digits-test", false, 2);
  EXPECT_EQ(find_idx_files(emnist.path(), Split::kTest).second.filename(), "emnist-digits-test-labels-idx1-ubyte");
  EXPECT_THAT(testing::error_message([&] { find_idx_files(emnist.path(), Split::kTrain); }),
              HasSubstr("*train-images-idx3-ubyte[.gz]"));
}

TEST(Idx, CorruptFilesAreClearErrors) {
  TempDir dir;
  write_mnist_like(dir.path(), "train", false, 3);
  const auto images = dir / "train-images-idx3-ubyte", labels = dir / "train-labels-idx1-ubyte";
  std::vector<uint8_t> bytes = read_file(images);

  auto cut = bytes;
  cut.resize(cut.size() - 5);
  testing::write_bytes(dir / "cut", cut);
  EXPECT_THAT(testing::error_message([&] { read_idx(dir / "cut", labels); }),
              HasSubstr("cut: 2347 data bytes, header says 2352 (truncated)"));

  auto magic = bytes;
  magic[0] = 0x1f;
  testing::write_bytes(dir / "magic", magic);
  EXPECT_THAT(testing::error_message([&] { read_idx(dir / "magic", labels); }), HasSubstr("magic: not an idx file"));

  auto type = bytes;
  type[2] = 0x0D;  // float
  testing::write_bytes(dir / "float", type);
  EXPECT_THAT(testing::error_message([&] { read_idx(dir / "float", labels); }), HasSubstr("expected 0x08"));

  EXPECT_THAT(testing::error_message([&] { read_idx(labels, images); }), HasSubstr("idx rank 1, expected 3"));

  testing::write_idx(dir / "two-labels", {2}, {0, 1}, false);
  EXPECT_THAT(testing::error_message([&] { read_idx(images, dir / "two-labels"); }),
              HasSubstr("two-labels: 2 labels for 3 images"));

  // Dimensions whose product wraps around 2^64 (256 x 2^28 x 2^28 = 2^64 -> 0) are refused, not
  // read as 256 images of 2^28 x 2^28 pixels held in 0 bytes (found by train_data_idx_fuzz).
  testing::write_idx(dir / "wrap", {256, 1u << 28, 1u << 28}, {}, false);
  testing::write_idx(dir / "256-labels", {256}, std::vector<uint8_t>(256, 0), false);
  EXPECT_THAT(testing::error_message([&] { read_idx(dir / "wrap", dir / "256-labels"); }),
              HasSubstr("wrap: implausible idx dimensions 256x268435456x268435456 (more than 2^64 bytes)"));

  TempDir gz;
  write_mnist_like(gz.path(), "train", true, 3);
  std::vector<uint8_t> gz_bytes = read_file(gz / "train-images-idx3-ubyte.gz");
  gz_bytes.resize(gz_bytes.size() / 2);
  testing::write_bytes(gz / "half.gz", gz_bytes);
  EXPECT_THAT(testing::error_message([&] { read_idx(gz / "half.gz", gz / "train-labels-idx1-ubyte.gz"); }),
              HasSubstr("half.gz"));
}

}  // namespace
}  // namespace agilenn::data
