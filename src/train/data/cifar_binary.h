// The official CIFAR binary versions (https://www.cs.toronto.edu/~kriz/cifar.html).
//
// CIFAR-10 ("cifar-10-batches-bin"): data_batch_1.bin .. data_batch_5.bin (train) and
// test_batch.bin, 10,000 records each of 3,073 bytes:
//   1. label byte (0..9)
//   2. 1,024 red, 1,024 green, 1,024 blue bytes, each plane 32 rows of 32, row-major
// batches.meta.txt holds the class names, one a line.
//
// CIFAR-100 ("cifar-100-binary"): train.bin (50,000 records) and test.bin (10,000), 3,074 bytes:
//   1. coarse label byte (0..19)
//   2. fine label byte (0..99)
//   3. the same 3,072 pixel bytes
// fine_label_names.txt and coarse_label_names.txt hold the class names.
#pragma once

#include <filesystem>

#include "train/data/image_set.h"

namespace agilenn::data {

ImageSet read_cifar10_binary(const std::filesystem::path& dir, Split split);

enum class Cifar100Labels { kFine, kCoarse };
ImageSet read_cifar100_binary(const std::filesystem::path& dir, Split split,
                              Cifar100Labels labels = Cifar100Labels::kFine);

}  // namespace agilenn::data
