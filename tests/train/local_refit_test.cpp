#include "train/local_refit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/error_message.h"

namespace agilenn::train {
namespace {

// Features like the Local NN's pooled means: large common offsets, small class-dependent shifts.
struct Problem {
  torch::Tensor pooled, labels;
};

Problem make_problem(int64_t n, int64_t k, int64_t classes, uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor labels = torch::randint(classes, {n}, torch::kLong);
  const torch::Tensor centres = torch::randn({classes, k}) * 0.1;
  const torch::Tensor pooled = 4.0 + centres.index({labels}) + 0.05 * torch::randn({n, k});
  return {pooled, labels};
}

// The objective fit_linear_head minimises, with its gradient (weights, then bias) in *grad.
double objective(const LinearHead& h, const Problem& p, const torch::Tensor& scale, double l2, torch::Tensor* grad,
                 const torch::Tensor& remote = {}, double alpha = 0) {
  torch::AutoGradMode on(true);
  torch::Tensor w = h.weight.to(torch::kFloat64).clone().requires_grad_(true);
  torch::Tensor b = h.bias.to(torch::kFloat64).clone().requires_grad_(true);
  const torch::Tensor logits = torch::addmm(b, p.pooled.to(torch::kFloat64), w.t());
  torch::Tensor loss = torch::nn::functional::cross_entropy(logits, p.labels) + l2 * (w * scale).pow(2).sum();
  if (remote.defined()) loss = loss + torch::nn::functional::cross_entropy(alpha * logits + (1 - alpha) * remote, p.labels);
  loss.backward();
  if (grad) *grad = torch::cat({w.grad().flatten(), b.grad()});
  return loss.item<double>();
}

TEST(LocalRefit, FitLinearHeadReachesTheOptimumOfThePenalisedCrossEntropy) {
  const Problem p = make_problem(3000, 5, 10, 1);
  const double l2 = 1e-4;
  const LinearHead h = fit_linear_head(p.pooled, p.labels, 10, l2);
  ASSERT_EQ(h.weight.sizes(), (std::vector<int64_t>{10, 5}));
  ASSERT_EQ(h.bias.sizes(), (std::vector<int64_t>{10}));
  // The penalty is on the standardised features' weights: w_std = w * std.
  const torch::Tensor scale = p.pooled.to(torch::kFloat64).std(0);
  torch::Tensor grad;
  const double best = objective(h, p, scale, l2, &grad);
  EXPECT_LT(grad.abs().max().item<double>(), 1e-4);
  // Any other head costs more.
  for (int i = 0; i < 5; ++i) {
    const LinearHead moved{h.weight + 0.5 * torch::randn_like(h.weight), h.bias + 0.1 * torch::randn_like(h.bias)};
    EXPECT_GT(objective(moved, p, scale, l2, nullptr), best);
  }
  // Separable enough to be far above chance (0.1).
  const double accuracy = torch::addmm(h.bias, p.pooled, h.weight.t()).argmax(1).eq(p.labels).to(torch::kFloat64).mean().item<double>();
  EXPECT_GT(accuracy, 0.6);
}

// With the Remote NN's logits the fit also minimises the mixed prediction's cross-entropy: here
// the remote logits know the classes 0-4 perfectly, so the mix needs the local logits for 5-9
// only, and the optimum moves.
TEST(LocalRefit, FitLinearHeadWithRemoteLogitsReachesTheOptimumOfTheMixedObjective) {
  const Problem p = make_problem(3000, 5, 10, 4);
  const torch::Tensor remote =
      torch::one_hot(p.labels, 10).to(torch::kFloat64) * 6.0 * p.labels.lt(5).unsqueeze(1).to(torch::kFloat64);
  const double l2 = 1e-4, alpha = 0.4;
  const LinearHead mixed = fit_linear_head(p.pooled, p.labels, 10, l2, remote, alpha);
  const torch::Tensor scale = p.pooled.to(torch::kFloat64).std(0);
  torch::Tensor grad;
  objective(mixed, p, scale, l2, &grad, remote, alpha);
  EXPECT_LT(grad.abs().max().item<double>(), 1e-4);
  const LinearHead alone = fit_linear_head(p.pooled, p.labels, 10, l2);
  EXPECT_GT((mixed.weight - alone.weight).abs().max().item<double>(), 1e-2);
  EXPECT_THROW(fit_linear_head(p.pooled, p.labels, 10, l2, remote.narrow(0, 0, 10), alpha), std::invalid_argument);
}

TEST(LocalRefit, FitLinearHeadIsDeterministic) {
  const Problem p = make_problem(500, 3, 4, 2);
  const LinearHead a = fit_linear_head(p.pooled, p.labels, 4, 1e-4);
  const LinearHead b = fit_linear_head(p.pooled, p.labels, 4, 1e-4);
  EXPECT_TRUE(torch::equal(a.weight, b.weight));
  EXPECT_TRUE(torch::equal(a.bias, b.bias));
}

TEST(LocalRefit, FitLinearHeadRejectsMismatchedShapes) {
  EXPECT_THROW(fit_linear_head(torch::zeros({4, 3}), torch::zeros({5}, torch::kLong), 2, 0), std::invalid_argument);
  EXPECT_THROW(fit_linear_head(torch::zeros({4}), torch::zeros({4}, torch::kLong), 2, 0), std::invalid_argument);
}

// The Local NN's eval-mode function of its pooled input is the head, with and without a batch norm
// on the logits (whose statistics and affine map stay as they were).
TEST(LocalRefit, SetLocalHeadMakesTheLocalNNComputeTheHead) {
  for (bool bn : {false, true}) {
    torch::manual_seed(3);
    LocalNN local(LocalOptions{5, 10, bn});
    if (bn) {
      torch::NoGradGuard no_grad;
      local->bn->running_mean.copy_(torch::randn({10}));
      local->bn->running_var.copy_(torch::rand({10}) + 0.5);
      local->bn->weight.copy_(torch::randn({10}).sign() * (torch::rand({10}) + 0.2));
      local->bn->bias.copy_(torch::randn({10}));
    }
    const torch::Tensor running_mean = bn ? local->bn->running_mean.clone() : torch::Tensor();
    local->eval();
    const LinearHead head{torch::randn({10, 5}) * 3, torch::randn({10})};
    set_local_head(*local, head);
    const torch::Tensor maps = 4.0 + torch::rand({7, 5, 6, 6});
    torch::NoGradGuard no_grad;
    const torch::Tensor got = local->forward(maps);
    const torch::Tensor want = torch::addmm(head.bias, maps.mean({2, 3}), head.weight.t());
    EXPECT_TRUE(torch::allclose(got, want, 1e-4, 1e-4)) << "bn " << bn << ": " << (got - want).abs().max().item<double>();
    if (bn) {
      EXPECT_TRUE(torch::equal(local->bn->running_mean, running_mean));
    }
  }
}

TEST(LocalRefit, ALogitBatchNormWithAZeroScaleIsAClearError) {
  LocalNN local(LocalOptions{5, 10, true});
  {
    torch::NoGradGuard no_grad;
    local->bn->weight[3] = 0;
  }
  EXPECT_THAT(testing::error_message([&] { set_local_head(*local, {torch::zeros({10, 5}), torch::zeros({10})}); }),
              ::testing::HasSubstr("logit batch norm has a scale of about 0"));
  EXPECT_THROW(set_local_head(*local, {torch::zeros({10, 4}), torch::zeros({10})}), std::invalid_argument);
}

}  // namespace
}  // namespace agilenn::train
