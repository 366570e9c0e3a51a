#include "train/models.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "train/quantizer_kernel.h"

namespace agilenn::train {
namespace nn = torch::nn;
namespace {

nn::Conv2d conv(int in, int out, int kernel, int stride = 1, int groups = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).groups(groups).bias(false));
}

// MobileNetV2's channel rounding: a multiple of 8, never below 90 % of the request.
int make_divisible(double v, int divisor = 8) {
  int rounded = std::max(divisor, static_cast<int>(v + divisor / 2.0) / divisor * divisor);
  if (rounded < 0.9 * v) rounded += divisor;
  return rounded;
}

// On the CPU the networks run channels-last: oneDNN's convolutions (depthwise ones above all)
// take about half the time they take on NCHW tensors, and the layout carries through batch norm
// and activations to the next convolution. A conversion at each network's input is enough.
torch::Tensor cpu_channels_last(const torch::Tensor& x) {
  return x.is_cpu() && x.dim() == 4 ? x.contiguous(torch::MemoryFormat::ChannelsLast) : x;
}

torch::Tensor index_tensor(const std::vector<int64_t>& order, const torch::Device& device) {
  return torch::tensor(order, torch::kLong).to(device);
}

void check_permutation(const std::vector<int64_t>& order, int64_t n) {
  std::vector<bool> seen(static_cast<size_t>(n), false);
  if (static_cast<int64_t>(order.size()) != n) {
    throw std::invalid_argument("channel order has " + std::to_string(order.size()) + " entries, expected " +
                                std::to_string(n));
  }
  for (int64_t c : order) {
    if (c < 0 || c >= n || seen[static_cast<size_t>(c)]) {
      throw std::invalid_argument("channel order is not a permutation of 0.." + std::to_string(n - 1));
    }
    seen[static_cast<size_t>(c)] = true;
  }
}

class InvertedResidualImpl : public nn::Module {
 public:
  InvertedResidualImpl(int in, int out, int stride, int expand) : residual_(stride == 1 && in == out) {
    const int hidden = in * expand;
    nn::Sequential layers;
    if (expand != 1) {
      layers->push_back(conv(in, hidden, 1));
      layers->push_back(nn::BatchNorm2d(hidden));
      layers->push_back(nn::Functional(torch::relu6));
    }
    layers->push_back(conv(hidden, hidden, 3, stride, hidden));
    layers->push_back(nn::BatchNorm2d(hidden));
    layers->push_back(nn::Functional(torch::relu6));
    layers->push_back(conv(hidden, out, 1));
    layers->push_back(nn::BatchNorm2d(out));
    block_ = register_module("block", layers);
  }
  torch::Tensor forward(const torch::Tensor& x) { return residual_ ? x + block_->forward(x) : block_->forward(x); }

 private:
  bool residual_;
  nn::Sequential block_{nullptr};
};
TORCH_MODULE(InvertedResidual);

}  // namespace

FeatureExtractorImpl::FeatureExtractorImpl(const ExtractorOptions& o) : options_(o) {
  dw1 = register_module("dw1", conv(o.in_channels, o.in_channels, 3, o.stride, o.in_channels));
  pw1 = register_module("pw1", conv(o.in_channels, o.mid_channels, 1));
  bn1 = register_module("bn1", nn::BatchNorm2d(o.mid_channels));
  dw2 = register_module("dw2", conv(o.mid_channels, o.mid_channels, 3, 1, o.mid_channels));
  pw2 = register_module("pw2", conv(o.mid_channels, o.out_channels, 1));
  bn2 = register_module("bn2", nn::BatchNorm2d(o.out_channels));
}

torch::Tensor FeatureExtractorImpl::forward(const torch::Tensor& images) {
  torch::Tensor x = torch::relu6(bn1->forward(pw1->forward(dw1->forward(cpu_channels_last(images)))));
  return torch::relu6(bn2->forward(pw2->forward(dw2->forward(x))));
}

