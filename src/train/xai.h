// Feature importance from the reference network, and the losses that skew it (paper Sec. 4).
//
// Integrated Gradients from a zero baseline, trapezoid rule over m points a_i = i / (m - 1):
//   IG(f) = f * sum_i w_i * g(a_i f),  w_0 = w_{m-1} = 0.5 / (m - 1), w_i = 1 / (m - 1) otherwise,
// where g(x) = d CE(reference(x), y) / dx is the gradient of the reference's loss for the true
// label. m = 2 is the authors' rule IG = 0.5 * (g(f) + g(0)) * f. Gradient saliency uses g(f).
// Per-channel importance I_c = sum over the map of |attribution|, normalised to sum 1 per sample.
// With create_graph the importance is differentiable with respect to f and so to the extractor.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

namespace agilenn::train {

enum class XaiMethod { kIntegratedGradients, kSaliency };
XaiMethod parse_xai_method(const std::string& name);  // "ig" | "saliency"

struct Attribution {
  torch::Tensor attribution;  // [B, C, H, W]
  torch::Tensor importance;   // [B, C], each row sums to 1
  // The same values with no factor detached (with detach_from < 0, the same tensors): a loss that
  // should reach the remote channels through f too.
  torch::Tensor full_attribution, full_importance;
  torch::Tensor correct;      // [B] bool: the reference classifies the sample correctly
  torch::Tensor logits;       // [B, classes] the reference's logits at f
};

// `reference` maps a [N, C, H, W] feature batch to logits; it should be in eval mode (batch norm
// must not mix the scaled copies) and its parameters need not require gradients. With
// `detach_from` = k the factor f of channels k.. is detached in the product f * sum w_i g(a_i f):
// their importance then reaches f only through the reference's gradient g, so a loss on it cannot
// lower it by switching those channels off. full_attribution and full_importance keep f whole.
Attribution attribute(const std::function<torch::Tensor(const torch::Tensor&)>& reference,
                      const torch::Tensor& features, const torch::Tensor& labels, XaiMethod method,
                      int ig_steps, bool create_graph, int64_t detach_from = -1);

// Eq. 2: mean over samples of max(0, rho - sum_{c<k} I_c).
torch::Tensor skewness_loss(const torch::Tensor& importance, int64_t k, double rho);
// Eq. 1: mean over samples of max(0, max_{c>=k} I_c - min_{c<k} I_c + margin). The paper's
// margin is 0; a positive one keeps pushing until the weakest local channel leads the strongest
// remote one by it, instead of leaving them level.
torch::Tensor disorder_loss(const torch::Tensor& importance, int64_t k, double margin = 0.0);
// The authors' per-element variant: the same on |attribution| normalised per sample, taken over
// every element (channel x position) instead of per channel.
torch::Tensor disorder_loss_per_element(const torch::Tensor& attribution, int64_t k, double margin = 0.0);

// Measured, not trained: mean of sum_{c<k} I_c, and the fraction of samples where some remote
// channel outranks some local one.
double achieved_skewness(const torch::Tensor& importance, int64_t k);
double disorder_rate(const torch::Tensor& importance, int64_t k);

// Where importance and disorder lie, summed over the rows of `importance` ([N, C]): per channel
// the importance; over the disordered rows, how often each local channel is the weakest local
// one and each remote channel the strongest remote one; and the rows in which some local channel
// has no importance at all (below 1e-6: under Integrated Gradients from a zero baseline, a
// channel that is zero over the whole map). Accumulate over batches with add().
struct ImportanceProfile {
  std::vector<double> importance;        // [C], summed
  std::vector<double> weakest_local;     // [k], counts over disordered rows
  std::vector<double> strongest_remote;  // [C - k], counts over disordered rows
  double rows = 0, disordered = 0, dead_local = 0;
  void add(const torch::Tensor& importance, int64_t k);
};

}  // namespace agilenn::train
