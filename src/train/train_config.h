// Everything `agilenn train` can be told, with the presets that fill it. Plain C++ (no LibTorch),
// so the command-line code compiles fast; saved as config.json beside every run.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace agilenn::train {

struct TrainConfig {
  // What and where.
  std::string preset = "quick";   // smoke | quick | paper
  std::string dataset = "cifar10";
  std::string data_dir;           // "" = search (see docs/data.md)
  std::string out;                // run folder
  std::string stage = "all";      // all | reference | agilenn | plain | local-refit
  uint64_t seed = 0;
  std::string device = "cpu";     // cpu | cuda
  int threads = 0;                // 0 = $OMP_NUM_THREADS or every core
  bool resume = false;

  // Data.
  int batch = 128;
  int64_t val_count = -1;         // held out from train; -1 = 5,000 for CIFAR-10, else 10 %
  int64_t train_limit = 0;        // > 0: use only this many training images (smoke tests)
  int64_t test_limit = 0;         // > 0: evaluate on only this many test images
  int flip = -1;                  // horizontal flips: -1 = yes except for digits (svhn, idx)
  int augment_pad = 4;            // pad-and-crop shift in pixels
  std::string augment_pad_mode = "zero";  // the shifted-in border: zero (black) | reflect (mirrored)

  // Models.
  int k = 5;
  int extractor_mid = 4;
  int extractor_out = 24;
  int extractor_stride = 1;
  double remote_width = 0.5;
  std::array<int, 7> remote_blocks = {1, 1, 2, 2, 2, 1, 1};
  std::array<int, 7> remote_strides = {1, 1, 2, 2, 1, 2, 1};
  int reference_width = 16;
  int reference_stride = 2;  // the reference's first conv stride: 2 makes XAI ~4x cheaper
  int levels = 8;
  double quant_softness = 10.0;
  double alpha_temperature = 5.0;
  bool local_logit_bn = true;    // batch norm on the Local NN logits (see docs/training.md)

  // XAI and losses.
  std::string xai = "ig";          // ig | saliency
  int ig_steps = 2;
  int xai_samples = 32;            // samples of each batch that enter the XAI losses (0 = all)
  int xai_every = 1;               // XAI losses and the reference's adaptation on one step in N (weight x N)
  double rho = 0.8;
  double lambda = 0.3;
  std::string disorder = "channel";  // channel (Eq. 1) | element (the authors' code)
  double disorder_margin = 0.0;      // the lead the weakest local channel must keep (0 = the paper)
  std::string xai_remote = "full";   // full (the paper) | detach: the XAI losses cannot switch remote channels off |
                                     // detach-skewness: the skewness loss cannot, the disorder loss can
  double rate_weight = 0.0;
  double local_weight = 0.0;     // weight of an extra CE on the Local NN's own logits (0 = paper)
  bool local_refit = false;      // after the AgileNN stage, refit the Local NN's dense layer (local_refit.h; off = paper)
  std::string reference_mode = "adapt";  // adapt (keeps learning, detached) | frozen
  std::string channel_score = "topk";    // topk (Algorithm 1) | mean (the authors' code)
  int64_t selection_samples = 10000;     // training images Algorithm 1 scores (0 = all)
  int64_t metric_samples = 2000;         // validation images for skewness/disorder (0 = all)

  // Optimisation: SGD with momentum, cosine learning rate, weight decay.
  double lr = 0.1;            // the AgileNN stage; its prediction loss is weighted by lambda
  double reference_lr = 0.1;
  double plain_lr = 0.1;
  double reference_adapt_lr = 0.01;  // the reference body's constant rate while it adapts in the AgileNN stage
  int reference_adapt_samples = 0;   // images of each XAI step's batch the reference adapts on (0 = the XAI samples)
  double reference_bn_momentum = 0.1;  // the reference body's batch-norm running-average momentum (AgileNN stage)
  int bn_recal_batches = 20;  // > 0: batch norms' statistics recomputed over this many training batches before each validation
  double momentum = 0.9;
  double weight_decay = 5e-4;
  int reference_epochs = 30;
  int agilenn_epochs = 200;
  int plain_epochs = 200;
  // > 0: the stage trains for this wall time instead (schedule over time, epochs are a cap).
  double reference_budget_s = 0;
  double agilenn_budget_s = 0;
  double plain_budget_s = 0;  // 0 with stage all: the reference + AgileNN stages' wall time

  // A preset's values; throws naming the valid presets.
  static TrainConfig preset_values(const std::string& preset);
};

nlohmann::json to_json(const TrainConfig& config);
TrainConfig config_from_json(const nlohmann::json& j);  // throws naming the bad field

}  // namespace agilenn::train