void FeatureExtractorImpl::permute_output_channels(const std::vector<int64_t>& order) {
  check_permutation(order, options_.out_channels);
  const torch::Tensor idx = index_tensor(order, pw2->weight.device());
  torch::NoGradGuard no_grad;
  pw2->weight.set_data(pw2->weight.index_select(0, idx).clone());
  for (torch::Tensor* t : {&bn2->weight, &bn2->bias, &bn2->running_mean, &bn2->running_var}) {
    t->set_data(t->index_select(0, idx).clone());
  }
}

LocalNNImpl::LocalNNImpl(const LocalOptions& o) {
  fc = register_module("fc", nn::Linear(o.in_channels, o.classes));
  if (o.logit_batch_norm) bn = register_module("bn", nn::BatchNorm1d(o.classes));
}

torch::Tensor LocalNNImpl::forward(const torch::Tensor& features) {
  torch::Tensor logits = fc->forward(features.mean({2, 3}));
  return bn ? bn->forward(logits) : logits;
}

RemoteNNImpl::RemoteNNImpl(const RemoteOptions& o) {
  static constexpr int kExpand[7] = {1, 6, 6, 6, 6, 6, 6};
  static constexpr int kChannels[7] = {16, 24, 32, 64, 96, 160, 320};
  nn::Sequential layers;
  int channels = make_divisible(16 * o.width);
  // Adapter: separable conv from the remote channels to the first stage's width.
  layers->push_back(conv(o.in_channels, o.in_channels, 3, 1, o.in_channels));
  layers->push_back(conv(o.in_channels, channels, 1));
  layers->push_back(nn::BatchNorm2d(channels));
  layers->push_back(nn::Functional(torch::relu6));
  for (int stage = 0; stage < 7; ++stage) {
    const int out = make_divisible(kChannels[stage] * o.width);
    for (int b = 0; b < o.blocks[static_cast<size_t>(stage)]; ++b) {
      layers->push_back(InvertedResidual(channels, out, b == 0 ? o.strides[static_cast<size_t>(stage)] : 1, kExpand[stage]));
      channels = out;
    }
  }
  const int last = o.width > 1.0 ? make_divisible(o.last_channels * o.width) : o.last_channels;
  layers->push_back(conv(channels, last, 1));
  layers->push_back(nn::BatchNorm2d(last));
  layers->push_back(nn::Functional(torch::relu6));
  body = register_module("body", layers);
  fc = register_module("fc", nn::Linear(last, o.classes));
}

torch::Tensor RemoteNNImpl::forward(const torch::Tensor& features) {
  return fc->forward(body->forward(cpu_channels_last(features)).mean({2, 3}));
}

ReferenceNNImpl::ReferenceNNImpl(const ReferenceOptions& o) {
  if (o.stride < 1 || o.stride > 4) {
    throw std::invalid_argument("the reference's first stride must be in 1..4, got " + std::to_string(o.stride));
  }
  nn::Sequential layers;
  int channels = o.in_channels;
  for (int stage = 0; stage < 3; ++stage) {
    const int out = o.base_width * (2 << stage);
    for (int i = 0; i < 2; ++i) {
      layers->push_back(conv(channels, out, 3, i > 0 ? 1 : stage > 0 ? 2 : o.stride));
      layers->push_back(nn::BatchNorm2d(out));
      layers->push_back(nn::Functional(torch::relu));
      channels = out;
    }
  }
  body = register_module("body", layers);
  fc = register_module("fc", nn::Linear(channels, o.classes));
}

torch::Tensor ReferenceNNImpl::forward(const torch::Tensor& features) {
  return fc->forward(body->forward(cpu_channels_last(features)).mean({2, 3}));
}

torch::Tensor ReferenceNNImpl::forward_folded(const torch::Tensor& features) {
  if (is_training()) throw std::logic_error("ReferenceNN::forward_folded needs eval mode (batch norm on running statistics)");
  torch::Tensor x = cpu_channels_last(features);
  for (size_t i = 0; i < body->size(); i += 3) {  // (conv, batch norm, ReLU) per layer
    const auto c = body[i]->as<nn::Conv2d>();
    const auto bn = body[i + 1]->as<nn::BatchNorm2d>();
    const torch::Tensor scale = bn->weight / torch::sqrt(bn->running_var + bn->options.eps());
    const auto options = nn::functional::Conv2dFuncOptions()
                             .bias(bn->bias - bn->running_mean * scale)
                             .stride(c->options.stride())
                             .padding(c->options.padding());
    x = torch::relu(nn::functional::conv2d(x, c->weight * scale.view({-1, 1, 1, 1}), options));
  }
  return fc->forward(x.mean({2, 3}));
}

