#include "train/data/cifar_binary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/error_message.h"
#include "support/format_writers.h"

namespace agilenn::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

std::vector<uint8_t> records(std::initializer_list<std::vector<uint8_t>> label_sets, uint32_t seed) {
  std::vector<uint8_t> out;
  for (const auto& labels : label_sets) {
    const auto rec = testing::cifar_record(labels, testing::make_image(32, 32, 3, seed++));
    out.insert(out.end(), rec.begin(), rec.end());
  }
  return out;
}

TEST(Cifar10Binary, ReadsBatchesPlanarToHwc) {
  TempDir dir;
  for (int b = 1; b <= 5; ++b) {
    testing::write_bytes(dir / ("data_batch_" + std::to_string(b) + ".bin"),
                         records({{static_cast<uint8_t>(b)}, {9}}, static_cast<uint32_t>(10 * b)));
  }
  testing::write_bytes(dir / "test_batch.bin", records({{3}}, 99));
  testing::write_text(dir / "batches.meta.txt",
                      "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
  const ImageSet train = read_cifar10_binary(dir.path(), Split::kTrain);
  ASSERT_EQ(train.size(), 10u);
  EXPECT_EQ(train.labels[0], 1);
  EXPECT_EQ(train.labels[1], 9);
  EXPECT_EQ(train.labels[8], 5);
  EXPECT_EQ(train.classes[9], "truck");
  const auto expected = testing::make_image(32, 32, 3, 11);  // batch 1, second record
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), train.image(1)));
  const ImageSet test = read_cifar10_binary(dir.path(), Split::kTest);
  ASSERT_EQ(test.size(), 1u);
  EXPECT_EQ(test.labels[0], 3);
}

TEST(Cifar10Binary, TruncatedBatchAndBadLabelsAreErrors) {
  TempDir dir;
  auto bytes = records({{1}, {2}}, 0);
  bytes.pop_back();
  testing::write_bytes(dir / "test_batch.bin", bytes);
  EXPECT_THAT(testing::error_message([&] { read_cifar10_binary(dir.path(), Split::kTest); }),
              HasSubstr("test_batch.bin: 6145 bytes is not a whole number of 3073-byte records"));
  testing::write_bytes(dir / "test_batch.bin", records({{1}, {10}}, 0));
  EXPECT_THAT(testing::error_message([&] { read_cifar10_binary(dir.path(), Split::kTest); }),
              HasSubstr("test_batch.bin: record 1 has label 10, expected 0..9"));
  EXPECT_THAT(testing::error_message([&] { read_cifar10_binary(dir.path(), Split::kTrain); }),
              HasSubstr("data_batch_1.bin: cannot open"));
}

TEST(Cifar100Binary, FineAndCoarseLabels) {
  TempDir dir;
  testing::write_bytes(dir / "train.bin", records({{19, 99}, {0, 42}}, 5));
  testing::write_bytes(dir / "test.bin", records({{7, 3}}, 6));
  const ImageSet fine = read_cifar100_binary(dir.path(), Split::kTrain);
  ASSERT_EQ(fine.size(), 2u);
  EXPECT_EQ(fine.classes.size(), 100u);
  EXPECT_EQ(fine.labels, (std::vector<int32_t>{99, 42}));
  const auto expected = testing::make_image(32, 32, 3, 6);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), fine.image(1)));
  const ImageSet coarse = read_cifar100_binary(dir.path(), Split::kTrain, Cifar100Labels::kCoarse);
  EXPECT_EQ(coarse.classes.size(), 20u);
  EXPECT_EQ(coarse.labels, (std::vector<int32_t>{19, 0}));
  EXPECT_EQ(read_cifar100_binary(dir.path(), Split::kTest).labels, (std::vector<int32_t>{3}));
}

TEST(Cifar100Binary, ClassNameFileMustHaveEveryClass) {
  TempDir dir;
  testing::write_bytes(dir / "test.bin", records({{7, 3}}, 6));
  testing::write_text(dir / "fine_label_names.txt", "apple\naquarium_fish\n");
  EXPECT_THAT(testing::error_message([&] { read_cifar100_binary(dir.path(), Split::kTest); }),
              HasSubstr("fine_label_names.txt: 2 class names, expected 100"));
}

}  // namespace
}  // namespace agilenn::data
