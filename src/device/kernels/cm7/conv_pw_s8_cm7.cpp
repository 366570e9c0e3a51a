// Pointwise row kernel for the Cortex-M7: each pixel's inputs packed once into signed 16-bit
// pairs, then two multiply-accumulates per instruction (SMLAD) against weights packed at init,
// with the input zero point folded into the bias and fast exact requantisation.
#include "device/kernels/cm7/cm7_kernels.h"

namespace cm7 = agilenn::device::cm7;

namespace {

constexpr unsigned kMaxPairs = 32;

}  // namespace

namespace {

template <unsigned N>
void rows(const agn_layer& l, const cm7::Channel* ch, const uint32_t* weights, const int8_t* row,
          int8_t* __restrict out_row) {
  const unsigned in_channels = l.in_channels, out_channels = l.out_channels, n = (in_channels + 1) / 2;
  const int32_t zp_out = l.out_zero_point, lo = l.act_min, hi = l.act_max;
  const int width = l.out_width;
  uint32_t x[kMaxPairs];
  for (int px = 0; px < width; ++px) {
    cm7::pack_pixel(row + px * in_channels, in_channels, x);
    int8_t* __restrict out = out_row + px * out_channels;
    const uint32_t* w = weights;
    for (unsigned c = 0; c < out_channels; ++c, w += n) {
      const int32_t acc = cm7::dot<N>(x, w, ch[c].bias, n);
      out[c] = cm7::clamp8(zp_out + cm7::requantize(acc, ch[c]), lo, hi);
    }
  }
}

}  // namespace

extern "C" void agn_conv_pw_s8_cm7(const agn_layer* l, const void* state, const int8_t* const* in_rows,
                                   int8_t* out_row) {
  const cm7::State& s = cm7::state_of(state);
  const cm7::Layer& p = s.layer[cm7::layer_index(s, l)];
  const unsigned n = (l->in_channels + 1u) / 2u;
  if (!p.fast || n > kMaxPairs) {
    agn_conv_pw_s8_ref(l, nullptr, in_rows, out_row);
    return;
  }
  const cm7::Channel* ch = cm7::at<cm7::Channel>(state, p.channels);
  const uint32_t* weights = cm7::at<uint32_t>(state, p.weights);
  if (n == 2) {
    rows<2>(*l, ch, weights, in_rows[0], out_row);
  } else {
    rows<0>(*l, ch, weights, in_rows[0], out_row);
  }
}
