#include "export/simulate.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "export/quantize.h"

namespace agilenn::exporter {
namespace {

using modelfile::LayerOp;
using modelfile::LayerSpec;

int32_t requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t zero_point, int32_t lo, int32_t hi) {
  return std::clamp(zero_point + multiply_by_quantized_multiplier(acc, multiplier, shift), lo, hi);
}

void check(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("model spec: " + what);
}

size_t weight_count(const LayerSpec& l) {
  switch (l.op) {
    case LayerOp::depthwise: return static_cast<size_t>(l.kernel * l.kernel * l.out_channels);
    case LayerOp::pointwise: return static_cast<size_t>(l.out_channels * l.in_channels);
    case LayerOp::conv: return static_cast<size_t>(l.out_channels * l.kernel * l.kernel * l.in_channels);
  }
  return 0;
}

// One layer over a whole HWC tensor. Window taps outside the input are skipped, which is the
// same as padding with the input zero point.
std::vector<int8_t> run_layer(const LayerSpec& l, const std::vector<int8_t>& in, int32_t in_zp) {
  const int kernel = l.op == LayerOp::pointwise ? 1 : l.kernel;
  std::vector<int8_t> out(static_cast<size_t>(l.out_height * l.out_width * l.out_channels));
  for (int oy = 0; oy < l.out_height; ++oy) {
    for (int ox = 0; ox < l.out_width; ++ox) {
      for (int oc = 0; oc < l.out_channels; ++oc) {
        int32_t acc = l.bias[static_cast<size_t>(oc)];
        for (int ky = 0; ky < kernel; ++ky) {
          const int iy = oy * l.stride - l.padding + ky;
          if (iy < 0 || iy >= l.in_height) continue;
          for (int kx = 0; kx < kernel; ++kx) {
            const int ix = ox * l.stride - l.padding + kx;
            if (ix < 0 || ix >= l.in_width) continue;
            const int8_t* px = in.data() + (static_cast<size_t>(iy) * static_cast<size_t>(l.in_width) + static_cast<size_t>(ix)) *
                                               static_cast<size_t>(l.in_channels);
            if (l.op == LayerOp::depthwise) {
              const int8_t w = l.weights[static_cast<size_t>((ky * kernel + kx) * l.out_channels + oc)];
              acc += w * (px[oc] - in_zp);
            } else {
              for (int ic = 0; ic < l.in_channels; ++ic) {
                const int8_t w = l.weights[static_cast<size_t>(((oc * kernel + ky) * kernel + kx) * l.in_channels + ic)];
                acc += w * (px[ic] - in_zp);
              }
            }
          }
        }
        out[(static_cast<size_t>(oy) * static_cast<size_t>(l.out_width) + static_cast<size_t>(ox)) *
                static_cast<size_t>(l.out_channels) +
            static_cast<size_t>(oc)] =
            static_cast<int8_t>(requantize(acc, l.multiplier[static_cast<size_t>(oc)], l.shift[static_cast<size_t>(oc)],
                                           l.out_zero_point, l.act_min, l.act_max));
      }
    }
  }
  return out;
}

void check_spec(const modelfile::ModelSpec& s) {
  check(!s.layers.empty(), "no layers");
  int h = s.input.height, w = s.input.width, c = s.input.channels;
  for (size_t i = 0; i < s.layers.size(); ++i) {
    const LayerSpec& l = s.layers[i];
    const std::string name = "layer " + std::to_string(i);
    check(l.in_height == h && l.in_width == w && l.in_channels == c, name + " input shape does not match its input");
    check(l.op != LayerOp::depthwise || l.in_channels == l.out_channels, name + " depthwise with in != out channels");
    check(l.op != LayerOp::pointwise || (l.kernel == 1 && l.stride == 1 && l.padding == 0), name + " pointwise with K, S, P != 1, 1, 0");
    check(l.kernel >= 1 && l.stride >= 1 && l.padding >= 0 && l.padding < l.kernel, name + " kernel/stride/padding");
    check(l.out_height == (h + 2 * l.padding - l.kernel) / l.stride + 1 && l.out_width == (w + 2 * l.padding - l.kernel) / l.stride + 1,
          name + " output size");
    check(l.weights.size() == weight_count(l), name + " weight count");
    const size_t oc = static_cast<size_t>(l.out_channels);
    check(l.bias.size() == oc && l.multiplier.size() == oc && l.shift.size() == oc, name + " per-channel array length");
    h = l.out_height;
    w = l.out_width;
    c = l.out_channels;
  }
  const auto& local = s.local;
  check(s.split.k >= 1 && s.split.k < c, "split k out of 1..C-1");
  check(local.in_channels == s.split.k, "local in_channels != k");
  const size_t classes = static_cast<size_t>(local.classes);
  check(local.weights.size() == classes * static_cast<size_t>(local.in_channels) && local.bias.size() == classes &&
            local.multiplier.size() == classes && local.shift.size() == classes,
        "local array lengths");
  check(s.split.levels >= 2 && s.split.thresholds.size() == static_cast<size_t>(s.split.levels - 1), "split thresholds");
}

}  // namespace

uint8_t quantize_symbol(const std::vector<int8_t>& thresholds, int8_t q) {
  uint8_t s = 0;
  for (int8_t t : thresholds) s = static_cast<uint8_t>(s + (t <= q ? 1 : 0));
  return s;
}

Simulation simulate(const modelfile::ModelSpec& spec, const uint8_t* image) {
  check_spec(spec);
  const size_t in_size = static_cast<size_t>(spec.input.height * spec.input.width * spec.input.channels);
  std::vector<int8_t> x(in_size);
  for (size_t i = 0; i < in_size; ++i) x[i] = static_cast<int8_t>(image[i] - 128);
  Simulation sim;
  int32_t zp = spec.input.zero_point;
  for (const LayerSpec& l : spec.layers) {
    x = run_layer(l, x, zp);
    zp = l.out_zero_point;
    sim.layers.push_back(x);
  }
  const LayerSpec& last = spec.layers.back();
  const size_t plane = static_cast<size_t>(last.out_height * last.out_width), channels = static_cast<size_t>(last.out_channels);
  const size_t k = static_cast<size_t>(spec.split.k);
  const auto& local = spec.local;
  for (size_t c = 0; c < k; ++c) {
    int32_t acc = 0;
    for (size_t p = 0; p < plane; ++p) acc += x[p * channels + c] - zp;
    sim.pooled.push_back(static_cast<int8_t>(requantize(acc, local.pool_multiplier, local.pool_shift, local.pool_zero_point, -128, 127)));
  }
  for (size_t j = 0; j < static_cast<size_t>(local.classes); ++j) {
    int32_t acc = local.bias[j];
    for (size_t i = 0; i < k; ++i) acc += local.weights[j * k + i] * (sim.pooled[i] - local.pool_zero_point);
    sim.logits.push_back(static_cast<int8_t>(requantize(acc, local.multiplier[j], local.shift[j], local.logits_zero_point, -128, 127)));
  }
  sim.symbols.resize((channels - k) * plane);
  for (size_t c = k; c < channels; ++c) {
    for (size_t p = 0; p < plane; ++p) sim.symbols[(c - k) * plane + p] = quantize_symbol(spec.split.thresholds, x[p * channels + c]);
  }
  return sim;
}

}  // namespace agilenn::exporter
