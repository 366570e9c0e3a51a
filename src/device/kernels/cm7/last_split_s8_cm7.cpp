// The last (pointwise) layer fused with the split, for the Cortex-M7. The row's pixels as 16-bit
// pairs (packed by the depthwise layer before, or here); then channel by channel, so that a
// channel's packed weights and requantisation parameters stay in registers across the row, and
// nothing of the feature map is stored:
//   - the k local channels are requantised (fast, exact) and summed for the pooling on the fly;
//   - a remote channel's requantised value indexes a symbol table with the layer's clamp folded
//     in: on the assembly path the unsaturated value indexes the wide table (State::wide_symbols:
//     SMMLAR, ASR and one load after the accumulator), elsewhere the value saturated to int8
//     indexes the 256-entry one. That is fewer instructions per symbol on the Cortex-M7 than
//     comparing the accumulator with per-channel thresholds (a 3-level comparison tree for 8
//     levels costs 3 compares, 3 branches and the leaf's moves), and it works for any level
//     count;
//   - a remote channel whose symbol is the same for every input (prepare proves it from the
//     accumulator's bounds: the dead channels a rate-trained model has many of) is not computed:
//     its plane is filled with that symbol once, at init (agn_cm7_constant_planes), and the
//     encoder is told which planes are all zero.
#include <stddef.h>
#include <string.h>

#include "codec/symbol_map.h"
#include "device/kernels/cm7/cm7_kernels.h"

namespace cm7 = agilenn::device::cm7;

