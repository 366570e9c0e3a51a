#include "codec/rans.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include "codec/lzw.h"
#include "codec/symbol_map.h"
#include "common/crc32.h"

namespace {

using Bytes = std::vector<uint8_t>;

struct Shape {
  unsigned levels, channels, height, width;
  size_t count() const { return size_t{channels} * height * width; }
};

// Sparse maps like real quantized features: nonzeros seed with probability `seed_p` and spread
// right and down with probability `spread`; values geometric from 1.
Bytes sparse_map(const Shape& s, double seed_p, double spread, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  Bytes map(s.count());
  for (unsigned c = 0; c < s.channels; ++c) {
    for (unsigned y = 0; y < s.height; ++y) {
      for (unsigned x = 0; x < s.width; ++x) {
        const size_t i = (size_t{c} * s.height + y) * s.width + x;
        const bool near = (x > 0 && map[i - 1]) || (y > 0 && map[i - s.width]);
        if (u(rng) < seed_p || (near && u(rng) < spread)) {
          unsigned v = 1;
          while (v + 1 < s.levels && u(rng) < 0.4) ++v;
          map[i] = static_cast<uint8_t>(v);
        }
      }
    }
  }
  return map;
}

Bytes build(const Shape& s, const std::vector<Bytes>& maps, uint32_t min_events) {
  auto counts = std::make_unique<agn_rans_counts>();
  EXPECT_EQ(agn_rans_counts_init(counts.get(), s.levels, s.channels, s.height, s.width), AGN_OK);
  for (const Bytes& m : maps) EXPECT_EQ(agn_rans_counts_add(counts.get(), m.data(), m.size()), AGN_OK);
  Bytes out(agn_rans_model_max_size(s.levels, s.channels));
  size_t written = 0;
  EXPECT_EQ(agn_rans_model_build(counts.get(), min_events, out.data(), out.size(), &written), AGN_OK);
  out.resize(written);
  return out;
}

// One symbol per byte to the symbol map the encoder reads (codec/symbol_map.h).
Bytes to_map(const agn_rans_model& model, const Bytes& symbols) {
  const size_t rows = size_t{model.channels} * model.height;
  Bytes map(agn_symbol_map_size(rows, model.width));
  EXPECT_EQ(symbols.size(), rows * model.width);
  EXPECT_EQ(agn_symbol_map_pack(symbols.data(), rows, model.width, map.data()), AGN_OK);
  return map;
}

Bytes encode(const agn_rans_model& model, const Bytes& symbols) {
  Bytes out(agn_rans_max_encoded_size(&model));
  size_t written = 0;
  const Bytes map = to_map(model, symbols);
  EXPECT_EQ(agn_rans_encode(&model, map.data(), map.size(), out.data(), out.size(), &written), AGN_OK);
  out.resize(written);
  return out;
}

// Round trip; every proper prefix of the stream must be rejected.
void round_trip(const agn_rans_model& model, const Bytes& symbols, bool prefixes = true) {
  const Bytes stream = encode(model, symbols);
  ASSERT_GE(stream.size(), 4u);
  ASSERT_LE(stream.size(), agn_rans_max_encoded_size(&model));
  Bytes decoded(symbols.size());
  ASSERT_EQ(agn_rans_decode(&model, stream.data(), stream.size(), decoded.data(), decoded.size()), AGN_OK);
  ASSERT_EQ(decoded, symbols);
  if (!prefixes) return;
  for (size_t n = 0; n < stream.size(); ++n) {
    const Bytes prefix(stream.begin(), stream.begin() + static_cast<long>(n));  // exact size: ASan sees overreads
    EXPECT_NE(agn_rans_decode(&model, prefix.data(), prefix.size(), decoded.data(), decoded.size()), AGN_OK) << n;
  }
}

TEST(Rans, QuantizedFrequenciesAreValid) {
  std::mt19937 rng(3);
  for (unsigned n = 2; n <= AGN_RANS_RUN_SYMBOLS; ++n) {
    for (int shape = 0; shape < 4; ++shape) {
      uint32_t counts[AGN_RANS_RUN_SYMBOLS] = {};
      for (unsigned s = 0; s < n; ++s) {
        if (shape == 1) counts[s] = rng() % 1000;
        if (shape == 2) counts[s] = s == 0 ? 4000000000u : (s == 1 ? 1 : 0);  // extreme skew
        if (shape == 3) counts[s] = 1u << (s % 20);
      }
      uint16_t freqs[AGN_RANS_RUN_SYMBOLS];
      ASSERT_EQ(agn_rans_quantize_freqs(counts, n, freqs), AGN_OK);
      uint32_t sum = 0;
      for (unsigned s = 0; s < n; ++s) {
        EXPECT_GE(freqs[s], 1u);
        sum += freqs[s];
      }
      EXPECT_EQ(sum, 256u);
    }
  }
  uint16_t freqs[AGN_RANS_RUN_SYMBOLS];
  const uint32_t counts[AGN_RANS_RUN_SYMBOLS + 1] = {};
  EXPECT_EQ(agn_rans_quantize_freqs(counts, 1, freqs), AGN_ERR_ARG);
  EXPECT_EQ(agn_rans_quantize_freqs(counts, AGN_RANS_RUN_SYMBOLS + 1, freqs), AGN_ERR_ARG);
}

TEST(Rans, RoundTripsEveryKindOfInput) {
  // Widths of one, two and four 32-column segments of the encoder (rans.cpp), whole or with a
  // shorter last one.
  const Shape shapes[] = {{8, 19, 32, 32}, {2, 3, 5, 7},  {16, 2, 4, 40}, {3, 1, 1, 1},
                          {8, 2, 3, 1},    {5, 1, 2, 29}, {4, 2, 3, 64},  {8, 2, 4, 100}};
  uint32_t seed = 1;
  for (const Shape& s : shapes) {
    std::vector<Bytes> inputs;
    inputs.push_back(sparse_map(s, 0.01, 0.5, seed++));
    inputs.push_back(sparse_map(s, 0.2, 0.7, seed++));
    inputs.push_back(Bytes(s.count(), 0));                                           // constant zero
    inputs.push_back(Bytes(s.count(), static_cast<uint8_t>(s.levels - 1)));          // constant maximum
    std::mt19937 rng(seed++);
    Bytes uniform(s.count());
    for (uint8_t& v : uniform) v = static_cast<uint8_t>(rng() % s.levels);  // maximum entropy
    inputs.push_back(uniform);
    // Adversarial: runs of exactly 13, 14, 15, 27, 28 zeros, nonzeros in the first and last column.
    Bytes edges(s.count(), 0);
    for (size_t i = 0; i < edges.size(); ++i) {
      const size_t x = i % s.width;
      if (x == 0 || x + 1 == s.width || x == 14 || x == 29 || x == 30) edges[i] = static_cast<uint8_t>(1 + i % (s.levels - 1));
    }
    inputs.push_back(edges);
    // Tables learned on sparse maps, on the inputs themselves, and untrained (uniform) tables.
    const std::vector<Bytes> models = {build(s, {sparse_map(s, 0.01, 0.5, seed++)}, 8), build(s, inputs, 1),
                                       build(s, {}, 1)};
    for (const Bytes& bytes : models) {
      agn_rans_model model;
      ASSERT_EQ(agn_rans_model_load(&model, bytes.data(), bytes.size()), AGN_OK);
      for (const Bytes& in : inputs) round_trip(model, in, s.count() < 2000);
    }
  }
}

TEST(Rans, WorstCaseGrowthIsBounded) {
  // Tables trained on all-zero maps make every nonzero as expensive as it can be.
  const Shape s{8, 4, 8, 32};
  const Bytes bytes = build(s, {Bytes(s.count(), 0)}, 1);
  agn_rans_model model;
  ASSERT_EQ(agn_rans_model_load(&model, bytes.data(), bytes.size()), AGN_OK);
  const Bytes worst(s.count(), 7);
  const Bytes stream = encode(model, worst);
  EXPECT_LE(stream.size(), agn_rans_max_encoded_size(&model));
  EXPECT_GT(stream.size(), s.count());  // the bound is not slack by much: ~2 bytes per symbol
  std::printf("worst case: %zu bytes for %zu symbols (bound %zu)\n", stream.size(), s.count(),
              agn_rans_max_encoded_size(&model));
  Bytes out(stream.size() - 1);
  size_t written = 0;
  const Bytes worst_map = to_map(model, worst);
  EXPECT_EQ(agn_rans_encode(&model, worst_map.data(), worst_map.size(), out.data(), out.size(), &written),
            AGN_ERR_NO_SPACE);
}

TEST(Rans, CompressesSparseMapsCloseToTheirEntropyAndBelowLzw) {
  const Shape s{8, 19, 32, 32};
  std::vector<Bytes> train;
  for (uint32_t i = 0; i < 20; ++i) train.push_back(sparse_map(s, 0.01, 0.5, 100 + i));
  const Bytes bytes = build(s, train, 64);
  agn_rans_model model;
  ASSERT_EQ(agn_rans_model_load(&model, bytes.data(), bytes.size()), AGN_OK);
  // The empirical entropy of the training maps' events under the full contexts: what static
  // tables of this event model can reach on maps of the same distribution.
  auto counts = std::make_unique<agn_rans_counts>();
  ASSERT_EQ(agn_rans_counts_init(counts.get(), s.levels, s.channels, s.height, s.width), AGN_OK);
  for (const Bytes& m : train) ASSERT_EQ(agn_rans_counts_add(counts.get(), m.data(), m.size()), AGN_OK);
  double bits = 0;
  auto add = [&](const uint32_t* n, unsigned size) {
    double total = 0;
    for (unsigned k = 0; k < size; ++k) total += n[k];
    for (unsigned k = 0; k < size; ++k) {
      if (n[k] > 0) bits -= n[k] * std::log2(n[k] / total);
    }
  };
  for (unsigned c = 0; c < s.channels; ++c) {
    for (unsigned k = 0; k < AGN_RANS_RUN_CONTEXTS; ++k) add(counts->run[c][k], AGN_RANS_RUN_SYMBOLS);
    for (unsigned k = 0; k < AGN_RANS_VALUE_CONTEXTS; ++k) add(counts->value[c][k], s.levels - 1);
  }
  const double entropy = bits / 8 / static_cast<double>(train.size());
  double rans = 0, lzw = 0;
  const int kTest = 5;
  for (int t = 0; t < kTest; ++t) {
    const Bytes map = sparse_map(s, 0.01, 0.5, 900 + t);
    rans += encode(model, map).size();
    auto enc = std::make_unique<agn_lzw_encoder>();
    Bytes out(agn_lzw_max_encoded_size(map.size(), s.levels));
    size_t written = 0;
    const Bytes nibbles = to_map(model, map);
    ASSERT_EQ(agn_lzw_encode(enc.get(), s.levels, AGN_LZW_VARIABLE, nibbles.data(), size_t{s.channels} * s.height, s.width,
                             out.data(), out.size(), &written),
              AGN_OK);
    lzw += written;
  }
  rans /= kTest;
  lzw /= kTest;
  std::printf("sparse 19x32x32 maps: rANS %.1f bytes, LZW %.1f, training-set entropy %.1f\n", rans, lzw, entropy);
  EXPECT_LT(rans, 0.85 * lzw);
  EXPECT_LT(rans, 1.2 * entropy + 8);  // 8-bit frequencies, merged contexts, unseen maps
}

TEST(Rans, ChannelsKnownToBeZeroAreNotReadAndCodeTheSame) {
  // 64 channels (the mask's width), every third one all zero, odd widths included.
  for (unsigned width : {7u, 32u}) {
    const Shape s{8, AGN_RANS_MAX_CHANNELS, 3, width};
    Bytes symbols = sparse_map(s, 0.1, 0.3, width);
    uint64_t zero = 0;
    for (unsigned c = 0; c < s.channels; c += 3) {
      std::fill_n(symbols.begin() + static_cast<long>(size_t{c} * s.height * width), s.height * width, 0);
      zero |= uint64_t{1} << c;
    }
    const Bytes bytes = build(s, {symbols}, 1);
    agn_rans_model model;
    ASSERT_EQ(agn_rans_model_load(&model, bytes.data(), bytes.size()), AGN_OK);
    const Bytes expected = encode(model, symbols);
    // The known planes hold garbage (even out-of-range symbols): they must not be read.
    Bytes map = to_map(model, symbols);
    const size_t plane = s.height * agn_symbol_row_bytes(width);
    for (unsigned c = 0; c < s.channels; c += 3) std::fill_n(map.begin() + static_cast<long>(c * plane), plane, 0xFF);
    Bytes out(agn_rans_max_encoded_size(&model));
    size_t written = 0;
    ASSERT_EQ(agn_rans_encode_known(&model, map.data(), map.size(), zero, out.data(), out.size(), &written), AGN_OK);
    out.resize(written);
    EXPECT_EQ(out, expected) << "width " << width;
    Bytes again(agn_rans_max_encoded_size(&model));  // unvouched, the garbage is read
    EXPECT_EQ(agn_rans_encode(&model, map.data(), map.size(), again.data(), again.size(), &written), AGN_ERR_RANGE);
  }
}

TEST(Rans, RejectsBadArgumentsAndSymbols) {
  const Shape s{4, 2, 3, 5};
  const Bytes bytes = build(s, {}, 1);
  agn_rans_model model;
  ASSERT_EQ(agn_rans_model_load(&model, bytes.data(), bytes.size()), AGN_OK);
  Bytes symbols(s.count(), 0), out(agn_rans_max_encoded_size(&model));
  size_t written = 0;
  Bytes map = to_map(model, symbols);
  EXPECT_EQ(map.size(), 2u * 3 * 3);  // rows of 5 symbols in 3 bytes
  EXPECT_EQ(agn_rans_encode(&model, map.data(), map.size() - 1, out.data(), out.size(), &written), AGN_ERR_ARG);
  symbols[7] = 4;
  map = to_map(model, symbols);
  EXPECT_EQ(agn_rans_encode(&model, map.data(), map.size(), out.data(), out.size(), &written), AGN_ERR_RANGE);
  symbols[7] = 3;
  map = to_map(model, symbols);
  EXPECT_EQ(agn_rans_encode(&model, map.data(), map.size(), out.data(), 4, &written), AGN_ERR_NO_SPACE);
  ASSERT_EQ(agn_rans_encode(&model, map.data(), map.size(), out.data(), out.size(), &written), AGN_OK);
  Bytes decoded(s.count());
  EXPECT_EQ(agn_rans_decode(&model, out.data(), written, decoded.data(), decoded.size() + 1), AGN_ERR_ARG);
  Bytes longer(out.begin(), out.begin() + static_cast<long>(written));
  longer.push_back(0);
  EXPECT_EQ(agn_rans_decode(&model, longer.data(), longer.size(), decoded.data(), decoded.size()), AGN_ERR_CORRUPT);
  auto counts = std::make_unique<agn_rans_counts>();
  EXPECT_EQ(agn_rans_counts_init(counts.get(), 1, 1, 1, 1), AGN_ERR_ARG);
  EXPECT_EQ(agn_rans_counts_init(counts.get(), 17, 1, 1, 1), AGN_ERR_ARG);
  EXPECT_EQ(agn_rans_counts_init(counts.get(), 8, AGN_RANS_MAX_CHANNELS + 1, 1, 1), AGN_ERR_ARG);
  EXPECT_EQ(agn_rans_counts_init(counts.get(), 8, 1, 0, 1), AGN_ERR_ARG);
}

TEST(Rans, ModelLoadChecksEveryField) {
  const Shape s{8, 3, 4, 9};
  const Bytes good = build(s, {sparse_map(s, 0.1, 0.5, 5)}, 1);
  ASSERT_EQ(good.size(), agn_rans_model_size(8, 3, good[14], good[15]));
  agn_rans_model model;
  ASSERT_EQ(agn_rans_model_load(&model, good.data(), good.size()), AGN_OK);
  EXPECT_EQ(model.channels, 3);
  EXPECT_EQ(model.height, 4);
  EXPECT_EQ(model.width, 9);
  auto with_crc = [](Bytes b) {
    const uint32_t crc = agn_crc32(b.data(), b.size() - 4);
    for (int i = 0; i < 4; ++i) b[b.size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
    return b;
  };
  auto load = [&](const Bytes& b) { return agn_rans_model_load(&model, b.data(), b.size()); };
  EXPECT_EQ(load(Bytes(good.begin(), good.begin() + 10)), AGN_ERR_TRUNCATED);
  EXPECT_EQ(load(Bytes(good.begin(), good.end() - 1)), AGN_ERR_TRUNCATED);
  Bytes b = good;
  b.push_back(0);
  EXPECT_EQ(load(b), AGN_ERR_FORMAT);
  b = good;
  b.back() ^= 1;
  EXPECT_EQ(load(b), AGN_ERR_CHECKSUM);
  const size_t run_tables = 16 + 34 * 3;
  const struct {
    size_t at;
    uint8_t value;
  } bad[] = {{0, 0}, {4, 1}, {6, 1}, {6, 17}, {7, 12}, {8, 0}, {10, 0}, {12, 0}, {14, 0}, {15, 0},
             {16, 255},                   // a run context's table out of range
             {16 + 18 * 3, 255},          // a value context's table out of range
             {run_tables, 1},             // start[0] != 0
             {run_tables + 16, 1},        // start[n] != 0
             {run_tables + 2, 0}};        // starts not increasing
  for (const auto& e : bad) {
    b = good;
    b[e.at] = e.value;
    EXPECT_EQ(load(with_crc(b)), AGN_ERR_FORMAT) << "byte " << e.at;
  }
}

}  // namespace
