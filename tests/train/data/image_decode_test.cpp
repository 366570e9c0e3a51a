#include "train/data/image_decode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "host/file_io.h"
#include "support/error_message.h"
#include "support/format_writers.h"

namespace agilenn::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

int max_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  int worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(int{a[i]} - int{b[i]}));
  return worst;
}

TEST(ImageDecode, RgbJpegIsCloseToTheOriginal) {
  TempDir dir;
  const auto img = testing::make_image(32, 32, 3, 1);
  testing::write_jpeg(dir / "a.jpg", img, 32, 32, 3, 100);
  const RgbImage out = decode_image_file(dir / "a.jpg");
  ASSERT_EQ(out.height, 32);
  ASSERT_EQ(out.width, 32);
  ASSERT_EQ(out.pixels.size(), img.size());
  EXPECT_LE(max_abs_diff(out.pixels, img), 40);  // chroma subsampling of a noisy gradient
}

TEST(ImageDecode, GreyscaleJpegExpandsToRgb) {
  TempDir dir;
  const auto grey = testing::make_image(16, 24, 1, 2);
  testing::write_jpeg(dir / "g.JPEG", grey, 16, 24, 1, 100);
  const RgbImage out = decode_image_file(dir / "g.JPEG");
  ASSERT_EQ(out.pixels.size(), 16u * 24u * 3u);
  std::vector<uint8_t> red;
  for (size_t i = 0; i < out.pixels.size(); i += 3) {
    EXPECT_EQ(out.pixels[i], out.pixels[i + 1]);
    EXPECT_EQ(out.pixels[i], out.pixels[i + 2]);
    red.push_back(out.pixels[i]);
  }
  EXPECT_LE(max_abs_diff(red, grey), 4);
}

TEST(ImageDecode, PngOfEveryChannelCountDecodesExactly) {
  TempDir dir;
  for (int channels = 1; channels <= 4; ++channels) {
    const auto img = testing::make_image(5, 7, channels, 3);
    const auto path = dir / ("p" + std::to_string(channels) + ".png");
    testing::write_png(path, img, 5, 7, channels);
    const RgbImage out = decode_image_file(path);
    ASSERT_EQ(out.pixels.size(), 5u * 7u * 3u);
    for (size_t p = 0; p < 35; ++p) {
      if (channels == 3) {
        EXPECT_EQ(out.pixels[p * 3], img[p * 3]);
        EXPECT_EQ(out.pixels[p * 3 + 2], img[p * 3 + 2]);
      } else if (channels == 1) {
        EXPECT_EQ(out.pixels[p * 3 + 1], img[p]);
      }
    }
  }
}

TEST(ImageDecode, TruncatedJpegIsAnErrorNamingTheFile) {
  TempDir dir;
  auto bytes = testing::encode_jpeg(testing::make_image(32, 32, 3, 4), 32, 32, 3);
  bytes.resize(bytes.size() / 2);
  testing::write_bytes(dir / "cut.jpg", bytes);
  EXPECT_THAT(testing::error_message([&] { decode_image_file(dir / "cut.jpg"); }),
              HasSubstr("cut.jpg: corrupt JPEG"));
}

TEST(ImageDecode, CorruptPngAndUnknownBytesAreErrors) {
  TempDir dir;
  testing::write_png(dir / "ok.png", testing::make_image(8, 8, 3, 5), 8, 8, 3);
  std::vector<uint8_t> bytes = read_file(dir / "ok.png");
  bytes.resize(bytes.size() - 20);
  testing::write_bytes(dir / "cut.png", bytes);
  EXPECT_THAT(testing::error_message([&] { decode_image_file(dir / "cut.png"); }),
              HasSubstr("cut.png: corrupt PNG"));
  testing::write_text(dir / "text.jpg", "not an image at all");
  EXPECT_THAT(testing::error_message([&] { decode_image_file(dir / "text.jpg"); }),
              HasSubstr("text.jpg: not a JPEG or PNG"));
}

TEST(ImageDecode, ImagesOverThePixelLimitAreRefusedNamingTheFile) {
  // A valid JPEG whose frame header (SOF0) claims 65000 x 65000 pixels: refused from the header,
  // before 12 GB of pixels would be allocated.
  std::vector<uint8_t> jpeg = testing::encode_jpeg(testing::make_image(32, 32, 3, 6), 32, 32, 3);
  size_t sof = 0;
  for (size_t i = 2; i + 9 < jpeg.size() && sof == 0; ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) sof = i;
  }
  ASSERT_NE(sof, 0u);
  for (size_t at : {sof + 5, sof + 7}) {  // height, then width: u16 big-endian
    jpeg[at] = 65000 >> 8;
    jpeg[at + 1] = 65000 & 0xFF;
  }
  EXPECT_THAT(testing::error_message([&] { decode_image(jpeg.data(), jpeg.size(), "huge.jpg"); }),
              HasSubstr("huge.jpg: JPEG image of 65000x65000 pixels is larger than the limit of 67108864"));

  // The limit can be lowered; an image of exactly the limit still decodes.
  const std::vector<uint8_t> small = testing::encode_jpeg(testing::make_image(8, 6, 3, 7), 8, 6, 3);
  EXPECT_THAT(testing::error_message([&] { decode_image(small.data(), small.size(), "s.jpg", 47); }),
              HasSubstr("s.jpg: JPEG image of 6x8 pixels is larger than the limit of 47 pixels"));
  EXPECT_EQ(decode_image(small.data(), small.size(), "s.jpg", 48).pixels.size(), 8u * 6u * 3u);

  TempDir dir;
  testing::write_png(dir / "p.png", testing::make_image(5, 7, 3, 8), 5, 7, 3);
  const std::vector<uint8_t> png = read_file(dir / "p.png");
  EXPECT_THAT(testing::error_message([&] { decode_image(png.data(), png.size(), "p.png", 34); }),
              HasSubstr("p.png: PNG image of 7x5 pixels is larger than the limit of 34 pixels"));
  EXPECT_EQ(decode_image(png.data(), png.size(), "p.png", 35).pixels.size(), 5u * 7u * 3u);
}

TEST(ImageDecode, RecognisesImageExtensions) {
  EXPECT_TRUE(is_image_file_name("a/b.JPEG"));
  EXPECT_TRUE(is_image_file_name("x.jpg"));
  EXPECT_TRUE(is_image_file_name("x.Png"));
  EXPECT_FALSE(is_image_file_name("x_boxes.txt"));
  EXPECT_FALSE(is_image_file_name("jpg"));
}

}  // namespace
}  // namespace agilenn::data
