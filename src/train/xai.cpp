#include "train/xai.h"

#include <stdexcept>

namespace agilenn::train {

XaiMethod parse_xai_method(const std::string& name) {
  if (name == "ig") return XaiMethod::kIntegratedGradients;
  if (name == "saliency") return XaiMethod::kSaliency;
  throw std::invalid_argument("unknown XAI method '" + name + "', expected ig|saliency");
}

Attribution attribute(const std::function<torch::Tensor(const torch::Tensor&)>& reference,
                      const torch::Tensor& features, const torch::Tensor& labels, XaiMethod method,
                      int ig_steps, bool create_graph, int64_t detach_from) {
  const int64_t b = features.size(0);
  const int m = method == XaiMethod::kSaliency ? 1 : ig_steps;
  if (m < 1 || (method == XaiMethod::kIntegratedGradients && m < 2)) {
    throw std::invalid_argument("--ig-steps must be at least 2, got " + std::to_string(ig_steps));
  }
  const int64_t c = features.size(1), h = features.size(2), w = features.size(3);
  // The scaled copies a_i * f with a_i > 0 in one batch, the last one f itself. The baseline point
  // a_0 = 0 is the same zero map for every sample, so with the reference in eval mode its gradient
  // depends only on the label: it is computed once per distinct label, and it does not depend on
  // the extractor, so it needs no second-order graph.
  const int first = method == XaiMethod::kSaliency ? 0 : 1;
  const int n_points = m - first;
  torch::Tensor scales = m == 1 ? torch::ones({1}) : torch::linspace(0.0, 1.0, m).narrow(0, first, n_points);
  scales = scales.to(features.device());
  // One point (saliency, or the authors' m = 2) has scale 1: the map itself, without a multiply by 1
  // and its node in the second-order graph.
  torch::Tensor points = n_points == 1 ? features.view_as(features)
                                       : (scales.view({n_points, 1, 1, 1, 1}) * features.unsqueeze(0)).flatten(0, 1);
  if (!create_graph) points = points.detach();
  points.requires_grad_(true);
  const torch::Tensor logits = reference(points);
  const auto ce_sum = torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum);
  const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, labels.repeat({n_points}), ce_sum);
  const torch::Tensor grad = torch::autograd::grad({loss}, {points}, {}, /*retain_graph=*/true, create_graph)[0]
                                 .view({n_points, b, c, h, w});
  Attribution out;
  const auto normalised = [](const torch::Tensor& attribution) {
    const torch::Tensor per_channel = attribution.abs().sum({2, 3});
    return per_channel / (per_channel.sum(1, true) + 1e-12);
  };
  if (method == XaiMethod::kSaliency) {
    out.attribution = out.full_attribution = grad[0];
  } else {
    const auto [labels_seen, label_index, counts] = at::_unique2(labels, /*sorted=*/true, /*return_inverse=*/true);
    const torch::Tensor zeros = torch::zeros({labels_seen.size(0), c, h, w}, features.options()).requires_grad_(true);
    const torch::Tensor loss0 = torch::nn::functional::cross_entropy(reference(zeros), labels_seen, ce_sum);
    const torch::Tensor grad0 = torch::autograd::grad({loss0}, {zeros})[0].index_select(0, label_index.flatten());
    torch::Tensor weights = torch::full({n_points}, 1.0 / (m - 1), features.options());
    weights[n_points - 1] = 0.5 / (m - 1);
    const torch::Tensor path = (weights.view({n_points, 1, 1, 1, 1}) * grad).sum(0) + (0.5 / (m - 1)) * grad0;
    out.full_attribution = features * path;
    out.attribution =
        detach_from >= 0 && detach_from < c
            ? torch::cat({features.narrow(1, 0, detach_from), features.narrow(1, detach_from, c - detach_from).detach()}, 1) * path
            : out.full_attribution;
  }
  out.importance = normalised(out.attribution);
  out.full_importance = out.full_attribution.is_same(out.attribution) ? out.importance : normalised(out.full_attribution);
  out.logits = logits.view({n_points, b, -1})[n_points - 1];
  out.correct = out.logits.argmax(1) == labels;
  return out;
}

torch::Tensor skewness_loss(const torch::Tensor& importance, int64_t k, double rho) {
  return torch::relu(rho - importance.narrow(1, 0, k).sum(1)).mean();
}

torch::Tensor disorder_loss(const torch::Tensor& importance, int64_t k, double margin) {
  const torch::Tensor local_min = std::get<0>(importance.narrow(1, 0, k).min(1));
  const torch::Tensor remote_max = std::get<0>(importance.narrow(1, k, importance.size(1) - k).max(1));
  return torch::relu(remote_max - local_min + margin).mean();
}

torch::Tensor disorder_loss_per_element(const torch::Tensor& attribution, int64_t k, double margin) {
  const torch::Tensor a = attribution.abs();
  const torch::Tensor normalised = a / (a.sum({1, 2, 3}, true) + 1e-12);
  const torch::Tensor local_min = std::get<0>(normalised.narrow(1, 0, k).flatten(1).min(1));
  const torch::Tensor remote_max = std::get<0>(normalised.narrow(1, k, a.size(1) - k).flatten(1).max(1));
  return torch::relu(remote_max - local_min + margin).mean();
}

double achieved_skewness(const torch::Tensor& importance, int64_t k) {
  if (importance.size(0) == 0) return 0.0;
  return importance.narrow(1, 0, k).sum(1).mean().item<double>();
}

double disorder_rate(const torch::Tensor& importance, int64_t k) {
  if (importance.size(0) == 0) return 0.0;
  const torch::Tensor local_min = std::get<0>(importance.narrow(1, 0, k).min(1));
  const torch::Tensor remote_max = std::get<0>(importance.narrow(1, k, importance.size(1) - k).max(1));
  return (remote_max > local_min).to(torch::kFloat32).mean().item<double>();
}

void ImportanceProfile::add(const torch::Tensor& imp_in, int64_t k) {
  const torch::Tensor imp = imp_in.detach().to(torch::kCPU, torch::kFloat64);
  const int64_t c = imp.size(1);
  if (importance.empty()) {
    importance.assign(static_cast<size_t>(c), 0.0);
    weakest_local.assign(static_cast<size_t>(k), 0.0);
    strongest_remote.assign(static_cast<size_t>(c - k), 0.0);
  }
  const auto [local_min, local_arg] = imp.narrow(1, 0, k).min(1);
  const auto [remote_max, remote_arg] = imp.narrow(1, k, c - k).max(1);
  const torch::Tensor is_disordered = remote_max > local_min;
  const torch::Tensor sum = imp.sum(0);
  const torch::Tensor weak = torch::bincount(local_arg.index({is_disordered}), {}, k);
  const torch::Tensor strong = torch::bincount(remote_arg.index({is_disordered}), {}, c - k);
  for (int64_t i = 0; i < c; ++i) importance[static_cast<size_t>(i)] += sum[i].item<double>();
  for (int64_t i = 0; i < k; ++i) weakest_local[static_cast<size_t>(i)] += weak[i].item<double>();
  for (int64_t i = 0; i < c - k; ++i) strongest_remote[static_cast<size_t>(i)] += strong[i].item<double>();
  rows += static_cast<double>(imp.size(0));
  disordered += is_disordered.sum().item<double>();
  dead_local += (local_min < 1e-6).sum().item<double>();
}

}  // namespace agilenn::train
