// Internals of the Cortex-M7 kernels (kernels.h: agn_kernels_cm7): the DSP-extension operations
// they use, the exact fast requantisation, and the state prepare() lays out in the arena.
//
// Fast requantisation (exactly agn_requantize of requant.h, given the bounds below):
//   SaturatingRoundingDoublingHighMul(x, M) = floor((x * M + 2^30) / 2^31) for M >= 0 (the
//   nudge makes ties go toward +infinity for both signs), and that is floor((2x * M + 2^31) / 2^32),
//   one SMMULR of 2x. RoundingDivideByPOT(y, e) = (y + 2^(e-1) - (y < 0)) >> e for e >= 1 (halves
//   away from zero), and adding the output zero point before the shift as zp * 2^e is exact. So
//   with the accumulator pre-scaled by 2^p (p = max(s, 0) + 1; prepare() scales the folded bias
//   and the packed weights, so the kernels accumulate the scaled value directly):
//   out = clamp((y + offset + (y >> 31)) >> e), y = SMMULR(acc << p, M), offset = 2^(e-1) + zp * 2^e.
//   y + offset is one SMMLAR, and y < 0 may be replaced by acc < 0: M >= 0, so y has acc's sign
//   or is 0, and for y = 0 the extra -1 does not change (offset - 1) >> e = zp (e >= 1).
//   Valid while |acc| * 2^p < 2^31 (no saturation in acc * 2^s, no overflow in the doubling), the
//   scaled weights fit 16 bits (p <= 8) and 1 <= e <= 22 (a right shift; the offset fits):
//   prepare() checks the shifts and bounds |acc| per output channel from the bias, the weights and
//   the input tensor's clamp, and a layer with a channel outside those bounds runs the reference
//   kernel.
#ifndef AGILENN_DEVICE_KERNELS_CM7_CM7_KERNELS_H
#define AGILENN_DEVICE_KERNELS_CM7_CM7_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "device/kernels/kernels.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

namespace agilenn::device::cm7 {

// lo(a) * lo(b) + hi(a) * hi(b) on signed 16-bit halves (SMUAD).
inline int32_t smuad(uint32_t a, uint32_t b) {
#if defined(__ARM_FEATURE_DSP)
  return __smuad(a, b);
#else
  return static_cast<int32_t>(static_cast<uint32_t>(int32_t{static_cast<int16_t>(a)} * static_cast<int16_t>(b)) +
                              static_cast<uint32_t>(int32_t{static_cast<int16_t>(a >> 16)} *
                                                    static_cast<int16_t>(b >> 16)));
#endif
}

// acc + lo(a) * lo(b) + hi(a) * hi(b) on signed 16-bit halves (SMLAD).
inline int32_t smlad(uint32_t a, uint32_t b, int32_t acc) {
#if defined(__ARM_FEATURE_DSP)
  return __smlad(a, b, acc);
#else
  return static_cast<int32_t>(static_cast<uint32_t>(acc) + static_cast<uint32_t>(smuad(a, b)));
#endif
}

// (a * b + 2^31) >> 32 in 64 bits (SMMULR).
inline int32_t smmulr(int32_t a, int32_t b) {
#if defined(__ARM_FEATURE_DSP)
  int32_t r;
  __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
  return r;
#else
  return static_cast<int32_t>((static_cast<int64_t>(a) * b + (int64_t{1} << 31)) >> 32);
#endif
}

// add + (a * b + 2^31) >> 32 in 64 bits (SMMLAR).
inline int32_t smmlar(int32_t a, int32_t b, int32_t add) {
#if defined(__ARM_FEATURE_DSP)
  int32_t r;
  __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(add));
  return r;
#else
  return add + smmulr(a, b);
#endif
}

// Two signed 16-bit values in one word, lo in bits 0..15 (PKHBT).
inline uint32_t pack16(int32_t lo, int32_t hi) {
#if defined(__ARM_FEATURE_DSP)
  uint32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
  return r;
#else
  return (static_cast<uint32_t>(lo) & 0xFFFFu) | (static_cast<uint32_t>(hi) << 16);
#endif
}

// Per output channel: bias with the input zero point folded in (bias - zp_in * sum of weights,
// over the whole window) and the fast requantisation parameters.
struct Channel {
  int32_t bias;        // (bias - zp_in * sum of weights) * 2^pre_shift
  int32_t multiplier;
  int32_t pre_shift;   // max(s, 0) + 1
  int32_t post_shift;  // e = -s
  int32_t offset;      // 2^(e - 1) + zp_out * 2^e
};