void ReferenceNNImpl::permute_input_channels(const std::vector<int64_t>& order) {
  auto first = body[0]->as<nn::Conv2d>();
  check_permutation(order, first->weight.size(1));
  torch::NoGradGuard no_grad;
  first->weight.set_data(first->weight.index_select(1, index_tensor(order, first->weight.device())).clone());
}

FeatureQuantizerImpl::FeatureQuantizerImpl(const QuantizerOptions& o) : softness(o.softness) {
  // Evenly spaced initial levels 6 * (i + 0.5) / L, stored as logits of level / 6.
  torch::Tensor init = (torch::arange(o.levels, torch::kFloat32) + 0.5) / o.levels;
  logits_c = register_parameter("levels", torch::log(init / (1 - init)));
}

torch::Tensor FeatureQuantizerImpl::levels() const {
  return std::get<0>(torch::sort(6.0 * torch::sigmoid(logits_c)));
}

torch::Tensor FeatureQuantizerImpl::soft_assignment(const torch::Tensor& x) const {
  const torch::Tensor d = x.unsqueeze(-1) - levels();
  return torch::softmax(-softness * d * d, -1);
}

torch::Tensor FeatureQuantizerImpl::symbols(const torch::Tensor& x) const {
  return (x.unsqueeze(-1) - levels()).abs().argmin(-1);
}

namespace {

// The quantizer's forward and backward as one pass per element on the CPU (quantizer_kernel.h):
// the composite version (soft_assignment) materialises about ten [..., L] tensors per step, which
// made the quantizer cost as much as a third of the Remote NN's step.
class FusedQuantize : public torch::autograd::Function<FusedQuantize> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& levels,
                               double softness) {
    const torch::Tensor xc = x.contiguous();
    const torch::Tensor lc = levels.contiguous();
    ctx->save_for_backward({xc, lc});
    ctx->saved_data["softness"] = softness;
    torch::Tensor out = torch::empty_like(xc);
    AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "fused_quantize", [&] {
      const scalar_t* xs = xc.data_ptr<scalar_t>();
      const scalar_t* lv = lc.data_ptr<scalar_t>();
      scalar_t* o = out.data_ptr<scalar_t>();
      at::parallel_for(0, xc.numel(), 4096, [&](int64_t begin, int64_t end) {
        nearest_levels(xs + begin, end - begin, lv, lc.numel(), o + begin);
      });
    });
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x = saved[0];
    const torch::Tensor& levels = saved[1];
    const double softness = ctx->saved_data["softness"].toDouble();
    const torch::Tensor g = grads[0].contiguous();
    torch::Tensor grad_x = torch::empty_like(x);
    const int64_t n = levels.numel();
    const int64_t chunks = std::max<int64_t>(1, at::get_num_threads());
    torch::Tensor grad_l_parts = torch::zeros({chunks, n}, levels.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "fused_quantize_backward", [&] {
      const scalar_t* xs = x.data_ptr<scalar_t>();
      const scalar_t* lv = levels.data_ptr<scalar_t>();
      const scalar_t* gs = g.data_ptr<scalar_t>();
      scalar_t* gx = grad_x.data_ptr<scalar_t>();
      scalar_t* gl_parts = grad_l_parts.data_ptr<scalar_t>();
      const auto s = static_cast<scalar_t>(softness);
      const int64_t total = x.numel();
      const int64_t per_chunk = (total + chunks - 1) / chunks;
      at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
        for (int64_t chunk = cb; chunk < ce; ++chunk) {
          const int64_t begin = std::min(total, chunk * per_chunk), end = std::min(total, begin + per_chunk);
          soft_quantize_backward(xs + begin, gs + begin, end - begin, lv, n, s, gx + begin, gl_parts + chunk * n);
        }
      });
    });
    return {grad_x, grad_l_parts.sum(0), torch::Tensor()};
  }
};

