// The quantizer's CPU kernel against the formulas of quantizer_kernel.h evaluated in long double
// with std::exp, one element at a time.
#include "train/quantizer_kernel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace agilenn::train {
namespace {

struct Reference {
  std::vector<long double> grad_x, grad_levels;
};

Reference reference(const std::vector<double>& x, const std::vector<double>& g, const std::vector<double>& lv, double s) {
  const size_t n = lv.size();
  Reference r{std::vector<long double>(x.size()), std::vector<long double>(n, 0.0L)};
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<long double> p(n);
    long double sum = 0, soft = 0;
    for (size_t j = 0; j < n; ++j) sum += p[j] = std::exp(-s * static_cast<long double>(x[i] - lv[j]) * (x[i] - lv[j]));
    for (size_t j = 0; j < n; ++j) soft += (p[j] /= sum) * lv[j];
    long double dx = 0;
    for (size_t j = 0; j < n; ++j) {
      const long double t = p[j] * (lv[j] - soft) * 2 * s * (x[i] - lv[j]);
      dx -= t;
      r.grad_levels[j] += g[i] * (p[j] + t);
    }
    r.grad_x[i] = g[i] * dx;
  }
  return r;
}

// Levels a learned quantizer could have (ascending, uneven, in (0, 6), exact in binary); features in [0, 6] and a
// little outside, then a run of exact zeros (which the kernel treats as constants: a block of 64 all zero and
// one part zero); a count that is not a multiple of the kernel's block.
struct Case {
  std::vector<double> x, g, levels = {0.25, 0.75, 1.5, 2.25, 3.0, 4.0, 5.0, 5.75};
  double softness = 10.0;
  Case() {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> feature(-0.3, 6.3), grad(-1.0, 1.0);
    for (int i = 0; i < 1000; ++i) {
      x.push_back(i % 10 == 0 ? levels[static_cast<size_t>(i / 10) % levels.size()] : feature(rng));
      g.push_back(grad(rng));
    }
    for (int i = 0; i < 150; ++i) {
      x.push_back(0.0);
      g.push_back(grad(rng));
    }
    x.push_back(0.5);  // halfway between 0.25 and 0.75 (exact in binary): the lower level wins the tie
    g.push_back(0.5);
  }
};

template <typename T>
std::vector<T> as(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <typename T>
void check_backward(double tolerance) {
  const Case c;
  const Reference want = reference(c.x, c.g, c.levels, c.softness);
  const std::vector<T> x = as<T>(c.x), g = as<T>(c.g), lv = as<T>(c.levels);
  std::vector<T> gx(x.size()), gl(lv.size(), T(1));  // grad_levels is added to
  soft_quantize_backward<T>(x.data(), g.data(), static_cast<int64_t>(x.size()), lv.data(), static_cast<int64_t>(lv.size()),
                            static_cast<T>(c.softness), gx.data(), gl.data());
  long double scale = 0;
  for (long double v : want.grad_x) scale = std::max(scale, std::fabs(v));
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_NEAR(gx[i], static_cast<double>(want.grad_x[i]), tolerance * static_cast<double>(scale)) << "element " << i;
  }
  for (size_t j = 0; j < lv.size(); ++j) {
    EXPECT_NEAR(gl[j] - T(1), static_cast<double>(want.grad_levels[j]), tolerance * x.size()) << "level " << j;
  }
}

TEST(QuantizerKernel, BackwardMatchesTheFormulasInFloat) { check_backward<float>(2e-6); }
TEST(QuantizerKernel, BackwardMatchesTheFormulasInDouble) { check_backward<double>(1e-12); }

// The rate term one element at a time in long double, with per-level costs q.
struct RateReference {
  long double value = 0;
  std::vector<long double> grad_x, grad_levels, grad_cost;
};

RateReference rate_reference(const std::vector<double>& x, const std::vector<double>& lv, const std::vector<double>& q,
                             double s) {
  const size_t n = lv.size();
  RateReference r{0, std::vector<long double>(x.size()), std::vector<long double>(n, 0.0L), std::vector<long double>(n, 0.0L)};
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<long double> p(n);
    long double sum = 0, e = 0;
    for (size_t j = 0; j < n; ++j) sum += p[j] = std::exp(-s * static_cast<long double>(x[i] - lv[j]) * (x[i] - lv[j]));
    for (size_t j = 0; j < n; ++j) e += (p[j] /= sum) * q[j];
    r.value += e;
    for (size_t j = 0; j < n; ++j) {
      const long double t = p[j] * (q[j] - e) * 2 * s * (x[i] - lv[j]);
      r.grad_x[i] -= t;
      r.grad_levels[j] += t;
      r.grad_cost[j] += p[j];
    }
  }
  return r;
}

template <typename T>
void check_rate(double tolerance) {
  const Case c;
  const std::vector<double> cost = {0.1, 2.5, 4.0, 5.5, 7.0, 8.5, 9.0, 11.0};  // bits: level 0 the likeliest
  const RateReference want = rate_reference(c.x, c.levels, cost, c.softness);
  const std::vector<T> x = as<T>(c.x), lv = as<T>(c.levels), q = as<T>(cost);
  std::vector<T> gx(x.size()), gl(lv.size(), T(1)), gq(lv.size(), T(2));  // grad_levels and grad_cost are added to
  const T value = soft_rate<T>(x.data(), static_cast<int64_t>(x.size()), lv.data(), static_cast<int64_t>(lv.size()),
                               static_cast<T>(c.softness), q.data(), gx.data(), gl.data(), gq.data());
  EXPECT_NEAR(value, static_cast<double>(want.value), tolerance * static_cast<double>(want.value));
  long double scale = 0;
  for (long double v : want.grad_x) scale = std::max(scale, std::fabs(v));
  ASSERT_GT(scale, 1.0L);
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_NEAR(gx[i], static_cast<double>(want.grad_x[i]), tolerance * static_cast<double>(scale)) << "element " << i;
  }
  for (size_t j = 0; j < lv.size(); ++j) {
    EXPECT_NEAR(gl[j] - T(1), static_cast<double>(want.grad_levels[j]), tolerance * x.size() * 10) << "level " << j;
    EXPECT_NEAR(gq[j] - T(2), static_cast<double>(want.grad_cost[j]), tolerance * x.size()) << "level " << j;
  }
}

TEST(QuantizerKernel, RateMatchesTheFormulasInFloat) { check_rate<float>(2e-6); }
TEST(QuantizerKernel, RateMatchesTheFormulasInDouble) { check_rate<double>(1e-12); }

template <typename T>
void check_nearest() {
  const Case c;
  const std::vector<T> x = as<T>(c.x), lv = as<T>(c.levels);
  std::vector<T> out(x.size());
  nearest_levels<T>(x.data(), static_cast<int64_t>(x.size()), lv.data(), static_cast<int64_t>(lv.size()), out.data());
  for (size_t i = 0; i < x.size(); ++i) {
    size_t best = 0;
    for (size_t j = 1; j < lv.size(); ++j) {
      if (std::abs(x[i] - lv[j]) < std::abs(x[i] - lv[best])) best = j;
    }
    ASSERT_EQ(out[i], lv[best]) << "element " << i << " at " << x[i];
  }
  EXPECT_EQ(out.back(), lv[0]);  // the tie at 0.5
}

TEST(QuantizerKernel, NearestLevelInFloat) { check_nearest<float>(); }
TEST(QuantizerKernel, NearestLevelInDouble) { check_nearest<double>(); }

}  // namespace
}  // namespace agilenn::train
