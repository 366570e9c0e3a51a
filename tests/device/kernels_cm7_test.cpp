// The Cortex-M7 kernel tables (portable build of the same code; the DSP build is checked in QEMU
// by tests/firmware/pipeline_test.cpp) against the reference kernels: every layer's output, the
// pooling sums, the symbols and the logits must be identical, on the default shape and on
// shapes that exercise strides, odd channel counts, levels and the reference fallbacks.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

#include "codec/symbol_map.h"
#include "device/kernels/cm7/cm7_kernels.h"
#include "device/kernels/requant.h"
#include "device/runtime.h"
#include "device/whole_tensor.h"
#include "modelfile/random_model.h"

namespace {

using agilenn::modelfile::LayerOp;
using agilenn::modelfile::ModelSpec;
using agilenn::modelfile::random_model;
using agilenn::modelfile::RandomModelOptions;
using agilenn::modelfile::write_model;
using agilenn::testing::evaluate_whole;

std::vector<uint8_t> random_image(const agn_model& m, std::mt19937& rng) {
  std::vector<uint8_t> image(size_t{m.input_height} * m.input_width * m.input_channels);
  for (uint8_t& p : image) p = static_cast<uint8_t>(rng());
  return image;
}

// Whole-tensor evaluation and the streaming runtime, each table against the reference.
void expect_tables_match(const ModelSpec& spec, uint32_t seed) {
  const std::vector<uint8_t> bytes = write_model(spec);
  agn_model m{};
  ASSERT_EQ(agn_model_load(&m, bytes.data(), bytes.size()), AGN_OK) << m.error;
  std::mt19937 rng(seed);
  for (int n = 0; n < 3; ++n) {
    const std::vector<uint8_t> image = random_image(m, rng);
    const auto ref = evaluate_whole(m, image, agn_kernels_reference);
    for (const agn_kernel_table* table : {&agn_kernels_cm7, &agn_kernels_cm7_unfused}) {
      const bool fused = table->last_split != nullptr;
      const auto got = evaluate_whole(m, image, *table);
      for (unsigned i = 0; i + (fused ? 1 : 0) < m.layer_count; ++i) {
        ASSERT_EQ(got.layers[i], ref.layers[i]) << "layer " << i << " seed " << seed << " fused " << fused;
      }
      ASSERT_EQ(got.pool_sums, ref.pool_sums) << "seed " << seed << " fused " << fused;
      ASSERT_EQ(got.symbols, ref.symbols) << "seed " << seed << " fused " << fused;
      ASSERT_EQ(got.logits, ref.logits) << "seed " << seed << " fused " << fused;

      const unsigned codecs = agn_runtime_default_codecs(&m);
      size_t arena_size = 0;
      ASSERT_EQ(agn_runtime_kernel_arena_size(&m, codecs, table, &arena_size), AGN_OK);
      std::vector<uint32_t> arena(arena_size / 4 + 1);
      agn_runtime rt{};
      ASSERT_EQ(agn_runtime_init(&rt, &m, codecs, table, arena.data(), arena_size), AGN_OK) << rt.error;
      std::vector<int8_t> logits(m.local.classes);
      ASSERT_EQ(agn_runtime_run(&rt, image.data(), image.size(), logits.data(), logits.size()), AGN_OK);
      EXPECT_EQ(logits, ref.logits);
      EXPECT_EQ(std::vector<uint8_t>(agn_runtime_symbols(&rt), agn_runtime_symbols(&rt) + m.symbol_map_size),
                ref.symbols);
      // The planes it knows to be zero are zero, and the rANS payload is the reference symbols'.
      const size_t plane = size_t{m.feature_height} * agn_symbol_row_bytes(m.feature_width);
      for (unsigned j = 0; j < 64 && j < m.symbol_map_size / plane; ++j) {
        if ((rt.zero_planes >> j) & 1u) {
          EXPECT_EQ(std::count(ref.symbols.begin() + j * plane, ref.symbols.begin() + (j + 1) * plane, 0), plane);
        }
      }
      if (codecs & AGN_CODEC_BIT(AGN_CODEC_RANS)) {
        std::vector<uint8_t> payload(agn_runtime_max_payload(&m, AGN_CODEC_RANS)), expected(payload.size());
        size_t written = 0, expected_size = 0;
        ASSERT_EQ(agn_runtime_encode(&rt, AGN_CODEC_RANS, payload.data(), payload.size(), &written), AGN_OK) << rt.error;
        ASSERT_EQ(agn_rans_encode(&rt.rans, ref.symbols.data(), ref.symbols.size(), expected.data(), expected.size(),
                                  &expected_size),
                  AGN_OK);
        EXPECT_EQ(std::vector<uint8_t>(payload.begin(), payload.begin() + written),
                  std::vector<uint8_t>(expected.begin(), expected.begin() + expected_size));
      }
    }
  }
}

TEST(KernelsCm7, DefaultShapeMatchesReference) {
  for (uint32_t seed = 1; seed <= 20; ++seed) expect_tables_match(random_model({}, seed), seed);
}

TEST(KernelsCm7, FullRangeReluLayersTakeTheSignFreeLoopsAndTheWideSymbolTable) {
  // Pointwise layers clamped to [-128, 127] with the zero point at -128 (ReLU, as AgileNN's pw1
  // and pw2): the sign correction is left out (cm7_kernels.h) and the fused remote channels look
  // their symbols up in the wide table; the random models' narrower clamps take neither.
  // Three remote channels are dead (RandomModelOptions::export_like): prepare proves them
  // constant by interval arithmetic and the fused kernel fills their planes instead of computing
  // them, two with symbol 0, one with the last symbol (a nonzero fill).
  RandomModelOptions o;
  o.export_like = true;
  for (uint32_t seed = 30; seed < 40; ++seed) {
    const ModelSpec spec = random_model(o, seed);
    const std::vector<uint8_t> bytes = write_model(spec);
    agn_model m{};
    ASSERT_EQ(agn_model_load(&m, bytes.data(), bytes.size()), AGN_OK) << m.error;
    std::vector<uint32_t> state(agn_cm7_state_size(&m) / 4 + 1);
    agn_cm7_prepare(&m, state.data());
    const auto& s = agilenn::device::cm7::state_of(state.data());
    ASSERT_TRUE(s.fused);
    // Each depthwise layer writes its rows packed for the pointwise layer after it.
    for (unsigned i = 0; i < m.layer_count; ++i) {
      EXPECT_EQ(s.layer[i].packed_out, i % 2 == 0 ? 1u : 0u) << "layer " << i;
      EXPECT_EQ(s.layer[i].packed_in, i % 2 == 1 ? 1u : 0u) << "layer " << i;
    }
    EXPECT_EQ(s.layer[m.layer_count - 1].sign_mask, 0);
    ASSERT_GT(s.wide_count, 0u);
    const auto* base = reinterpret_cast<const uint8_t*>(state.data());
    for (uint32_t i = 0; i < s.wide_count; ++i) {  // every entry is the saturated value's symbol
      const int32_t v = s.wide_lo + static_cast<int32_t>(i);
      ASSERT_EQ(base[s.wide_symbols + i], s.symbol_of[(v < -128 ? -128 : v > 127 ? 127 : v) + 128]);
    }
    const unsigned remote = m.layers[m.layer_count - 1].out_channels - unsigned{m.k};
    ASSERT_LE(s.remote_live, remote - 3) << "seed " << seed;
    ASSERT_GT(s.remote_live, 0u) << "seed " << seed;
    const auto* order = reinterpret_cast<const uint16_t*>(base + s.remote_order);
    const auto* fill = base + s.remote_fill;
    const std::set<unsigned> constant(order + s.remote_live, order + remote);
    EXPECT_EQ(constant.size(), remote - s.remote_live);
    for (unsigned j : {0u, 1u, remote - 1}) EXPECT_EQ(constant.count(j), 1u) << "channel " << j << " seed " << seed;
    EXPECT_EQ(fill[0], 0x00);
    EXPECT_EQ(fill[1], (m.levels - 1) * 0x11);
    EXPECT_EQ(fill[remote - 1], 0x00);
    // The constant planes are written once, at init; the encoder is told the zero ones.
    std::vector<uint8_t> symbols(m.symbol_map_size, 0xFF);
    const uint64_t zero = agn_cm7_constant_planes(&m, state.data(), symbols.data());
    const size_t plane = size_t{m.feature_height} * agn_symbol_row_bytes(m.feature_width);
    uint64_t expected_zero = 0;
    for (unsigned j = 0; j < remote; ++j) {
      const bool constant_j = constant.count(j) > 0;
      if (constant_j && fill[j] == 0) expected_zero |= uint64_t{1} << j;
      const auto first = symbols.begin() + static_cast<long>(j * plane);
      EXPECT_EQ(std::count(first, first + static_cast<long>(plane), constant_j ? fill[j] : 0xFF), plane) << "plane " << j;
    }
    EXPECT_EQ(zero, expected_zero);
    EXPECT_EQ(zero & 3u, 1u);  // channel 0 dead at the bottom, channel 1 at the top
    expect_tables_match(spec, seed);
  }
}

TEST(KernelsCm7, OtherShapesMatchReference) {
  uint32_t seed = 100;
  for (int stride : {1, 2}) {
    for (int mid : {3, 4, 5}) {
      for (int levels : {2, 3, 8, 16}) {
        RandomModelOptions o;
        o.height = 9;
        o.width = 11;
        o.stride = stride;
        o.mid_channels = mid;
        o.out_channels = 7 + mid;
        o.k = 1 + mid % 3;
        o.levels = levels;
        expect_tables_match(random_model(o, seed), seed);
        ++seed;
      }
    }
  }
}

TEST(KernelsCm7, RowsWiderThanTheFastPathsBuffersTakeTheFallbacks) {
  // 70 pixels: more than the depthwise accumulator row (64) and the packed rows (128 words).
  for (uint32_t seed : {200u, 201u}) {
    RandomModelOptions o;
    o.height = 4;
    o.width = 70;
    expect_tables_match(random_model(o, seed), seed);
  }
}

TEST(KernelsCm7, FallsBackWhereTheFastPathCannotBeExact) {
  // A positive shift large enough that acc * 2^shift could saturate: that layer (and the fusion
  // of the last one) must take the reference path and still agree.
  for (unsigned layer : {0u, 1u, 2u, 3u}) {
    ModelSpec spec = random_model({}, 7 + layer);
    spec.layers[layer].shift[0] = 20;
    expect_tables_match(spec, layer);
  }
}

// The fast requantisation of cm7_kernels.h (one SMMLAR, the accumulator's sign for the rounding)
// against the reference arithmetic, over the shifts the fast path takes (-22..-1), edge
// multipliers, zero points and accumulators up to its bound.
TEST(KernelsCm7, FastRequantisationIsExact) {
  std::mt19937 rng(11);
  for (int32_t shift = -22; shift <= -1; ++shift) {
    for (int32_t multiplier : {0, 1 << 30, (1 << 30) + 12345, 1518500250, 2147483647}) {
      for (int32_t zp : {-128, -5, 0, 127}) {
        agilenn::device::cm7::Channel c{};
        c.multiplier = multiplier;
        c.pre_shift = 1;
        c.post_shift = -shift;
        c.offset = (1 << (c.post_shift - 1)) + zp * (1 << c.post_shift);
        const int32_t bound = (1 << 30) >> c.pre_shift;
        std::vector<int32_t> accs = {0, 1, -1, 2, -2, bound - 1, -(bound - 1)};
        for (int i = 0; i < 2000; ++i) accs.push_back(static_cast<int32_t>(rng() % (2u * bound - 1)) - (bound - 1));
        for (int i = -300; i <= 300; ++i) accs.push_back(i);
        for (int32_t acc : accs) {
          const int32_t got = agilenn::device::cm7::ssat8(agilenn::device::cm7::requantize(acc << c.pre_shift, c));
          ASSERT_EQ(got, agn_requantize(acc, multiplier, shift, zp, -128, 127))
              << "acc " << acc << " multiplier " << multiplier << " shift " << shift << " zp " << zp;
        }
      }
    }
  }
}

TEST(KernelsCm7, StateNeedsArenaSpace) {
  const std::vector<uint8_t> bytes = write_model(random_model({}, 3));
  agn_model m{};
  ASSERT_EQ(agn_model_load(&m, bytes.data(), bytes.size()), AGN_OK);
  size_t ref = 0, cm7 = 0;
  ASSERT_EQ(agn_runtime_arena_size(&m, AGN_CODEC_BIT(AGN_CODEC_RANS), &ref), AGN_OK);
  ASSERT_EQ(agn_runtime_kernel_arena_size(&m, AGN_CODEC_BIT(AGN_CODEC_RANS), &agn_kernels_cm7, &cm7), AGN_OK);
  EXPECT_GT(cm7, ref);
  std::vector<uint32_t> arena(cm7 / 4);
  agn_runtime rt{};
  EXPECT_EQ(agn_runtime_init(&rt, &m, AGN_CODEC_BIT(AGN_CODEC_RANS), &agn_kernels_cm7, arena.data(), cm7 - 4),
            AGN_ERR_NO_SPACE);
  EXPECT_EQ(agn_runtime_init(&rt, &m, AGN_CODEC_BIT(AGN_CODEC_RANS), &agn_kernels_cm7, arena.data(), cm7), AGN_OK);
}

}  // namespace
