#include "host/canvas.h"

#include <gtest/gtest.h>
#include <png.h>

#include "support/format_writers.h"
#include "train/data/image_decode.h"

namespace agilenn {
namespace {

TEST(Canvas, DrawsScaledImagesAndClips) {
  Canvas c(10, 10, {0, 0, 0});
  const std::vector<uint8_t> img = {10, 20, 30, 40, 50, 60};  // 1x2 RGB
  c.draw_image(8, 1, img.data(), 1, 2, 3, 2);  // 4 px wide from x=8: half clipped
  EXPECT_EQ(c.at(8, 1), (Rgb{10, 20, 30}));
  EXPECT_EQ(c.at(9, 2), (Rgb{10, 20, 30}));
  EXPECT_EQ(c.at(7, 1), (Rgb{0, 0, 0}));
  const std::vector<uint8_t> grey = {200};
  c.draw_image(0, 0, grey.data(), 1, 1, 1, 1);
  EXPECT_EQ(c.at(0, 0), (Rgb{200, 200, 200}));
}

TEST(Canvas, DrawsText) {
  Canvas c(120, 30);
  const int w = c.draw_text(2, 2, "airplane", 16, {0, 0, 0});
  EXPECT_GT(w, 30);
  EXPECT_NEAR(w, c.text_width("airplane", 16), 2);
  size_t dark = 0;
  for (int y = 0; y < 30; ++y) {
    for (int x = 0; x < 120; ++x) dark += c.at(x, y)[0] < 128;
  }
  EXPECT_GT(dark, 40u);
}

TEST(Canvas, WritesPngThatDecodesToTheSamePixels) {
  testing::TempDir dir;
  Canvas c(7, 5, {1, 2, 3});
  c.fill_rect(2, 1, 3, 2, {250, 0, 100});
  c.write_png(dir / "c.png");
  const data::RgbImage back = data::decode_image_file(dir / "c.png");
  ASSERT_EQ(back.width, 7);
  ASSERT_EQ(back.height, 5);
  EXPECT_EQ(back.pixels, c.pixels());
}

}  // namespace
}  // namespace agilenn