// zp_out + the requantised value of the scaled accumulator `acc` (acc * 2^pre_shift), unclamped.
inline int32_t requantize(int32_t acc, const Channel& c) {
  return (smmlar(acc, c.multiplier, c.offset) + (acc >> 31)) >> c.post_shift;
}
// The same with the sign correction masked: `sign_mask` is -1 (requantize) or 0 (the correction
// left out). Leaving it out is exact for a layer whose clamp starts at or above its output zero
// point (Layer::sign_mask): the correction only acts for acc < 0, where y = SMMULR(acc, M) <= 0
// (M >= 0), so both (y + offset + (acc >> 31)) >> e and (y + offset) >> e are <= zp_out
// (offset = 2^(e-1) + zp_out * 2^e, e >= 1), and the clamp (SSAT then act_min, or the symbol
// table with the clamp folded in) maps every value <= zp_out <= act_min to act_min. One
// instruction less per output in the pointwise loops (ReLU layers: pw1 and pw2 of AgileNN).
inline int32_t requantize(int32_t acc, const Channel& c, int32_t sign_mask) {
  return (smmlar(acc, c.multiplier, c.offset) + ((acc >> 31) & sign_mask)) >> c.post_shift;
}
// A raw (unscaled) accumulator.
inline int32_t scale(int32_t acc, const Channel& c) {
  return static_cast<int32_t>(static_cast<uint32_t>(acc) << c.pre_shift);
}

inline int8_t clamp8(int32_t v, int32_t lo, int32_t hi) {
  v = v < lo ? lo : v;
  return static_cast<int8_t>(v > hi ? hi : v);
}
// Saturation to [-128, 127] (SSAT), for layers whose clamp is the whole int8 range.
inline int32_t ssat8(int32_t v) {
#if defined(__ARM_FEATURE_DSP)
  return __ssat(v, 8);
#else
  return v < -128 ? -128 : v > 127 ? 127 : v;
#endif
}

// Packed rows: the pointwise kernels read a row as signed 16-bit pairs, n = ceil(C / 2) words per
// pixel, word j holding channels 2j (low half) and 2j + 1 (high half); with an odd count the last
// channel is in the low half of the last word and the high half is not used (the packed weights
// have 0 there, prepare()). So channel c of pixel x is the halfword 2n * x + c. A depthwise layer
// that feeds a pointwise one writes its rows packed (Layer::packed_out); otherwise the pointwise
// kernel packs its int8 input row itself (pack_row).
inline void pack_pixel(const int8_t* pixel, unsigned channels, uint32_t* pairs) {
  unsigned j = 0;
  for (; 2 * j + 1 < channels; ++j) pairs[j] = pack16(pixel[2 * j], pixel[2 * j + 1]);
  if (channels & 1u) pairs[j] = pack16(pixel[2 * j], 0);
}

// Packs a row of `width` pixels, pack_pixel's layout. Not on the hot path: the default
// extractor's pointwise layers read rows their depthwise layer wrote packed.
inline void pack_row(const int8_t* row, unsigned width, unsigned in_channels, uint32_t* x) {
  const unsigned n = (in_channels + 1) / 2;
  for (unsigned px = 0; px < width; ++px) pack_pixel(row + px * in_channels, in_channels, x + px * n);
}

// Accumulator of output channel `c` for a packed pixel; N > 0 is the pair count known at
// compile time (0: `n` at run time).
template <unsigned N>
inline int32_t dot(const uint32_t* x, const uint32_t* w, int32_t acc, unsigned n) {
  const unsigned count = N > 0 ? N : n;
  for (unsigned j = 0; j < count; ++j) acc = smlad(x[j], w[j], acc);
  return acc;
}

// The inline-assembly pointwise loops (two input pairs per pixel, two pixels per iteration; the
// pointwise kernel and the fused last layer share them). Operands: %[x] the packed row (advanced
// by two pixels), %[w0], %[w1] the channel's packed weights, %[bias], %[m], %[off], %[e] its
// Channel fields, scratch %[a0], %[a1], %[a2].
// The two pixels' accumulators (dot<2> with the bias): pixel 0 in a0, pixel 1 in a1.
#define AGN_CM7_PW_ACCUMULATE_TWO_PIXELS          \
  "ldrd %[a0], %[a1], [%[x]], #16\n\t"            \
  "smlad %[a0], %[a0], %[w0], %[bias]\n\t"        \
  "smlad %[a0], %[a1], %[w1], %[a0]\n\t"          \
  "ldrd %[a1], %[a2], [%[x], #-8]\n\t"            \
  "smlad %[a1], %[a1], %[w0], %[bias]\n\t"        \
  "smlad %[a1], %[a2], %[w1], %[a1]\n\t"
// dst = requantize(acc, c, 0) (dst and acc name operands; dst != acc): the loops run only for
// layers whose sign_mask is 0.
#define AGN_CM7_PW_REQUANTIZE(dst, acc)                    \
  "smmlar %[" dst "], %[" acc "], %[m], %[off]\n\t"        \
  "asr %[" dst "], %[" dst "], %[e]\n\t"
// dst = ssat8(requantize(acc, c, 0)).
#define AGN_CM7_PW_REQUANTIZE_SSAT8(dst, acc) \
  AGN_CM7_PW_REQUANTIZE(dst, acc)             \
  "ssat %[" dst "], #8, %[" dst "]\n\t"

// A 3x3 depthwise channel as its row loops read it, scaled by 2^pre_shift: rows 0 and 1 of column
// kx packed (row 0 low); the folded bias; the padding columns' taps times the input zero point,
// `left` (column -1, the bias included) and `right` (column `width`); row 2's columns 0 and 1, and
// 1 and 2, packed (the lower column low). The row kernel's target loops read it by offset
// (conv_dw_s8_cm7.cpp checks them).
struct Depthwise3 {
  uint32_t rows01[3];
  int32_t bias;
  int32_t left;
  int32_t right;
  uint32_t row2_01;
  uint32_t row2_12;
};

