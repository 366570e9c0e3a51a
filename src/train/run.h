// A trained run as the tools after training see it (export, infer): the data split and the
// normalisation the trainer used, the batches it feeds the networks, and the AgileNN network.
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <filesystem>
#include <random>
#include <vector>

#include "train/data/image_set.h"
#include "train/models.h"
#include "train/train_config.h"

namespace agilenn::train {

// The train split minus a held-out validation split, and the test split.
struct RunData {
  data::ImageSet train_set;
  data::ImageSet test_set;
  std::vector<size_t> train, val, test;  // indices into train_set / test_set
  std::vector<double> mean, std;         // per input channel, of pixel / 255 over `train`
  bool flip = true;
  bool reflect_pad = false;  // shifted images' borders mirrored instead of black (--augment-pad-mode)
  int classes = 0;
};

// Loads the configured data set and makes the split (a function of the seed, val_count,
// train_limit and test_limit only, so every tool sees the trainer's split and statistics).
RunData load_run_data(const TrainConfig& config);

// A normalised NCHW float batch, (pixel / 255 - mean) / std per channel; with `rng` the images are
// shifted by up to `pad` pixels (black or mirrored borders: RunData::reflect_pad) and flipped at random.
torch::Tensor make_images(const data::ImageSet& set, const size_t* idx, size_t n, const RunData& d, std::mt19937_64* rng,
                          int pad);
torch::Tensor make_labels(const data::ImageSet& set, const size_t* idx, size_t n);

AgileOptions agile_options(const TrainConfig& config, int classes);

// The AgileNN network of run_dir/agilenn.pt, in eval mode. Throws naming the file when it is
// missing or was saved with other options.
AgileNet load_agilenn(const std::filesystem::path& run_dir, const TrainConfig& config, int classes);

}  // namespace agilenn::train
