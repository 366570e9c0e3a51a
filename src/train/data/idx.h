// idx files, the MNIST family's format (http://yann.lecun.com/exdb/mnist/), gzip-compressed or
// not (zlib reads both transparently). Big-endian throughout:
//   1. two zero bytes
//   2. type byte: 0x08 unsigned byte (the only type image and label files use)
//   3. rank byte: 3 for images (N, rows, cols), 1 for labels (N)
//   4. rank 32-bit dimension sizes
//   5. the data, N * rows * cols bytes
// Images are greyscale: the ImageSet has 1 channel.
#pragma once

#include <filesystem>

#include "train/data/image_set.h"

namespace agilenn::data {

// Reads an image file and its label file. Classes are "0".."max label".
ImageSet read_idx(const std::filesystem::path& images_file, const std::filesystem::path& labels_file);

// Finds "<prefix>-images-idx3-ubyte[.gz]" and the matching labels in `dir` for a split: "train"
// for Split::kTrain, "t10k" or "test" for Split::kTest (MNIST, Fashion-MNIST, KMNIST and EMNIST
// names). Throws naming the patterns tried when there is no such pair.
std::pair<std::filesystem::path, std::filesystem::path> find_idx_files(const std::filesystem::path& dir,
                                                                       Split split);

}  // namespace agilenn::data
