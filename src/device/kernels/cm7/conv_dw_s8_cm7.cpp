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

// One channel of a 3x3 stride-1 padding-1 row, in two passes, so that each keeps its weights
// and parameters in registers. The padding columns -1 and `width` hold the zero point: their taps
// times zp are d.left (with the bias) and d.right, so neither pass reads outside the row.
//
// Pass 1, rows 0 and 1 (p0, p1): each column's two values packed into one 16-bit pair, one SMLAD
// with that column's tap pair for each of the outputs x - 1, x, x + 1 it touches; acc[x] is
// stored when column x + 1 is done.
// Pass 2, row 2 (p2), requantisation and the clamp: row 2's columns x - 1 and x stay packed (one
// SMLAD with taps 0 and 1; tap 2 times column x + 1), then out[x].
void channel3(const int8_t* p0, const int8_t* p1, const int8_t* p2, int stride, int width, const cm7::Depthwise3& d,
              const cm7::Channel& ch, int32_t lo, int32_t hi, int32_t* acc, int8_t* out) {
  const uint32_t w0 = d.rows01[0], w1 = d.rows01[1], w2 = d.rows01[2];
  uint32_t t = cm7::pack16(p0[0], p1[0]);  // column 0
  int32_t x = cm7::smlad(t, w1, d.left);   // output 0
  int32_t y = cm7::smlad(t, w0, d.bias);   // output 1
  int32_t* a = acc;
  for (int n = width - 2; n > 0; --n) {  // columns 1 .. width - 2
    p0 += stride;
    p1 += stride;
    t = cm7::pack16(p0[0], p1[0]);
    *a++ = cm7::smlad(t, w2, x);
    x = cm7::smlad(t, w1, y);
    y = cm7::smlad(t, w0, d.bias);
  }
  p0 += stride;
  p1 += stride;
  t = cm7::pack16(p0[0], p1[0]);  // column width - 1
  a[0] = cm7::smlad(t, w2, x);
  a[1] = cm7::smlad(t, w1, y) + d.right;

  const uint32_t wa = d.row2_01;
  const int32_t w22 = static_cast<int16_t>(d.row2_12 >> 16);
  uint32_t q = static_cast<uint32_t>(int32_t{p2[0]}) << 16;  // columns -1 (0: it is in `left`) and 0
  for (int i = 0; i < width; ++i, out += stride) {
    const int32_t next = i + 1 < width ? p2[(i + 1) * stride] : 0;  // column `width`: in `right`
    const int32_t v = cm7::requantize(cm7::smlad(q, wa, acc[i]) + next * w22, ch);
    *out = cm7::clamp8(v, lo, hi);
    q = cm7::pack16(static_cast<int32_t>(q) >> 16, next);
  }
}

