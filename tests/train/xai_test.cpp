#include "train/xai.h"

#include <gtest/gtest.h>

#include "train/models.h"

namespace agilenn::train {
namespace {

TEST(Losses, MatchHandComputedValues) {
  const torch::Tensor imp = torch::tensor({{0.5, 0.3, 0.1, 0.1}, {0.1, 0.1, 0.4, 0.4}});
  // Skewness: row 1 has 0.8 >= rho, row 2 misses by 0.6 -> mean 0.3.
  EXPECT_NEAR(skewness_loss(imp, 2, 0.8).item<double>(), 0.3, 1e-6);
  // Disorder: row 1 max remote 0.1 < min local 0.3 -> 0; row 2: 0.4 - 0.1 = 0.3 -> mean 0.15.
  EXPECT_NEAR(disorder_loss(imp, 2).item<double>(), 0.15, 1e-6);
  // With a margin of 0.25 row 1 (lead 0.2) counts too: (0.05 + 0.55) / 2.
  EXPECT_NEAR(disorder_loss(imp, 2, 0.25).item<double>(), 0.3, 1e-6);
  EXPECT_NEAR(achieved_skewness(imp, 2), 0.5, 1e-6);
  EXPECT_NEAR(disorder_rate(imp, 2), 0.5, 1e-6);
  // Per element on a [1, 2, 1, 2] map with k = 1: |a| / sum = {0.1, 0.2 | 0.3, 0.4} -> 0.4 - 0.1.
  const torch::Tensor attr = torch::tensor({1.0, -2.0, 3.0, 4.0}).view({1, 2, 1, 2});
  EXPECT_NEAR(disorder_loss_per_element(attr, 1).item<double>(), 0.3, 1e-6);
  EXPECT_NEAR(disorder_loss_per_element(attr, 1, 0.1).item<double>(), 0.4, 1e-6);
}

TEST(Losses, ImportanceProfileCountsTheDisorderedRowsCulprits) {
  // k = 2 of 4. Row 1 ordered; row 2: remote channel 3 (0.4) outranks local channel 1 (0.1);
  // row 3: local channel 0 has no importance, remote channel 2 outranks it.
  const torch::Tensor imp = torch::tensor({{0.5, 0.3, 0.1, 0.1}, {0.4, 0.1, 0.1, 0.4}, {0.0, 0.6, 0.3, 0.1}});
  ImportanceProfile p;
  p.add(imp.narrow(0, 0, 2), 2);
  p.add(imp.narrow(0, 2, 1), 2);
  EXPECT_DOUBLE_EQ(p.rows, 3);
  EXPECT_DOUBLE_EQ(p.disordered, 2);
  EXPECT_DOUBLE_EQ(p.dead_local, 1);
  EXPECT_EQ(p.weakest_local, (std::vector<double>{1, 1}));
  EXPECT_EQ(p.strongest_remote, (std::vector<double>{1, 1}));
  ASSERT_EQ(p.importance.size(), 4u);
  EXPECT_NEAR(p.importance[0], 0.9, 1e-6);
  EXPECT_NEAR(p.importance[3], 0.6, 1e-6);
}

// A tiny reference in double precision for exact checks.
ReferenceNN tiny_reference() {
  torch::manual_seed(3);
  ReferenceNN r(ReferenceOptions{4, 3, 2});
  r->to(torch::kDouble);
  r->eval();
  return r;
}

TEST(Xai, IntegratedGradientsAreComplete) {
  // Completeness: the attributions sum to loss(f) - loss(0) as the trapezoid rule converges.
  ReferenceNN ref = tiny_reference();
  const torch::Tensor f = torch::rand({2, 4, 8, 8}, torch::kDouble) * 6;
  const torch::Tensor y = torch::tensor({0, 2}, torch::kLong);
  const auto forward = [&](const torch::Tensor& x) { return ref->forward(x); };
  const Attribution a = attribute(forward, f, y, XaiMethod::kIntegratedGradients, 256, false);
  torch::NoGradGuard g;
  const auto loss = [&](const torch::Tensor& x) {
    return torch::nn::functional::cross_entropy(ref->forward(x), y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  };
  const torch::Tensor expected = loss(f) - loss(torch::zeros_like(f));
  EXPECT_TRUE(torch::allclose(a.attribution.sum({1, 2, 3}), expected, 1e-3, 1e-4))
      << a.attribution.sum({1, 2, 3}) << expected;
  EXPECT_TRUE(torch::allclose(a.importance.sum(1), torch::ones({2}, torch::kDouble)));
  EXPECT_TRUE(torch::all(a.importance >= 0).item<bool>());
}

TEST(Xai, TwoPointRuleIsTheAuthorsFormula) {
  ReferenceNN ref = tiny_reference();
  const torch::Tensor f = torch::rand({2, 4, 8, 8}, torch::kDouble) * 6;
  const torch::Tensor y = torch::tensor({1, 0}, torch::kLong);
  const auto forward = [&](const torch::Tensor& x) { return ref->forward(x); };
  const Attribution a = attribute(forward, f, y, XaiMethod::kIntegratedGradients, 2, false);
  const auto grad_at = [&](const torch::Tensor& x) {
    torch::Tensor p = x.clone().requires_grad_(true);
    const torch::Tensor l = torch::nn::functional::cross_entropy(ref->forward(p), y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
    return torch::autograd::grad({l}, {p})[0];
  };
  const torch::Tensor expected = 0.5 * (grad_at(f) + grad_at(torch::zeros_like(f))) * f;
  EXPECT_TRUE(torch::allclose(a.attribution, expected, 1e-9, 1e-12));
  const Attribution s = attribute(forward, f, y, XaiMethod::kSaliency, 0, false);
  EXPECT_TRUE(torch::allclose(s.attribution, grad_at(f), 1e-9, 1e-12));
  EXPECT_TRUE(torch::equal(a.correct, ref->forward(f).argmax(1) == y));
}

TEST(Xai, DetachedRemoteFactorKeepsValuesAndStopsThatGradient) {
  // Attribution a = f * G. Detaching f in channels 2.. removes exactly the path through that
  // factor: the gradients of sum |a_remote| with and without differ by |a| / f = |G| there and by
  // nothing in the local channels (the path through G is the same in both).
  ReferenceNN ref = tiny_reference();
  const auto forward = [&](const torch::Tensor& x) { return ref->forward(x); };
  const torch::Tensor f = (torch::rand({2, 4, 8, 8}, torch::kDouble) * 6 + 0.1).requires_grad_(true);
  const torch::Tensor y = torch::tensor({0, 2}, torch::kLong);
  const Attribution full = attribute(forward, f, y, XaiMethod::kIntegratedGradients, 2, true);
  const Attribution detached = attribute(forward, f, y, XaiMethod::kIntegratedGradients, 2, true, 2);
  EXPECT_TRUE(torch::allclose(full.attribution, detached.attribution));
  const auto remote_grad = [&](const Attribution& a) {
    return torch::autograd::grad({a.attribution.narrow(1, 2, 2).abs().sum()}, {f}, {}, /*retain_graph=*/true)[0];
  };
  const torch::Tensor difference = remote_grad(full) - remote_grad(detached);
  const torch::Tensor expected = full.attribution.detach().abs() / f.detach();
  EXPECT_TRUE(torch::allclose(difference.narrow(1, 2, 2), expected.narrow(1, 2, 2), 1e-9, 1e-12));
  EXPECT_EQ(difference.narrow(1, 0, 2).abs().max().item<double>(), 0.0);
  // The detached attribution also carries the whole one (--xai-remote detach-skewness), with the
  // full path: the same values and gradient as without detaching. Without detaching the two are one.
  EXPECT_TRUE(torch::allclose(detached.full_importance, detached.importance));
  const auto full_remote_grad = [&](const Attribution& a) {
    return torch::autograd::grad({a.full_attribution.narrow(1, 2, 2).abs().sum()}, {f})[0];
  };
  EXPECT_TRUE(torch::allclose(full_remote_grad(detached), remote_grad(full), 1e-9, 1e-12));
  EXPECT_TRUE(full.full_importance.is_same(full.importance));
}

// The XAI loss is differentiated through the gradient (second order): check that gradient with
// respect to the extractor's weights against central finite differences, for m points of IG
// through the reference's forward() or forward_folded() (the trainer's; with m = 2 the one
// non-baseline point is the map itself).
void check_loss_gradient(int m, bool folded) {
  torch::manual_seed(4);
  FeatureExtractor extractor(ExtractorOptions{3, 2, 4, 1});
  extractor->to(torch::kDouble);
  extractor->eval();
  ReferenceNN ref = tiny_reference();
  for (auto& p : ref->parameters()) p.requires_grad_(false);
  const torch::Tensor x = torch::randn({3, 3, 6, 6}, torch::kDouble);
  const torch::Tensor y = torch::tensor({0, 1, 2}, torch::kLong);
  const auto xai_loss = [&] {
    const Attribution a =
        attribute([&](const torch::Tensor& f) { return folded ? ref->forward_folded(f) : ref->forward(f); },
                  extractor->forward(x), y, XaiMethod::kIntegratedGradients, m, true);
    return skewness_loss(a.importance, 2, 0.99) + disorder_loss(a.importance, 2);
  };
  torch::Tensor& w = extractor->pw2->weight;
  const torch::Tensor analytic = torch::autograd::grad({xai_loss()}, {w})[0].clone();
  ASSERT_GT(analytic.abs().sum().item<double>(), 0.0);
  const double eps = 1e-6;
  torch::NoGradGuard g;
  auto flat = w.view({-1});
  for (int64_t i = 0; i < flat.size(0); ++i) {
    const double original = flat[i].item<double>();
    flat[i] = original + eps;
    double plus;
    {
      torch::AutoGradMode on(true);
      plus = xai_loss().item<double>();
    }
    flat[i] = original - eps;
    double minus;
    {
      torch::AutoGradMode on(true);
      minus = xai_loss().item<double>();
    }
    flat[i] = original;
    const double numeric = (plus - minus) / (2 * eps);
    const double a = analytic.view({-1})[i].item<double>();
    EXPECT_NEAR(a, numeric, 1e-6 + 1e-4 * std::abs(numeric)) << "weight " << i;
  }
}

TEST(Xai, LossGradientMatchesFiniteDifferences) { check_loss_gradient(4, false); }
TEST(Xai, LossGradientMatchesFiniteDifferencesTwoPointsFolded) { check_loss_gradient(2, true); }

}  // namespace
}  // namespace agilenn::train
