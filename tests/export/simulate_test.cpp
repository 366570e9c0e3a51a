// The exporter's integer simulation on a hand-made model whose every output is worked out below,
// and the golden-vector file format.
#include "export/simulate.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "export/golden.h"

namespace agilenn::exporter {
namespace {

using modelfile::LayerOp;
using modelfile::LayerSpec;
using modelfile::ModelSpec;

constexpr int32_t kHalf = 1 << 30;  // Q31 0.5: with shift 0 a multiplier of 0.5, with shift 1 of 1.0

// A 1x3 RGB image, so a 3x3 window only ever sees its middle row and padding is exercised at both
// ends of the row.
ModelSpec hand_model() {
  ModelSpec s;
  s.input = {1, 3, 3, 1.0f / 255, -4};
  LayerSpec dw;
  dw.op = LayerOp::depthwise;
  dw.kernel = 3;
  dw.stride = 1;
  dw.padding = 1;
  dw.in_height = dw.out_height = 1;
  dw.in_width = dw.out_width = 3;
  dw.in_channels = dw.out_channels = 3;
  dw.out_zero_point = 5;
  dw.out_scale = 0.1f;
  // Layout [ky][kx][c]: channel 0 has 1, 2, 3 across the middle row and 100 (never inside the
  // image) elsewhere; channels 1 and 2 have zero weights.
  dw.weights.assign(27, 0);
  for (int tap = 0; tap < 9; ++tap) dw.weights[static_cast<size_t>(tap * 3)] = 100;
  dw.weights[3 * 3] = 1;
  dw.weights[4 * 3] = 2;
  dw.weights[5 * 3] = 3;
  dw.bias = {10, -3, 7};
  dw.multiplier = {kHalf, kHalf, kHalf};
  dw.shift = {0, 0, 1};
  LayerSpec pw;
  pw.op = LayerOp::pointwise;
  pw.in_height = pw.out_height = 1;
  pw.in_width = pw.out_width = 3;
  pw.in_channels = 3;
  pw.out_channels = 2;
  pw.out_zero_point = 0;
  pw.act_min = 0;
  pw.act_max = 50;
  pw.weights = {1, 0, 0, 1, 0, 1};  // [oc][ic]
  pw.bias = {0, 0};
  pw.multiplier = {kHalf, kHalf};
  pw.shift = {1, 1};
  s.layers = {dw, pw};
  s.local.in_channels = 1;
  s.local.classes = 2;
  s.local.pool_multiplier = kHalf;
  s.local.pool_shift = -1;  // 0.25
  s.local.pool_zero_point = 2;
  s.local.logits_zero_point = -10;
  s.local.weights = {2, -1};
  s.local.bias = {1, 0};
  s.local.multiplier = {kHalf, kHalf};
  s.local.shift = {0, 0};
  s.split.k = 1;
  s.split.levels = 3;
  s.split.thresholds = {3, 7};
  s.split.level_values = {0.0f, 0.5f, 1.0f};
  return s;
}

TEST(Simulate, HandWorkedModel) {
  // Channel 0 q = pixel - 128 = 10, 20, -30; minus the input zero point -4: 14, 24, -26.
  const uint8_t image[9] = {138, 0, 0, 148, 0, 0, 98, 0, 0};
  const Simulation sim = simulate(hand_model(), image);
  ASSERT_EQ(sim.layers.size(), 2u);
  // dw channel 0: x=0: 10 + 2*14 + 3*24 = 110 -> 55 -> 60; x=1: 10 + 14 + 48 - 78 = -6 -> -3 -> 2;
  // x=2: 10 + 24 - 52 = -18 -> -9 -> -4. Channel 1: -3 * 0.5 = -1.5 -> -1 (TFLite's negative tie)
  // -> 4. Channel 2: 7 * 1.0 -> 12.
  const std::vector<int8_t> dw = {60, 4, 12, 2, 4, 12, -4, 4, 12};
  EXPECT_EQ(sim.layers[0], dw);
  // pw channel 0 = q0 - 5 = 55, -3, -9 clamped to [0, 50]; channel 1 = (q0 - 5) + (q2 - 5) =
  // 62, 4, -2 clamped.
  const std::vector<int8_t> pw = {50, 50, 0, 4, 0, 0};
  EXPECT_EQ(sim.layers[1], pw);
  // Pool: (50 + 0 + 0) * 0.25 = 12.5 -> 13, + 2 = 15.
  EXPECT_EQ(sim.pooled, std::vector<int8_t>{15});
  // Dense: 1 + 2 * 13 = 27 -> 13.5 -> 14, - 10 = 4; -13 -> -6.5 -> -6, - 10 = -16.
  EXPECT_EQ(sim.logits, (std::vector<int8_t>{4, -16}));
  // Symbols of channel 1 (50, 4, 0) against thresholds 3, 7.
  EXPECT_EQ(sim.symbols, (std::vector<uint8_t>{2, 1, 0}));
}

TEST(Simulate, StridedConvMatchesTheFormula) {
  // A 3x3 standard conv, stride 2, padding 1 on a 3x3 single-channel image: output 2x2.
  ModelSpec s = hand_model();
  s.input = {3, 3, 3, 1.0f / 255, 0};
  LayerSpec conv;
  conv.op = LayerOp::conv;
  conv.kernel = 3;
  conv.stride = 2;
  conv.padding = 1;
  conv.in_height = conv.in_width = 3;
  conv.in_channels = 3;
  conv.out_height = conv.out_width = 2;
  conv.out_channels = 2;
  conv.weights.assign(2 * 9 * 3, 0);
  for (int t = 0; t < 9; ++t) conv.weights[static_cast<size_t>(t * 3)] = 1;  // oc 0: sum of channel 0
  conv.weights[9 * 3 + 4 * 3 + 1] = 1;                                      // oc 1: centre of channel 1
  conv.bias = {0, 0};
  conv.multiplier = {kHalf, kHalf};
  conv.shift = {1, 1};
  s.layers = {conv};
  s.local.in_channels = 1;
  std::vector<uint8_t> image(27, 128);
  for (int p = 0; p < 9; ++p) image[static_cast<size_t>(p * 3)] = static_cast<uint8_t>(129 + p);  // q = 1..9
  for (int p = 0; p < 9; ++p) image[static_cast<size_t>(p * 3 + 1)] = static_cast<uint8_t>(100 + p);
  const Simulation sim = simulate(s, image.data());
  // Output (0,0) covers input rows/cols 0..1: 1+2+4+5 = 12; (0,1) cols 1..2: 2+3+5+6 = 16;
  // (1,0): 4+5+7+8 = 24; (1,1): 5+6+8+9 = 28. Channel 1 takes input (2y, 2x) of channel 1.
  const std::vector<int8_t> expected = {12, -28, 16, -26, 24, -22, 28, -20};
  EXPECT_EQ(sim.layers[0], expected);
}

TEST(Simulate, RejectsShapesThatDoNotChain) {
  ModelSpec s = hand_model();
  s.layers[1].in_channels = 4;
  const uint8_t image[9] = {};
  EXPECT_THROW(simulate(s, image), std::invalid_argument);
  s = hand_model();
  s.split.k = 2;  // == C
  EXPECT_THROW(simulate(s, image), std::invalid_argument);
  s = hand_model();
  s.layers[0].bias.pop_back();
  EXPECT_THROW(simulate(s, image), std::invalid_argument);
}

TEST(Simulate, SymbolCountsThresholdsAtOrBelow) {
  const std::vector<int8_t> t = {-5, 0, 0, 10};
  EXPECT_EQ(quantize_symbol(t, -128), 0);
  EXPECT_EQ(quantize_symbol(t, -5), 1);
  EXPECT_EQ(quantize_symbol(t, 0), 3);
  EXPECT_EQ(quantize_symbol(t, 9), 3);
  EXPECT_EQ(quantize_symbol(t, 127), 4);
}

TEST(Golden, RoundTripsAndRejectsDamage) {
  const uint8_t image[9] = {138, 0, 0, 148, 0, 0, 98, 0, 0};
  GoldenImage g;
  g.label = 7;
  g.input.assign(image, image + 9);
  g.expected = simulate(hand_model(), image);
  const std::vector<uint8_t> bytes = write_golden({g, g});
  const std::vector<GoldenImage> back = read_golden(bytes);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].label, 7u);
  EXPECT_EQ(back[1].input, g.input);
  EXPECT_EQ(back[1].expected.layers, g.expected.layers);
  EXPECT_EQ(back[1].expected.pooled, g.expected.pooled);
  EXPECT_EQ(back[1].expected.logits, g.expected.logits);
  EXPECT_EQ(back[1].expected.symbols, g.expected.symbols);

  std::vector<uint8_t> flipped = bytes;
  flipped[20] ^= 1;
  EXPECT_THROW(read_golden(flipped), std::runtime_error);
  EXPECT_THROW(read_golden(std::vector<uint8_t>(bytes.begin(), bytes.end() - 5)), std::runtime_error);
  EXPECT_THROW(read_golden({}), std::runtime_error);
}

}  // namespace
}  // namespace agilenn::exporter
