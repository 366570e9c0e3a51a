#include "train/local_refit.h"

#include <stdexcept>
#include <string>

namespace agilenn::train {

LinearHead fit_linear_head(const torch::Tensor& pooled, const torch::Tensor& labels, int64_t classes, double l2,
                           const torch::Tensor& remote, double alpha) {
  if (pooled.dim() != 2 || labels.dim() != 1 || pooled.size(0) != labels.size(0) || pooled.size(0) < 2) {
    throw std::invalid_argument("fit_linear_head: expected features [N, k] and labels [N] with N >= 2");
  }
  if (remote.defined() && remote.sizes() != torch::IntArrayRef{pooled.size(0), classes}) {
    throw std::invalid_argument("fit_linear_head: expected remote logits [N, classes]");
  }
  torch::AutoGradMode grad(true);
  // Double precision on standardised features: L-BFGS then converges to the optimum of a
  // well-conditioned problem (the raw means vary by ~0.1 around means of 2-5).
  const torch::Tensor x = pooled.detach().to(torch::kCPU, torch::kFloat64);
  const torch::Tensor y = labels.detach().to(torch::kCPU, torch::kLong);
  const torch::Tensor other = remote.defined() ? (1 - alpha) * remote.detach().to(torch::kCPU, torch::kFloat64) : torch::Tensor();
  const torch::Tensor mean = x.mean(0);
  const torch::Tensor scale = x.std(0).clamp_min(1e-12);
  const torch::Tensor z = (x - mean) / scale;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  torch::Tensor w = torch::zeros({classes, x.size(1)}, f64.requires_grad(true));
  torch::Tensor b = torch::zeros({classes}, f64.requires_grad(true));
  torch::optim::LBFGS opt({w, b}, torch::optim::LBFGSOptions(1).max_iter(1000).tolerance_grad(1e-9).tolerance_change(1e-12)
                                      .history_size(20).line_search_fn("strong_wolfe"));
  opt.step([&] {
    opt.zero_grad();
    const torch::Tensor logits = torch::addmm(b, z, w.t());
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits, y) + l2 * w.pow(2).sum();
    if (other.defined()) loss = loss + torch::nn::functional::cross_entropy(alpha * logits + other, y);
    loss.backward();
    return loss;
  });
  // logits = ((x - mean) / scale) . w^T + b = x . (w / scale)^T + (b - (mean / scale) . w^T)
  const torch::Tensor weight = (w.detach() / scale).to(torch::kFloat32);
  const torch::Tensor bias = (b.detach() - torch::mv(w.detach(), mean / scale)).to(torch::kFloat32);
  return {weight, bias};
}

void set_local_head(LocalNNImpl& local, const LinearHead& head) {
  torch::NoGradGuard no_grad;
  const torch::Tensor& fc_w = local.fc->weight;
  if (head.weight.sizes() != fc_w.sizes() || head.bias.size(0) != fc_w.size(0)) {
    throw std::invalid_argument("set_local_head: the head's shape differs from the Local NN's dense layer");
  }
  torch::Tensor weight = head.weight.to(torch::kFloat64), bias = head.bias.to(torch::kFloat64);
  if (local.bn) {
    // eval: y = (z - mean) / sqrt(var + eps) * gamma + beta, so z = (y - beta) * s + mean with s = sqrt(var + eps) / gamma.
    const auto& o = local.bn->options;
    const torch::Tensor gamma = o.affine() ? local.bn->weight.detach().cpu().to(torch::kFloat64) : torch::ones_like(bias);
    const torch::Tensor beta = o.affine() ? local.bn->bias.detach().cpu().to(torch::kFloat64) : torch::zeros_like(bias);
    if (gamma.abs().min().item<double>() < 1e-6) {
      throw std::runtime_error("the Local NN's logit batch norm has a scale of about 0 (" +
                               std::to_string(gamma.abs().min().item<double>()) + "): it cannot be refit");
    }
    const torch::Tensor s = torch::sqrt(local.bn->running_var.detach().cpu().to(torch::kFloat64) + o.eps()) / gamma;
    weight = weight * s.unsqueeze(1);
    bias = (bias - beta) * s + local.bn->running_mean.detach().cpu().to(torch::kFloat64);
  }
  local.fc->weight.copy_(weight.to(fc_w.options()));
  local.fc->bias.copy_(bias.to(fc_w.options()));
}

}  // namespace agilenn::train
