// Pointwise row kernel for the Cortex-M7: the row's pixels as signed 16-bit pairs (packed by the
// depthwise layer before, or here), then channel by channel (the channel's packed weights and
// requantisation parameters stay in registers across the row) two multiply-accumulates per
// instruction (SMLAD) against weights packed and scaled at init, with the input zero point folded
// into the bias and fast exact requantisation.
#include "device/kernels/cm7/cm7_kernels.h"

namespace cm7 = agilenn::device::cm7;

namespace {

// One output channel over the row (not inlined: the loop gets every register).
template <unsigned N, bool FullRange>
__attribute__((noinline)) void channel_row(const uint32_t* x, const uint32_t* w, const cm7::Channel& ch,
                                           unsigned width, unsigned n, unsigned out_channels, int32_t lo, int32_t hi,
                                           int32_t sign_mask, int8_t* __restrict out) {
  const cm7::Channel c = ch;
  const unsigned count = N > 0 ? N : n;
#if defined(__ARM_FEATURE_DSP)
  if (N == 2 && FullRange && sign_mask == 0 && width >= 2) {
    // The loop below for four pixels per iteration (two entered in the middle for an odd pair
    // count), written out: 15 instructions per two pixels (GCC 12 spends about 6 more) and the
    // loop test once per four.
    const uint32_t* pairs_end = x + 2 * (width & ~1u);
    uint32_t a0, a1, a2;
    __asm__ volatile(
        "tst %[n], #2\n\t"  // an odd pair count
        "bne 2f\n\t"
        "1:\n\t"
        AGN_CM7_PW_ACCUMULATE_TWO_PIXELS
        AGN_CM7_PW_REQUANTIZE_SSAT8("a2", "a0")
        "strb %[a2], [%[o]]\n\t"
        AGN_CM7_PW_REQUANTIZE_SSAT8("a2", "a1")
        "strb %[a2], [%[o], %[stride]]\n\t"
        "add %[o], %[o], %[stride], lsl #1\n\t"
        "2:\n\t"
        AGN_CM7_PW_ACCUMULATE_TWO_PIXELS
        AGN_CM7_PW_REQUANTIZE_SSAT8("a2", "a0")
        "strb %[a2], [%[o]]\n\t"
        AGN_CM7_PW_REQUANTIZE_SSAT8("a2", "a1")
        "strb %[a2], [%[o], %[stride]]\n\t"
        "add %[o], %[o], %[stride], lsl #1\n\t"
        "cmp %[x], %[end]\n\t"
        "bne 1b"
        : [x] "+r"(x), [o] "+r"(out), [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2)
        : [w0] "r"(w[0]), [w1] "r"(w[1]), [bias] "r"(c.bias), [m] "r"(c.multiplier), [off] "r"(c.offset),
          [e] "r"(c.post_shift), [stride] "r"(out_channels), [end] "r"(pairs_end), [n] "r"(width)
        : "cc", "memory");
    width &= 1u;
  }
#endif
  for (const uint32_t* end = x + width * count; x != end; x += count, out += out_channels) {
    const int32_t v = cm7::requantize(cm7::dot<N>(x, w, c.bias, count), c, sign_mask);
    *out = static_cast<int8_t>(FullRange ? cm7::ssat8(v) : cm7::clamp8(v, lo, hi));
  }
}

template <unsigned N>
void rows(const agn_layer& l, const cm7::Layer& p, const cm7::Channel* ch, const uint32_t* weights,
          const uint32_t* x, int8_t* out_row) {
  const unsigned n = (l.in_channels + 1u) / 2u, out_channels = l.out_channels, width = l.out_width;
  // N = 2: the assembly's case (agn_conv_pw_s8_cm7's dispatch); everything else clamps to the
  // layer's range, whatever it is (one C instance, flash).
  for (unsigned c = 0; c < out_channels; ++c) {
    channel_row<N, N == 2>(x, weights + c * n, ch[c], width, n, out_channels, l.act_min, l.act_max,
                           N == 2 ? 0 : p.sign_mask, out_row + c);
  }
}

}  // namespace

extern "C" void agn_conv_pw_s8_cm7(const agn_layer* l, const void* state, const int8_t* const* in_rows,
                                   int8_t* out_row) {
  const cm7::State& s = cm7::state_of(state);
  const cm7::Layer& p = s.layer[cm7::layer_index(s, l)];
  const unsigned n = (l->in_channels + 1u) / 2u;
  if (!p.fast || size_t{n} * l->out_width > cm7::kMaxPackedWords) {
    agn_conv_s8_ref(l, nullptr, in_rows, out_row);
    return;
  }
  const cm7::Channel* ch = cm7::at<cm7::Channel>(state, p.channels);
  const uint32_t* weights = cm7::at<uint32_t>(state, p.weights);
  uint32_t packed[cm7::kMaxPackedWords];
  const uint32_t* x = reinterpret_cast<const uint32_t*>(in_rows[0]);  // packed by the depthwise layer
  if (!p.packed_in) {
    cm7::pack_row(in_rows[0], l->out_width, l->in_channels, packed);
    x = packed;
  }
  if (n == 2 && p.full_range && p.sign_mask == 0) {
    rows<2>(*l, p, ch, weights, x, out_row);
  } else {
    rows<0>(*l, p, ch, weights, x, out_row);
  }
}
