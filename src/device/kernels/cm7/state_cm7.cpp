// prepare() of the Cortex-M7 kernels: fast requantisation parameters, folded biases, packed
// pointwise weights, depthwise weight sums, the remote channels' thresholds in the accumulator
// domain and the int8 symbol table (cm7_kernels.h).
#include <string.h>

#include "device/kernels/cm7/cm7_kernels.h"
#include "device/kernels/requant.h"

namespace cm7 = agilenn::device::cm7;

namespace {

size_t pad4(size_t n) { return (n + 3) & ~size_t{3}; }

size_t weights_per_channel(const agn_layer& l) {
  return l.op == AGN_OP_DEPTHWISE ? size_t{l.kernel} * l.kernel
                                  : size_t{l.kernel} * l.kernel * l.in_channels;  // pointwise: K = 1
}
int8_t weight(const agn_layer& l, unsigned c, size_t i) {  // i-th weight of output channel c
  return l.op == AGN_OP_DEPTHWISE ? l.weights[i * l.out_channels + c] : l.weights[c * weights_per_channel(l) + i];
}

// Byte sizes of one layer's arrays.
size_t channels_bytes(const agn_layer& l) { return sizeof(cm7::Channel) * l.out_channels; }
size_t pairs_bytes(const agn_layer& l) {
  if (l.op == AGN_OP_DEPTHWISE && l.kernel == 3) return sizeof(cm7::Depthwise3) * l.out_channels;
  return l.op == AGN_OP_POINTWISE ? 4 * size_t{l.out_channels} * ((l.in_channels + 1) / 2) : 0;
}
size_t sums_bytes(const agn_layer& l) {
  return l.op == AGN_OP_DEPTHWISE ? 4 * size_t{l.kernel} * l.out_channels : 0;
}
// At least 3 (8 entries), the fused kernel's comparison tree.
unsigned threshold_steps(const agn_model& m) {
  unsigned steps = 3;
  while ((1u << steps) < m.levels) ++steps;
  return steps;
}

// The input tensor's clamp of layer i.
void input_range(const agn_model& m, unsigned i, int32_t* lo, int32_t* hi) {
  *lo = i == 0 ? -128 : m.layers[i - 1].act_min;
  *hi = i == 0 ? 127 : m.layers[i - 1].act_max;
}

// Fills one layer's parameters; returns the bound of |acc| over its channels' possible inputs.
int64_t prepare_layer(const agn_model& m, unsigned i, cm7::State* s, uint8_t* base) {
  const agn_layer& l = m.layers[i];
  int32_t lo, hi;
  input_range(m, i, &lo, &hi);
  const int64_t zp = l.in_zero_point;
  const int64_t max_in = (hi - zp) > (zp - lo) ? hi - zp : zp - lo;
  auto* channels = reinterpret_cast<cm7::Channel*>(base + s->layer[i].channels);
  uint32_t fast = 1;
  int64_t bound = 0;
  for (unsigned c = 0; c < l.out_channels; ++c) {
    int64_t wsum = 0, wabs = 0;
    for (size_t j = 0; j < weights_per_channel(l); ++j) {
      wsum += weight(l, c, j);
      wabs += weight(l, c, j) < 0 ? -weight(l, c, j) : weight(l, c, j);
    }
    const int64_t bias = agn_i32_at(l.bias, c);
    const int32_t shift = agn_i32_at(l.shift, c);
    cm7::Channel& ch = channels[c];
    ch.multiplier = agn_i32_at(l.multiplier, c);
    ch.pre_shift = (shift > 0 ? shift : 0) + 1;
    ch.post_shift = shift < 0 ? -shift : 0;
    const int64_t folded = bias - zp * wsum;
    const int64_t acc_bound = (bias < 0 ? -bias : bias) + wabs * max_in;
    // Partial sums (folded bias plus products of raw inputs) must fit too, scaled.
    const int64_t partial_bound = (folded < 0 ? -folded : folded) + wabs * 128;
    if (ch.pre_shift > 8 || ch.post_shift < 1 || ch.post_shift > 22 || (acc_bound << ch.pre_shift) >= (int64_t{1} << 31) ||
        (partial_bound << ch.pre_shift) >= (int64_t{1} << 31)) {
      fast = 0;
    }
    if (!fast) {  // keeps the unused fields' arithmetic in range
      ch.pre_shift = 0;
      ch.post_shift = 1;
    }
    ch.offset = static_cast<int32_t>((int64_t{1} << (ch.post_shift - 1)) + l.out_zero_point * (int64_t{1} << ch.post_shift));
    ch.bias = static_cast<int32_t>(fast ? folded * (int64_t{1} << ch.pre_shift) : 0);
    if (acc_bound > bound) bound = acc_bound;
  }
  s->layer[i].fast = fast;
  s->layer[i].full_range = l.act_min == -128 && l.act_max == 127;
  if (!fast) return bound;
  if (l.op == AGN_OP_POINTWISE) {
    auto* pairs = reinterpret_cast<uint32_t*>(base + s->layer[i].weights);
    const unsigned n = (l.in_channels + 1) / 2;
    for (unsigned c = 0; c < l.out_channels; ++c) {
      const int8_t* w = l.weights + size_t{c} * l.in_channels;
      const int32_t p = channels[c].pre_shift;
      for (unsigned j = 0; j < n; ++j) {
        pairs[c * n + j] = cm7::pack16(w[2 * j] * (1 << p), 2 * j + 1 < l.in_channels ? w[2 * j + 1] * (1 << p) : 0);
      }
    }
  }
  if (l.op == AGN_OP_DEPTHWISE) {
    auto* sums = reinterpret_cast<int32_t*>(base + s->layer[i].weight_sums);
    for (unsigned ky = 0; ky < l.kernel; ++ky) {
      for (unsigned c = 0; c < l.out_channels; ++c) {
        int32_t sum = 0;
        for (unsigned kx = 0; kx < l.kernel; ++kx) sum += l.weights[(ky * l.kernel + kx) * l.out_channels + c];
        sums[ky * l.out_channels + c] = sum * (1 << channels[c].pre_shift);
      }
    }
    if (l.kernel == 3) {
      auto* d3 = reinterpret_cast<cm7::Depthwise3*>(base + s->layer[i].weights);
      for (unsigned c = 0; c < l.out_channels; ++c) {
        const int32_t scale = 1 << channels[c].pre_shift;
        auto w = [&](unsigned ky, unsigned kx) { return l.weights[(ky * 3 + kx) * l.out_channels + c] * scale; };
        for (unsigned kx = 0; kx < 3; ++kx) d3[c].rows01[kx] = cm7::pack16(w(0, kx), w(1, kx));
        d3[c].row2_10 = cm7::pack16(w(2, 1), w(2, 0));
        d3[c].row2_2 = w(2, 2);
      }
    }
  }
  return bound;
}

// The smallest acc in [-bound, bound] whose requantised value is >= t (bound + 1 if none):
// requantisation is nondecreasing in acc.
int32_t threshold_in_acc(const agn_layer& l, unsigned c, int8_t t, int32_t bound) {
  const int32_t m = agn_i32_at(l.multiplier, c), sh = agn_i32_at(l.shift, c);
  auto q = [&](int32_t acc) { return agn_requantize(acc, m, sh, l.out_zero_point, l.act_min, l.act_max); };
  if (q(bound) < t) return bound + 1;
  int32_t lo = -bound, hi = bound;  // q(hi) >= t
  if (q(lo) >= t) return INT32_MIN;
  while (hi - lo > 1) {  // q(lo) < t <= q(hi)
    const int32_t mid = lo + (hi - lo) / 2;
    (q(mid) >= t ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace

extern "C" size_t agn_cm7_state_size(const agn_model* m) {
  size_t size = pad4(sizeof(cm7::State));
  for (unsigned i = 0; i < m->layer_count; ++i) {
    size += channels_bytes(m->layers[i]) + pairs_bytes(m->layers[i]) + sums_bytes(m->layers[i]);
  }
  size += 4 * static_cast<size_t>(m->feature_channels - m->k) * (size_t{1} << threshold_steps(*m));
  return size;
}

extern "C" void agn_cm7_prepare(const agn_model* m, void* state) {
  auto* s = static_cast<cm7::State*>(state);
  auto* base = static_cast<uint8_t*>(state);
  memset(s, 0, sizeof *s);
  s->layers = m->layers;
  s->layer_count = m->layer_count;
  uint32_t off = static_cast<uint32_t>(pad4(sizeof(cm7::State)));
  int64_t last_bound = 0;
  for (unsigned i = 0; i < m->layer_count; ++i) {
    const agn_layer& l = m->layers[i];
    s->layer[i].channels = off;
    off += static_cast<uint32_t>(channels_bytes(l));
    s->layer[i].weights = off;
    off += static_cast<uint32_t>(pairs_bytes(l));
    s->layer[i].weight_sums = off;
    off += static_cast<uint32_t>(sums_bytes(l));
    last_bound = prepare_layer(*m, i, s, base);
  }
  // Symbols of int8 values (the unfused split).
  for (int v = -128; v < 128; ++v) {
    unsigned symbol = 0;
    for (unsigned t = 0; t + 1 < m->levels; ++t) symbol += m->thresholds[t] <= v ? 1u : 0u;
    s->symbol_of[v + 128] = static_cast<uint8_t>(symbol);
  }
  // Thresholds of the remote channels in the domain of the scaled accumulator without its bias
  // (2^p * sum of w * q: acc >= T exactly when that sum >= 2^p * T - scaled folded bias), padded
  // with "never" to a power of two so that the binary search has a fixed number of steps.
  const agn_layer& last = m->layers[m->layer_count - 1];
  s->threshold_steps = threshold_steps(*m);
  s->thresholds = off;
  s->fused = last.op == AGN_OP_POINTWISE && s->layer[m->layer_count - 1].fast;
  if (!s->fused) return;
  const unsigned width = 1u << s->threshold_steps;
  auto* thresholds = reinterpret_cast<int32_t*>(base + off);
  const auto* channels = reinterpret_cast<const cm7::Channel*>(base + s->layer[m->layer_count - 1].channels);
  for (unsigned c = m->k; c < m->feature_channels; ++c) {
    int32_t* t = thresholds + size_t{c - m->k} * width;
    for (unsigned j = 0; j < width; ++j) {
      int64_t v = INT32_MAX;
      if (j + 1 < m->levels) {
        const int32_t acc = threshold_in_acc(last, c, m->thresholds[j], static_cast<int32_t>(last_bound));
        v = acc == INT32_MIN ? INT32_MIN : int64_t{acc} * (int64_t{1} << channels[c].pre_shift) - channels[c].bias;
      }
      t[j] = static_cast<int32_t>(v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);
    }
  }
}
