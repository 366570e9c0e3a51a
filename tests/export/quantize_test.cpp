// The exporter's quantisation helpers (and modelfile::quantize_multiplier, which it uses) against
// values worked out by hand from TFLite's formulas.
#include "export/quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "modelfile/model_spec.h"

namespace agilenn::exporter {
namespace {

using modelfile::quantize_multiplier;
using Multiplier = modelfile::QuantizedMultiplier;

TEST(QuantizeMultiplier, PowersOfTwo) {
  EXPECT_EQ(quantize_multiplier(0.5).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(0.5).shift, 0);
  EXPECT_EQ(quantize_multiplier(1.0).multiplier, 1 << 30);
  EXPECT_EQ(quantize_multiplier(1.0).shift, 1);
  EXPECT_EQ(quantize_multiplier(3.0).multiplier, 1610612736);  // 0.75 * 2^31
  EXPECT_EQ(quantize_multiplier(3.0).shift, 2);
}

TEST(QuantizeMultiplier, RealScales) {
  // 0.0123 = 0.7872 * 2^-6; round(0.7872 * 2^31) = 1690499128.
  const Multiplier a = quantize_multiplier(0.0123);
  EXPECT_EQ(a.multiplier, 1690499128);
  EXPECT_EQ(a.shift, -6);
  // A conv's in_scale * w_scale / out_scale = (1/255) * 0.0042 / 0.0235 = 7.00876e-4
  //   = 0.717697... * 2^-10 -> 1541242832.
  const Multiplier b = quantize_multiplier(1.0 / 255 * 0.0042 / 0.0235);
  EXPECT_EQ(b.multiplier, 1541242832);
  EXPECT_EQ(b.shift, -10);
  EXPECT_NEAR(b.multiplier * std::ldexp(1.0, b.shift - 31), 1.0 / 255 * 0.0042 / 0.0235, 1e-12);
}

TEST(QuantizeMultiplier, MantissaRoundingUpCarriesIntoTheShift) {
  // (2^31 - 0.25) / 2^31 rounds to 2^31 in Q31: it becomes 2^30 with the shift one larger.
  const Multiplier m = quantize_multiplier((2147483648.0 - 0.25) / 2147483648.0);
  EXPECT_EQ(m.multiplier, 1 << 30);
  EXPECT_EQ(m.shift, 1);
}

TEST(QuantizeMultiplier, TinyZeroAndInvalid) {
  EXPECT_EQ(quantize_multiplier(0.0).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -32)).shift, -31);
  EXPECT_EQ(quantize_multiplier(std::ldexp(1.0, -40)).multiplier, 0);  // below 2^-31 (frexp exponent -39)
  EXPECT_THROW(quantize_multiplier(-0.1), std::invalid_argument);
  EXPECT_THROW(quantize_multiplier(std::nan("")), std::invalid_argument);
  EXPECT_THROW(quantize_multiplier(4e9), std::invalid_argument);  // beyond the format's shift 30
}

TEST(FixedPoint, SaturatingRoundingDoublingHighMul) {
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1000, 1 << 30), 500);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(1001, 1 << 30), 501);    // 500.5 -> 501
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1001, 1 << 30), -500);  // -500.5 -> -500 (TFLite's nudge)
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1003, 1 << 30), -501);  // -501.5 -> -501
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-1000, 1 << 30), -500);
  const int32_t min = std::numeric_limits<int32_t>::min();
  EXPECT_EQ(saturating_rounding_doubling_high_mul(min, min), std::numeric_limits<int32_t>::max());
}

TEST(FixedPoint, RoundingDivideByPowerOfTwo) {
  EXPECT_EQ(rounding_divide_by_pot(501, 1), 251);   // 250.5 -> 251
  EXPECT_EQ(rounding_divide_by_pot(-501, 1), -251); // -250.5 -> -251 (away from zero)
  EXPECT_EQ(rounding_divide_by_pot(-499, 2), -125); // -124.75
  EXPECT_EQ(rounding_divide_by_pot(7, 0), 7);
  EXPECT_EQ(rounding_divide_by_pot(std::numeric_limits<int32_t>::max(), 31), 1);
  EXPECT_EQ(rounding_divide_by_pot(-(1 << 30), 31), -1);  // -0.5 -> -1
}