#if defined(__ARM_FEATURE_DSP)
// channel3 written out for C channels (3 or 4, the default extractor's layers) and the whole int8
// range (SSAT), for even widths >= 4: two columns per iteration in pass 1 (15 instructions: 4 LDRSB,
// 2 PKHBT, 6 SMLAD, STRD, the loop), two outputs per iteration in pass 2 (18: LDRD, 2 LDRSB,
// 5 multiply-accumulates and PKHBT, 5 per output to requantise and store, the loop; row 2 pairs
// with taps 0-1 and 1-2 alternately). The caller puts d.right in acc[width - 1].
template <int C>
void channel3_asm(const int8_t* p0, const int8_t* p1, const int8_t* p2, int width, const cm7::Depthwise3* d,
                  const cm7::Channel* ch, int32_t* acc, int8_t* out) {
  int32_t* a = acc;
  int32_t pairs = (width - 2) / 2;
  {
    const cm7::Depthwise3* y = d;  // the weights' address, then output x + 1's accumulator
    uint32_t w0, w1, w2, bias, x, t, t0, t1;
    __asm__ volatile(
        "ldrd %[w0], %[w1], [%[y]]\n\t"
        "ldrd %[w2], %[bias], [%[y], #8]\n\t"
        "ldr %[x], [%[y], #16]\n\t"  // left
        "ldrsb %[t0], [%[p0]], %[c]\n\t"
        "ldrsb %[t1], [%[p1]], %[c]\n\t"
        "pkhbt %[t], %[t0], %[t1], lsl #16\n\t"
        "smlad %[x], %[t], %[w1], %[x]\n\t"      // output 0
        "smlad %[y], %[t], %[w0], %[bias]\n\t"   // output 1 (y is no longer the address)
        "1:\n\t"
        "ldrsb %[t0], [%[p0]], %[c]\n\t"
        "ldrsb %[t1], [%[p1]], %[c]\n\t"
        "pkhbt %[t], %[t0], %[t1], lsl #16\n\t"
        "smlad %[x], %[t], %[w2], %[x]\n\t"
        "smlad %[y], %[t], %[w1], %[y]\n\t"
        "ldrsb %[t0], [%[p0]], %[c]\n\t"
        "ldrsb %[t1], [%[p1]], %[c]\n\t"
        "pkhbt %[t0], %[t0], %[t1], lsl #16\n\t"
        "smlad %[y], %[t0], %[w2], %[y]\n\t"
        "strd %[x], %[y], [%[a]], #8\n\t"
        "smlad %[x], %[t], %[w0], %[bias]\n\t"
        "smlad %[x], %[t0], %[w1], %[x]\n\t"
        "smlad %[y], %[t0], %[w0], %[bias]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n\t"
        "ldrsb %[t0], [%[p0]]\n\t"  // column width - 1
        "ldrsb %[t1], [%[p1]]\n\t"
        "pkhbt %[t], %[t0], %[t1], lsl #16\n\t"
        "ldr %[t0], [%[a], #4]\n\t"  // right
        "smlad %[x], %[t], %[w2], %[x]\n\t"
        "smlad %[y], %[t], %[w1], %[y]\n\t"
        "add %[y], %[y], %[t0]\n\t"
        "strd %[x], %[y], [%[a]]"
        : [p0] "+r"(p0), [p1] "+r"(p1), [a] "+r"(a), [n] "+r"(pairs), [y] "+r"(y), [x] "=&r"(x), [t] "=&r"(t),
          [t0] "=&r"(t0), [t1] "=&r"(t1), [w0] "=&r"(w0), [w1] "=&r"(w1), [w2] "=&r"(w2), [bias] "=&r"(bias)
        : [c] "i"(C)
        : "cc", "memory");
  }
  // Loop counter and shift in one register: (iterations left - 1) << 8 | e (ASR reads the low byte).
  int32_t ne = static_cast<int32_t>(static_cast<uint32_t>((width - 2) / 2 - 1) << 8) | ch->post_shift;
  const cm7::Depthwise3* wa = d;
  const cm7::Channel* m = ch;
  uint32_t q, ra, rb, t1, t2, wb, off;
  __asm__ volatile(
      "ldr %[wb], [%[wa], #28]\n\t"
      "ldr %[wa], [%[wa], #24]\n\t"
      "ldr %[off], [%[m], #16]\n\t"
      "ldr %[m], [%[m], #4]\n\t"
      "ldrsb %[q], [%[p2]]\n\t"
      "lsls %[q], %[q], #16\n\t"  // columns -1 (0: it is in `left`) and 0
      "1:\n\t"
      "ldrsb %[t1], [%[p2], %[c]]\n\t"
      "ldrsb %[t2], [%[p2], %[c2]]!\n\t"
      "2:\n\t"
      "ldrd %[ra], %[rb], [%[acc]], #8\n\t"
      "smlad %[ra], %[q], %[wa], %[ra]\n\t"
      "smlabt %[ra], %[t1], %[wb], %[ra]\n\t"
      "smlatb %[rb], %[q], %[wa], %[rb]\n\t"
      "pkhbt %[q], %[t1], %[t2], lsl #16\n\t"
      "smlad %[rb], %[q], %[wb], %[rb]\n\t"
      "smmlar %[t1], %[ra], %[m], %[off]\n\t"
      "add %[t1], %[t1], %[ra], asr #31\n\t"
      "asr %[t1], %[t1], %[ne]\n\t"
      "ssat %[t1], #8, %[t1]\n\t"
      "strb %[t1], [%[o]], %[c2]\n\t"
      "smmlar %[t2], %[rb], %[m], %[off]\n\t"
      "add %[t2], %[t2], %[rb], asr #31\n\t"
      "asr %[t2], %[t2], %[ne]\n\t"
      "ssat %[t2], #8, %[t2]\n\t"
      "strb %[t2], [%[o], %[mc]]\n\t"
      "subs %[ne], %[ne], #256\n\t"
      "bpl 1b\n\t"
      "cmn %[ne], #256\n\t"  // then the last pair, once, with column `width` = 0
      "bmi 3f\n\t"
      "ldrsb %[t1], [%[p2], %[c]]\n\t"
      "movs %[t2], #0\n\t"
      "b 2b\n\t"
      "3:"
      : [p2] "+r"(p2), [acc] "+r"(acc), [o] "+r"(out), [ne] "+r"(ne), [wa] "+r"(wa), [m] "+r"(m), [q] "=&r"(q),
        [ra] "=&r"(ra), [rb] "=&r"(rb), [t1] "=&r"(t1), [t2] "=&r"(t2), [wb] "=&r"(wb), [off] "=&r"(off)
      : [c] "i"(C), [c2] "i"(2 * C), [mc] "i"(-C)
      : "cc", "memory");
}
#endif

