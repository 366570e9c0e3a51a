#include "modelfile/random_model.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "codec/rans.h"

namespace agilenn::modelfile {
namespace {

int uniform_int(std::mt19937& rng, int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }
double uniform(std::mt19937& rng, double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

// Typical |accumulator| of `terms` products of uniform int8 weights and activations.
double accumulator_scale(size_t terms) { return std::sqrt(static_cast<double>(terms)) * 73.0 * 50.0; }

}  // namespace

LayerSpec random_layer(LayerOp op, int kernel, int stride, int padding, int in_height, int in_width,
                       int in_channels, int out_channels, bool relu6, std::mt19937& rng) {
  LayerSpec l;
  l.op = op;
  l.kernel = kernel;
  l.stride = stride;
  l.padding = padding;
  l.in_height = in_height;
  l.in_width = in_width;
  l.in_channels = in_channels;
  l.out_channels = out_channels;
  l.out_height = (in_height + 2 * padding - kernel) / stride + 1;
  l.out_width = (in_width + 2 * padding - kernel) / stride + 1;
  size_t terms = static_cast<size_t>(kernel) * kernel;
  if (op == LayerOp::pointwise) terms = static_cast<size_t>(in_channels);
  if (op == LayerOp::conv) terms *= static_cast<size_t>(in_channels);
  const size_t count = terms * static_cast<size_t>(out_channels);  // depthwise: K*K per channel
  for (size_t i = 0; i < count; ++i) l.weights.push_back(static_cast<int8_t>(uniform_int(rng, -127, 127)));
  const double acc = accumulator_scale(terms);
  for (int c = 0; c < out_channels; ++c) {
    l.bias.push_back(static_cast<int32_t>(uniform(rng, -acc / 4, acc / 4)));
    const QuantizedMultiplier q = quantize_multiplier(40.0 / acc * uniform(rng, 0.5, 2.0));
    l.multiplier.push_back(q.multiplier);
    l.shift.push_back(q.shift);
  }
  if (relu6) {
    l.out_zero_point = uniform_int(rng, -128, -100);
    l.act_min = l.out_zero_point;
    l.act_max = std::min(127, l.out_zero_point + uniform_int(rng, 120, 255));
    l.out_scale = 6.0f / static_cast<float>(l.act_max - l.act_min);
  } else {
    l.out_zero_point = uniform_int(rng, -10, 10);
    l.out_scale = static_cast<float>(uniform(rng, 0.01, 0.1));
  }
  return l;
}

void random_head(ModelSpec& spec, int k, int levels, int classes, bool rans, std::mt19937& rng) {
  const LayerSpec& last = spec.layers.back();
  LocalSpec& local = spec.local;
  local = LocalSpec{};
  local.in_channels = k;
  local.classes = classes;
  const QuantizedMultiplier pool =
      quantize_multiplier(uniform(rng, 0.5, 2.0) / (static_cast<double>(last.out_height) * last.out_width));
  local.pool_multiplier = pool.multiplier;
  local.pool_shift = pool.shift;
  local.pool_zero_point = uniform_int(rng, -20, 20);
  local.pool_scale = last.out_scale;
  local.logits_zero_point = uniform_int(rng, -10, 10);
  local.logits_scale = 0.1f;
  for (int i = 0; i < classes * k; ++i) local.weights.push_back(static_cast<int8_t>(uniform_int(rng, -127, 127)));
  const double acc = accumulator_scale(static_cast<size_t>(k));
  for (int j = 0; j < classes; ++j) {
    local.bias.push_back(static_cast<int32_t>(uniform(rng, -acc / 4, acc / 4)));
    const QuantizedMultiplier q = quantize_multiplier(40.0 / acc * uniform(rng, 0.5, 2.0));
    local.multiplier.push_back(q.multiplier);
    local.shift.push_back(q.shift);
  }

  SplitSpec& split = spec.split;
  split = SplitSpec{};
  split.k = k;
  split.levels = levels;
  split.alpha = static_cast<float>(uniform(rng, 0.2, 0.8));
  for (int i = 0; i + 1 < levels; ++i) {
    split.thresholds.push_back(static_cast<int8_t>(uniform_int(rng, last.act_min, last.act_max)));
  }
  std::sort(split.thresholds.begin(), split.thresholds.end());
  for (int i = 0; i < levels; ++i) split.level_values.push_back(6.0f * (i + 0.5f) / levels);

  spec.rans_model.clear();
  if (rans) {
    // Tables learned from random sparse maps (each symbol nonzero with a random probability).
    auto counts = std::make_unique<agn_rans_counts>();
    const unsigned remote = static_cast<unsigned>(last.out_channels - k);
    if (agn_rans_counts_init(counts.get(), static_cast<unsigned>(levels), remote, static_cast<unsigned>(last.out_height),
                             static_cast<unsigned>(last.out_width)) != AGN_OK) {
      throw std::invalid_argument("random model: no rANS model for " + std::to_string(levels) + " levels and " +
                                  std::to_string(remote) + " channels");
    }
    std::vector<uint8_t> map(static_cast<size_t>(remote) * last.out_height * last.out_width);
    for (int image = 0; image < 4; ++image) {
      const int per_mille = uniform_int(rng, 0, 300);
      for (uint8_t& s : map) {
        s = uniform_int(rng, 0, 999) < per_mille ? static_cast<uint8_t>(uniform_int(rng, 1, levels - 1)) : 0;
      }
      agn_rans_counts_add(counts.get(), map.data(), map.size());
    }
    spec.rans_model.resize(agn_rans_model_max_size(static_cast<unsigned>(levels), remote));
    size_t written = 0;
    agn_rans_model_build(counts.get(), 16, spec.rans_model.data(), spec.rans_model.size(), &written);
    spec.rans_model.resize(written);
  }
}

ModelSpec random_model(const RandomModelOptions& o, uint32_t seed) {
  std::mt19937 rng(seed);
  ModelSpec spec;
  spec.input = {o.height, o.width, o.in_channels, 1.0f / 64, 0};
  LayerSpec dw1 = random_layer(LayerOp::depthwise, 3, o.stride, 1, o.height, o.width, o.in_channels,
                               o.in_channels, false, rng);
  LayerSpec pw1 = random_layer(LayerOp::pointwise, 1, 1, 0, dw1.out_height, dw1.out_width, o.in_channels,
                               o.mid_channels, true, rng);
  LayerSpec dw2 = random_layer(LayerOp::depthwise, 3, 1, 1, pw1.out_height, pw1.out_width, o.mid_channels,
                               o.mid_channels, false, rng);
  LayerSpec pw2 = random_layer(LayerOp::pointwise, 1, 1, 0, dw2.out_height, dw2.out_width, o.mid_channels,
                               o.out_channels, true, rng);
  if (o.export_like) {
    for (LayerSpec* l : {&pw1, &pw2}) {
      l->out_zero_point = -128;
      l->act_min = -128;
      l->act_max = 127;
    }
    if (o.out_channels - o.k >= 3) {
      pw2.bias[o.k] = -(1 << 20);
      pw2.bias[o.k + 1] = 1 << 20;
      pw2.bias[o.out_channels - 1] = -(1 << 20);
    }
  }
  spec.layers = {dw1, pw1, dw2, pw2};
  random_head(spec, o.k, o.levels, o.classes, o.rans, rng);
  if (o.export_like) {  // where the requantised values are (about -200 .. -50)
    for (size_t t = 0; t < spec.split.thresholds.size(); ++t) {
      spec.split.thresholds[t] = static_cast<int8_t>(-125 + 10 * static_cast<int>(t));
    }
  }
  spec.metadata = "{\"source\":\"random_model\",\"seed\":" + std::to_string(seed) + "}";
  return spec;
}

}  // namespace agilenn::modelfile
