// Depthwise row kernel for the Cortex-M7, channel by channel, so that a channel's weights,
// folded bias (input zero point folded in) and requantisation parameters stay in registers
// across the row; fast exact requantisation.
//
// 3x3, stride 1, padding 1 (the default extractor's layers): every input value is loaded once
// per channel instead of three times (row3 below). Padding columns hold the input zero point
// (which the folded bias cancels); a padding row gets zero weights and its part of the folded
// bias back.
//
// Other shapes: a window loop per output pixel (borders and missing rows handled per tap).
#include "device/kernels/cm7/cm7_kernels.h"

namespace cm7 = agilenn::device::cm7;

namespace {

constexpr int kMaxChannels = 64;
constexpr int kMaxWidth = 64;  // the 3x3 path's row of accumulators

// The scaled accumulator of output pixel ox of channel c, any kernel, stride and padding: taps
// outside the row add zp * w (the folded bias took it away); missing rows are in `bias` already.
int32_t window_acc(const agn_layer& l, const int8_t* const* rows, int32_t bias, const cm7::Channel& ch, int c, int ox) {
  const int k = l.kernel, channels = l.out_channels, x0 = ox * l.stride - l.padding;
  int32_t acc = 0;
  for (int ky = 0; ky < k; ++ky) {
    if (rows[ky] == nullptr) continue;
    for (int kx = 0; kx < k; ++kx) {
      const int x = x0 + kx;
      const int32_t w = l.weights[(ky * k + kx) * channels + c];
      acc += x < 0 || x >= l.in_width ? w * l.in_zero_point : w * rows[ky][x * channels + c];
    }
  }
  return bias + cm7::scale(acc, ch);
}

// One channel of a 3x3 stride-1 padding-1 row, in two passes so that each keeps its values in
// registers. r0 points at channel c of row 0's pixel 0; row 1 is at r0 + d1, row 2 at r2.
// Pass 1: rows 0 and 1, packed per column into one 16-bit pair and multiplied with the column
// tap's packed weights by one SMLAD; each column adds to three running accumulators (outputs
// x - 1, x and x + 1), and finished ones go to acc[0..width). Pass 2: row 2, whose columns x and
// x - 1 stay packed in one register (one SMLAD; one PKHBT slides the window), requantisation and
// the clamp.
// (Not inlined: the passes get every register.)
template <bool FullRange>
__attribute__((noinline)) void row3(const int8_t* r0, ptrdiff_t d1, const int8_t* r2, int channels, int width, const cm7::Depthwise3& weights,
          int32_t bias, const cm7::Channel& ch, int32_t zp, int32_t lo, int32_t hi, int32_t* __restrict acc,
          int8_t* __restrict out) {
  {
    const uint32_t wa0 = weights.rows01[0], wa1 = weights.rows01[1], wa2 = weights.rows01[2];
    const uint32_t pad = cm7::pack16(zp, zp);
    uint32_t p = cm7::pack16(r0[0], r0[d1]);
    int32_t prev = cm7::smlad(p, wa1, cm7::smlad(pad, wa0, bias));  // output 0 (column -1 is padding)
    int32_t cur = cm7::smlad(p, wa0, bias);                            // output 1
    r0 += channels;
    for (const int32_t* end = acc + width - 1; acc != end; r0 += channels) {
      p = cm7::pack16(r0[0], r0[d1]);
      *acc++ = cm7::smlad(p, wa2, prev);
      prev = cm7::smlad(p, wa1, cur);
      cur = cm7::smlad(p, wa0, bias);
    }
    *acc = cm7::smlad(pad, wa2, prev);  // column `width` is padding
    acc -= width - 1;
  }
  const uint32_t wb10 = weights.row2_10;
  const int32_t wb2 = weights.row2_2;
  const int32_t multiplier = ch.multiplier, offset = ch.offset, e = ch.post_shift;
  uint32_t q = cm7::pack16(r2[0], zp);  // columns x (low) and x - 1
  auto emit = [&](int32_t a) {
    const int32_t v = (cm7::smmlar(a, multiplier, offset) + (a >> 31)) >> e;  // cm7::requantize
    *out = static_cast<int8_t>(FullRange ? cm7::ssat8(v) : cm7::clamp8(v, lo, hi));
    out += channels;
  };
  for (const int32_t* end = acc + width - 1; acc != end;) {
    r2 += channels;
    const int32_t q_next = *r2;
    emit(cm7::smlad(q, wb10, *acc++) + wb2 * q_next);
    q = cm7::pack16(q_next, static_cast<int32_t>(q));
  }
  emit(cm7::smlad(q, wb10, *acc) + wb2 * zp);
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
  const int32_t zp_in = l->in_zero_point, lo = l->act_min, hi = l->act_max;
  bool all_rows = true;
  for (int ky = 0; ky < k; ++ky) all_rows = all_rows && in_rows[ky] != nullptr;
  // Padding rows contribute nothing: give their zp * w back to the folded bias.
  auto bias_of = [&](int c) {
    int32_t bias = ch[c].bias;
    for (int ky = 0; ky < k; ++ky) {
      if (in_rows[ky] == nullptr) bias += zp_in * sums[ky * channels + c];
    }
    return bias;
  };
  if (!(k == 3 && l->stride == 1 && l->padding == 1 && l->out_width == l->in_width && l->in_width >= 2 &&
        l->in_width <= kMaxWidth)) {
    for (int c = 0; c < channels; ++c) {
      const int32_t bias = bias_of(c);
      for (int ox = 0; ox < l->out_width; ++ox) {
        out_row[ox * channels + c] =
            cm7::clamp8(cm7::requantize(window_acc(*l, in_rows, bias, ch[c], c, ox), ch[c]), lo, hi);
      }
    }
    return;
  }
  // 3x3: a missing row's weights become zero and it reads a present row instead.
  const int8_t* present = in_rows[0] != nullptr ? in_rows[0] : in_rows[1] != nullptr ? in_rows[1] : in_rows[2];
  const int8_t* r0 = in_rows[0] != nullptr ? in_rows[0] : present;
  const int8_t* r2 = in_rows[2] != nullptr ? in_rows[2] : present;
  const ptrdiff_t d1 = reinterpret_cast<intptr_t>(in_rows[1] != nullptr ? in_rows[1] : present) -
                       reinterpret_cast<intptr_t>(r0);
  const uint32_t keep = (in_rows[0] != nullptr ? 0x0000FFFFu : 0u) | (in_rows[1] != nullptr ? 0xFFFF0000u : 0u);
  const cm7::Depthwise3* weights = cm7::at<cm7::Depthwise3>(state, p.weights);
  const auto row = p.full_range ? row3<true> : row3<false>;
  int32_t acc[kMaxWidth];
  for (int c = 0; c < channels; ++c) {
    if (all_rows) {
      row(r0 + c, d1, r2 + c, channels, l->out_width, weights[c], ch[c].bias, ch[c], zp_in, lo, hi, acc, out_row + c);
      continue;
    }
    cm7::Depthwise3 w = weights[c];
    for (int kx = 0; kx < 3; ++kx) w.rows01[kx] &= keep;
    if (in_rows[2] == nullptr) {
      w.row2_10 = 0;
      w.row2_2 = 0;
    }
    row(r0 + c, d1, r2 + c, channels, l->out_width, w, bias_of(c), ch[c], zp_in, lo, hi, acc, out_row + c);
  }
}
