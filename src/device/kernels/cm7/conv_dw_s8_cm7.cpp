// Depthwise row kernel for the Cortex-M7, channel by channel, so that a channel's weights,
// folded bias (input zero point folded in) and requantisation parameters stay in registers
// across the row; fast exact requantisation.
//
// 3x3, stride 1, padding 1 (the default extractor's layers): every input value is loaded once
// per channel instead of three times (channel3 below, the definition and the host path; row3_asm
// is the same in inline assembly on the target, for the layers that write their rows packed for
// the pointwise layer after them: 3 or 4 channels, the whole int8 range and even widths,
// Layer::packed_out). Padding columns hold the input zero point (which the folded bias cancels);
// a padding row gets zero weights and its part of the folded bias back.
//
// Other shapes (on the target also the 3x3 ones row3_asm does not take): a window loop per
// output pixel (borders and missing rows handled per tap).
#include <stddef.h>
#include <string.h>

#include "device/kernels/cm7/cm7_kernels.h"

namespace cm7 = agilenn::device::cm7;

namespace {

constexpr int kMaxChannels = 64;
constexpr int kMaxWidth = cm7::kMaxRowWidth;  // the 3x3 path's row of accumulators

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

#if !defined(__ARM_FEATURE_DSP)
// One channel of a 3x3 stride-1 padding-1 row, in two passes, so that each keeps its weights
// and parameters in registers. The padding columns -1 and `width` hold the zero point: their taps
// times zp are d.left (with the bias) and d.right, so neither pass reads outside the row.
//
// Pass 1, rows 0 and 1 (p0, p1): each column's two values packed into one 16-bit pair, one SMLAD
// with that column's tap pair for each of the outputs x - 1, x, x + 1 it touches; acc[x] is
// stored when column x + 1 is done.
// Pass 2, row 2 (p2), requantisation and the clamp: row 2's columns x - 1 and x stay packed (one
// SMLAD with taps 0 and 1; tap 2 times column x + 1), then out[x], `out_step` bytes apart: an
// int8 value, or (packed) a 16-bit one.
void channel3(const int8_t* p0, const int8_t* p1, const int8_t* p2, int stride, int width, const cm7::Depthwise3& d,
              const cm7::Channel& ch, int32_t lo, int32_t hi, int32_t* acc, bool packed, size_t out_step,
              uint8_t* out) {
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
  for (int i = 0; i < width; ++i, out += out_step) {
    const int32_t next = i + 1 < width ? p2[(i + 1) * stride] : 0;  // column `width`: in `right`
    const int16_t v = cm7::clamp8(cm7::requantize(cm7::smlad(q, wa, acc[i]) + next * w22, ch), lo, hi);
    if (packed) {
      memcpy(out, &v, 2);
    } else {
      *out = static_cast<uint8_t>(v);
    }
    q = cm7::pack16(static_cast<int32_t>(q) >> 16, next);
  }
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

#if !defined(__ARM_FEATURE_DSP)
// Every channel of a 3x3 row, the C loops (any channel count, width and clamp; the row HWC or
// packed, cm7_kernels.h): the host path; row3_asm below is the same on the target.
__attribute__((noinline)) void row3(const agn_layer& l, const int8_t* const* in_rows, const cm7::Depthwise3* weights,
                                    const cm7::Channel* ch, const int32_t* sums, bool packed, int8_t* out_row) {
  const Rows3 rows = rows3(in_rows);
  const int channels = l.out_channels;
  const size_t step = packed ? 4 * size_t{(l.out_channels + 1u) / 2u} : size_t{l.out_channels};
  int32_t acc[kMaxWidth];
  for (int c = 0; c < channels; ++c) {
    cm7::Depthwise3 masked;
    if (!rows.all_rows) masked_weights(l, in_rows, weights[c], sums, c, &masked);
    channel3(rows.r[0] + c, rows.r[1] + c, rows.r[2] + c, channels, l.out_width, rows.all_rows ? weights[c] : masked,
             ch[c], l.act_min, l.act_max, acc, packed, step,
             reinterpret_cast<uint8_t*>(out_row) + (packed ? 2 * c : c));
  }
}
#endif

#if defined(__ARM_FEATURE_DSP)
// What row3_asm's loops read and advance, channel by channel (offsets used in the assembly).
struct Frame3 {
  const int8_t* rows[3];  // rows 0, 1, 2 at channel c
  int8_t* out;            // out_row + 2c: the packed row's halfword of channel c, pixel 0
  const cm7::Depthwise3* d;
  const cm7::Channel* ch;
  int32_t* acc;
  int32_t pairs;  // (width - 2) / 2
  int32_t channels_left;
};

// channel3 for every channel of a row, written out for C channels (3 or 4, the default
// extractor's layers: an immediate in the addressing), the whole int8 range (SSAT) and even
// widths >= 4. Each loop is unrolled twice (entered in the middle for an odd pair count):
// pass 1 takes two columns in 13 instructions (4 LDRSB, 2 PKHBT, 6 SMLAD, STRD) plus the loop;
// pass 2 two outputs in 18 (2 LDRSB, LDRD, 5 multiply-accumulates and PKHBT, 5 per output to
// requantise and store: SMMLAR, ADD, ASR, SSAT, STRH into the packed row) plus the loop, the loop counter and the
// shift in one register ((iterations left - 1) << 8 | e: ASR reads the low byte); its last pair
// runs once more with column `width` = 0. The frame's address is kept at [sp] while the loops
// use every other register.
template <int C>
__attribute__((noinline)) void row3_asm(const agn_layer& l, const int8_t* const* in_rows,
                                        const cm7::Depthwise3* weights, const cm7::Channel* ch, const int32_t* sums,
                                        int8_t* out_row) {
  static_assert(offsetof(Frame3, out) == 12 && offsetof(Frame3, d) == 16 && offsetof(Frame3, acc) == 24 &&
                    offsetof(Frame3, channels_left) == 32,
                "the frame's offsets in the assembly");
  static_assert(offsetof(cm7::Depthwise3, bias) == 12 && offsetof(cm7::Depthwise3, left) == 16 &&
                    offsetof(cm7::Depthwise3, right) == 20 && offsetof(cm7::Depthwise3, row2_01) == 24 &&
                    offsetof(cm7::Depthwise3, row2_12) == 28 && sizeof(cm7::Depthwise3) == 32,
                "the weights' offsets in the assembly");
  static_assert(offsetof(cm7::Channel, multiplier) == 4 && offsetof(cm7::Channel, post_shift) == 12 &&
                    offsetof(cm7::Channel, offset) == 16 && sizeof(cm7::Channel) == 20,
                "the requantisation parameters' offsets in the assembly");
  const Rows3 rows = rows3(in_rows);
  int32_t acc[kMaxWidth];
  cm7::Depthwise3 masked[C];
  if (!rows.all_rows) {
    for (int c = 0; c < C; ++c) masked_weights(l, in_rows, weights[c], sums, c, &masked[c]);
    weights = masked;
  }
  Frame3 frame = {{rows.r[0], rows.r[1], rows.r[2]}, out_row, weights, ch, acc, (l.out_width - 2) / 2, C};
  Frame3* w0 = &frame;
  uint32_t p0, p1, a, n, y, x, t, t0, t1, w1, w2, bias;
  __asm__ volatile(
      "str %[w0], [sp, #-8]!\n\t"
      "0:\n\t"  // channel c: pass 1, rows 0 and 1
      "ldrd %[p0], %[p1], [%[w0]]\n\t"
      "adds %[t0], %[p0], #1\n\t"
      "adds %[t1], %[p1], #1\n\t"
      "strd %[t0], %[t1], [%[w0]]\n\t"
      "ldr %[y], [%[w0], #16]\n\t"
      "ldrd %[a], %[n], [%[w0], #24]\n\t"
      "ldrd %[w0], %[w1], [%[y]]\n\t"
      "ldrd %[w2], %[bias], [%[y], #8]\n\t"
      "ldr %[x], [%[y], #16]\n\t"  // left
      "ldrsb %[t0], [%[p0]], %[c]\n\t"
      "ldrsb %[t1], [%[p1]], %[c]\n\t"
      "pkhbt %[t], %[t0], %[t1], lsl #16\n\t"
      "smlad %[x], %[t], %[w1], %[x]\n\t"     // output 0
      "smlad %[y], %[t], %[w0], %[bias]\n\t"  // output 1
      "adds %[n], %[n], #1\n\t"
      "lsrs %[n], %[n], #1\n\t"
      "bcc 2f\n\t"
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
      "2:\n\t"
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
      "smlad %[x], %[t], %[w2], %[x]\n\t"
      "smlad %[y], %[t], %[w1], %[y]\n\t"
      "ldr %[t0], [sp]\n\t"
      "ldr %[t0], [%[t0], #16]\n\t"
      "ldr %[t0], [%[t0], #20]\n\t"  // right
      "add %[y], %[y], %[t0]\n\t"
      "strd %[x], %[y], [%[a]]\n\t"
      // pass 2, row 2: p0 = row 2, p1 = out, y = row2_01, w2 = row2_12, x = multiplier,
      // bias = offset, t = columns x - 1 and x, n = counter and shift
      "ldr %[w0], [sp]\n\t"
      "ldrd %[p0], %[p1], [%[w0], #8]\n\t"
      "adds %[t0], %[p0], #1\n\t"
      "adds %[t1], %[p1], #2\n\t"
      "strd %[t0], %[t1], [%[w0], #8]\n\t"
      "ldrd %[y], %[x], [%[w0], #16]\n\t"
      "adds %[t0], %[y], #32\n\t"
      "adds %[t1], %[x], #20\n\t"
      "strd %[t0], %[t1], [%[w0], #16]\n\t"
      "ldrd %[a], %[n], [%[w0], #24]\n\t"
      "ldr %[w2], [%[y], #28]\n\t"
      "ldr %[y], [%[y], #24]\n\t"
      "ldr %[bias], [%[x], #16]\n\t"
      "ldr %[t0], [%[x], #12]\n\t"  // e
      "ldr %[x], [%[x], #4]\n\t"
      "ldrsb %[t], [%[p0]]\n\t"
      "lsl %[t], %[t], #16\n\t"  // columns -1 (0: it is in `left`) and 0
      "adds %[n], %[n], #1\n\t"
      "lsrs %[n], %[n], #1\n\t"
      "sub %[n], %[n], #1\n\t"
      "orr %[n], %[t0], %[n], lsl #8\n\t"
      "bcc 4f\n\t"
      "3:\n\t"
        "ldrsb %[w0], [%[p0], %[c]]\n\t"
        "ldrsb %[w1], [%[p0], %[c2]]!\n\t"
        "ldrd %[t0], %[t1], [%[a]], #8\n\t"
        "smlad %[t0], %[t], %[y], %[t0]\n\t"
        "smlabt %[t0], %[w0], %[w2], %[t0]\n\t"
        "smlatb %[t1], %[t], %[y], %[t1]\n\t"
        "pkhbt %[t], %[w0], %[w1], lsl #16\n\t"
        "smlad %[t1], %[t], %[w2], %[t1]\n\t"
        "smmlar %[w0], %[t0], %[x], %[bias]\n\t"
        "add %[w0], %[w0], %[t0], asr #31\n\t"
        "asr %[w0], %[w0], %[n]\n\t"
        "ssat %[w0], #8, %[w0]\n\t"
        "strh %[w0], [%[p1]], #16\n\t"
        "smmlar %[w1], %[t1], %[x], %[bias]\n\t"
        "add %[w1], %[w1], %[t1], asr #31\n\t"
        "asr %[w1], %[w1], %[n]\n\t"
        "ssat %[w1], #8, %[w1]\n\t"
        "strh %[w1], [%[p1], #-8]\n\t"
      "4:\n\t"
        "ldrsb %[w0], [%[p0], %[c]]\n\t"
        "ldrsb %[w1], [%[p0], %[c2]]!\n\t"
      "5:\n\t"
        "ldrd %[t0], %[t1], [%[a]], #8\n\t"
        "smlad %[t0], %[t], %[y], %[t0]\n\t"
        "smlabt %[t0], %[w0], %[w2], %[t0]\n\t"
        "smlatb %[t1], %[t], %[y], %[t1]\n\t"
        "pkhbt %[t], %[w0], %[w1], lsl #16\n\t"
        "smlad %[t1], %[t], %[w2], %[t1]\n\t"
        "smmlar %[w0], %[t0], %[x], %[bias]\n\t"
        "add %[w0], %[w0], %[t0], asr #31\n\t"
        "asr %[w0], %[w0], %[n]\n\t"
        "ssat %[w0], #8, %[w0]\n\t"
        "strh %[w0], [%[p1]], #16\n\t"
        "smmlar %[w1], %[t1], %[x], %[bias]\n\t"
        "add %[w1], %[w1], %[t1], asr #31\n\t"
        "asr %[w1], %[w1], %[n]\n\t"
        "ssat %[w1], #8, %[w1]\n\t"
        "strh %[w1], [%[p1], #-8]\n\t"
      "subs %[n], %[n], #256\n\t"
      "bpl 3b\n\t"
      "cmn %[n], #256\n\t"  // then the last pair, once, with column `width` = 0
      "bmi 6f\n\t"
      "ldrsb %[w0], [%[p0], %[c]]\n\t"
      "movs %[w1], #0\n\t"
      "b 5b\n\t"
      "6:\n\t"
      "ldr %[w0], [sp]\n\t"
      "ldr %[t0], [%[w0], #32]\n\t"
      "subs %[t0], %[t0], #1\n\t"
      "str %[t0], [%[w0], #32]\n\t"
      "bne 0b\n\t"
      "add sp, sp, #8"
      : [w0] "+r"(w0), [p0] "=&r"(p0), [p1] "=&r"(p1), [a] "=&r"(a), [n] "=&r"(n), [y] "=&r"(y), [x] "=&r"(x),
        [t] "=&r"(t), [t0] "=&r"(t0), [t1] "=&r"(t1), [w1] "=&r"(w1), [w2] "=&r"(w2), [bias] "=&r"(bias)
      : [c] "i"(C), [c2] "i"(2 * C)
      : "cc", "memory");
}
#endif

}  // namespace

extern "C" void agn_conv_dw_s8_cm7(const agn_layer* l, const void* state, const int8_t* const* in_rows,
                                   int8_t* out_row) {
  const cm7::State& s = cm7::state_of(state);
  const cm7::Layer& p = s.layer[cm7::layer_index(s, l)];
  const int k = l->kernel, channels = l->out_channels;
  if (!p.fast || channels > kMaxChannels) {
    agn_conv_s8_ref(l, nullptr, in_rows, out_row);
    return;
  }
  const cm7::Channel* ch = cm7::at<cm7::Channel>(state, p.channels);
  const int32_t* sums = cm7::at<int32_t>(state, p.weight_sums);
  if (k == 3 && l->stride == 1 && l->padding == 1 && l->out_width == l->in_width && l->in_width >= 2 &&
      l->in_width <= kMaxWidth) {
    const cm7::Depthwise3* weights = cm7::at<cm7::Depthwise3>(state, p.weights);
#if defined(__ARM_FEATURE_DSP)
    // The channel count as an immediate for the default extractor's layers (3 and 4 channels, the
    // whole int8 range, the rows packed for the pointwise layer after them). Other 3x3 shapes take
    // the window loop below on the target (flash: no second set of row loops there).
    if (p.packed_out) {
      (channels == 3 ? row3_asm<3> : row3_asm<4>)(*l, in_rows, weights, ch, sums, out_row);
      return;
    }
#else
    row3(*l, in_rows, weights, ch, sums, p.packed_out != 0, out_row);
    return;
#endif
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