// Sets d.left and d.right from the weights, the bias and the input zero point zp.
inline void set_padding_taps(Depthwise3& d, int32_t zp) {
  const uint32_t pad = pack16(zp, zp);
  d.left = smlad(pad, d.rows01[0], d.bias) + zp * static_cast<int16_t>(d.row2_01);
  d.right = smuad(pad, d.rows01[2]) + zp * static_cast<int16_t>(d.row2_12 >> 16);
}

struct Layer {
  uint32_t fast;         // every channel within the fast requantisation's bounds
  uint32_t full_range;   // the clamp is [-128, 127]
  int32_t sign_mask;     // 0 where act_min >= the output zero point (requantize's sign correction
                         // changes nothing), else -1
  uint32_t channels;     // byte offset of Channel[out_channels] in the state
  uint32_t weights;      // pointwise: byte offset of uint32 pairs [out][ceil(in / 2)], scaled;
                         // depthwise 3x3: Depthwise3[channels]
  uint32_t weight_sums;  // depthwise: byte offset of int32 [kernel][channels], sums over kx, scaled
  // A depthwise 3x3 layer on the row path whose successor is a fast pointwise layer: it writes its
  // rows packed (packed_out) and the pointwise layer reads them as they are (packed_in). Their
  // ring rows are ring_row_bytes long.
  uint32_t packed_out;
  uint32_t packed_in;
};

// The whole state (kernels.h: state_size/prepare), followed by the arrays the offsets name.
struct State {
  const agn_layer* layers;  // model->layers: a kernel finds its index from its layer pointer
  uint32_t layer_count;
  Layer layer[AGN_MODEL_MAX_LAYERS];
  uint32_t fused;          // the last layer is pointwise and fast: last_split fuses it
  uint8_t symbol_of[256];  // symbol of the int8 value v, clamped like the last layer, at v + 128
  // The same for every unsaturated value v = requantize(acc, c, 0) the fused kernel's remote
  // channels can produce (bounded at init from the input clamp, the folded bias and the weights),
  // v in [wide_lo, wide_lo + wide_count): symbol_of[ssat8(v)] at byte offset wide_symbols +
  // v - wide_lo, so that the remote loop needs no SSAT. wide_count = 0: no such table (the range is
  // wider than kMaxWideSymbols, or the last layer is not pointwise).
  uint32_t wide_symbols;
  int32_t wide_lo;
  uint32_t wide_count;
  // The fused kernel's remote channels (the last layer's channels k .. C - 1, numbered from 0):
  // byte offset of uint16 remote_order[C - k], the `remote_live` channels it computes first, then
  // the constant ones, whose symbol is the same for every input image (prepare bounds each
  // channel's accumulator over the last layer's input clamp; state_cm7.cpp, remote_channels);
  // and of uint8 remote_fill[C - k], a constant channel's symbol in both nibbles of a byte. The
  // fused kernel never writes a constant channel's plane: agn_cm7_constant_planes fills it once,
  // at init.
  uint32_t remote_order;
  uint32_t remote_fill;
  uint32_t remote_live;
};

constexpr int32_t kMaxWideSymbols = 2048;
constexpr unsigned kMaxPackedWords = 128;  // a packed row, width * ceil(in_channels / 2) words
constexpr int kMaxRowWidth = 64;           // the depthwise 3x3 row path's row of accumulators

inline const State& state_of(const void* state) { return *static_cast<const State*>(state); }
template <typename T>
const T* at(const void* state, uint32_t offset) {
  return reinterpret_cast<const T*>(static_cast<const uint8_t*>(state) + offset);
}
inline unsigned layer_index(const State& s, const agn_layer* layer) { return static_cast<unsigned>(layer - s.layers); }

}  // namespace agilenn::device::cm7

extern "C" {
size_t agn_cm7_state_size(const agn_model* model);
void agn_cm7_prepare(const agn_model* model, void* state);
size_t agn_cm7_ring_row_bytes(const agn_layer* layer);
uint64_t agn_cm7_constant_planes(const agn_model* model, const void* state, uint8_t* symbols);
void agn_conv_dw_s8_cm7(const agn_layer* layer, const void* state, const int8_t* const* in_rows, int8_t* out_row);
void agn_conv_pw_s8_cm7(const agn_layer* layer, const void* state, const int8_t* const* in_rows, int8_t* out_row);
void agn_split_row_s8_cm7(const agn_model* model, const void* state, const int8_t* row, unsigned row_index,
                          int32_t* pool_sums, uint8_t* symbols);
void agn_last_split_s8_cm7(const agn_model* model, const void* state, const int8_t* const* in_rows,
                           unsigned row_index, int8_t* scratch_row, int32_t* pool_sums, uint8_t* symbols);
}

#endif  // AGILENN_DEVICE_KERNELS_CM7_CM7_KERNELS_H
