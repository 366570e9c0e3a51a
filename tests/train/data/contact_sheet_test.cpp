#include "train/data/contact_sheet.h"

#include <gtest/gtest.h>

#include <set>

#include "support/format_writers.h"

namespace agilenn::data {
namespace {

ImageSet small_set(size_t n) {
  ImageSet set;
  set.height = 8;
  set.width = 8;
  set.channels = 3;
  set.classes = {"alpha", "beta"};
  for (size_t i = 0; i < n; ++i) {
    const auto img = testing::make_image(8, 8, 3, static_cast<uint32_t>(i));
    set.pixels.insert(set.pixels.end(), img.begin(), img.end());
    set.labels.push_back(static_cast<int32_t>(i % 2));
  }
  return set;
}

TEST(ContactSheet, SampleIsSortedDistinctAndSeeded) {
  ContactSheetOptions o;
  o.count = 64;
  const auto a = contact_sheet_indices(1000, o);
  ASSERT_EQ(a.size(), 64u);
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  EXPECT_EQ(std::set<size_t>(a.begin(), a.end()).size(), 64u);
  EXPECT_LT(a.back(), 1000u);
  EXPECT_EQ(contact_sheet_indices(1000, o), a);
  o.seed = 1;
  EXPECT_NE(contact_sheet_indices(1000, o), a);
  o.count = 5000;
  EXPECT_EQ(contact_sheet_indices(10, o).size(), 10u);
}

TEST(ContactSheet, TilesShowTheSampledImagesEnlarged) {
  const ImageSet set = small_set(4);
  ContactSheetOptions o;
  o.count = 4;
  o.tile_pixels = 32;  // 4x enlargement
  const Canvas sheet = render_contact_sheet(set, set.classes, o);
  // 2x2 grid: the first tile's top-left source pixel fills a 4x4 block.
  const int margin = 10, cell = 88;
  const int x0 = margin + (cell - 32) / 2, y0 = margin;
  const uint8_t* first = set.image(0);
  for (int dy = 0; dy < 4; ++dy) {
    for (int dx = 0; dx < 4; ++dx) {
      EXPECT_EQ(sheet.at(x0 + dx, y0 + dy), (Rgb{first[0], first[1], first[2]}));
    }
  }
  EXPECT_GT(sheet.width(), 2 * cell);
  EXPECT_LT(sheet.width(), 3 * cell);
}

TEST(ContactSheet, EmptySplitIsAnError) {
  ImageSet empty = small_set(0);
  EXPECT_THROW(render_contact_sheet(empty, empty.classes, {}), std::runtime_error);
}

}  // namespace
}  // namespace agilenn::data
