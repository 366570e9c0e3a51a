// Reference kernels against float maths (within 1 LSB) and the requantisation arithmetic against
// its definition.
#include "device/kernels/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include "device/kernels/requant.h"
#include "device/whole_tensor.h"
#include "modelfile/model_spec.h"

namespace {

using agilenn::modelfile::dequantize_multiplier;
using agilenn::modelfile::quantize_multiplier;
using agilenn::testing::le_bytes;

TEST(Requant, RoundingPrimitives) {
  EXPECT_EQ(agn_rounding_divide_by_pot(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(agn_rounding_divide_by_pot(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(agn_rounding_divide_by_pot(5, 2), 1);    // 1.25
  EXPECT_EQ(agn_rounding_divide_by_pot(-5, 2), -1);
  EXPECT_EQ(agn_rounding_divide_by_pot(6, 2), 2);    // 1.5
  EXPECT_EQ(agn_rounding_divide_by_pot(-6, 2), -2);
  EXPECT_EQ(agn_rounding_divide_by_pot(7, 0), 7);
  EXPECT_EQ(agn_rounding_divide_by_pot(INT32_MIN, 31), -1);
  EXPECT_EQ(agn_rounding_divide_by_pot(INT32_MAX, 31), 1);
  EXPECT_EQ(agn_saturating_rounding_doubling_high_mul(INT32_MIN, INT32_MIN), INT32_MAX);
  EXPECT_EQ(agn_saturating_rounding_doubling_high_mul(1 << 30, 1 << 30), 1 << 29);
  EXPECT_EQ(agn_saturating_rounding_doubling_high_mul(3, 1 << 30), 2);    // 1.5 -> 2
  EXPECT_EQ(agn_saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);  // -1.5 -> -1 (ties up)
  EXPECT_EQ(agn_saturating_rounding_doubling_high_mul(-5, 1 << 30), -2);  // -2.5 -> -2
  EXPECT_EQ(agn_multiply_by_quantized_multiplier(1000, 1 << 30, 0), 500);
  EXPECT_EQ(agn_multiply_by_quantized_multiplier(1000, 1 << 30, -3), 63);  // 62.5 -> 63
  EXPECT_EQ(agn_multiply_by_quantized_multiplier(1000, 1 << 30, 2), 2000);
  EXPECT_EQ(agn_multiply_by_quantized_multiplier(INT32_MAX / 2, 1 << 30, 5), INT32_MAX / 2 + 1);  // saturated
  EXPECT_EQ(agn_requantize(1000, 1 << 30, 0, -100, -128, 127), 127);
  EXPECT_EQ(agn_requantize(-1000, 1 << 30, 0, -100, -128, 127), -128);
  EXPECT_EQ(agn_requantize(100, 1 << 30, 0, 10, 0, 30), 30);
}

// acc * M * 2^(shift - 31), computed exactly, against the two-step rounding (which may differ
// from a single rounding by at most 1).
TEST(Requant, WithinOneOfExactProduct) {
  std::mt19937 rng(1);
  for (int i = 0; i < 200000; ++i) {
    const int32_t acc = static_cast<int32_t>(rng() % 2000001) - 1000000;
    const int32_t m = static_cast<int32_t>((1u << 30) + rng() % (1u << 30));
    const int32_t shift = static_cast<int32_t>(rng() % 21) - 20;
    const long double exact = std::ldexp(static_cast<long double>(acc) * m, shift - 31);
    const int32_t got = agn_multiply_by_quantized_multiplier(acc, m, shift);
    ASSERT_LE(std::fabs(static_cast<long double>(got) - exact), 1.0L) << acc << " " << m << " " << shift;
    ASSERT_LE(std::fabs(static_cast<long double>(got) - std::round(exact)), 1.0L);
  }
}

TEST(Requant, QuantizeMultiplierRoundTrips) {
  std::mt19937 rng(2);
  for (int i = 0; i < 10000; ++i) {
    const double real = std::ldexp(std::uniform_real_distribution<double>(0.5, 1.0)(rng), static_cast<int>(rng() % 40) - 30);
    const auto q = quantize_multiplier(real);
    ASSERT_GE(q.multiplier, 1 << 30);
    ASSERT_NEAR(dequantize_multiplier(q.multiplier, q.shift) / real, 1.0, 1e-9);
  }
  EXPECT_EQ(quantize_multiplier(0).multiplier, 0);
  EXPECT_EQ(quantize_multiplier(1e-30).multiplier, 0);  // below the shift range
  EXPECT_THROW(quantize_multiplier(-1), std::invalid_argument);
  EXPECT_THROW(quantize_multiplier(std::ldexp(1.0, 31)), std::invalid_argument);
}

// A random layer with float scales; the kernel gets the integer parameters derived from them.
struct FloatLayer {
  agn_layer layer{};
  std::vector<int8_t> weights;
  std::vector<int32_t> bias, multiplier, shift;
  std::vector<uint8_t> bias_le, multiplier_le, shift_le;
  double in_scale = 0, out_scale = 0;
  std::vector<double> w_scale;

  FloatLayer(agn_layer_op op, int k, int stride, int padding, int h, int w, int in_c, int out_c, bool relu6,
             std::mt19937& rng) {
    layer.op = static_cast<uint8_t>(op);
    layer.kernel = static_cast<uint8_t>(k);
    layer.stride = static_cast<uint8_t>(stride);
    layer.padding = static_cast<uint8_t>(padding);
    layer.in_height = static_cast<uint16_t>(h);
    layer.in_width = static_cast<uint16_t>(w);
    layer.in_channels = static_cast<uint16_t>(in_c);
    layer.out_channels = static_cast<uint16_t>(out_c);
    layer.out_height = static_cast<uint16_t>((h + 2 * padding - k) / stride + 1);
    layer.out_width = static_cast<uint16_t>((w + 2 * padding - k) / stride + 1);
    std::uniform_int_distribution<int> zp(-128, 127);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    layer.in_zero_point = zp(rng);
    layer.out_zero_point = relu6 ? -128 + static_cast<int>(rng() % 30) : zp(rng);
    layer.act_min = relu6 ? layer.out_zero_point : -128;
    layer.act_max = relu6 ? std::min(127, layer.act_min + 100) : 127;
    in_scale = 0.01 + unit(rng);
    const size_t terms = op == AGN_OP_DEPTHWISE ? size_t(k) * k : op == AGN_OP_POINTWISE ? in_c : size_t(k) * k * in_c;
    out_scale = in_scale * std::sqrt(double(terms)) * (0.2 + unit(rng)) * 0.5;
    for (size_t i = 0; i < terms * out_c; ++i) weights.push_back(static_cast<int8_t>(static_cast<int>(rng() % 255) - 127));
    for (int c = 0; c < out_c; ++c) {
      w_scale.push_back(0.001 + 0.02 * unit(rng));
      bias.push_back(static_cast<int32_t>(rng() % 20001) - 10000);
      const auto q = quantize_multiplier(in_scale * w_scale[c] / out_scale);
      multiplier.push_back(q.multiplier);
      shift.push_back(q.shift);
    }
    bias_le = le_bytes(bias);
    multiplier_le = le_bytes(multiplier);
    shift_le = le_bytes(shift);
    layer.weights = weights.data();
    layer.bias = bias_le.data();
    layer.multiplier = multiplier_le.data();
    layer.shift = shift_le.data();
  }

  // Float maths: dequantise, convolve, quantise with round-to-nearest.
  int expected(const std::vector<int8_t>& in, int oy, int ox, int oc) const {
    const agn_layer& l = layer;
    double sum = bias[oc] * in_scale * w_scale[oc];
    const int ics = l.op == AGN_OP_DEPTHWISE ? 1 : l.in_channels;
    for (int ky = 0; ky < l.kernel; ++ky) {
      for (int kx = 0; kx < l.kernel; ++kx) {
        const int y = oy * l.stride - l.padding + ky, x = ox * l.stride - l.padding + kx;
        if (y < 0 || y >= l.in_height || x < 0 || x >= l.in_width) continue;
        for (int i = 0; i < ics; ++i) {
          const int ic = l.op == AGN_OP_DEPTHWISE ? oc : i;
          int w = 0;
          if (l.op == AGN_OP_DEPTHWISE) w = weights[(ky * l.kernel + kx) * l.out_channels + oc];
          if (l.op == AGN_OP_POINTWISE) w = weights[oc * l.in_channels + ic];
          if (l.op == AGN_OP_CONV) w = weights[((oc * l.kernel + ky) * l.kernel + kx) * l.in_channels + ic];
          const double real_in = in_scale * (in[(y * l.in_width + x) * l.in_channels + ic] - l.in_zero_point);
          sum += real_in * w_scale[oc] * w;
        }
      }
    }
    const double q = std::round(sum / out_scale) + l.out_zero_point;
    return static_cast<int>(std::min<double>(l.act_max, std::max<double>(l.act_min, q)));
  }
};

void check_against_float(const FloatLayer& f, std::mt19937& rng) {
  const agn_layer& l = f.layer;
  std::vector<int8_t> in(size_t(l.in_height) * l.in_width * l.in_channels);
  for (int8_t& v : in) v = static_cast<int8_t>(static_cast<int>(rng() % 256) - 128);
  const size_t in_row = size_t(l.in_width) * l.in_channels, out_row = size_t(l.out_width) * l.out_channels;
  std::vector<int8_t> out(out_row, 0);
  for (int oy = 0; oy < l.out_height; ++oy) {
    std::vector<const int8_t*> rows(l.kernel);
    for (int j = 0; j < l.kernel; ++j) {
      const int y = oy * l.stride - l.padding + j;
      rows[j] = y < 0 || y >= l.in_height ? nullptr : in.data() + y * in_row;
    }
    agn_kernel_for_op(&agn_kernels_reference, l.op)(&l, nullptr, rows.data(), out.data());
    for (int ox = 0; ox < l.out_width; ++ox) {
      for (int oc = 0; oc < l.out_channels; ++oc) {
        const int expected = f.expected(in, oy, ox, oc);
        ASSERT_LE(std::abs(out[ox * l.out_channels + oc] - expected), 1)
            << "op " << int(l.op) << " k " << int(l.kernel) << " s " << int(l.stride) << " p " << int(l.padding)
            << " at " << oy << "," << ox << "," << oc;
      }
    }
  }
}

TEST(Kernels, DepthwiseWithinOneLsbOfFloat) {
  std::mt19937 rng(10);
  for (int k : {1, 3, 5}) {
    for (int stride = 1; stride <= 3; ++stride) {
      for (int pad = 0; pad < k; ++pad) {
        for (int trial = 0; trial < 3; ++trial) {
          const int h = k + static_cast<int>(rng() % 8), w = k + static_cast<int>(rng() % 8);
          const int c = 1 + static_cast<int>(rng() % 9);
          check_against_float(FloatLayer(AGN_OP_DEPTHWISE, k, stride, pad, h, w, c, c, trial == 1, rng), rng);
        }
      }
    }
  }
}

TEST(Kernels, PointwiseWithinOneLsbOfFloat) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    const int h = 1 + static_cast<int>(rng() % 6), w = 1 + static_cast<int>(rng() % 9);
    const int in_c = 1 + static_cast<int>(rng() % 32), out_c = 1 + static_cast<int>(rng() % 32);
    check_against_float(FloatLayer(AGN_OP_POINTWISE, 1, 1, 0, h, w, in_c, out_c, trial % 2 == 0, rng), rng);
  }
}

TEST(Kernels, ConvWithinOneLsbOfFloat) {
  std::mt19937 rng(12);
  for (int k : {1, 3, 5}) {
    for (int stride = 1; stride <= 2; ++stride) {
      for (int trial = 0; trial < 4; ++trial) {
        const int h = k + static_cast<int>(rng() % 6), w = k + static_cast<int>(rng() % 6);
        const int pad = static_cast<int>(rng() % k);
        const int in_c = 1 + static_cast<int>(rng() % 8), out_c = 1 + static_cast<int>(rng() % 8);
        check_against_float(FloatLayer(AGN_OP_CONV, k, stride, pad, h, w, in_c, out_c, trial % 2 == 0, rng), rng);
      }
    }
  }
}

TEST(Kernels, LocalWithinOneLsbOfFloat) {
  std::mt19937 rng(13);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int trial = 0; trial < 50; ++trial) {
    const int k = 1 + static_cast<int>(rng() % 12), classes = 1 + static_cast<int>(rng() % 12);
    const uint32_t pixels = 1 + rng() % 2048;
    const double in_scale = 0.01 + unit(rng), pool_scale = in_scale * (0.5 + unit(rng));
    const double logits_scale = 0.05 + unit(rng);
    agn_local_layer l{};
    l.in_channels = static_cast<uint16_t>(k);
    l.classes = static_cast<uint16_t>(classes);
    l.pool_count = pixels;
    l.in_zero_point = static_cast<int32_t>(rng() % 256) - 128;
    const auto pool_q = quantize_multiplier(in_scale / (pool_scale * pixels));
    l.pool_multiplier = pool_q.multiplier;
    l.pool_shift = pool_q.shift;
    l.pool_zero_point = static_cast<int32_t>(rng() % 41) - 20;
    l.logits_zero_point = static_cast<int32_t>(rng() % 41) - 20;
    std::vector<int8_t> weights(size_t(k) * classes);
    for (int8_t& w : weights) w = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
    std::vector<double> w_scale(classes);
    std::vector<int32_t> bias(classes), mult(classes), shift(classes);
    for (int j = 0; j < classes; ++j) {
      w_scale[j] = 0.001 + 0.01 * unit(rng);
      bias[j] = static_cast<int32_t>(rng() % 2001) - 1000;
      const auto q = quantize_multiplier(pool_scale * w_scale[j] / logits_scale);
      mult[j] = q.multiplier;
      shift[j] = q.shift;
    }
    const auto bias_le = le_bytes(bias), mult_le = le_bytes(mult), shift_le = le_bytes(shift);
    l.weights = weights.data();
    l.bias = bias_le.data();
    l.multiplier = mult_le.data();
    l.shift = shift_le.data();
    // Sums of `pixels` values of (q - zp) in [-128 - zp, 127 - zp].
    std::vector<int32_t> sums(k);
    for (int32_t& s : sums) {
      const int lo = -128 - l.in_zero_point, hi = 127 - l.in_zero_point;
      s = static_cast<int32_t>(std::llround((lo + (hi - lo) * unit(rng)) * pixels));
    }
    std::vector<int8_t> pooled(k), logits(classes);
    agn_local_s8_ref(&l, nullptr, sums.data(), pooled.data(), logits.data());
    for (int c = 0; c < k; ++c) {
      const double mean = in_scale * sums[c] / pixels;
      const double q = std::clamp(std::round(mean / pool_scale) + l.pool_zero_point, -128.0, 127.0);
      ASSERT_LE(std::fabs(pooled[c] - q), 1.0) << "pooled " << c;
    }
    for (int j = 0; j < classes; ++j) {
      double sum = bias[j] * pool_scale * w_scale[j];
      for (int i = 0; i < k; ++i) sum += pool_scale * (pooled[i] - l.pool_zero_point) * w_scale[j] * weights[j * k + i];
      const double q = std::clamp(std::round(sum / logits_scale) + l.logits_zero_point, -128.0, 127.0);
      ASSERT_LE(std::fabs(logits[j] - q), 1.0) << "logit " << j;
    }
  }
}

TEST(Kernels, SplitRowCountsThresholdsAndSums) {
  // 1 row of 3 pixels, 4 channels, k = 1, L = 4 with thresholds {-10, 0, 0}.
  agn_model m{};
  m.feature_height = 2;
  m.feature_width = 3;
  m.feature_channels = 4;
  m.k = 1;
  m.levels = 4;
  const int8_t thresholds[] = {-10, 0, 0};
  m.thresholds = thresholds;
  m.local.in_zero_point = -5;
  const int8_t row[] = {1, -11, -10, 0,  //
                        2, 127, -128, -1,  //
                        -128, 5, 0, 9};
  int32_t sums[1] = {100};
  std::vector<uint8_t> symbols(3 * 2 * 2, 0xEE);  // a symbol map: 3 channels x 2 rows of 2 bytes
  agn_split_row_s8_ref(&m, nullptr, row, 1, sums, symbols.data());
  EXPECT_EQ(sums[0], 100 + (1 + 5) + (2 + 5) + (-128 + 5));
  // Channel c >= k, row 1: bytes (c - 1) * 4 + 2 and 3, column x in nibble x (low first), the
  // odd row's last high nibble zero; equal to a threshold counts it.
  const std::vector<uint8_t> expected = {0xEE, 0xEE, 0x30, 0x03,  // symbols 0 3 3
                                         0xEE, 0xEE, 0x01, 0x03,  // 1 0 3
                                         0xEE, 0xEE, 0x13, 0x03};  // 3 1 3
  EXPECT_EQ(symbols, expected);
}

}  // namespace
