#include "train/data/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/error_message.h"
#include "support/format_writers.h"

namespace agilenn::data {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::TempDir;
namespace fs = std::filesystem;

void write_image_folder(const fs::path& root, int per_class) {
  for (const char* split : {"train", "test"}) {
    for (const char* cls : {"cat", "dog"}) {
      for (int i = 0; i < per_class; ++i) {
        testing::write_jpeg(root / split / cls / (std::to_string(i) + ".jpg"), testing::make_image(32, 32, 3, 1), 32, 32, 3);
      }
    }
  }
}

void write_cifar10_binary(const fs::path& dir) {
  const auto rec = testing::cifar_record({4}, testing::make_image(32, 32, 3, 1));
  for (int b = 1; b <= 5; ++b) testing::write_bytes(dir / ("data_batch_" + std::to_string(b) + ".bin"), rec);
  testing::write_bytes(dir / "test_batch.bin", rec);
}

LocateOptions isolated(const TempDir& dir) {
  LocateOptions o;
  o.cwd_dir = dir / "cwd-data";
  o.cache_dir = dir / "cache";
  o.archive_dirs = {dir / "archives"};
  return o;
}

TEST(Dataset, ParsesKindsAndListsTheValidOnes) {
  EXPECT_EQ(parse_dataset_kind("tinyimagenet"), DatasetKind::kTinyImageNet);
  EXPECT_THAT(testing::error_message([] { parse_dataset_kind("imagenet"); }),
              HasSubstr("expected one of cifar10|cifar100|tinyimagenet|svhn|imagefolder|idx"));
}

TEST(Dataset, ProbesTheFolderItselfAndItsUsualSubfolders) {
  TempDir dir;
  write_cifar10_binary(dir / "cifar-10-batches-bin");
  write_image_folder(dir / "cifar10", 1);
  // The folder itself wins over sub-folders; among sub-folders the first listed wins.
  auto loc = probe_dataset(DatasetKind::kCifar10, dir.path());
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->format, Format::kImageFolder);
  EXPECT_EQ(loc->root, dir / "cifar10");
  loc = probe_dataset(DatasetKind::kCifar10, dir / "cifar-10-batches-bin");
  ASSERT_TRUE(loc);
  EXPECT_EQ(loc->format, Format::kCifar10Binary);
  EXPECT_FALSE(probe_dataset(DatasetKind::kSvhn, dir.path()));
}

TEST(Dataset, ExplicitFolderIsTheOnlyPlaceSearched) {
  TempDir dir;
  LocateOptions o = isolated(dir);
  write_image_folder(o.cwd_dir / "cifar10", 1);
  o.data_dir = dir / "mine";
  const std::string message = testing::error_message([&] { locate_dataset(DatasetKind::kCifar10, o); });
  EXPECT_THAT(message, HasSubstr("no cifar10 data found; tried:\n  " + (dir / "mine").string() + " (--data)"));
  EXPECT_THAT(message, HasSubstr("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"));
  EXPECT_THAT(message, Not(HasSubstr("cwd-data")));
  write_cifar10_binary(dir / "mine");
  EXPECT_EQ(locate_dataset(DatasetKind::kCifar10, o).format, Format::kCifar10Binary);
}

TEST(Dataset, EnvironmentFolderComesBeforeDotData) {
  TempDir dir;
  LocateOptions o = isolated(dir);
  write_image_folder(o.cwd_dir / "cifar10", 1);
  write_cifar10_binary(dir / "env" / "cifar-10-batches-bin");
  o.env_dir = dir / "env";
  EXPECT_EQ(locate_dataset(DatasetKind::kCifar10, o).root, dir / "env" / "cifar-10-batches-bin");
  o.env_dir.reset();
  EXPECT_EQ(locate_dataset(DatasetKind::kCifar10, o).root, o.cwd_dir / "cifar10");
}

