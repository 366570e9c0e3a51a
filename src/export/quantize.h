// Int8 quantisation helpers with TFLite's int8 semantics (host side; no LibTorch).
//
//   1. Activations: asymmetric int8, real = scale * (q - zero_point), q in [-128, 127]; the range
//      always contains 0, and 0 is exactly representable (the zero point is an integer).
//   2. Weights: per output channel symmetric int8, real = scale[c] * q, q in [-127, 127].
//   3. Bias: int32 with scale input_scale * weight_scale[c], zero point 0.
//   4. Requantisation of an int32 accumulator to the output:
//        out = clamp(zp_out + multiply_by_quantized_multiplier(acc, M, shift), act_min, act_max)
//      with the real multiplier input_scale * weight_scale[c] / output_scale = M * 2^(shift - 31),
//      M in [2^30, 2^31) (a Q31 number in [0.5, 1); modelfile::quantize_multiplier computes it);
//      rounding is TFLite's reference rounding (saturating rounding doubling high multiply, then
//      rounding divide by a power of two).
// These functions are the exporter's independent integer simulation; src/device has its own.
#pragma once

#include <cstdint>
#include <vector>

namespace agilenn::exporter {

struct ActivationParams {
  double scale = 1.0;
  int32_t zero_point = 0;
  // q for a real value, rounded half away from zero (std::round, as TFLite) and clamped to [-128, 127].
  int32_t quantize(double real) const;
  double dequantize(int32_t q) const { return scale * (q - zero_point); }
};

// TFLite's ChooseQuantizationParams for int8: the range [min, max] is widened to contain 0,
// scale = (max - min) / 255, zero point = round(-128 - min / scale) clamped to [-128, 127].
// A range of width 0 gives scale 1, zero point 0. Throws std::invalid_argument if min > max or
// a bound is not finite.
ActivationParams choose_activation_params(double min, double max);

// (a * b + nudge) / 2^31 with C++'s truncating division, nudge = 2^30 if a * b >= 0 else
// 1 - 2^30: round to nearest, a positive half away from zero, a negative exact half toward zero
// (-500.5 -> -500); the single overflow case a == b == INT32_MIN gives INT32_MAX.
int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b);
// x / 2^exponent rounded to nearest, ties away from zero; exponent in [0, 31].
int32_t rounding_divide_by_pot(int32_t x, int exponent);
// RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(acc * 2^max(shift, 0), M), max(-shift, 0)),
// with acc * 2^shift saturated to int32 (model_format.h).
int32_t multiply_by_quantized_multiplier(int32_t acc, int32_t multiplier, int32_t shift);

// Per-channel symmetric weights: `weights` holds `channels` rows of equal length, row c is
// output channel c. scale[c] = max|row c| / 127 (1 for an all-zero row), q = round(w / scale[c]).
struct ChannelWeights {
  std::vector<int8_t> q;
  std::vector<double> scale;
};
ChannelWeights quantize_per_channel(const std::vector<float>& weights, int channels);

// Bias correction for the weights' rounding (the post-training quantisation literature's "bias
// correction"): where a layer's inputs have per-channel mean m, rounding row c's weights to
// scale[c] * q shifts output c on average by sum_i (w_i - scale[c] * q_i) * m[channel of i], the
// same for every input. Returns that shift per row; the exporter adds it to the float bias. Inputs
// far from 0 on average (ReLU6 maps, the Local NN's pooled means) make it large next to their
// spread. The input channel of element i of row c is c for a depthwise layer (rows [c][tap]) and
// i otherwise (rows [out][in]). Throws std::invalid_argument if the sizes disagree.
std::vector<double> rounding_bias_correction(const std::vector<float>& weights, const ChannelWeights& q,
                                             const std::vector<double>& input_mean, bool depthwise);

// round(bias / scale) as int32; throws std::range_error if it does not fit.
int32_t quantize_bias(double bias, double scale);

// The clamp range of an output with `params` for a ReLU6 (real [0, 6]) or no activation.
struct ActivationRange {
  int32_t min = -128;
  int32_t max = 127;
};
ActivationRange relu6_range(const ActivationParams& params);

// Batch norm folded into the preceding layer: y = gamma * (x - mean) / sqrt(var + eps) + beta
// becomes a per-channel factor on the layer's weights and an added bias.
struct FoldedBatchNorm {
  std::vector<double> factor;  // gamma / sqrt(var + eps)
  std::vector<double> bias;    // beta - mean * factor
};
FoldedBatchNorm fold_batch_norm(const std::vector<float>& gamma, const std::vector<float>& beta,
                                const std::vector<float>& mean, const std::vector<float>& var, double eps);

}  // namespace agilenn::exporter
