// prepare() of the Cortex-M7 kernels: fast requantisation parameters, folded and scaled biases,
// packed and scaled weights, depthwise weight sums, the symbol tables and which remote channels
// are constant (cm7_kernels.h).
#include <string.h>

#include "device/kernels/cm7/cm7_kernels.h"

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
// The input tensor's clamp of layer i.
void input_range(const agn_model& m, unsigned i, int32_t* lo, int32_t* hi) {
  *lo = i == 0 ? -128 : m.layers[i - 1].act_min;
  *hi = i == 0 ? 127 : m.layers[i - 1].act_max;
}

// Fills one layer's parameters.
void prepare_layer(const agn_model& m, unsigned i, cm7::State* s, uint8_t* base) {
  const agn_layer& l = m.layers[i];
  int32_t lo, hi;
  input_range(m, i, &lo, &hi);
  const int64_t zp = l.in_zero_point;
  const int64_t max_in = (hi - zp) > (zp - lo) ? hi - zp : zp - lo;
  auto* channels = reinterpret_cast<cm7::Channel*>(base + s->layer[i].channels);
  uint32_t fast = 1;
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
  }
  s->layer[i].fast = fast;
  s->layer[i].full_range = l.act_min == -128 && l.act_max == 127;
  s->layer[i].sign_mask = l.act_min >= l.out_zero_point ? 0 : -1;
  if (!fast) return;
  if (l.op == AGN_OP_POINTWISE) {
    auto* pairs = reinterpret_cast<uint32_t*>(base + s->layer[i].weights);
    const unsigned n = (l.in_channels + 1) / 2;
    for (unsigned c = 0; c < l.out_channels; ++c) {
      const int8_t* w = l.weights + size_t{c} * l.in_channels;
      const int32_t p = channels[c].pre_shift;
      for (unsigned j = 0; j < n; ++j) {
        // An odd count's last weight in the low half (pack_pixel).
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
        d3[c].row2_01 = cm7::pack16(w(2, 0), w(2, 1));
        d3[c].row2_12 = cm7::pack16(w(2, 1), w(2, 2));
        d3[c].bias = channels[c].bias;
        cm7::set_padding_taps(d3[c], l.in_zero_point);
      }
    }
  }
}

// Symbol of the last layer's output value v (clamped like the last layer): the number of
// thresholds at or below it, so nondecreasing in v.
uint8_t symbol_of_value(const agn_model& m, int32_t v) {
  const agn_layer& last = m.layers[m.layer_count - 1];
  const int clamped = v < last.act_min ? last.act_min : v > last.act_max ? last.act_max : v;
  unsigned symbol = 0;
  for (unsigned t = 0; t + 1 < m.levels; ++t) symbol += m.thresholds[t] <= clamped ? 1u : 0u;
  return static_cast<uint8_t>(symbol);
}

// The fused kernel's remote channels of a pointwise last layer (cm7::State), from each one's
// accumulator bounds over the input clamp (the bias plus the smaller and the larger product per
// weight): constant[j] = the symbol of remote channel j (numbered from 0) where its lowest and
// highest value have the same symbol (requantisation and the symbol are monotone, so every value
// between has it too); and the values requantize(acc, c, 0) the other (live) channels can
// produce, [*lo, *lo + *count), for the wide table. Leaves constant[] alone for live channels and
// wherever it returns early (count 0: other layers, layers off the fast path, ranges wider than
// kMaxWideSymbols); constant = null: only the range.
void remote_channels(const agn_model& m, uint8_t* constant, int32_t* lo, uint32_t* count) {
  *lo = 0;
  *count = 0;
  const unsigned last = m.layer_count - 1;
  const agn_layer& l = m.layers[last];
  if (l.op != AGN_OP_POINTWISE) return;
  int32_t in_lo, in_hi;
  input_range(m, last, &in_lo, &in_hi);
  int32_t q_lo = INT32_MAX, q_hi = INT32_MIN;
  for (unsigned c = m.k; c < l.out_channels; ++c) {
    const int32_t shift = agn_i32_at(l.shift, c);
    const cm7::Channel ch = {0, agn_i32_at(l.multiplier, c), (shift > 0 ? shift : 0) + 1, -shift,
                             (1 << (-shift - 1)) + l.out_zero_point * (1 << -shift)};
    if (ch.pre_shift > 8 || ch.post_shift < 1 || ch.post_shift > 22) return;
    int64_t acc[2] = {agn_i32_at(l.bias, c), agn_i32_at(l.bias, c)};  // lowest, highest
    for (unsigned j = 0; j < l.in_channels; ++j) {
      const int64_t w = l.weights[size_t{c} * l.in_channels + j];
      const int64_t a = w * (in_lo - l.in_zero_point), b = w * (in_hi - l.in_zero_point);
      acc[0] += a < b ? a : b;
      acc[1] += a < b ? b : a;
    }
    for (int64_t& v : acc) {
      v *= int64_t{1} << ch.pre_shift;
      if (v <= INT32_MIN || v > INT32_MAX) return;  // |acc| * 2^p < 2^31 (cm7_kernels.h)
    }
    const int32_t a = static_cast<int32_t>(acc[0]), b = static_cast<int32_t>(acc[1]);
    const uint8_t symbol = symbol_of_value(m, cm7::ssat8(cm7::requantize(a, ch)));
    if (symbol == symbol_of_value(m, cm7::ssat8(cm7::requantize(b, ch)))) {
      if (constant != nullptr) constant[c - m.k] = symbol;
      continue;
    }
    const int32_t qa = cm7::requantize(a, ch, 0), qb = cm7::requantize(b, ch, 0);
    q_lo = qa < q_lo ? qa : q_lo;
    q_hi = qb > q_hi ? qb : q_hi;
  }
  if (q_hi < q_lo || q_hi - q_lo >= cm7::kMaxWideSymbols) return;
  *lo = q_lo;
  *count = static_cast<uint32_t>(q_hi - q_lo + 1);
}

