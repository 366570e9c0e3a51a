// Depthwise row kernel for the Cortex-M7: channel by channel, so that a channel's K*K weights,
// folded bias (input zero point folded in, corrected per row for padding rows and per tap for
// border columns) and requantisation parameters stay in registers across the row; a 3x3 inner
// loop the compiler fully unrolls; fast exact requantisation. Parameters are copied to locals
// because every int8 store may alias them otherwise.
#include "device/kernels/cm7/cm7_kernels.h"

namespace cm7 = agilenn::device::cm7;

namespace {

constexpr int kMaxChannels = 64;

// A border pixel of channel c: taps outside the row add zp * w (the folded bias took it away).
int32_t border_acc(const agn_layer& l, const int8_t* const* rows, int32_t bias, int c, int ox) {
  const int k = l.kernel, channels = l.out_channels, x0 = ox * l.stride - l.padding;
  int32_t acc = bias;
  for (int ky = 0; ky < k; ++ky) {
    if (rows[ky] == nullptr) continue;
    for (int kx = 0; kx < k; ++kx) {
      const int x = x0 + kx;
      const int32_t w = l.weights[(ky * k + kx) * channels + c];
      acc += x < 0 || x >= l.in_width ? w * l.in_zero_point : w * rows[ky][x * channels + c];
    }
  }
  return acc;
}

// Interior pixels [begin, end) of channel c, all three rows present; `offset` is the index of
// output pixel 0's first tap (channel c of column -padding).
void interior3(const int8_t* r0, const int8_t* r1, const int8_t* r2, int offset, const int8_t* w, int channels,
               int stride, int32_t bias, const cm7::Channel& ch, int32_t zp_out, int32_t lo, int32_t hi, int begin,
               int end, int8_t* __restrict out) {
  const int32_t w0 = w[0], w1 = w[channels], w2 = w[2 * channels];
  const int32_t w3 = w[3 * channels], w4 = w[4 * channels], w5 = w[5 * channels];
  const int32_t w6 = w[6 * channels], w7 = w[7 * channels], w8 = w[8 * channels];
  const cm7::Channel c = ch;
  for (int ox = begin; ox < end; ++ox) {
    const int x = ox * stride * channels + offset;
    int32_t acc = bias;
    acc += w0 * r0[x] + w1 * r0[x + channels] + w2 * r0[x + 2 * channels];
    acc += w3 * r1[x] + w4 * r1[x + channels] + w5 * r1[x + 2 * channels];
    acc += w6 * r2[x] + w7 * r2[x + channels] + w8 * r2[x + 2 * channels];
    out[ox * channels] = cm7::clamp8(zp_out + cm7::requantize(acc, c), lo, hi);
  }
}

// Interior pixels of channel c for any kernel size or missing rows.
void interior_any(const agn_layer& l, const int8_t* const* rows, int32_t bias, const cm7::Channel& ch, int c,
                  int begin, int end, int8_t* __restrict out) {
  const int k = l.kernel, channels = l.out_channels, stride = l.stride, padding = l.padding;
  const int32_t zp_out = l.out_zero_point, lo = l.act_min, hi = l.act_max;
  const cm7::Channel p = ch;
  for (int ox = begin; ox < end; ++ox) {
    const int x0 = ox * stride - padding;
    int32_t acc = bias;
    for (int ky = 0; ky < k; ++ky) {
      const int8_t* row = rows[ky];
      if (row == nullptr) continue;
      const int8_t* in = row + x0 * channels + c;
      const int8_t* w = l.weights + ky * k * channels + c;
      for (int kx = 0; kx < k; ++kx) acc += w[kx * channels] * in[kx * channels];
    }
    out[ox * channels] = cm7::clamp8(zp_out + cm7::requantize(acc, p), lo, hi);
  }
}

}  // namespace

extern "C" void agn_conv_dw_s8_cm7(const agn_layer* l, const void* state, const int8_t* const* in_rows,
                                   int8_t* out_row) {
  const cm7::State& s = cm7::state_of(state);
  const cm7::Layer& p = s.layer[cm7::layer_index(s, l)];
  const int k = l->kernel, channels = l->out_channels;
  if (!p.fast || channels > kMaxChannels) {
    agn_conv_dw_s8_ref(l, nullptr, in_rows, out_row);
    return;
  }
  const cm7::Channel* ch = cm7::at<cm7::Channel>(state, p.channels);
  const int32_t* sums = cm7::at<int32_t>(state, p.weight_sums);
  // Interior output columns: x0 >= 0 and x0 + K - 1 < in_width.
  const int first = (l->padding + l->stride - 1) / l->stride;
  const int span = l->in_width - k + l->padding;
  int last = span < 0 ? 0 : span / l->stride + 1;  // exclusive
  if (last > l->out_width) last = l->out_width;
  const int begin = first < last ? first : last;
  const int end = last > begin ? last : begin;
  bool all_rows = true;
  for (int ky = 0; ky < k; ++ky) all_rows = all_rows && in_rows[ky] != nullptr;
  const int32_t zp_in = l->in_zero_point, zp_out = l->out_zero_point, lo = l->act_min, hi = l->act_max;
  for (int c = 0; c < channels; ++c) {
    // Padding rows contribute nothing: give their zp * w back to the folded bias.
    int32_t bias = ch[c].bias;
    for (int ky = 0; ky < k; ++ky) {
      if (in_rows[ky] == nullptr) bias += zp_in * sums[ky * channels + c];
    }
    int8_t* out = out_row + c;
    for (int ox = 0; ox < begin; ++ox) {
      out[ox * channels] = cm7::clamp8(zp_out + cm7::requantize(border_acc(*l, in_rows, bias, c, ox), ch[c]), lo, hi);
    }
    if (k == 3 && all_rows) {
      interior3(in_rows[0], in_rows[1], in_rows[2], c - l->padding * channels, l->weights + c, channels, l->stride,
                bias, ch[c], zp_out, lo, hi, begin, end, out);
    } else {
      interior_any(*l, in_rows, bias, ch[c], c, begin, end, out);
    }
    for (int ox = end; ox < l->out_width; ++ox) {
      out[ox * channels] = cm7::clamp8(zp_out + cm7::requantize(border_acc(*l, in_rows, bias, c, ox), ch[c]), lo, hi);
    }
  }
}