TEST(FixedPoint, MultiplyByQuantizedMultiplier) {
  // 12345 * 7.00876e-4 = 8.652: SRDHM(12345, 1541242832) = 8860, 8860 / 2^10 = 8.65 -> 9.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(12345, 1541242832), 8860);
  EXPECT_EQ(multiply_by_quantized_multiplier(12345, 1541242832, -10), 9);
  EXPECT_EQ(multiply_by_quantized_multiplier(-12345, 1541242832, -10), -9);
  // A left shift: 100 * 3.0 (M = 0.75 * 2^31, shift 2) = 300.
  EXPECT_EQ(multiply_by_quantized_multiplier(100, 1610612736, 2), 300);
  EXPECT_EQ(multiply_by_quantized_multiplier(12345, 0, 0), 0);
  // acc * 2^shift saturates: 2^30 * 4 -> INT32_MAX, times 0.75 = 1610612735.25 -> 1610612735.
  EXPECT_EQ(multiply_by_quantized_multiplier(1 << 30, 1610612736, 2), 1610612735);
}

TEST(ActivationParams, ChooseFromRanges) {
  const ActivationParams a = choose_activation_params(-1.0, 3.0);
  EXPECT_DOUBLE_EQ(a.scale, 4.0 / 255);
  EXPECT_EQ(a.zero_point, -64);  // round(-128 + 63.75)
  const ActivationParams relu = choose_activation_params(0.0, 6.0);
  EXPECT_DOUBLE_EQ(relu.scale, 6.0 / 255);
  EXPECT_EQ(relu.zero_point, -128);
  const ActivationParams positive = choose_activation_params(2.0, 5.0);  // widened to [0, 5]
  EXPECT_DOUBLE_EQ(positive.scale, 5.0 / 255);
  EXPECT_EQ(positive.zero_point, -128);
  const ActivationParams negative = choose_activation_params(-3.0, -1.0);  // widened to [-3, 0]
  EXPECT_EQ(negative.zero_point, 127);
  const ActivationParams flat = choose_activation_params(0.0, 0.0);
  EXPECT_EQ(flat.scale, 1.0);
  EXPECT_EQ(flat.zero_point, 0);
  EXPECT_THROW(choose_activation_params(1.0, 0.0), std::invalid_argument);
  EXPECT_THROW(choose_activation_params(0.0, INFINITY), std::invalid_argument);
}

TEST(ActivationParams, QuantizeRoundsHalfAwayAndClamps) {
  const ActivationParams p{0.5, 3};
  EXPECT_EQ(p.quantize(1.25), 6);    // 2.5 -> 3, + 3
  EXPECT_EQ(p.quantize(-1.25), 0);   // -2.5 -> -3, + 3
  EXPECT_EQ(p.quantize(1000.0), 127);
  EXPECT_EQ(p.quantize(-1000.0), -128);
  EXPECT_DOUBLE_EQ(p.dequantize(7), 2.0);
}

TEST(ActivationParams, Relu6Range) {
  const ActivationRange full = relu6_range(choose_activation_params(0.0, 6.0));
  EXPECT_EQ(full.min, -128);
  EXPECT_EQ(full.max, 127);
  const ActivationRange wide = relu6_range(choose_activation_params(-1.0, 3.0));  // 6 is beyond the range
  EXPECT_EQ(wide.min, -64);
  EXPECT_EQ(wide.max, 127);
  const ActivationRange narrow = relu6_range(ActivationParams{0.1, -128});  // 6 -> -68
  EXPECT_EQ(narrow.min, -128);
  EXPECT_EQ(narrow.max, -68);
}

TEST(PerChannelWeights, SymmetricPerRow) {
  const ChannelWeights w = quantize_per_channel({0.5f, -1.0f, 0.25f, 0.0f, 0.0f, 0.0f, 2.0f, 1.0f, -0.02f}, 3);
  ASSERT_EQ(w.scale.size(), 3u);
  EXPECT_DOUBLE_EQ(w.scale[0], 1.0 / 127);
  EXPECT_DOUBLE_EQ(w.scale[1], 1.0);  // all-zero row
  EXPECT_DOUBLE_EQ(w.scale[2], 2.0 / 127);
  const std::vector<int8_t> expected = {64, -127, 32, 0, 0, 0, 127, 64, -1};  // 63.5 -> 64, 63.5 -> 64, -1.27 -> -1
  EXPECT_EQ(w.q, expected);
  EXPECT_THROW(quantize_per_channel({1.0f, 2.0f, 3.0f}, 2), std::invalid_argument);
}

