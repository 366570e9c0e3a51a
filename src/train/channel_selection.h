// Algorithm 1 of the paper: which feature channels should stay on the device.
//
// Over the training set, for each sample the reference classifies correctly, the k channels of
// highest importance are noted; a channel's score is how often it was among them (the paper), or
// its mean importance (the authors' code). The channel order puts the highest scores first (ties
// by channel index), so the first k become the local channels after the mapping.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace agilenn::train {

enum class ChannelScore { kTopKFrequency, kMeanImportance };
ChannelScore parse_channel_score(const std::string& name);  // "topk" | "mean"

class ChannelScorer {
 public:
  ChannelScorer(int64_t channels, int64_t k, ChannelScore method);
  // importance [B, C] (rows sum to 1), correct [B] bool; only correct rows count.
  void add(const torch::Tensor& importance, const torch::Tensor& correct);

  int64_t samples() const { return samples_; }
  std::vector<double> scores() const;  // per channel: frequency in [0, 1] or mean importance
  std::vector<int64_t> order() const;  // channel indices, best first

 private:
  int64_t k_;
  ChannelScore method_;
  torch::Tensor sums_;  // double [C]
  int64_t samples_ = 0;
};

}  // namespace agilenn::train
