// The last (pointwise) layer fused with the split, for the Cortex-M7: per pixel the inputs are
// packed once; the k local channels are requantised (fast, exact) and added to the pooling sums
// on the fly; the remote channels are never requantised: their accumulators go straight to a
// binary search in the int32 thresholds prepared at init (the smallest accumulator whose
// requantised value reaches each int8 threshold), which gives the same symbol.
#include "device/kernels/cm7/cm7_kernels.h"

namespace cm7 = agilenn::device::cm7;

namespace {

constexpr unsigned kMaxPairs = 32;
constexpr unsigned kMaxLocal = 64;

// Number of thresholds t[0..2^steps) at or below acc (t sorted, padded with INT32_MAX).
template <unsigned Steps>
inline unsigned search(const int32_t* t, int32_t acc, unsigned steps) {
  unsigned s = 0;
  const unsigned n = Steps > 0 ? Steps : steps;
  for (unsigned half = 1u << (n - 1), i = 0; i < n; ++i, half >>= 1) {
    if (acc >= t[s + half - 1]) s += half;
  }
  return s;
}

template <unsigned N, unsigned Steps>
void fused_row(const agn_model& m, const cm7::State& s, const void* state, const int8_t* row, unsigned row_index,
               int32_t* pool_sums, uint8_t* symbols) {
  const agn_layer& l = m.layers[m.layer_count - 1];
  const cm7::Layer& p = s.layer[m.layer_count - 1];
  const cm7::Channel* ch = cm7::at<cm7::Channel>(state, p.channels);
  const uint32_t* weights = cm7::at<uint32_t>(state, p.weights);
  const int32_t* thresholds = cm7::at<int32_t>(state, s.thresholds);
  const unsigned in_channels = l.in_channels, channels = l.out_channels, k = m.k, n = (in_channels + 1) / 2;
  const unsigned width = m.feature_width, stride = 1u << s.threshold_steps;
  const size_t plane = size_t{m.feature_height} * width;
  int32_t sums[kMaxLocal] = {};
  uint32_t x[kMaxPairs];
  uint8_t* out = symbols + size_t{row_index} * width;
  for (unsigned px = 0; px < width; ++px) {
    cm7::pack_pixel(row + px * in_channels, in_channels, x);
    for (unsigned c = 0; c < k; ++c) {
      const int32_t acc = cm7::dot<N>(x, weights + c * n, ch[c].bias, n);
      sums[c] += cm7::clamp8(l.out_zero_point + cm7::requantize(acc, ch[c]), l.act_min, l.act_max);
    }
    const int32_t* t = thresholds;
    uint8_t* o = out + px;
    for (unsigned c = k; c < channels; ++c, t += stride, o += plane) {
      const int32_t acc = cm7::dot<N>(x, weights + c * n, ch[c].bias, n);
      *o = static_cast<uint8_t>(search<Steps>(t, acc, s.threshold_steps));
    }
  }
  const int32_t zero_point = m.local.in_zero_point;
  for (unsigned c = 0; c < k; ++c) pool_sums[c] += sums[c] - static_cast<int32_t>(width) * zero_point;
}

}  // namespace

extern "C" void agn_last_split_s8_cm7(const agn_model* m, const void* state, const int8_t* const* in_rows,
                                      unsigned row_index, int8_t* scratch_row, int32_t* pool_sums,
                                      uint8_t* symbols) {
  const cm7::State& s = cm7::state_of(state);
  const agn_layer& l = m->layers[m->layer_count - 1];
  const unsigned n = (l.in_channels + 1u) / 2u;
  if (!s.fused || n > kMaxPairs || m->k > kMaxLocal) {
    agn_kernel_for_op(&agn_kernels_cm7_unfused, l.op)(&l, state, in_rows, scratch_row);
    agn_split_row_s8_cm7(m, state, scratch_row, row_index, pool_sums, symbols);
    return;
  }
  if (n == 2 && s.threshold_steps == 3) {
    fused_row<2, 3>(*m, s, state, in_rows[0], row_index, pool_sums, symbols);
  } else {
    fused_row<0, 0>(*m, s, state, in_rows[0], row_index, pool_sums, symbols);
  }
}
