#include "codec/rans.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <vector>

#include "codec/lzw.h"
#include "codec/pack.h"

namespace {

using Bytes = std::vector<uint8_t>;

constexpr unsigned kLevels = 8;
constexpr size_t kPlane = 32 * 32;
constexpr unsigned kChannels = 19;

// Draws `count` symbols in channel-major planes; channel c favours level c % L with
// p(k) proportional to exp(-sharpness * |k - mode|).
Bytes skewed_map(unsigned channels, size_t plane, double sharpness, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes map;
  for (unsigned c = 0; c < channels; ++c) {
    std::vector<double> w(kLevels);
    for (unsigned k = 0; k < kLevels; ++k) {
      w[k] = std::exp(-sharpness * std::abs(static_cast<int>(k) - static_cast<int>(c % kLevels)));
    }
    std::discrete_distribution<int> dist(w.begin(), w.end());
    for (size_t i = 0; i < plane; ++i) map.push_back(static_cast<uint8_t>(dist(rng)));
  }
  return map;
}

// A model fitted to `map` itself, plus the empirical entropy of the map in bytes.
std::unique_ptr<agn_rans_model> fit_model(const Bytes& map, unsigned channels, size_t plane,
                                          double* entropy_bytes = nullptr) {
  auto model = std::make_unique<agn_rans_model>();
  EXPECT_EQ(agn_rans_model_init(model.get(), kLevels, channels, AGN_RANS_DEFAULT_SCALE_BITS), AGN_OK);
  double bits = 0;
  for (unsigned c = 0; c < channels; ++c) {
    uint32_t counts[kLevels] = {};
    for (size_t i = 0; i < plane; ++i) ++counts[map[c * plane + i]];
    EXPECT_EQ(agn_rans_model_set_counts(model.get(), c, counts), AGN_OK);
    for (uint32_t n : counts) {
      if (n > 0) bits -= n * std::log2(static_cast<double>(n) / plane);
    }
  }
  if (entropy_bytes) *entropy_bytes = bits / 8;
  return model;
}

Bytes encode(const agn_rans_model& model, const Bytes& symbols, size_t plane) {
  Bytes out(agn_rans_max_encoded_size(symbols.size(), model.scale_bits));
  size_t written = 0;
  EXPECT_EQ(agn_rans_encode(&model, symbols.data(), symbols.size(), plane, out.data(), out.size(),
                            &written), AGN_OK);
  out.resize(written);
  return out;
}

TEST(Rans, QuantizedFrequenciesAreValid) {
  std::mt19937 rng(3);
  for (unsigned levels = 2; levels <= AGN_RANS_MAX_LEVELS; ++levels) {
    for (unsigned scale = 8; scale <= 15; ++scale) {
      for (int shape = 0; shape < 4; ++shape) {
        uint32_t counts[AGN_RANS_MAX_LEVELS] = {};
        for (unsigned s = 0; s < levels; ++s) {
          if (shape == 1) counts[s] = rng() % 1000;
          if (shape == 2) counts[s] = s == 0 ? 4000000000u : (s == 1 ? 1 : 0);  // extreme skew
          if (shape == 3) counts[s] = 1u << (s % 20);
        }
        uint16_t freqs[AGN_RANS_MAX_LEVELS];
        ASSERT_EQ(agn_rans_quantize_freqs(counts, levels, scale, freqs), AGN_OK);
        uint32_t sum = 0;
        for (unsigned s = 0; s < levels; ++s) {
          EXPECT_GE(freqs[s], 1u);
          sum += freqs[s];
        }
        EXPECT_EQ(sum, 1u << scale) << "L=" << levels << " scale=" << scale << " shape=" << shape;
      }
    }
  }
  uint32_t counts[2] = {1, 1};
  uint16_t freqs[2];
  EXPECT_EQ(agn_rans_quantize_freqs(counts, 1, 12, freqs), AGN_ERR_ARG);
  EXPECT_EQ(agn_rans_quantize_freqs(counts, 2, 16, freqs), AGN_ERR_ARG);
}

TEST(Rans, RoundTripsVariedInputs) {
  std::mt19937 rng(5);
  const Bytes skewed = skewed_map(kChannels, kPlane, 1.5, 1);
  auto model = fit_model(skewed, kChannels, kPlane);

  std::vector<std::pair<const char*, Bytes>> inputs;
  inputs.emplace_back("empty", Bytes{});
  inputs.emplace_back("skewed", skewed);
  inputs.emplace_back("constant", Bytes(kChannels * kPlane, 3));
  Bytes alternating(kChannels * kPlane);
  for (size_t i = 0; i < alternating.size(); ++i) alternating[i] = static_cast<uint8_t>(i % 2 ? 7 : 0);
  inputs.emplace_back("alternating", alternating);
  Bytes random(kChannels * kPlane);
  for (auto& s : random) s = static_cast<uint8_t>(rng() % kLevels);
  inputs.emplace_back("max entropy", random);
  // Adversarial: every symbol is the one the model finds least likely in its channel.
  Bytes unlikely(kChannels * kPlane);
  for (size_t i = 0; i < unlikely.size(); ++i) {
    const unsigned c = static_cast<unsigned>(i / kPlane);
    unsigned worst = 0;
    for (unsigned s = 1; s < kLevels; ++s) {
      if (model->freq[c][s] < model->freq[c][worst]) worst = s;
    }
    unlikely[i] = static_cast<uint8_t>(worst);
  }
  inputs.emplace_back("least likely", unlikely);
  inputs.emplace_back("partial last plane", Bytes(skewed.begin(), skewed.begin() + 5000));

  for (const auto& [name, symbols] : inputs) {
    SCOPED_TRACE(name);
    const Bytes out = encode(*model, symbols, kPlane);
    EXPECT_LE(out.size(), agn_rans_max_encoded_size(symbols.size(), model->scale_bits));
    Bytes back(symbols.size(), 0xEE);
    ASSERT_EQ(agn_rans_decode(model.get(), out.data(), out.size(), kPlane, back.data(), back.size()),
              AGN_OK);
    EXPECT_EQ(back, symbols);
  }
}

TEST(Rans, WorstCaseBoundHoldsForEveryScale) {
  // Freq 1 for every symbol that appears: each costs the full scale_bits.
  for (unsigned scale = 8; scale <= 15; ++scale) {
    auto model = std::make_unique<agn_rans_model>();
    ASSERT_EQ(agn_rans_model_init(model.get(), 2, 1, scale), AGN_OK);
    const uint32_t counts[2] = {1000000, 0};
    ASSERT_EQ(agn_rans_model_set_counts(model.get(), 0, counts), AGN_OK);
    ASSERT_EQ(model->freq[0][1], 1u);
    for (size_t n : {0, 1, 7, 8, 1000, 24576}) {
      const Bytes symbols(n, 1);
      const Bytes out = encode(*model, symbols, n ? n : 1);
      EXPECT_LE(out.size(), agn_rans_max_encoded_size(n, scale)) << "scale " << scale << " n " << n;
      Bytes back(n);
      EXPECT_EQ(agn_rans_decode(model.get(), out.data(), out.size(), n ? n : 1, back.data(), n), AGN_OK);
      EXPECT_EQ(back, symbols);
    }
  }
}

TEST(Rans, SkewedDataCompressesNearEntropy) {
  // About 1 bit per symbol: sharp per-channel peaks.
  const Bytes map = skewed_map(kChannels, kPlane, 1.9, 2);
  double entropy_bytes = 0;
  auto model = fit_model(map, kChannels, kPlane, &entropy_bytes);
  const Bytes out = encode(*model, map, kPlane);
  const double bits_per_symbol = entropy_bytes * 8 / map.size();
  EXPECT_GT(bits_per_symbol, 0.8);
  EXPECT_LT(bits_per_symbol, 1.3);
  EXPECT_LE(static_cast<double>(out.size()), 1.1 * entropy_bytes);
  EXPECT_LT(out.size(), agn_pack_size_bytes(map.size(), kLevels) / 2);
}

TEST(Rans, ReportsSizesAgainstPackingAndLzw) {
  const Bytes map = skewed_map(kChannels, kPlane, 1.5, 3);
  double entropy_bytes = 0;
  auto model = fit_model(map, kChannels, kPlane, &entropy_bytes);
  const size_t rans = encode(*model, map, kPlane).size();
  auto enc = std::make_unique<agn_lzw_encoder>();
  Bytes out(agn_lzw_max_encoded_size(map.size(), kLevels));
  size_t lzw_fixed = 0;
  size_t lzw_variable = 0;
  ASSERT_EQ(agn_lzw_encode(enc.get(), kLevels, AGN_LZW_FIXED, map.data(), map.size(), out.data(),
                           out.size(), &lzw_fixed), AGN_OK);
  ASSERT_EQ(agn_lzw_encode(enc.get(), kLevels, AGN_LZW_VARIABLE, map.data(), map.size(),
                           out.data(), out.size(), &lzw_variable), AGN_OK);
  const size_t packed = agn_pack_size_bytes(map.size(), kLevels);
  std::printf("19x32x32 L=8 skewed: entropy %.0f B, packed %zu B, LZW fixed %zu B, "
              "LZW variable %zu B, rANS %zu B\n",
              entropy_bytes, packed, lzw_fixed, lzw_variable, rans);
  EXPECT_LT(rans, lzw_variable);
  EXPECT_LE(lzw_variable, lzw_fixed);
  EXPECT_LT(rans, packed);
}

TEST(Rans, TruncationExtraBytesAndCorruptionAreRejected) {
  const Bytes map = skewed_map(kChannels, kPlane, 1.5, 4);
  auto model = fit_model(map, kChannels, kPlane);
  const Bytes out = encode(*model, map, kPlane);
  Bytes back(map.size());
  for (size_t len = 0; len < out.size(); ++len) {
    const agn_status st = agn_rans_decode(model.get(), out.data(), len, kPlane, back.data(), back.size());
    ASSERT_TRUE(st == AGN_ERR_TRUNCATED || st == AGN_ERR_CORRUPT) << "length " << len;
  }
  Bytes extra = out;
  extra.push_back(0x42);
  EXPECT_EQ(agn_rans_decode(model.get(), extra.data(), extra.size(), kPlane, back.data(), back.size()),
            AGN_ERR_CORRUPT);
  // Decoding fewer symbols than were encoded leaves state and bytes over.
  EXPECT_EQ(agn_rans_decode(model.get(), out.data(), out.size(), kPlane, back.data(), back.size() - 1),
            AGN_ERR_CORRUPT);

  // Single bit flips: must never crash; the final-state check catches almost all of them.
  size_t rejected = 0;
  const size_t flips = out.size() * 8;
  for (size_t bit = 0; bit < flips; ++bit) {
    Bytes bad = out;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    rejected += agn_rans_decode(model.get(), bad.data(), bad.size(), kPlane, back.data(), back.size()) != AGN_OK;
  }
  std::printf("rANS single-bit flips rejected: %zu of %zu\n", rejected, flips);
  EXPECT_GE(rejected, flips * 95 / 100);

  std::mt19937 rng(8);
  for (int t = 0; t < 500; ++t) {  // garbage of random length
    Bytes garbage(rng() % 300);
    for (auto& b : garbage) b = static_cast<uint8_t>(rng());
    Bytes small(1 + rng() % 400);
    const agn_status st = agn_rans_decode(model.get(), garbage.data(), garbage.size(), kPlane,
                                          small.data(), small.size());
    EXPECT_LE(st, AGN_OK);
  }
}

TEST(Rans, RejectsBadArguments) {
  auto model = std::make_unique<agn_rans_model>();
  ASSERT_EQ(agn_rans_model_init(model.get(), kLevels, 2, 12), AGN_OK);
  const Bytes symbols(3 * kPlane, 0);
  Bytes out(4096);
  size_t written = 0;
  EXPECT_EQ(agn_rans_encode(model.get(), symbols.data(), symbols.size(), kPlane, out.data(),
                            out.size(), &written), AGN_ERR_ARG);  // 3 planes, 2 channels
  EXPECT_EQ(agn_rans_encode(model.get(), symbols.data(), 10, 0, out.data(), out.size(), &written),
            AGN_ERR_ARG);
  const Bytes bad = {0, 9, 1};
  EXPECT_EQ(agn_rans_encode(model.get(), bad.data(), bad.size(), kPlane, out.data(), out.size(),
                            &written), AGN_ERR_RANGE);
  EXPECT_EQ(agn_rans_encode(model.get(), symbols.data(), 2 * kPlane, kPlane, out.data(), 10,
                            &written), AGN_ERR_NO_SPACE);
  const uint16_t zero_freq[kLevels] = {4096, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(agn_rans_model_set_freqs(model.get(), 0, zero_freq), AGN_ERR_ARG);
  const uint16_t bad_sum[kLevels] = {1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(agn_rans_model_set_freqs(model.get(), 0, bad_sum), AGN_ERR_ARG);
  EXPECT_EQ(agn_rans_model_init(model.get(), kLevels, AGN_RANS_MAX_CHANNELS + 1, 12), AGN_ERR_ARG);
}

TEST(Rans, ModelSerialisationRoundTripsAndIsChecked) {
  const Bytes map = skewed_map(kChannels, kPlane, 1.5, 6);
  auto model = fit_model(map, kChannels, kPlane);
  const size_t size = agn_rans_model_serialized_size(kLevels, kChannels);
  EXPECT_EQ(size, 16u + 2 * kLevels * kChannels);
  Bytes blob(size);
  size_t written = 0;
  ASSERT_EQ(agn_rans_model_save(model.get(), blob.data(), blob.size(), &written), AGN_OK);
  ASSERT_EQ(written, size);
  EXPECT_EQ(blob[0], 'A');
  EXPECT_EQ(blob[3], 'M');
  EXPECT_EQ(agn_rans_model_save(model.get(), blob.data(), size - 1, &written), AGN_ERR_NO_SPACE);

  auto loaded = std::make_unique<agn_rans_model>();
  ASSERT_EQ(agn_rans_model_load(loaded.get(), blob.data(), blob.size()), AGN_OK);
  EXPECT_EQ(encode(*loaded, map, kPlane), encode(*model, map, kPlane));

  EXPECT_EQ(agn_rans_model_load(loaded.get(), blob.data(), 5), AGN_ERR_TRUNCATED);
  EXPECT_EQ(agn_rans_model_load(loaded.get(), blob.data(), size - 1), AGN_ERR_TRUNCATED);
  Bytes longer = blob;
  longer.push_back(0);
  EXPECT_EQ(agn_rans_model_load(loaded.get(), longer.data(), longer.size()), AGN_ERR_FORMAT);
  Bytes bad = blob;
  bad[0] ^= 1;
  EXPECT_EQ(agn_rans_model_load(loaded.get(), bad.data(), bad.size()), AGN_ERR_FORMAT);
  bad = blob;
  bad[4] = 2;  // version
  EXPECT_EQ(agn_rans_model_load(loaded.get(), bad.data(), bad.size()), AGN_ERR_FORMAT);
  bad = blob;
  bad[20] ^= 0x10;  // a frequency
  EXPECT_EQ(agn_rans_model_load(loaded.get(), bad.data(), bad.size()), AGN_ERR_CHECKSUM);
  for (size_t bit = 0; bit < blob.size() * 8; ++bit) {  // no flip is ever accepted
    bad = blob;
    bad[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    ASSERT_NE(agn_rans_model_load(loaded.get(), bad.data(), bad.size()), AGN_OK) << "bit " << bit;
  }
}

}  // namespace
