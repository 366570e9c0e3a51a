#include "train/data/svhn.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

#include "host/file_io.h"
#include "support/error_message.h"
#include "support/format_writers.h"

namespace agilenn::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

TEST(Svhn, ReadsFormat2WithLabelTenAsDigitZero) {
  TempDir dir;
  std::vector<std::vector<uint8_t>> images;
  for (uint32_t i = 0; i < 3; ++i) images.push_back(testing::make_image(32, 32, 3, 20 + i));
  testing::write_svhn_mat(dir / "train_32x32.mat", images, 32, 32, {10, 1, 7});
  const ImageSet set = read_svhn_mat(dir / "train_32x32.mat");
  ASSERT_EQ(set.size(), 3u);
  EXPECT_EQ(set.labels, (std::vector<int32_t>{0, 1, 7}));
  EXPECT_EQ(set.classes.size(), 10u);
  EXPECT_EQ(set.height, 32);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(std::equal(images[i].begin(), images[i].end(), set.image(i))) << "image " << i;
  }
}

TEST(Svhn, NonSquareImagesKeepRowsAndColumnsApart) {
  TempDir dir;
  const auto img = testing::make_image(4, 6, 3, 1);
  testing::write_svhn_mat(dir / "x.mat", {img}, 4, 6, {5});
  const ImageSet set = read_svhn_mat(dir / "x.mat");
  EXPECT_EQ(set.height, 4);
  EXPECT_EQ(set.width, 6);
  EXPECT_TRUE(std::equal(img.begin(), img.end(), set.image(0)));
}

TEST(Svhn, BadFilesAreClearErrors) {
  TempDir dir;
  EXPECT_THAT(testing::error_message([&] { read_svhn_mat(dir / "missing.mat"); }), HasSubstr("missing.mat: file not found"));
  testing::write_text(dir / "junk.mat", "this is not a MATLAB file, just some text that is long enough");
  EXPECT_THAT(testing::error_message([&] { read_svhn_mat(dir / "junk.mat"); }), HasSubstr("junk.mat"));

  testing::write_svhn_mat(dir / "bad_label.mat", {testing::make_image(32, 32, 3, 1)}, 32, 32, {11});
  EXPECT_THAT(testing::error_message([&] { read_svhn_mat(dir / "bad_label.mat"); }),
              HasSubstr("bad_label.mat: y(1) = 11.000000, expected an integer 1..10"));

  testing::write_svhn_mat(dir / "ok.mat", {testing::make_image(32, 32, 3, 1), testing::make_image(32, 32, 3, 2)}, 32, 32,
                          {1, 2});
  std::vector<uint8_t> bytes = read_file(dir / "ok.mat");
  bytes.resize(bytes.size() - 1000);
  testing::write_bytes(dir / "cut.mat", bytes);
  EXPECT_THAT(testing::error_message([&] { read_svhn_mat(dir / "cut.mat"); }), HasSubstr("cut.mat"));
}

TEST(Svhn, HeaderClaimingMoreDataThanTheFileHoldsIsAnErrorNotAnAllocation) {
  // matio allocates what a variable's dimensions claim before reading: X claiming 4x4x3x(2^31-1)
  // (103 GB) in a file of a few hundred bytes must be refused from its header (found by the
  // train_data_svhn_fuzz fuzzer, which hit matio's multi-gigabyte allocation).
  TempDir dir;
  testing::write_svhn_mat(dir / "ok.mat", {testing::make_image(4, 4, 3, 1), testing::make_image(4, 4, 3, 2)}, 4, 4,
                          {1, 2});
  std::vector<uint8_t> bytes = read_file(dir / "ok.mat");
  const uint8_t dims[16] = {4, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0};
  const auto at = std::search(bytes.begin(), bytes.end(), std::begin(dims), std::end(dims));
  ASSERT_NE(at, bytes.end());
  at[12] = 0xFF;
  at[13] = 0xFF;
  at[14] = 0xFF;
  at[15] = 0x7F;
  testing::write_bytes(dir / "huge.mat", bytes);
  EXPECT_THAT(testing::error_message([&] { read_svhn_mat(dir / "huge.mat"); }),
              HasSubstr("huge.mat: variable 'X' claims 103079215056 bytes of data, more than a"));
}

}  // namespace
}  // namespace agilenn::data
