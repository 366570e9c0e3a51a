// The last (pointwise) layer fused with the split, for the Cortex-M7. The row's pixels are packed
// once into 16-bit pairs; then channel by channel, so that a channel's packed weights and
// parameters (and, for a remote channel, its thresholds) stay in registers across the row:
//   - the k local channels are requantised (fast, exact) and summed for the pooling on the fly;
//   - the remote channels are never requantised: the accumulator without its bias goes straight
//     to a search in the thresholds prepared at init (the smallest accumulator whose requantised
//     value reaches each int8 threshold, bias subtracted), which gives the same symbol. With at
//     most 8 levels the search is a 3-level comparison tree on thresholds held in registers.
#include "device/kernels/cm7/cm7_kernels.h"

namespace cm7 = agilenn::device::cm7;

namespace {

constexpr unsigned kMaxPackedWords = 128;  // width * ceil(in_channels / 2)
constexpr unsigned kMaxLocal = 64;

// Sum over the row of the clamped requantised values of one local channel. (The per-channel
// loops are not inlined, so that each gets every register.)
template <unsigned N, bool FullRange>
__attribute__((noinline)) int32_t local_sum(const uint32_t* x, const uint32_t* w, const cm7::Channel& ch,
                                            unsigned width, unsigned n, int32_t lo, int32_t hi) {
  const cm7::Channel c = ch;
  const unsigned count = N > 0 ? N : n;
  int32_t sum = 0;
  for (const uint32_t* end = x + width * count; x != end; x += count) {
    const int32_t v = cm7::requantize(cm7::dot<N>(x, w, c.bias, count), c);
    sum += FullRange ? cm7::ssat8(v) : cm7::clamp8(v, lo, hi);
  }
  return sum;
}

// Symbols of one remote channel over the row, 8 levels or fewer: t[0..7) in registers.
template <unsigned N>
__attribute__((noinline)) void remote8(const uint32_t* x, const uint32_t* w, const int32_t* thresholds, unsigned width, unsigned n,
             uint8_t* __restrict out) {
  const int32_t t0 = thresholds[0], t1 = thresholds[1], t2 = thresholds[2], t3 = thresholds[3];
  const int32_t t4 = thresholds[4], t5 = thresholds[5], t6 = thresholds[6];
  const unsigned count = N > 0 ? N : n;
  const uint32_t w0 = w[0], w1 = N == 2 ? w[1] : 0;
  for (const uint8_t* end = out + width; out != end; x += count) {
    const int32_t a = N == 2 ? cm7::smlad(x[1], w1, cm7::smuad(x[0], w0)) : cm7::dot<N>(x, w, 0, count);
    unsigned s;
    if (a >= t3) {
      s = a >= t5 ? (a >= t6 ? 7 : 6) : (a >= t4 ? 5 : 4);
    } else {
      s = a >= t1 ? (a >= t2 ? 3 : 2) : (a >= t0 ? 1 : 0);
    }
    *out++ = static_cast<uint8_t>(s);
  }
}

// Symbols of one remote channel over the row, any level count: binary search in t[0..2^steps).
template <unsigned N>
void remote_any(const uint32_t* x, const uint32_t* w, const int32_t* t, unsigned steps, unsigned width, unsigned n,
                uint8_t* __restrict out) {
  const unsigned count = N > 0 ? N : n;
  for (unsigned px = 0; px < width; ++px, x += count) {
    const int32_t a = cm7::dot<N>(x, w, 0, count);
    unsigned s = 0;
    for (unsigned half = 1u << (steps - 1), i = 0; i < steps; ++i, half >>= 1) {
      if (a >= t[s + half - 1]) s += half;
    }
    out[px] = static_cast<uint8_t>(s);
  }
}

template <unsigned N>
void fused_row(const agn_model& m, const cm7::State& s, const void* state, const int8_t* row, unsigned row_index,
               int32_t* pool_sums, uint8_t* symbols) {
  const agn_layer& l = m.layers[m.layer_count - 1];
  const cm7::Layer& p = s.layer[m.layer_count - 1];
  const cm7::Channel* ch = cm7::at<cm7::Channel>(state, p.channels);
  const uint32_t* weights = cm7::at<uint32_t>(state, p.weights);
  const int32_t* thresholds = cm7::at<int32_t>(state, s.thresholds);
  const unsigned channels = l.out_channels, k = m.k, n = (l.in_channels + 1) / 2;
  const unsigned width = m.feature_width, stride = 1u << s.threshold_steps;
  const size_t plane = size_t{m.feature_height} * width;
  uint32_t x[kMaxPackedWords];
  cm7::pack_row(row, width, l.in_channels, x);
  const int32_t pool_offset = static_cast<int32_t>(width) * m.local.in_zero_point;
  for (unsigned c = 0; c < k; ++c) {
    const int32_t sum = p.full_range ? local_sum<N, true>(x, weights + c * n, ch[c], width, n, -128, 127)
                                     : local_sum<N, false>(x, weights + c * n, ch[c], width, n, l.act_min, l.act_max);
    pool_sums[c] += sum - pool_offset;
  }
  uint8_t* out = symbols + size_t{row_index} * width;
  for (unsigned c = k; c < channels; ++c, thresholds += stride, out += plane) {
    if (s.threshold_steps <= 3) {
      remote8<N>(x, weights + c * n, thresholds, width, n, out);
    } else {
      remote_any<N>(x, weights + c * n, thresholds, s.threshold_steps, width, n, out);
    }
  }
}

}  // namespace

extern "C" void agn_last_split_s8_cm7(const agn_model* m, const void* state, const int8_t* const* in_rows,
                                      unsigned row_index, int8_t* scratch_row, int32_t* pool_sums,
                                      uint8_t* symbols) {
  const cm7::State& s = cm7::state_of(state);
  const agn_layer& l = m->layers[m->layer_count - 1];
  const unsigned n = (l.in_channels + 1u) / 2u;
  if (!s.fused || size_t{n} * m->feature_width > kMaxPackedWords || m->k > kMaxLocal) {
    agn_kernel_for_op(&agn_kernels_cm7_unfused, l.op)(&l, state, in_rows, scratch_row);
    agn_split_row_s8_cm7(m, state, scratch_row, row_index, pool_sums, symbols);
    return;
  }
  if (n == 2) {
    fused_row<2>(*m, s, state, in_rows[0], row_index, pool_sums, symbols);
  } else {
    fused_row<0>(*m, s, state, in_rows[0], row_index, pool_sums, symbols);
  }
}
