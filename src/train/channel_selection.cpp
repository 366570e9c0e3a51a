#include "train/channel_selection.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace agilenn::train {

ChannelScore parse_channel_score(const std::string& name) {
  if (name == "topk") return ChannelScore::kTopKFrequency;
  if (name == "mean") return ChannelScore::kMeanImportance;
  throw std::invalid_argument("unknown channel score '" + name + "', expected topk|mean");
}

ChannelScorer::ChannelScorer(int64_t channels, int64_t k, ChannelScore method)
    : k_(k), method_(method), sums_(torch::zeros({channels}, torch::kFloat64)) {
  if (k < 1 || k > channels) throw std::invalid_argument("k must be in 1.." + std::to_string(channels));
}

void ChannelScorer::add(const torch::Tensor& importance, const torch::Tensor& correct) {
  torch::NoGradGuard no_grad;
  const torch::Tensor rows = importance.detach().to(torch::kCPU, torch::kFloat64).index({correct.to(torch::kCPU)});
  if (rows.size(0) == 0) return;
  samples_ += rows.size(0);
  if (method_ == ChannelScore::kMeanImportance) {
    sums_ += rows.sum(0);
    return;
  }
  const torch::Tensor top = std::get<1>(rows.topk(k_, 1));
  sums_.index_add_(0, top.flatten(), torch::ones({top.numel()}, torch::kFloat64));
}

std::vector<double> ChannelScorer::scores() const {
  std::vector<double> out(static_cast<size_t>(sums_.size(0)));
  const double n = samples_ > 0 ? static_cast<double>(samples_) : 1.0;
  for (size_t c = 0; c < out.size(); ++c) out[c] = sums_[static_cast<int64_t>(c)].item<double>() / n;
  return out;
}

std::vector<int64_t> ChannelScorer::order() const {
  const std::vector<double> s = scores();
  std::vector<int64_t> idx(s.size());
  std::iota(idx.begin(), idx.end(), int64_t{0});
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return s[static_cast<size_t>(a)] > s[static_cast<size_t>(b)]; });
  return idx;
}

}  // namespace agilenn::train