namespace {

constexpr unsigned kMaxLocal = 64;

// Adds to pool_sums[j] the sum over the row of the clamped requantised values of local channel
// j (packed weights w + j * n, parameters ch[j]) minus `pool_offset`, for j < count. One call for
// all of them, so that the per-channel set-up is a few loads, not a call (the loops are not
// inlined, so that they get every register).
template <unsigned N, bool FullRange>
__attribute__((noinline)) void local_sums(const uint32_t* x, const uint32_t* w, const cm7::Channel* ch,
                                          unsigned count, unsigned width, unsigned n, int32_t lo, int32_t hi,
                                          int32_t sign_mask, int32_t pool_offset, int32_t* pool_sums) {
  const unsigned step = N > 0 ? N : n;
#if defined(__ARM_FEATURE_DSP)
  if (N == 2) {
    // The C loop below for N = 2, the full range, sign_mask = 0 and an even width
    // (agn_last_split_s8_cm7's dispatch), written out: per channel its weights and parameters in
    // registers, then four pixels per iteration (two entered in the middle for an odd pair
    // count): 14 instructions per two pixels (2 LDRD, 4 SMLAD, per pixel SMMLAR, ASR, SSAT, ADD)
    // and the loop test once per four. The frame's address is kept at [sp].
    struct Frame {
      const uint32_t* x;
      const uint32_t* w;
      const cm7::Channel* ch;
      int32_t* sums;
      uint32_t bytes;  // 8 * width: the packed row's size
      int32_t pool_offset;
      uint32_t channels_left;
    };
    static_assert(offsetof(Frame, w) == 4 && offsetof(Frame, sums) == 12 && offsetof(Frame, pool_offset) == 20 &&
                      offsetof(Frame, channels_left) == 24,
                  "the frame's offsets in the assembly");
    static_assert(offsetof(cm7::Channel, multiplier) == 4 && offsetof(cm7::Channel, post_shift) == 12 &&
                      offsetof(cm7::Channel, offset) == 16 && sizeof(cm7::Channel) == 20,
                  "the requantisation parameters' offsets in the assembly");
    if (width > 0 && count > 0) {
      Frame frame = {x, w, ch, pool_sums, 8 * width, pool_offset, count};
      Frame* f = &frame;
      uint32_t px, w0, w1, bias, m, off, e, end, sum, a0, a1;
      __asm__ volatile(
          "str %[a2], [sp, #-8]!\n\t"
          "0:\n\t"  // channel set-up
          "ldrd %[a0], %[a1], [%[a2], #4]\n\t"
          "ldrd %[w0], %[w1], [%[a0]], #8\n\t"
          "ldrd %[bias], %[m], [%[a1]]\n\t"
          "ldr %[e], [%[a1], #12]\n\t"
          "ldr %[off], [%[a1], #16]\n\t"
          "adds %[a1], %[a1], #20\n\t"
          "strd %[a0], %[a1], [%[a2], #4]\n\t"
          "ldr %[x], [%[a2]]\n\t"
          "ldr %[a0], [%[a2], #16]\n\t"
          "movs %[sum], #0\n\t"
          "adds %[end], %[x], %[a0]\n\t"
          "lsrs %[a0], %[a0], #4\n\t"  // pairs
          "lsrs %[a0], %[a0], #1\n\t"
          "bcs 2f\n\t"
          "1:\n\t"
          AGN_CM7_PW_ACCUMULATE_TWO_PIXELS
          AGN_CM7_PW_REQUANTIZE_SSAT8("a2", "a0")
          "add %[sum], %[sum], %[a2]\n\t"
          AGN_CM7_PW_REQUANTIZE_SSAT8("a2", "a1")
          "add %[sum], %[sum], %[a2]\n\t"
          "2:\n\t"
          AGN_CM7_PW_ACCUMULATE_TWO_PIXELS
          AGN_CM7_PW_REQUANTIZE_SSAT8("a2", "a0")
          "add %[sum], %[sum], %[a2]\n\t"
          AGN_CM7_PW_REQUANTIZE_SSAT8("a2", "a1")
          "add %[sum], %[sum], %[a2]\n\t"
          "cmp %[x], %[end]\n\t"
          "bne 1b\n\t"
          "ldr %[a2], [sp]\n\t"
          "ldr %[a0], [%[a2], #12]\n\t"
          "ldr %[a1], [%[a0]]\n\t"
          "add %[a1], %[a1], %[sum]\n\t"
          "ldr %[sum], [%[a2], #20]\n\t"
          "subs %[a1], %[a1], %[sum]\n\t"
          "str %[a1], [%[a0]], #4\n\t"
          "str %[a0], [%[a2], #12]\n\t"
          "ldr %[a0], [%[a2], #24]\n\t"
          "subs %[a0], %[a0], #1\n\t"
          "str %[a0], [%[a2], #24]\n\t"
          "bne 0b\n\t"
          "add sp, sp, #8"
          : [a2] "+r"(f), [x] "=&r"(px), [w0] "=&r"(w0), [w1] "=&r"(w1), [bias] "=&r"(bias), [m] "=&r"(m),
            [off] "=&r"(off), [e] "=&r"(e), [end] "=&r"(end), [sum] "=&r"(sum), [a0] "=&r"(a0), [a1] "=&r"(a1)
          :
          : "cc", "memory");
    }
    return;
  }
#endif
  for (unsigned j = 0; j < count; ++j) {
    const cm7::Channel c = ch[j];
    const uint32_t* wj = w + j * step;
    int32_t sum = 0;
    for (const uint32_t* px = x, *end = x + width * step; px != end; px += step) {
      const int32_t v = cm7::requantize(cm7::dot<N>(px, wj, c.bias, step), c, sign_mask);
      sum += FullRange ? cm7::ssat8(v) : cm7::clamp8(v, lo, hi);
    }
    pool_sums[j] += sum - pool_offset;
  }
}

// Symbols of the remote channels order[0 .. count) over the row: channel j (packed weights
// w + j * n, parameters ch[j]) into out + j * plane, its symbol map row (two per byte, the even
// column in the low nibble); symbol_of[v] (v in [-128, 127]) is the symbol of the clamped value,
// or, where `wide` is not null, wide[v - wide_lo] that of the unsaturated value v
// (State::wide_symbols). One call for all of them, so that the per-channel set-up is a few loads,
// not a call.
template <unsigned N>
__attribute__((noinline)) void remote_rows(const uint32_t* x, const uint32_t* w, const cm7::Channel* ch,
                                           const uint16_t* order, unsigned count, const uint8_t* symbol_of,
                                           const uint8_t* wide, int32_t wide_lo, unsigned width, unsigned n,
                                           int32_t sign_mask, uint8_t* out, size_t plane) {
  const unsigned step = N > 0 ? N : n;
  const unsigned pairs = width / 2;
#if defined(__ARM_FEATURE_DSP)
  if (N == 2) {
    // The C loop below for N = 2, sign_mask = 0, an even width and the wide table
    // (agn_last_split_s8_cm7's dispatch), written out: per channel its weights and parameters in
    // registers, then two bytes (four pixels) per iteration, entered in the middle for an odd byte
    // count: 14 instructions per byte (2 LDRD, 4 SMLAD, per pixel SMMLAR, ASR and the wide table's
    // LDRB, ORR, STRB) and the loop test once per two.
    // The frame's address is kept at [sp] while the loops use every other register.
    struct Frame {
      const uint32_t* x;
      const uint32_t* w;
      const cm7::Channel* ch;
      uint8_t* out;
      uint32_t plane;
      uint32_t pairs;
      uint32_t channels_left;
      const uint16_t* order;
    };
    static_assert(offsetof(Frame, w) == 4 && offsetof(Frame, out) == 12 && offsetof(Frame, pairs) == 20 &&
                      offsetof(Frame, channels_left) == 24 && offsetof(Frame, order) == 28,
                  "the frame's offsets in the assembly");
    static_assert(offsetof(cm7::Channel, multiplier) == 4 && offsetof(cm7::Channel, post_shift) == 12 &&
                      offsetof(cm7::Channel, offset) == 16 && sizeof(cm7::Channel) == 20,
                  "the requantisation parameters' offsets in the assembly");
    if (pairs > 0 && count > 0) {
      Frame frame = {x, w, ch, out, static_cast<uint32_t>(plane), pairs, count, order};
      Frame* f = &frame;
      uint32_t px, o, w0, w1, bias, m, off, e, end, a0, a1;
      __asm__ volatile(
          "str %[a2], [sp, #-8]!\n\t"
          "0:\n\t"  // channel set-up: j = *order++
          "ldr %[a1], [%[a2], #28]\n\t"
          "ldrh %[a0], [%[a1]], #2\n\t"
          "str %[a1], [%[a2], #28]\n\t"
          "ldrd %[bias], %[m], [%[a2], #4]\n\t"
          "add %[bias], %[bias], %[a0], lsl #3\n\t"  // w + 2 * j
          "ldrd %[w0], %[w1], [%[bias]]\n\t"
          "add %[a1], %[a0], %[a0], lsl #2\n\t"
          "add %[a1], %[m], %[a1], lsl #2\n\t"  // ch + j
          "ldrd %[bias], %[m], [%[a1]]\n\t"
          "ldr %[e], [%[a1], #12]\n\t"
          "ldr %[off], [%[a1], #16]\n\t"
          "ldrd %[o], %[a1], [%[a2], #12]\n\t"
          "mla %[o], %[a0], %[a1], %[o]\n\t"  // out + j * plane
          "ldr %[a0], [%[a2], #20]\n\t"
          "ldr %[x], [%[a2]]\n\t"
          "adds %[end], %[o], %[a0]\n\t"
          "lsrs %[a0], %[a0], #1\n\t"
          "bcs 2f\n\t"
          "1:\n\t"
          AGN_CM7_PW_ACCUMULATE_TWO_PIXELS
          AGN_CM7_PW_REQUANTIZE("a2", "a0")
          "ldrb %[a2], [%[tab], %[a2]]\n\t"
          AGN_CM7_PW_REQUANTIZE("a0", "a1")
          "ldrb %[a0], [%[tab], %[a0]]\n\t"
          "orr %[a2], %[a2], %[a0], lsl #4\n\t"
          "strb %[a2], [%[o]], #1\n\t"
          "2:\n\t"
          AGN_CM7_PW_ACCUMULATE_TWO_PIXELS
          AGN_CM7_PW_REQUANTIZE("a2", "a0")
          "ldrb %[a2], [%[tab], %[a2]]\n\t"
          AGN_CM7_PW_REQUANTIZE("a0", "a1")
          "ldrb %[a0], [%[tab], %[a0]]\n\t"
          "orr %[a2], %[a2], %[a0], lsl #4\n\t"
          "strb %[a2], [%[o]], #1\n\t"
          "cmp %[o], %[end]\n\t"
          "bne 1b\n\t"
          "ldr %[a2], [sp]\n\t"
          "ldr %[a0], [%[a2], #24]\n\t"
          "subs %[a0], %[a0], #1\n\t"
          "str %[a0], [%[a2], #24]\n\t"
          "bne 0b\n\t"
          "add sp, sp, #8"
          : [a2] "+r"(f), [x] "=&r"(px), [o] "=&r"(o), [w0] "=&r"(w0), [w1] "=&r"(w1), [bias] "=&r"(bias),
            [m] "=&r"(m), [off] "=&r"(off), [e] "=&r"(e), [end] "=&r"(end), [a0] "=&r"(a0), [a1] "=&r"(a1)
          : [tab] "r"(reinterpret_cast<uintptr_t>(wide) - static_cast<uintptr_t>(wide_lo))  // entry of v = 0
          : "cc", "memory");
    }
    return;
  }
#endif
  auto symbol = [&](const uint32_t* px, const uint32_t* wj, const cm7::Channel& c) -> unsigned {
    const int32_t v = cm7::requantize(cm7::dot<N>(px, wj, c.bias, step), c, sign_mask);
    return wide != nullptr ? wide[v - wide_lo] : symbol_of[cm7::ssat8(v)];
  };
  for (unsigned i = 0; i < count; ++i) {
    const unsigned j = order[i];
    const cm7::Channel c = ch[j];
    const uint32_t* wj = w + j * step;
    const uint32_t* px = x;
    uint8_t* o = out + j * plane;
    for (unsigned b = 0; b < pairs; ++b, px += 2 * step) {
      *o++ = static_cast<uint8_t>(symbol(px, wj, c) | symbol(px + step, wj, c) << 4);
    }
    if (width & 1u) *o = static_cast<uint8_t>(symbol(px, wj, c));
  }
}

template <unsigned N>
void fused_row(const agn_model& m, const cm7::State& s, const void* state, const int8_t* row, unsigned row_index,
               int32_t* pool_sums, uint8_t* symbols) {
  const agn_layer& l = m.layers[m.layer_count - 1];
  const cm7::Layer& p = s.layer[m.layer_count - 1];
  const cm7::Channel* ch = cm7::at<cm7::Channel>(state, p.channels);
  const uint32_t* weights = cm7::at<uint32_t>(state, p.weights);
  const unsigned k = m.k, n = (l.in_channels + 1) / 2;
  const unsigned width = m.feature_width;
  const size_t row_bytes = agn_symbol_row_bytes(width);
  const size_t plane = size_t{m.feature_height} * row_bytes;
  uint32_t packed[cm7::kMaxPackedWords];
  const uint32_t* x = reinterpret_cast<const uint32_t*>(row);  // packed by the depthwise layer
  if (!p.packed_in) {
    cm7::pack_row(row, width, l.in_channels, packed);
    x = packed;
  }
  const int32_t pool_offset = static_cast<int32_t>(width) * m.local.in_zero_point;
  // N = 2 only for the full range and sign_mask 0 (agn_last_split_s8_cm7's dispatch); the other
  // case clamps to the layer's range, whatever it is (one C instance, flash).
  local_sums<N, N == 2>(x, weights, ch, k, width, n, l.act_min, l.act_max, N == 2 ? 0 : p.sign_mask, pool_offset,
                        pool_sums);
  const uint16_t* order = cm7::at<uint16_t>(state, s.remote_order);
  const uint8_t* wide = N == 2 ? static_cast<const uint8_t*>(state) + s.wide_symbols : nullptr;
  remote_rows<N>(x, weights + k * n, ch + k, order, s.remote_live, s.symbol_of + 128, wide, s.wide_lo, width, n,
                 N == 2 ? 0 : p.sign_mask, symbols + size_t{row_index} * row_bytes, plane);
}

}  // namespace

