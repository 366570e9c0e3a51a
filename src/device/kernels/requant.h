// Fixed-point requantisation shared by every kernel (the arithmetic of model_format.h, item 1):
// TFLite's MultiplyByQuantizedMultiplier with gemmlowp rounding, written from its definition.
// Header-only so that optimised kernels inline exactly the same code.
#ifndef AGILENN_DEVICE_KERNELS_REQUANT_H
#define AGILENN_DEVICE_KERNELS_REQUANT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// (a * b) / 2^31 rounded to nearest, ties toward +infinity (gemmlowp's nudge, then truncation
// toward zero); the only overflow (a = b = INT32_MIN) saturates to INT32_MAX.
static inline int32_t agn_saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int64_t nudge = ab >= 0 ? (1ll << 30) : 1 - (1ll << 30);
  return (int32_t)((ab + nudge) / (1ll << 31));  // C division truncates toward zero
}

// x / 2^exponent rounded to nearest, halves away from zero; exponent in [0, 31].
static inline int32_t agn_rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)((1ll << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// acc * M * 2^(shift - 31), rounded; acc * 2^max(shift, 0) saturates to int32 first.
static inline int32_t agn_multiply_by_quantized_multiplier(int32_t acc, int32_t multiplier, int32_t shift) {
  int32_t x = acc;
  if (shift > 0) {
    const int64_t wide = (int64_t)acc * ((int64_t)1 << shift);
    x = wide > INT32_MAX ? INT32_MAX : wide < INT32_MIN ? INT32_MIN : (int32_t)wide;
  }
  return agn_rounding_divide_by_pot(agn_saturating_rounding_doubling_high_mul(x, multiplier),
                                    shift < 0 ? -shift : 0);
}

// clamp(zero_point + MultiplyByQuantizedMultiplier(acc), act_min, act_max) as int8.
static inline int8_t agn_requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t zero_point,
                                    int32_t act_min, int32_t act_max) {
  const int64_t v = (int64_t)zero_point + agn_multiply_by_quantized_multiplier(acc, multiplier, shift);
  return (int8_t)(v < act_min ? act_min : v > act_max ? act_max : v);
}

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_DEVICE_KERNELS_REQUANT_H
