#include "train/data/tiny_imagenet.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/error_message.h"
#include "support/format_writers.h"

namespace agilenn::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

// The official layout, with wnids.txt deliberately not in sorted order (as in the real file).
void write_tiny(const std::filesystem::path& root) {
  testing::write_text(root / "wnids.txt", "n09999999\nn01443537\nn05555555\n");
  testing::write_text(root / "words.txt", "n01443537\tgoldfish, Carassius auratus\nn05555555\tthing\n");
  const char* wnids[] = {"n09999999", "n01443537", "n05555555"};
  for (const char* w : wnids) {
    for (int i = 0; i < 2; ++i) {
      // One greyscale JPEG among them, as in the real data set.
      const int c = (std::string(w) == "n05555555" && i == 1) ? 1 : 3;
      testing::write_jpeg(root / "train" / w / "images" / (std::string(w) + "_" + std::to_string(i) + ".JPEG"),
                          testing::make_image(64, 64, c, 7), 64, 64, c);
    }
    testing::write_text(root / "train" / w / (std::string(w) + "_boxes.txt"), "ignored\n");
  }
  testing::write_text(root / "val" / "val_annotations.txt",
                      "val_0.JPEG\tn05555555\t0\t32\t44\t62\n"
                      "val_1.JPEG\tn01443537\t52\t55\t57\t59\n"
                      "val_2.JPEG\tn09999999\t4\t0\t60\t55\n");
  for (int i = 0; i < 3; ++i) {
    testing::write_jpeg(root / "val" / "images" / ("val_" + std::to_string(i) + ".JPEG"),
                        testing::make_image(64, 64, 3, 8), 64, 64, 3);
  }
}

TEST(TinyImageNet, LabelIsTheSortedWnidPosition) {
  TempDir dir;
  write_tiny(dir.path());
  const FileIndex train = index_tiny_imagenet(dir.path(), Split::kTrain);
  EXPECT_EQ(train.classes, (std::vector<std::string>{"n01443537", "n05555555", "n09999999"}));
  ASSERT_EQ(train.files.size(), 6u);
  EXPECT_EQ(train.files[0].path.filename(), "n01443537_0.JPEG");
  EXPECT_EQ(train.files[0].label, 0);
  EXPECT_EQ(train.files[5].path.filename(), "n09999999_1.JPEG");
  EXPECT_EQ(train.files[5].label, 2);

  const FileIndex val = index_tiny_imagenet(dir.path(), Split::kTest);
  ASSERT_EQ(val.files.size(), 3u);
  EXPECT_EQ(val.files[0].path.filename(), "val_0.JPEG");
  EXPECT_EQ(val.files[0].label, 1);
  EXPECT_EQ(val.files[1].label, 0);
  EXPECT_EQ(val.files[2].label, 2);

  const ImageSet set = decode_file_index(train);
  EXPECT_EQ(set.channels, 3);  // the greyscale JPEG was expanded
  EXPECT_EQ(set.size(), 6u);
}

TEST(TinyImageNet, ReadableNamesFromWordsTxt) {
  TempDir dir;
  write_tiny(dir.path());
  EXPECT_EQ(tiny_imagenet_class_names(dir.path(), {"n01443537", "n05555555", "n09999999"}),
            (std::vector<std::string>{"goldfish", "thing", "n09999999"}));
}

TEST(TinyImageNet, BadAnnotationsAreClearErrors) {
  TempDir dir;
  write_tiny(dir.path());
  testing::write_text(dir / "val" / "val_annotations.txt", "val_0.JPEG\tn00000001\t0\t0\t1\t1\n");
  EXPECT_THAT(testing::error_message([&] { index_tiny_imagenet(dir.path(), Split::kTest); }),
              HasSubstr("val_annotations.txt:1: class id 'n00000001' is not in wnids.txt"));
  testing::write_text(dir / "val" / "val_annotations.txt", "just-one-field\n");
  EXPECT_THAT(testing::error_message([&] { index_tiny_imagenet(dir.path(), Split::kTest); }),
              HasSubstr("val_annotations.txt:1: expected"));
  std::filesystem::remove_all(dir / "train" / "n05555555");
  EXPECT_THAT(testing::error_message([&] { index_tiny_imagenet(dir.path(), Split::kTrain); }),
              HasSubstr("n05555555"));
}

}  // namespace
}  // namespace agilenn::data
