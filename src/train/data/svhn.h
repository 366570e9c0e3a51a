// SVHN format 2 (cropped digits, http://ufldl.stanford.edu/housenumbers/): train_32x32.mat and
// test_32x32.mat, MATLAB files (v5, read with matio) holding
//   X: 32x32x3xN uint8 (MATLAB column-major: row, column, channel, image)
//   y: Nx1 labels 1..10, where 10 stands for the digit 0
// Labels are mapped to the digit itself, so class index = digit.
#pragma once

#include <filesystem>

#include "train/data/image_set.h"

namespace agilenn::data {

ImageSet read_svhn_mat(const std::filesystem::path& file);

}  // namespace agilenn::data
