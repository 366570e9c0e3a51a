// Internals of the Cortex-M7 kernels (kernels.h: agn_kernels_cm7): the DSP-extension operations
// they use, the exact fast requantisation, and the state prepare() lays out in the arena.
//
// Fast requantisation (exactly agn_requantize of requant.h, given the accumulator bound below):
//   SaturatingRoundingDoublingHighMul(x, M) = floor((x * M + 2^30) / 2^31) for M >= 0 (the
//   nudge makes ties go toward +infinity for both signs), and that is floor((2x * M + 2^31) / 2^32),
//   one SMMULR of 2x. RoundingDivideByPOT(y, e) = (y + 2^(e-1) - (y < 0)) >> e for e >= 1 (halves
//   away from zero) and y for e = 0. So acc -> (SMMULR(acc << (max(s, 0) + 1), M) + round
//   + (sign(y) & neg_mask)) >> max(-s, 0). Valid while |acc| * 2^(max(s, 0) + 1) < 2^31 (no
//   saturation in acc * 2^s, no overflow in the doubling): prepare() bounds |acc| per output channel
//   from the bias, the weights and the input tensor's clamp, and a layer with a channel outside
//   that bound runs the reference kernel.
#ifndef AGILENN_DEVICE_KERNELS_CM7_CM7_KERNELS_H
#define AGILENN_DEVICE_KERNELS_CM7_CM7_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "device/kernels/kernels.h"

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#endif

namespace agilenn::device::cm7 {

// acc + lo(a) * lo(b) + hi(a) * hi(b) on signed 16-bit halves (SMLAD).
inline int32_t smlad(uint32_t a, uint32_t b, int32_t acc) {
#if defined(__ARM_FEATURE_DSP)
  return __smlad(a, b, acc);
#else
  return acc + int32_t{static_cast<int16_t>(a)} * static_cast<int16_t>(b) +
         int32_t{static_cast<int16_t>(a >> 16)} * static_cast<int16_t>(b >> 16);
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

// Two signed 16-bit values in one word, lo in bits 0..15 (PKHBT).
inline uint32_t pack16(int32_t lo, int32_t hi) {
  return (static_cast<uint32_t>(lo) & 0xFFFFu) | (static_cast<uint32_t>(hi) << 16);
}

// Per output channel: bias with the input zero point folded in (bias - zp_in * sum of weights,
// over the whole window) and the fast requantisation parameters.
struct Channel {
  int32_t bias;
  int32_t multiplier;
  int32_t pre_shift;   // max(s, 0) + 1
  int32_t post_shift;  // max(-s, 0)
  int32_t round;       // 2^(post_shift - 1), or 0
  int32_t neg_mask;    // -1 if post_shift > 0, else 0
};

inline int32_t requantize(int32_t acc, const Channel& c) {
  const int32_t y = smmulr(static_cast<int32_t>(static_cast<uint32_t>(acc) << c.pre_shift), c.multiplier);
  return (y + c.round + ((y >> 31) & c.neg_mask)) >> c.post_shift;
}

inline int8_t clamp8(int32_t v, int32_t lo, int32_t hi) {
  return static_cast<int8_t>(v < lo ? lo : v > hi ? hi : v);
}

// Packs pixel[0..channels) into pairs[0..ceil(channels / 2)) (odd count: high half 0).
inline void pack_pixel(const int8_t* pixel, unsigned channels, uint32_t* pairs) {
  unsigned j = 0;
  for (; 2 * j + 1 < channels; ++j) pairs[j] = pack16(pixel[2 * j], pixel[2 * j + 1]);
  if (channels & 1u) pairs[j] = pack16(pixel[2 * j], 0);
}

// Accumulator of output channel `c` for a packed pixel; N > 0 is the pair count known at
// compile time (0: `n` at run time).
template <unsigned N>
inline int32_t dot(const uint32_t* x, const uint32_t* w, int32_t acc, unsigned n) {
  const unsigned count = N > 0 ? N : n;
  for (unsigned j = 0; j < count; ++j) acc = smlad(x[j], w[j], acc);
  return acc;
}

struct Layer {
  uint32_t fast;         // every channel within the fast requantisation's bound
  uint32_t channels;     // byte offset of Channel[out_channels] in the state
  uint32_t weights;      // pointwise: byte offset of uint32 pairs [out][ceil(in / 2)]
  uint32_t weight_sums;  // depthwise: byte offset of int32 [kernel][channels], sums over kx
};

// The whole state (kernels.h: state_size/prepare), followed by the arrays the offsets name.
struct State {
  const agn_layer* layers;  // model->layers: a kernel finds its index from its layer pointer
  uint32_t layer_count;
  Layer layer[AGN_MODEL_MAX_LAYERS];
  uint32_t fused;            // the last layer is pointwise and fast: last_split fuses it
  uint32_t thresholds;       // byte offset of int32 [C - k][1 << threshold_steps]
  uint32_t threshold_steps;  // binary-search steps: 2^steps >= levels
  uint8_t symbol_of[256];    // symbol of the int8 value v at v + 128 (unfused split)
};

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
void agn_conv_dw_s8_cm7(const agn_layer* layer, const void* state, const int8_t* const* in_rows, int8_t* out_row);
void agn_conv_pw_s8_cm7(const agn_layer* layer, const void* state, const int8_t* const* in_rows, int8_t* out_row);
void agn_split_row_s8_cm7(const agn_model* model, const void* state, const int8_t* row, unsigned row_index,
                          int32_t* pool_sums, uint8_t* symbols);
void agn_last_split_s8_cm7(const agn_model* model, const void* state, const int8_t* const* in_rows,
                           unsigned row_index, int8_t* scratch_row, int32_t* pool_sums, uint8_t* symbols);
}

#endif  // AGILENN_DEVICE_KERNELS_CM7_CM7_KERNELS_H
