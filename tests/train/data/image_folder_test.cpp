#include "train/data/image_folder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/error_message.h"
#include "support/format_writers.h"

namespace agilenn::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

TEST(ImageFolder, ClassesAndFilesInSortedOrder) {
  TempDir dir;
  const auto img = testing::make_image(8, 8, 3, 0);
  testing::write_png(dir / "train" / "zebra" / "b.png", img, 8, 8, 3);
  testing::write_jpeg(dir / "train" / "zebra" / "a.jpg", img, 8, 8, 3);
  testing::write_jpeg(dir / "train" / "ant" / "x.JPEG", img, 8, 8, 3);
  testing::write_text(dir / "train" / "ant" / "notes.txt", "ignored");
  testing::write_text(dir / "train" / "README", "ignored");
  const FileIndex index = index_image_folder(dir / "train");
  ASSERT_EQ(index.classes, (std::vector<std::string>{"ant", "zebra"}));
  ASSERT_EQ(index.files.size(), 3u);
  EXPECT_EQ(index.files[0].path.filename(), "x.JPEG");
  EXPECT_EQ(index.files[0].label, 0);
  EXPECT_EQ(index.files[1].path.filename(), "a.jpg");
  EXPECT_EQ(index.files[2].path.filename(), "b.png");
  EXPECT_EQ(index.files[2].label, 1);
}

TEST(ImageFolder, MissingOrEmptyTreesAreClearErrors) {
  TempDir dir;
  EXPECT_THAT(testing::error_message([&] { index_image_folder(dir / "train"); }),
              HasSubstr("train: not a folder"));
  std::filesystem::create_directories(dir / "train" / "cat");
  EXPECT_THAT(testing::error_message([&] { index_image_folder(dir / "train"); }),
              HasSubstr("no .jpg/.jpeg/.png images"));
}

TEST(FileIndex, DecodesEveryFileWithItsLabel) {
  TempDir dir;
  std::vector<std::vector<uint8_t>> images;
  for (int i = 0; i < 150; ++i) {  // more than one decoding chunk per thread
    images.push_back(testing::make_image(6, 5, 3, static_cast<uint32_t>(i)));
    testing::write_png(dir / "train" / (i % 3 == 0 ? "a" : "b") / ("img" + std::to_string(1000 + i) + ".png"),
                       images.back(), 6, 5, 3);
  }
  const FileIndex index = index_image_folder(dir / "train");
  const ImageSet set = decode_file_index(index, {.threads = 2, .progress_label = ""});
  ASSERT_EQ(set.size(), 150u);
  EXPECT_EQ(set.height, 6);
  EXPECT_EQ(set.width, 5);
  EXPECT_EQ(set.channels, 3);
  for (size_t k = 0; k < set.size(); ++k) {
    const int i = std::stoi(index.files[k].path.stem().string().substr(3)) - 1000;
    EXPECT_EQ(set.labels[k], i % 3 == 0 ? 0 : 1);
    EXPECT_TRUE(std::equal(images[static_cast<size_t>(i)].begin(), images[static_cast<size_t>(i)].end(), set.image(k)));
  }
}

TEST(FileIndex, CorruptFileErrorNamesTheFirstBadFile) {
  TempDir dir;
  for (int i = 0; i < 100; ++i) {
    testing::write_png(dir / "c" / ("i" + std::to_string(100 + i) + ".png"), testing::make_image(4, 4, 3, 1), 4, 4, 3);
  }
  testing::write_text(dir / "c" / "i150.png", "garbage");
  testing::write_text(dir / "c" / "i170.png", "garbage");
  FileIndex index;
  index.classes = {"c"};
  for (int i = 0; i < 100; ++i) index.files.push_back({dir / "c" / ("i" + std::to_string(100 + i) + ".png"), 0});
  EXPECT_THAT(testing::error_message([&] { decode_file_index(index, {.threads = 2}); }), HasSubstr("i150.png"));
}

TEST(FileIndex, ImagesOfAnotherSizeAreRejected) {
  TempDir dir;
  testing::write_png(dir / "c" / "a.png", testing::make_image(4, 4, 3, 1), 4, 4, 3);
  testing::write_png(dir / "c" / "b.png", testing::make_image(5, 4, 3, 1), 5, 4, 3);
  FileIndex index{{"c"}, {{dir / "c" / "a.png", 0}, {dir / "c" / "b.png", 0}}};
  EXPECT_THAT(testing::error_message([&] { decode_file_index(index); }),
              HasSubstr("b.png: image is 5x4, expected 4x4"));
}

}  // namespace
}  // namespace agilenn::data