extern "C" void agn_last_split_s8_cm7(const agn_model* m, const void* state, const int8_t* const* in_rows,
                                      unsigned row_index, int8_t* scratch_row, int32_t* pool_sums,
                                      uint8_t* symbols) {
  const cm7::State& s = cm7::state_of(state);
  const agn_layer& l = m->layers[m->layer_count - 1];
  const unsigned n = (l.in_channels + 1u) / 2u;
  if (!s.fused || size_t{n} * m->feature_width > cm7::kMaxPackedWords || m->k > kMaxLocal) {
    agn_kernel_for_op(&agn_kernels_cm7_unfused, l.op)(&l, state, in_rows, scratch_row);
    agn_split_row_s8_cm7(m, state, scratch_row, row_index, pool_sums, symbols);
    return;
  }
  const cm7::Layer& p = s.layer[m->layer_count - 1];
  // The assembly loops' conditions.
  if (n == 2 && p.full_range && p.sign_mask == 0 && !(m->feature_width & 1u) && (s.wide_count > 0 || s.remote_live == 0)) {
    fused_row<2>(*m, s, state, in_rows[0], row_index, pool_sums, symbols);
  } else {
    fused_row<0>(*m, s, state, in_rows[0], row_index, pool_sums, symbols);
  }
}

// The planes of the constant remote channels (State::remote_order after remote_live), each its
// symbol byte (State::remote_fill) throughout; once, at init (cold: optimised for size).
extern "C" __attribute__((cold)) uint64_t agn_cm7_constant_planes(const agn_model* m, const void* state,
                                                                  uint8_t* symbols) {
  const cm7::State& s = cm7::state_of(state);
  if (!s.fused) return 0;  // the unfused kernels write every plane
  const uint16_t* order = cm7::at<uint16_t>(state, s.remote_order);
  const uint8_t* fill = cm7::at<uint8_t>(state, s.remote_fill);
  const size_t plane = size_t{m->feature_height} * agn_symbol_row_bytes(m->feature_width);
  const unsigned remote = m->layers[m->layer_count - 1].out_channels - unsigned{m->k};
  uint64_t zero = 0;
  for (unsigned i = s.remote_live; i < remote; ++i) {
    const unsigned j = order[i];
    memset(symbols + j * plane, fill[j], plane);
    if (fill[j] == 0 && j < 64) zero |= uint64_t{1} << j;
  }
  return zero;
}
