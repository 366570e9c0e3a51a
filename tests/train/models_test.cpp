#include "train/models.h"

#include <gtest/gtest.h>

namespace agilenn::train {
namespace {

TEST(Models, ExtractorGeometryAndRange) {
  torch::manual_seed(0);
  FeatureExtractor native(ExtractorOptions{});
  const torch::Tensor f = native->forward(torch::randn({2, 3, 32, 32}) * 3);
  EXPECT_EQ(f.sizes(), (std::vector<int64_t>{2, 24, 32, 32}));
  EXPECT_GE(f.min().item<float>(), 0.0f);
  EXPECT_LE(f.max().item<float>(), 6.0f);
  // The paper's geometry: 96x96 input with stride 3 gives the same 32x32x24 map.
  FeatureExtractor paper(ExtractorOptions{3, 4, 24, 3});
  EXPECT_EQ(paper->forward(torch::randn({1, 3, 96, 96})).sizes(), (std::vector<int64_t>{1, 24, 32, 32}));
  // About 227 parameters without batch norm (the facts file).
  int64_t conv_params = 0;
  for (const auto& p : native->named_parameters()) {
    if (p.key().find("bn") == std::string::npos) conv_params += p.value().numel();
  }
  EXPECT_EQ(conv_params, 27 + 12 + 36 + 96);
}

TEST(Models, ChannelPermutationKeepsTheReferenceFunction) {
  torch::manual_seed(1);
  FeatureExtractor extractor(ExtractorOptions{});
  ReferenceNN reference(ReferenceOptions{24, 10, 4});
  extractor->eval();
  reference->eval();
  const torch::Tensor x = torch::randn({3, 3, 16, 16});
  // Non-trivial batch-norm statistics so that their permutation matters.
  {
    torch::NoGradGuard g;
    extractor->bn2->running_mean.uniform_(-0.5, 0.5);
    extractor->bn2->running_var.uniform_(0.5, 2.0);
    extractor->bn2->weight.uniform_(0.5, 1.5);
    extractor->bn2->bias.uniform_(-0.2, 0.2);
  }
  const torch::Tensor f0 = extractor->forward(x);
  const torch::Tensor y0 = reference->forward(f0);
  std::vector<int64_t> order(24);
  for (int64_t i = 0; i < 24; ++i) order[static_cast<size_t>(i)] = (i * 7 + 3) % 24;
  extractor->permute_output_channels(order);
  reference->permute_input_channels(order);
  const torch::Tensor f1 = extractor->forward(x);
  EXPECT_TRUE(torch::allclose(f1, f0.index_select(1, torch::tensor(order)), 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(reference->forward(f1), y0, 1e-4, 1e-5));
  EXPECT_THROW(extractor->permute_output_channels({0, 1, 2}), std::invalid_argument);
}

TEST(Models, FoldedReferenceIsTheEvalModeReference) {
  // forward_folded (batch norm folded into the convolutions) computes the eval-mode function and
  // its input gradient, to first and second order, as forward() does.
  torch::manual_seed(4);
  ReferenceNN reference(ReferenceOptions{6, 5, 4, 2});
  {
    torch::NoGradGuard g;
    for (const auto& b : reference->named_buffers()) {
      if (b.key().find("running_mean") != std::string::npos) b.value().uniform_(-0.5, 0.5);
      if (b.key().find("running_var") != std::string::npos) b.value().uniform_(0.5, 2.0);
    }
    for (const auto& p : reference->named_parameters()) {
      if (p.key().find("body") != std::string::npos && p.value().dim() == 1) p.value().uniform_(0.5, 1.5);
    }
  }
  EXPECT_THROW(reference->forward_folded(torch::rand({2, 6, 12, 12})), std::logic_error);
  reference->eval();
  const torch::Tensor f = torch::rand({2, 6, 12, 12}).mul(6);
  const auto input_gradients = [&](bool folded) {
    torch::Tensor x = f.clone().requires_grad_(true);
    const torch::Tensor logits = folded ? reference->forward_folded(x) : reference->forward(x);
    const torch::Tensor g = torch::autograd::grad({logits.pow(2).sum()}, {x}, {}, true, true)[0];
    const torch::Tensor g2 = torch::autograd::grad({g.abs().sum()}, {x})[0];
    return std::vector<torch::Tensor>{logits, g, g2};
  };
  const auto plain = input_gradients(false), folded = input_gradients(true);
  for (size_t i = 0; i < plain.size(); ++i) {
    EXPECT_TRUE(torch::allclose(folded[i], plain[i], 1e-4, 1e-5)) << "order " << i;
  }
  EXPECT_GT(plain[0].abs().sum().item<float>(), 0.0f);
}

TEST(Models, QuantizerIsHardForwardAndSoftBackward) {
  FeatureQuantizer q(QuantizerOptions{8, 10.0});
  const torch::Tensor levels = q->levels();
  ASSERT_EQ(levels.size(0), 8);
  EXPECT_GT(levels.min().item<float>(), 0.0f);
  EXPECT_LT(levels.max().item<float>(), 6.0f);
  EXPECT_TRUE(torch::all(levels.slice(0, 1) > levels.slice(0, 0, 7)).item<bool>());
  torch::Tensor x = torch::rand({4, 5}).mul(6).requires_grad_(true);
  const torch::Tensor y = q->forward(x);
  // Every output is one of the levels, the nearest one.
  const torch::Tensor nearest = levels.index_select(0, q->symbols(x).flatten()).view(x.sizes());
  EXPECT_TRUE(torch::allclose(y, nearest, 1e-6, 1e-6));
  y.sum().backward();
  EXPECT_GT(x.grad().abs().sum().item<float>(), 0.0f);  // straight-through gradient
  EXPECT_TRUE(q->logits_c.grad().defined());
}

TEST(Models, FusedQuantizerGradientsEqualTheSoftAssignmentForm) {
  // The CPU forward/backward is one fused pass; its gradients must equal those of the composite
  // soft + (hard - soft).detach() form (the CUDA path), for x and for the levels' parameters.
  torch::manual_seed(5);
  FeatureQuantizer q(QuantizerOptions{8, 10.0});
  const torch::Tensor x0 = torch::rand({3, 4, 5, 6}, torch::kDouble).mul(6.4).sub(0.2);
  q->to(torch::kDouble);
  const torch::Tensor g = torch::randn({3, 4, 5, 6}, torch::kDouble);

  torch::Tensor x = x0.clone().requires_grad_(true);
  const torch::Tensor fused = q->forward(x);
  (fused * g).sum().backward();
  const torch::Tensor fused_gx = x.grad().clone();
  const torch::Tensor fused_gl = q->logits_c.grad().clone();

  q->zero_grad();
  torch::Tensor xr = x0.clone().requires_grad_(true);
  const torch::Tensor lv = q->levels();
  const torch::Tensor soft = (q->soft_assignment(xr) * lv).sum(-1);
  const torch::Tensor hard = lv.index_select(0, q->symbols(xr).flatten()).view(xr.sizes());
  const torch::Tensor composite = soft + (hard - soft).detach();
  (composite * g).sum().backward();

  EXPECT_TRUE(torch::allclose(fused, composite, 0, 1e-12));
  EXPECT_TRUE(torch::allclose(fused_gx, xr.grad(), 1e-9, 1e-12));
  EXPECT_TRUE(torch::allclose(fused_gl, q->logits_c.grad(), 1e-9, 1e-12));
  EXPECT_GT(fused_gl.abs().sum().item<double>(), 0.0);
}

TEST(Models, FusedRateEqualsTheSoftAssignmentForm) {
  // The CPU rate term is one fused pass; its value and gradients (x, the levels' parameters, the
  // costs) must equal the composite sum(soft_assignment * cost) / B (the CUDA path).
  torch::manual_seed(6);
  FeatureQuantizer q(QuantizerOptions{8, 10.0});
  q->to(torch::kDouble);
  const torch::Tensor x0 = torch::rand({3, 4, 5, 6}, torch::kDouble).mul(6.4).sub(0.2);
  const torch::Tensor logits0 = torch::randn({4, 8}, torch::kDouble);

  torch::Tensor x = x0.clone().requires_grad_(true);
  torch::Tensor logits = logits0.clone().requires_grad_(true);
  const torch::Tensor fused = q->rate_bits(x, torch::log_softmax(logits, 1) / -std::log(2.0));
  (fused * 1.7).backward();
  const torch::Tensor fused_gx = x.grad().clone(), fused_gq = logits.grad().clone();
  const torch::Tensor fused_gl = q->logits_c.grad().clone();

  q->zero_grad();
  torch::Tensor xr = x0.clone().requires_grad_(true);
  torch::Tensor logits_r = logits0.clone().requires_grad_(true);
  const torch::Tensor cost = (torch::log_softmax(logits_r, 1) / -std::log(2.0)).view({1, 4, 1, 1, 8});
  const torch::Tensor composite = (q->soft_assignment(xr) * cost).sum() / 3;
  (composite * 1.7).backward();

  EXPECT_GT(fused.item<double>(), 0.0);
  EXPECT_TRUE(torch::allclose(fused, composite, 1e-12, 1e-12));
  EXPECT_TRUE(torch::allclose(fused_gx, xr.grad(), 1e-9, 1e-12));
  EXPECT_TRUE(torch::allclose(fused_gq, logits_r.grad(), 1e-9, 1e-12));
  EXPECT_TRUE(torch::allclose(fused_gl, q->logits_c.grad(), 1e-9, 1e-12));
  EXPECT_GT(fused_gl.abs().sum().item<double>(), 0.0);
  EXPECT_GT(fused_gq.abs().sum().item<double>(), 0.0);
}

TEST(Models, AgileNetMixesWithAlpha) {
  torch::manual_seed(2);
  AgileOptions o;
  o.remote.width = 0.25;
  o.remote.blocks = {1, 1, 1, 1, 1, 1, 1};
  AgileNet net(o);
  net->eval();
  const AgileOutput out = net->forward(torch::randn({2, 3, 32, 32}));
  EXPECT_EQ(out.local.sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(out.remote.sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_NEAR(out.alpha.item<float>(), 0.5f, 1e-6);  // sigmoid(0 / T)
  EXPECT_TRUE(torch::allclose(out.final, 0.5 * out.local + 0.5 * out.remote));
  const AgileOutput local_only = net->forward(torch::randn({2, 3, 32, 32}), 1.0);
  EXPECT_TRUE(torch::allclose(local_only.final, local_only.local));
  {
    torch::NoGradGuard g;
    net->alpha->w.fill_(5.0);
  }
  EXPECT_NEAR(net->alpha->forward().item<float>(), 1.0 / (1.0 + std::exp(-1.0)), 1e-6);  // sigmoid(5 / 5)
  o.k = 24;
  EXPECT_THROW(AgileNet{o}, std::invalid_argument);
}

TEST(Models, RecalibratedBatchNormHoldsThePlainAverageOfTheFedBatches) {
  torch::manual_seed(7);
  torch::nn::Sequential net(torch::nn::Conv2d(torch::nn::Conv2dOptions(2, 3, 1).bias(false)), torch::nn::BatchNorm2d(3),
                            torch::nn::Flatten(), torch::nn::BatchNorm1d(3 * 4 * 4));
  set_batch_norm_momentum(*net, 0.25);
  const auto bn = net[1]->as<torch::nn::BatchNorm2d>();
  const auto bn1 = net[3]->as<torch::nn::BatchNorm1d>();
  ASSERT_TRUE(bn != nullptr && bn1 != nullptr);
  EXPECT_DOUBLE_EQ(bn->options.momentum().value(), 0.25);
  EXPECT_DOUBLE_EQ(bn1->options.momentum().value(), 0.25);
  // Stale statistics from earlier training.
  net->train();
  net->forward(torch::randn({8, 2, 4, 4}) * 5 + 3);
  const std::vector<torch::Tensor> batches = {torch::randn({6, 2, 4, 4}) + 1, torch::randn({6, 2, 4, 4}) * 2 - 1};
  recalibrate_batch_norm({net.ptr().get()}, [&] {
    for (const torch::Tensor& b : batches) net->forward(b);
  });
  torch::Tensor mean = torch::zeros({3}), var = torch::zeros({3});
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor w = net[0]->as<torch::nn::Conv2d>()->weight;
    for (const torch::Tensor& b : batches) {
      const torch::Tensor y = torch::conv2d(b, w).transpose(0, 1).reshape({3, -1});
      mean += y.mean(1) / 2;
      var += y.var(1, /*unbiased=*/true) / 2;
    }
  }
  EXPECT_TRUE(torch::allclose(bn->running_mean, mean, 1e-5, 1e-5)) << bn->running_mean << mean;
  EXPECT_TRUE(torch::allclose(bn->running_var, var, 1e-5, 1e-5)) << bn->running_var << var;
  EXPECT_FALSE(net->is_training());
  EXPECT_DOUBLE_EQ(bn->options.momentum().value(), 0.25);  // restored
  EXPECT_DOUBLE_EQ(bn1->options.momentum().value(), 0.25);
  EXPECT_FALSE(bn->running_mean.requires_grad());
}

TEST(Models, RemoteWidthScalesParameters) {
  RemoteOptions full;
  full.in_channels = 19;
  RemoteOptions half = full;
  half.width = 0.5;
  const auto count = [](RemoteNN m) {
    int64_t n = 0;
    for (const auto& p : m->parameters()) n += p.numel();
    return n;
  };
  const int64_t n_full = count(RemoteNN(full)), n_half = count(RemoteNN(half));
  EXPECT_GT(n_full, 2'000'000);  // about 2.2 M (the facts file)
  EXPECT_LT(n_full, 2'400'000);
  EXPECT_LT(n_half, n_full * 2 / 3);
  EXPECT_EQ(RemoteNN(half)->forward(torch::randn({1, 19, 32, 32})).sizes(), (std::vector<int64_t>{1, 10}));
}

}  // namespace
}  // namespace agilenn::train