// The rows a 3x3 row kernel reads: a missing (padding) row reads a present one, with zero
// weights (masked_weights).
struct Rows3 {
  const int8_t* r[3];
  bool all_rows;
};
Rows3 rows3(const int8_t* const* in_rows) {
  const int8_t* present = in_rows[0] != nullptr ? in_rows[0] : in_rows[1] != nullptr ? in_rows[1] : in_rows[2];
  Rows3 rows;
  for (int ky = 0; ky < 3; ++ky) rows.r[ky] = in_rows[ky] != nullptr ? in_rows[ky] : present;
  rows.all_rows = in_rows[0] != nullptr && in_rows[1] != nullptr && in_rows[2] != nullptr;
  return rows;
}

// Channel c's parameters for a row with padding rows: their weights zero, their zp * w given back
// to the folded bias (they contribute nothing), the padding columns' taps recomputed.
__attribute__((noinline)) void masked_weights(const agn_layer& l, const int8_t* const* in_rows,
                                              const cm7::Depthwise3& weights, const int32_t* sums, int c,
                                              cm7::Depthwise3* masked) {
  const uint32_t keep01 = (in_rows[0] != nullptr ? 0x0000FFFFu : 0u) | (in_rows[1] != nullptr ? 0xFFFF0000u : 0u);
  const uint32_t keep2 = in_rows[2] != nullptr ? 0xFFFFFFFFu : 0u;
  *masked = weights;
  for (int kx = 0; kx < 3; ++kx) masked->rows01[kx] &= keep01;
  masked->row2_01 &= keep2;
  masked->row2_12 &= keep2;
  for (int ky = 0; ky < 3; ++ky) {
    if (in_rows[ky] == nullptr) masked->bias += l.in_zero_point * sums[ky * l.out_channels + c];
  }
  cm7::set_padding_taps(*masked, l.in_zero_point);
}

// Every channel of a 3x3 row, the C loops (any channel count, width and clamp).
__attribute__((noinline)) void row3(const agn_layer& l, const int8_t* const* in_rows, const cm7::Depthwise3* weights,
                                    const cm7::Channel* ch, const int32_t* sums, int8_t* out_row) {
  const Rows3 rows = rows3(in_rows);
  const int channels = l.out_channels;
  int32_t acc[kMaxWidth];
  for (int c = 0; c < channels; ++c) {
    cm7::Depthwise3 masked;
    if (!rows.all_rows) masked_weights(l, in_rows, weights[c], sums, c, &masked);
    channel3(rows.r[0] + c, rows.r[1] + c, rows.r[2] + c, channels, l.out_width,
                    rows.all_rows ? weights[c] : masked, ch[c], l.act_min, l.act_max, acc, out_row + c);
  }
}

#if defined(__ARM_FEATURE_DSP)
// The same with channel3_asm: C channels (3 or 4), the whole int8 range, an even width >= 4.
template <int C>
__attribute__((noinline)) void row3_asm(const agn_layer& l, const int8_t* const* in_rows,
                                        const cm7::Depthwise3* weights, const cm7::Channel* ch, const int32_t* sums,
                                        int8_t* out_row) {
  const Rows3 rows = rows3(in_rows);
  const int width = l.out_width;
  int32_t acc[kMaxWidth];
#pragma GCC unroll 1  // one copy of the loops (flash)
  for (int c = 0; c < C; ++c) {
    cm7::Depthwise3 masked;
    const cm7::Depthwise3* d = &weights[c];
    if (!rows.all_rows) {
      masked_weights(l, in_rows, *d, sums, c, &masked);
      d = &masked;
    }
    acc[width - 1] = d->right;
    channel3_asm<C>(rows.r[0] + c, rows.r[1] + c, rows.r[2] + c, width, d, &ch[c], acc, out_row + c);
  }
}
#endif

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
  if (k == 3 && l->stride == 1 && l->padding == 1 && l->out_width == l->in_width && l->in_width >= 2 &&
      l->in_width <= kMaxWidth) {
    const cm7::Depthwise3* weights = cm7::at<cm7::Depthwise3>(state, p.weights);
#if defined(__ARM_FEATURE_DSP)
    // The channel count as an immediate for the default extractor's layers (3 and 4 channels, the
    // whole int8 range).
    if (p.full_range && l->out_width >= 4 && !(l->out_width & 1) && (channels == 3 || channels == 4)) {
      (channels == 3 ? row3_asm<3> : row3_asm<4>)(*l, in_rows, weights, ch, sums, out_row);
      return;
    }
#endif
    row3(*l, in_rows, weights, ch, sums, out_row);
    return;
  }
  for (int c = 0; c < channels; ++c) {
    // Padding rows contribute nothing: give their zp * w back to the folded bias.
    int32_t bias = ch[c].bias;
    for (int ky = 0; ky < k; ++ky) {
      if (in_rows[ky] == nullptr) bias += l->in_zero_point * sums[ky * channels + c];
    }
    for (int ox = 0; ox < l->out_width; ++ox) {
      out_row[ox * channels + c] =
          cm7::clamp8(cm7::requantize(window_acc(*l, in_rows, bias, ch[c], c, ox), ch[c]), l->act_min, l->act_max);
    }
  }
}