// Words of a packed row of pointwise layer l's input (cm7_kernels.h), 0 where the kernels take
// no packed rows of that size.
size_t packed_row_words(const agn_layer& l) {
  const size_t words = size_t{l.in_width} * ((l.in_channels + 1u) / 2u);
  return l.op == AGN_OP_POINTWISE && words <= cm7::kMaxPackedWords ? words : 0;
}

// Whether depthwise layer i writes its rows packed for pointwise layer i + 1 (Layer::packed_out):
// the 3x3 row path's shape with its assembly's conditions (3 or 4 channels, the whole int8 range,
// an even width of at least 4), both layers fast, and room for the packed row.
bool packs(const agn_model& m, const cm7::State& s, unsigned i) {
  const agn_layer& l = m.layers[i];
  const agn_layer& next = m.layers[i + 1];
  return l.op == AGN_OP_DEPTHWISE && l.kernel == 3 && l.stride == 1 && l.padding == 1 && l.out_width == l.in_width &&
         l.in_width >= 4 && l.in_width <= cm7::kMaxRowWidth && (l.in_width & 1) == 0 &&
         (l.out_channels == 3 || l.out_channels == 4) && s.layer[i].fast && s.layer[i].full_range &&
         packed_row_words(next) > 0 && s.layer[i + 1].fast;
}

}  // namespace

extern "C" size_t agn_cm7_ring_row_bytes(const agn_layer* l) {
  const size_t hwc = size_t{l->in_width} * l->in_channels, packed = 4 * packed_row_words(*l);
  return packed > hwc ? packed : hwc;
}

extern "C" size_t agn_cm7_state_size(const agn_model* m) {
  size_t size = pad4(sizeof(cm7::State));
  for (unsigned i = 0; i < m->layer_count; ++i) {
    size += channels_bytes(m->layers[i]) + pairs_bytes(m->layers[i]) + sums_bytes(m->layers[i]);
  }
  const size_t remote = m->layers[m->layer_count - 1].out_channels - m->k;
  int32_t lo;
  uint32_t count;
  remote_channels(*m, nullptr, &lo, &count);
  return size + pad4(2 * remote) + pad4(remote) + pad4(count);
}

extern "C" void agn_cm7_prepare(const agn_model* m, void* state) {
  auto* s = static_cast<cm7::State*>(state);
  auto* base = static_cast<uint8_t*>(state);
  memset(s, 0, sizeof *s);
  s->layers = m->layers;
  s->layer_count = m->layer_count;
  uint32_t off = static_cast<uint32_t>(pad4(sizeof(cm7::State)));
  for (unsigned i = 0; i < m->layer_count; ++i) {
    const agn_layer& l = m->layers[i];
    s->layer[i].channels = off;
    off += static_cast<uint32_t>(channels_bytes(l));
    s->layer[i].weights = off;
    off += static_cast<uint32_t>(pairs_bytes(l));
    s->layer[i].weight_sums = off;
    off += static_cast<uint32_t>(sums_bytes(l));
    prepare_layer(*m, i, s, base);
  }
  for (unsigned i = 0; i + 1 < m->layer_count; ++i) {
    if (packs(*m, *s, i)) s->layer[i].packed_out = s->layer[i + 1].packed_in = 1;
  }
  // Symbols of int8 values, the last layer's clamp folded in (the fused kernel looks up values
  // saturated to int8 only; the unfused split's values are clamped already).
  const agn_layer& last = m->layers[m->layer_count - 1];
  for (int v = -128; v < 128; ++v) s->symbol_of[v + 128] = symbol_of_value(*m, v);
  s->fused = last.op == AGN_OP_POINTWISE && s->layer[m->layer_count - 1].fast;
  // The remote channels: the live ones first in remote_order, the constant ones after them with
  // their symbol in both nibbles of remote_fill.
  const unsigned remote = last.out_channels - m->k;
  s->remote_order = off;
  off += static_cast<uint32_t>(pad4(2 * remote));
  s->remote_fill = off;
  off += static_cast<uint32_t>(pad4(remote));
  uint8_t* fill = base + s->remote_fill;
  memset(fill, 0xFF, remote);  // live, unless remote_channels finds it constant
  remote_channels(*m, fill, &s->wide_lo, &s->wide_count);
  auto* order = reinterpret_cast<uint16_t*>(base + s->remote_order);
  unsigned n = 0;
  for (unsigned j = 0; j < remote; ++j) {
    if (fill[j] == 0xFF) order[n++] = static_cast<uint16_t>(j);
  }
  s->remote_live = n;
  for (unsigned j = 0; j < remote; ++j) {
    if (fill[j] == 0xFF) continue;
    order[n++] = static_cast<uint16_t>(j);
    fill[j] = static_cast<uint8_t>(fill[j] | fill[j] << 4);
  }
  s->wide_symbols = off;
  for (uint32_t i = 0; i < s->wide_count; ++i) {
    base[off + i] = s->symbol_of[cm7::ssat8(s->wide_lo + static_cast<int32_t>(i)) + 128];
  }
}
