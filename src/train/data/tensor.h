// ImageSet -> LibTorch tensors for training and evaluation.
#pragma once

#include <torch/types.h>

#include <vector>

#include "train/data/image_set.h"

namespace agilenn::data {

// Images `indices` of `set` as a float NCHW batch, (pixel / 255 - mean[c]) / std[c]; single-
// channel data is repeated to `out_channels` (3 for the RGB models) when that is 3.
torch::Tensor images_to_tensor(const ImageSet& set, const std::vector<size_t>& indices,
                               const std::vector<double>& mean, const std::vector<double>& std,
                               int out_channels = 3);
// Labels of `indices` as an int64 tensor.
torch::Tensor labels_to_tensor(const ImageSet& set, const std::vector<size_t>& indices);

}  // namespace agilenn::data