TEST(PerChannelWeights, RoundingBiasCorrection) {
  // Row 0: w = {0.5, 0.3} at scale 0.5/127 -> q = {127, 76}: errors 0 and 0.3 - 76 * 0.5/127.
  // Row 1: w = {2.0, 0.01} at scale 2/127 -> q = {127, 1}: errors 0 and 0.01 - 2/127.
  const std::vector<float> w = {0.5f, 0.3f, 2.0f, 0.01f};
  const ChannelWeights q = quantize_per_channel(w, 2);
  ASSERT_EQ(q.q, (std::vector<int8_t>{127, 76, 127, 1}));
  const double e01 = static_cast<double>(0.3f) - 76 * 0.5 / 127, e11 = static_cast<double>(0.01f) - 2.0 / 127;
  const std::vector<double> dense = rounding_bias_correction(w, q, {3.0, 5.0}, false);  // element i reads channel i
  ASSERT_EQ(dense.size(), 2u);
  EXPECT_NEAR(dense[0], e01 * 5.0, 1e-9);
  EXPECT_NEAR(dense[1], e11 * 5.0, 1e-9);
  const std::vector<double> depthwise = rounding_bias_correction(w, q, {3.0, 5.0}, true);  // row c reads channel c
  EXPECT_NEAR(depthwise[0], e01 * 3.0, 1e-9);
  EXPECT_NEAR(depthwise[1], e11 * 5.0, 1e-9);
  // A constant input at the mean: the rounded weights plus the correction give the float output.
  for (size_t c = 0; c < 2; ++c) {
    double exact = 0, rounded = 0;
    for (size_t i = 0; i < 2; ++i) {
      exact += w[c * 2 + i] * (i == 0 ? 3.0 : 5.0);
      rounded += q.scale[c] * q.q[c * 2 + i] * (i == 0 ? 3.0 : 5.0);
    }
    EXPECT_NEAR(rounded + dense[c], exact, 1e-9);
  }
  EXPECT_THROW(rounding_bias_correction(w, q, {1.0}, false), std::invalid_argument);
  EXPECT_THROW(rounding_bias_correction(w, q, {1.0, 2.0, 3.0}, true), std::invalid_argument);
  EXPECT_THROW(rounding_bias_correction({1.0f}, q, {1.0, 2.0}, false), std::invalid_argument);
}

TEST(Bias, RoundsAndRejectsOverflow) {
  EXPECT_EQ(quantize_bias(1.0, 0.001), 1000);
  EXPECT_EQ(quantize_bias(-0.0125, 0.001), -13);  // -12.5 -> -13
  EXPECT_THROW(quantize_bias(1e6, 1e-6), std::range_error);
}

TEST(BatchNorm, FoldsIntoFactorAndBias) {
  // gamma 2, beta 1, mean 3, var 3, eps 1: factor 2 / sqrt(4) = 1, bias 1 - 3 = -2.
  // gamma 1, beta 0.5, mean -1, var 0.25, eps 0: factor 2, bias 0.5 + 2 = 2.5.
  const FoldedBatchNorm f = fold_batch_norm({2.0f, 1.0f}, {1.0f, 0.5f}, {3.0f, -1.0f}, {3.0f, 0.25f}, 1.0);
  EXPECT_DOUBLE_EQ(f.factor[0], 1.0);
  EXPECT_DOUBLE_EQ(f.bias[0], -2.0);
  const FoldedBatchNorm g = fold_batch_norm({1.0f}, {0.5f}, {-1.0f}, {0.25f}, 0.0);
  EXPECT_DOUBLE_EQ(g.factor[0], 2.0);
  EXPECT_DOUBLE_EQ(g.bias[0], 2.5);
  EXPECT_THROW(fold_batch_norm({1.0f}, {1.0f, 2.0f}, {0.0f}, {1.0f}, 1e-5), std::invalid_argument);
}

}  // namespace
}  // namespace agilenn::exporter