// The rate term as one pass on the CPU (quantizer_kernel.h's soft_rate): the value and every
// gradient come from the same probabilities, so the composite form's [B, C, H, W, L] soft
// assignment (about 0.15 s of a quick-preset step) is never built. The loss is a scalar, so the
// gradients are kept from the forward pass and scaled by the incoming one.
class FusedRate : public torch::autograd::Function<FusedRate> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& levels,
                               const torch::Tensor& cost, double softness) {
    const torch::Tensor xc = x.contiguous(), lc = levels.contiguous(), qc = cost.contiguous();
    const int64_t batch = xc.size(0), channels = xc.size(1), n = lc.numel();
    const int64_t planes = batch * channels, plane = planes > 0 ? xc.numel() / planes : 0;
    const int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(planes, at::get_num_threads()));
    torch::Tensor grad_x = torch::empty_like(xc);
    torch::Tensor grad_l_parts = torch::zeros({chunks, n}, lc.options());
    torch::Tensor grad_q_parts = torch::zeros({chunks, channels, n}, qc.options());
    std::vector<double> sums(static_cast<size_t>(chunks), 0.0);
    AT_DISPATCH_FLOATING_TYPES(xc.scalar_type(), "fused_rate", [&] {
      const scalar_t* xs = xc.data_ptr<scalar_t>();
      const scalar_t* lv = lc.data_ptr<scalar_t>();
      const scalar_t* q = qc.data_ptr<scalar_t>();
      scalar_t* gx = grad_x.data_ptr<scalar_t>();
      scalar_t* gl = grad_l_parts.data_ptr<scalar_t>();
      scalar_t* gq = grad_q_parts.data_ptr<scalar_t>();
      const auto s = static_cast<scalar_t>(softness);
      const int64_t per_chunk = (planes + chunks - 1) / chunks;
      at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
        for (int64_t chunk = cb; chunk < ce; ++chunk) {
          const int64_t end = std::min(planes, (chunk + 1) * per_chunk);
          for (int64_t p = chunk * per_chunk; p < end; ++p) {
            const int64_t c = p % channels;
            sums[static_cast<size_t>(chunk)] += soft_rate(xs + p * plane, plane, lv, n, s, q + c * n, gx + p * plane,
                                                          gl + chunk * n, gq + (chunk * channels + c) * n);
          }
        }
      });
    });
    double total = 0;
    for (const double v : sums) total += v;
    const double per_image = 1.0 / static_cast<double>(std::max<int64_t>(batch, 1));
    ctx->save_for_backward({grad_x.mul_(per_image), grad_l_parts.sum(0).mul_(per_image), grad_q_parts.sum(0).mul_(per_image)});
    return torch::full({}, total * per_image, xc.options());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& g = grads[0];
    return {saved[0] * g, saved[1] * g, saved[2] * g, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor FeatureQuantizerImpl::forward(const torch::Tensor& x) {
  const torch::Tensor lv = levels();
  if (x.device().is_cpu()) return FusedQuantize::apply(x, lv, softness);
  // Elsewhere (CUDA) the composite form; tests check that both give the same values and gradients.
  const torch::Tensor soft = (soft_assignment(x) * lv).sum(-1);
  const torch::Tensor hard = lv.index_select(0, symbols(x).flatten()).view(x.sizes());
  return soft + (hard - soft).detach();
}

torch::Tensor FeatureQuantizerImpl::rate_bits(const torch::Tensor& x, const torch::Tensor& cost) const {
  const torch::Tensor lv = levels();
  if (x.device().is_cpu()) return FusedRate::apply(x, lv, cost, softness);
  const torch::Tensor q = cost.view({1, cost.size(0), 1, 1, cost.size(1)});
  return (soft_assignment(x) * q).sum() / x.size(0);
}

AlphaImpl::AlphaImpl(double t) : temperature(t) { w = register_parameter("w", torch::zeros({})); }

torch::Tensor AlphaImpl::forward() const { return torch::sigmoid(w / temperature); }

AgileNetImpl::AgileNetImpl(const AgileOptions& o) : options_(o) {
  if (o.k < 1 || o.k >= o.extractor.out_channels) {
    throw std::invalid_argument("k must be in 1.." + std::to_string(o.extractor.out_channels - 1) + ", got " +
                                std::to_string(o.k));
  }
  extractor = register_module("extractor", FeatureExtractor(o.extractor));
  local = register_module("local", LocalNN(LocalOptions{o.k, o.classes, o.local_logit_batch_norm}));
  quantizer = register_module("quantizer", FeatureQuantizer(o.quantizer));
  RemoteOptions remote_options = o.remote;
  remote_options.in_channels = o.extractor.out_channels - o.k;
  remote_options.classes = o.classes;
  remote = register_module("remote", RemoteNN(remote_options));
  alpha = register_module("alpha", Alpha(o.alpha_temperature));
}

AgileOutput AgileNetImpl::forward_features(const torch::Tensor& features, double alpha_override) {
  AgileOutput out;
  out.features = features;
  // One split node: its backward writes the two halves' gradients into one tensor (two narrow()s
  // would each zero-fill a full-size gradient and then add them).
  const std::vector<torch::Tensor> parts = features.split_with_sizes({options_.k, features.size(1) - options_.k}, 1);
  out.local = local->forward(parts[0]);
  out.remote = remote->forward(quantizer->forward(parts[1]));
  out.alpha = alpha_override >= 0 ? torch::full({}, alpha_override, out.local.options()) : alpha->forward();
  out.final = out.alpha * out.local + (1 - out.alpha) * out.remote;
  return out;
}

AgileOutput AgileNetImpl::forward(const torch::Tensor& images, double alpha_override) {
  return forward_features(extractor->forward(images), alpha_override);
}

PlainNetImpl::PlainNetImpl(const ExtractorOptions& e, const RemoteOptions& r) {
  extractor = register_module("extractor", FeatureExtractor(e));
  RemoteOptions remote_options = r;
  remote_options.in_channels = e.out_channels;
  remote = register_module("remote", RemoteNN(remote_options));
}

torch::Tensor PlainNetImpl::forward(const torch::Tensor& images) { return remote->forward(extractor->forward(images)); }

ReferenceNetImpl::ReferenceNetImpl(const ExtractorOptions& s, const ReferenceOptions& b) {
  stem = register_module("stem", FeatureExtractor(s));
  ReferenceOptions body_options = b;
  body_options.in_channels = s.out_channels;
  body = register_module("body", ReferenceNN(body_options));
}

torch::Tensor ReferenceNetImpl::forward(const torch::Tensor& images) { return body->forward(stem->forward(images)); }

namespace {

// Calls f(bn) for every batch norm (1-d and 2-d) in `module` and its children.
template <class F>
void for_each_batch_norm(torch::nn::Module& module, F&& f) {
  for (const auto& child : module.modules(/*include_self=*/true)) {
    if (auto* bn2 = dynamic_cast<torch::nn::BatchNorm2dImpl*>(child.get())) f(*bn2);
    if (auto* bn1 = dynamic_cast<torch::nn::BatchNorm1dImpl*>(child.get())) f(*bn1);
  }
}

}  // namespace

void set_batch_norm_momentum(torch::nn::Module& module, double momentum) {
  for_each_batch_norm(module, [&](auto& bn) { bn.options.momentum(momentum); });
}

void recalibrate_batch_norm(const std::vector<torch::nn::Module*>& modules, const std::function<void()>& feed) {
  std::vector<std::decay_t<decltype(nn::BatchNormOptions(1).momentum())>> saved;
  for (torch::nn::Module* m : modules) {
    for_each_batch_norm(*m, [&](auto& bn) {
      saved.push_back(bn.options.momentum());
      bn.options.momentum(std::decay_t<decltype(bn.options.momentum())>());  // none: a plain average since the reset
      bn.reset_running_stats();
    });
    m->train();
  }
  {
    torch::NoGradGuard no_grad;
    feed();
  }
  size_t i = 0;
  for (torch::nn::Module* m : modules) {
    for_each_batch_norm(*m, [&](auto& bn) { bn.options.momentum(saved[i++]); });
    m->eval();
  }
}

}  // namespace agilenn::train
