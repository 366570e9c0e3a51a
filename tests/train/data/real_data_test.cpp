// The real data sets shipped in ../shared/data: counts, classes and the labels of known files.
// Each test extracts the archive into the project's cache on first use, as the tools do.
#include <gtest/gtest.h>

#include <algorithm>

#include "train/data/dataset.h"
#include "train/data/file_index.h"
#include "train/data/image_decode.h"
#include "train/data/image_folder.h"
#include "train/data/tiny_imagenet.h"

namespace agilenn::data {
namespace {
namespace fs = std::filesystem;

// The shipped archives only: ./data and $AGILENN_DATA are not consulted.
LocateOptions shipped() {
  LocateOptions o = LocateOptions::from_environment(std::nullopt);
  o.env_dir.reset();
  o.cwd_dir = o.cache_dir / "no-such-folder";
  return o;
}

bool archives_present(const char* name) {
  for (const fs::path& dir : shipped().archive_dirs) {
    if (fs::exists(dir / name)) return true;
  }
  return false;
}

size_t index_of(const ImageSet& set, const FileIndex& index, const std::string& suffix) {
  for (size_t i = 0; i < index.files.size(); ++i) {
    if (index.files[i].path.string().ends_with(suffix)) return i;
  }
  ADD_FAILURE() << "no file ending in " << suffix;
  return 0;
}

TEST(RealData, Cifar10JpegCopy) {
  if (!archives_present("cifar10-jpg.tar.gz")) GTEST_SKIP() << "../shared/data/cifar10-jpg.tar.gz not present";
  const DatasetLocation loc = locate_dataset(DatasetKind::kCifar10, shipped());
  ASSERT_EQ(loc.format, Format::kImageFolder);
  const ImageSet train = load_split(loc, Split::kTrain);
  const ImageSet test = load_split(loc, Split::kTest);
  EXPECT_EQ(train.size(), 50000u);
  EXPECT_EQ(test.size(), 10000u);
  EXPECT_EQ(train.height, 32);
  EXPECT_EQ(train.width, 32);
  EXPECT_EQ(train.channels, 3);
  // CIFAR-10's official class order.
  EXPECT_EQ(train.classes, (std::vector<std::string>{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                     "horse", "ship", "truck"}));
  EXPECT_EQ(class_counts(train), std::vector<size_t>(10, 5000));
  EXPECT_EQ(class_counts(test), std::vector<size_t>(10, 1000));

  const FileIndex index = index_image_folder(loc.root / "train");
  EXPECT_EQ(train.labels[index_of(train, index, "train/airplane/0000.jpg")], 0);
  EXPECT_EQ(train.labels[index_of(train, index, "train/cat/4999.jpg")], 3);
  EXPECT_EQ(train.labels[index_of(train, index, "train/truck/0123.jpg")], 9);
  // The in-memory copy holds exactly what decoding that file gives.
  const size_t i = index_of(train, index, "train/frog/2500.jpg");
  const RgbImage frog = decode_image_file(loc.root / "train" / "frog" / "2500.jpg");
  EXPECT_EQ(train.labels[i], 6);
  EXPECT_TRUE(std::equal(frog.pixels.begin(), frog.pixels.end(), train.image(i)));
}

TEST(RealData, TinyImageNet) {
  if (!archives_present("tiny-imagenet-200.part2.tar.gz")) GTEST_SKIP() << "Tiny ImageNet archives not present";
  const DatasetLocation loc = locate_dataset(DatasetKind::kTinyImageNet, shipped());
  ASSERT_EQ(loc.format, Format::kTinyImageNet);
  const FileIndex train_index = index_tiny_imagenet(loc.root, Split::kTrain);
  const FileIndex val_index = index_tiny_imagenet(loc.root, Split::kTest);
  ASSERT_EQ(train_index.classes.size(), 200u);
  const ImageSet val = decode_file_index(val_index, {.progress_label = "decode val"});
  EXPECT_EQ(val.size(), 10000u);
  EXPECT_EQ(val.height, 64);
  EXPECT_EQ(val.width, 64);
  EXPECT_EQ(class_counts(val), std::vector<size_t>(200, 50));
  // Labels from the official val_annotations.txt, as sorted-wnid positions.
  EXPECT_EQ(val.labels[index_of(val, val_index, "/val_0.JPEG")], 107);     // n03444034 go-kart
  EXPECT_EQ(val.labels[index_of(val, val_index, "/val_1.JPEG")], 139);     // n04067472
  EXPECT_EQ(val.labels[index_of(val, val_index, "/val_9999.JPEG")], 61);   // n02699494
  EXPECT_EQ(val.classes[107], "n03444034");
  EXPECT_EQ(tiny_imagenet_class_names(loc.root, val.classes)[107], "go-kart");

  const ImageSet train = decode_file_index(train_index, {.progress_label = "decode train"});
  EXPECT_EQ(train.size(), 100000u);
  EXPECT_EQ(class_counts(train), std::vector<size_t>(200, 500));
  EXPECT_EQ(train.labels[index_of(train, train_index, "n01443537/images/n01443537_0.JPEG")], 0);  // goldfish
  EXPECT_EQ(train.labels[index_of(train, train_index, "n09256479/images/n09256479_499.JPEG")], 196);
}

}  // namespace
}  // namespace agilenn::data