TEST(Dataset, ShippedArchivesAreExtractedOnceIntoTheCache) {
  TempDir dir;
  LocateOptions o = isolated(dir);
  const std::string jpeg = [] {
    const auto b = testing::encode_jpeg(testing::make_image(32, 32, 3, 2), 32, 32, 3);
    return std::string(b.begin(), b.end());
  }();
  testing::write_tar_gz(dir / "archives" / "cifar10-jpg.tar.gz",
                        {{"cifar10/train/cat/0000.jpg", jpeg}, {"cifar10/test/cat/0000.jpg", jpeg}});
  const DatasetLocation loc = locate_dataset(DatasetKind::kCifar10, o);
  EXPECT_EQ(loc.root, o.cache_dir / "cifar10");
  EXPECT_EQ(loc.format, Format::kImageFolder);
  EXPECT_EQ(load_split(loc, Split::kTest, {.progress = false}).size(), 1u);
  fs::remove(dir / "archives" / "cifar10-jpg.tar.gz");
  EXPECT_EQ(locate_dataset(DatasetKind::kCifar10, o).root, o.cache_dir / "cifar10");  // from the cache now
}

TEST(Dataset, NothingFoundListsEveryPathTried) {
  TempDir dir;
  const LocateOptions o = isolated(dir);
  const std::string message = testing::error_message([&] { locate_dataset(DatasetKind::kTinyImageNet, o); });
  EXPECT_THAT(message, HasSubstr((dir / "cwd-data").string() + " (./data)"));
  EXPECT_THAT(message, HasSubstr((dir / "cache" / "tiny-imagenet-200").string() + " (extracted cache)"));
  EXPECT_THAT(message, HasSubstr((dir / "archives").string() + " (shipped archives missing)"));
  EXPECT_THAT(message, HasSubstr("http://cs231n.stanford.edu/tiny-imagenet-200.zip"));
  EXPECT_THAT(message, HasSubstr("--data DIR"));
}

TEST(Dataset, LoadsEveryFormat) {
  TempDir dir;
  write_image_folder(dir / "folder", 2);
  DatasetLocation loc{DatasetKind::kImageFolder, Format::kImageFolder, dir / "folder"};
  ImageSet set = load_split(loc, Split::kTrain, {.progress = false});
  EXPECT_EQ(set.size(), 4u);
  EXPECT_EQ(set.classes, (std::vector<std::string>{"cat", "dog"}));

  write_cifar10_binary(dir / "c10");
  set = load_split({DatasetKind::kCifar10, Format::kCifar10Binary, dir / "c10"}, Split::kTrain);
  EXPECT_EQ(set.size(), 5u);

  testing::write_bytes(dir / "c100" / "test.bin", testing::cifar_record({1, 2}, testing::make_image(32, 32, 3, 1)));
  set = load_split({DatasetKind::kCifar100, Format::kCifar100Binary, dir / "c100"}, Split::kTest);
  EXPECT_EQ(set.labels, (std::vector<int32_t>{2}));

  testing::write_svhn_mat(dir / "svhn" / "test_32x32.mat", {testing::make_image(32, 32, 3, 1)}, 32, 32, {10});
  set = load_split({DatasetKind::kSvhn, Format::kSvhnMat, dir / "svhn"}, Split::kTest);
  EXPECT_EQ(set.labels, (std::vector<int32_t>{0}));

  testing::write_idx(dir / "mnist" / "t10k-images-idx3-ubyte", {1, 2, 2}, {1, 2, 3, 4}, false);
  testing::write_idx(dir / "mnist" / "t10k-labels-idx1-ubyte", {1}, {7}, false);
  set = load_split({DatasetKind::kIdx, Format::kIdx, dir / "mnist"}, Split::kTest);
  EXPECT_EQ(set.labels, (std::vector<int32_t>{7}));
  EXPECT_EQ(set.channels, 1);
}

}  // namespace
}  // namespace agilenn::data
