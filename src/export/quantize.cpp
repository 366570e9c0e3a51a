#include "export/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace agilenn::exporter {

int32_t ActivationParams::quantize(double real) const {
  const double q = std::round(real / scale) + zero_point;
  return static_cast<int32_t>(std::clamp(q, -128.0, 127.0));
}

ActivationParams choose_activation_params(double min, double max) {
  if (!std::isfinite(min) || !std::isfinite(max) || min > max) {
    throw std::invalid_argument("activation range [" + std::to_string(min) + ", " + std::to_string(max) +
                                "] is not a finite interval");
  }
  min = std::min(min, 0.0);
  max = std::max(max, 0.0);
  ActivationParams p;
  if (max == min) return p;
  p.scale = (max - min) / 255.0;
  p.zero_point = static_cast<int32_t>(std::clamp(std::round(-128.0 - min / p.scale), -128.0, 127.0));
  return p;
}

int32_t saturating_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == b && a == std::numeric_limits<int32_t>::min()) return std::numeric_limits<int32_t>::max();
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));  // C++ division truncates toward 0
}

int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int64_t mask = (int64_t{1} << exponent) - 1;
  const int64_t remainder = static_cast<int64_t>(x) & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return static_cast<int32_t>((static_cast<int64_t>(x) >> exponent) + (remainder > threshold ? 1 : 0));
}

int32_t multiply_by_quantized_multiplier(int32_t acc, int32_t multiplier, int32_t shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  // TFLite's `x * (1 << left_shift)` may overflow; the model format saturates instead.
  const int64_t wide = static_cast<int64_t>(acc) * (int64_t{1} << left);
  const int32_t shifted = static_cast<int32_t>(
      std::clamp<int64_t>(wide, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, multiplier), right);
}

ChannelWeights quantize_per_channel(const std::vector<float>& weights, int channels) {
  if (channels < 1 || weights.size() % static_cast<size_t>(channels) != 0) {
    throw std::invalid_argument(std::to_string(weights.size()) + " weights do not split into " +
                                std::to_string(channels) + " channels");
  }
  const size_t row = weights.size() / static_cast<size_t>(channels);
  ChannelWeights out;
  out.q.resize(weights.size());
  for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
    double max_abs = 0;
    for (size_t i = 0; i < row; ++i) max_abs = std::max(max_abs, std::fabs(static_cast<double>(weights[c * row + i])));
    const double scale = max_abs > 0 ? max_abs / 127.0 : 1.0;
    out.scale.push_back(scale);
    for (size_t i = 0; i < row; ++i) {
      const double q = std::round(weights[c * row + i] / scale);
      out.q[c * row + i] = static_cast<int8_t>(std::clamp(q, -127.0, 127.0));
    }
  }
  return out;
}

std::vector<double> rounding_bias_correction(const std::vector<float>& weights, const ChannelWeights& q,
                                             const std::vector<double>& input_mean, bool depthwise) {
  const size_t rows = q.scale.size();
  if (rows == 0 || weights.size() != q.q.size() || weights.size() % rows != 0) {
    throw std::invalid_argument("bias correction: " + std::to_string(weights.size()) + " weights, " +
                                std::to_string(q.q.size()) + " quantised, " + std::to_string(rows) + " rows");
  }
  const size_t row = weights.size() / rows;
  if (input_mean.size() != (depthwise ? rows : row)) {
    throw std::invalid_argument("bias correction: " + std::to_string(input_mean.size()) + " input means for " +
                                std::to_string(depthwise ? rows : row) + " input channels");
  }
  std::vector<double> shift(rows, 0.0);
  for (size_t c = 0; c < rows; ++c) {
    for (size_t i = 0; i < row; ++i) {
      const double rounded = q.scale[c] * q.q[c * row + i];
      shift[c] += (static_cast<double>(weights[c * row + i]) - rounded) * input_mean[depthwise ? c : i];
    }
  }
  return shift;
}

int32_t quantize_bias(double bias, double scale) {
  const double q = std::round(bias / scale);
  if (!std::isfinite(q) || q < -2147483648.0 || q > 2147483647.0) {
    throw std::range_error("bias " + std::to_string(bias) + " at scale " + std::to_string(scale) + " does not fit int32");
  }
  return static_cast<int32_t>(q);
}

ActivationRange relu6_range(const ActivationParams& p) {
  return {std::max<int32_t>(-128, p.quantize(0.0)), std::min<int32_t>(127, p.quantize(6.0))};
}

FoldedBatchNorm fold_batch_norm(const std::vector<float>& gamma, const std::vector<float>& beta,
                                const std::vector<float>& mean, const std::vector<float>& var, double eps) {
  const size_t n = gamma.size();
  if (beta.size() != n || mean.size() != n || var.size() != n) {
    throw std::invalid_argument("batch norm parameters of different lengths");
  }
  FoldedBatchNorm f;
  for (size_t c = 0; c < n; ++c) {
    const double factor = gamma[c] / std::sqrt(static_cast<double>(var[c]) + eps);
    f.factor.push_back(factor);
    f.bias.push_back(beta[c] - mean[c] * factor);
  }
  return f;
}

}  // namespace agilenn::exporter
