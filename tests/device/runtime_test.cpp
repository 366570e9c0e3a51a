#include "device/runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "codec/lzw.h"
#include "codec/pack.h"
#include "codec/rans.h"
#include "codec/symbol_map.h"
#include "device/whole_tensor.h"
#include "modelfile/random_model.h"

namespace {

using agilenn::modelfile::LayerOp;
using agilenn::modelfile::ModelSpec;
using agilenn::modelfile::random_head;
using agilenn::modelfile::random_layer;
using agilenn::modelfile::random_model;
using agilenn::modelfile::RandomModelOptions;
using agilenn::modelfile::write_model;
using agilenn::testing::evaluate_whole;

std::vector<uint8_t> random_image(const agn_model& m, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> image(size_t{m.input_height} * m.input_width * m.input_channels);
  for (uint8_t& p : image) p = static_cast<uint8_t>(rng());
  return image;
}

// A loaded model with its bytes and a runtime over an exactly sized arena (with a guard after it).
struct Loaded {
  std::vector<uint8_t> bytes;
  agn_model model{};
  std::vector<uint32_t> arena_words;
  size_t arena_size = 0;
  agn_runtime runtime{};
  static constexpr uint32_t kGuard = 0xA5A5A5A5u;
  static constexpr size_t kGuardWords = 64;

  explicit Loaded(const ModelSpec& spec, unsigned codecs = AGN_CODECS_ALL) : bytes(write_model(spec)) {
    EXPECT_EQ(agn_model_load(&model, bytes.data(), bytes.size()), AGN_OK) << model.error;
    EXPECT_EQ(agn_runtime_arena_size(&model, codecs, &arena_size), AGN_OK);
    arena_words.assign(arena_size / 4 + kGuardWords, kGuard);
    EXPECT_EQ(agn_runtime_init(&runtime, &model, codecs, nullptr, arena_words.data(), arena_size), AGN_OK)
        << runtime.error;
  }
  bool guard_intact() const {
    for (size_t i = arena_size / 4; i < arena_words.size(); ++i) {
      if (arena_words[i] != kGuard) return false;
    }
    return true;
  }
};

void expect_streaming_matches_whole(const ModelSpec& spec, uint32_t seed) {
  Loaded l(spec);
  for (uint32_t image_seed = 0; image_seed < 3; ++image_seed) {
    const std::vector<uint8_t> image = random_image(l.model, seed * 100 + image_seed);
    std::vector<int8_t> logits(l.model.local.classes);
    ASSERT_EQ(agn_runtime_run(&l.runtime, image.data(), image.size(), logits.data(), logits.size()), AGN_OK)
        << l.runtime.error;
    const auto whole = evaluate_whole(l.model, image);
    EXPECT_EQ(logits, whole.logits);
    const uint8_t* symbols = agn_runtime_symbols(&l.runtime);
    ASSERT_NE(symbols, nullptr);
    EXPECT_EQ(std::vector<uint8_t>(symbols, symbols + l.model.symbol_map_size), whole.symbols);
    EXPECT_TRUE(l.guard_intact());
  }
}

TEST(Runtime, StreamingEqualsWholeTensorsOnTheDefaultNetwork) {
  for (uint32_t seed = 1; seed <= 4; ++seed) expect_streaming_matches_whole(random_model({}, seed), seed);
  RandomModelOptions strided;
  strided.height = 17;
  strided.width = 23;
  strided.stride = 2;
  expect_streaming_matches_whole(random_model(strided, 9), 9);
}

TEST(Runtime, StreamingEqualsWholeTensorsOnOtherStacks) {
  // Kernels 1..5, strides 1..3, every padding, conv and depthwise mixed, odd sizes.
  std::mt19937 rng(21);
  for (int trial = 0; trial < 30; ++trial) {
    ModelSpec spec;
    int h = 6 + static_cast<int>(rng() % 20), w = 6 + static_cast<int>(rng() % 20), c = 1 + static_cast<int>(rng() % 4);
    spec.input = {h, w, c, 1.0f, 0};
    const int layers = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < layers; ++i) {
      const int op = static_cast<int>(rng() % 3);
      const int k = op == 1 ? 1 : 1 + 2 * static_cast<int>(rng() % 3);
      const int stride = op == 1 ? 1 : 1 + static_cast<int>(rng() % 3);
      const int pad = op == 1 ? 0 : static_cast<int>(rng() % k);
      if (h + 2 * pad < k || w + 2 * pad < k) continue;
      const int out_c = op == 0 ? c : 2 + static_cast<int>(rng() % 6);
      const LayerOp ops[] = {LayerOp::depthwise, LayerOp::pointwise, LayerOp::conv};
      spec.layers.push_back(random_layer(ops[op], k, stride, pad, h, w, c, out_c, i + 1 == layers, rng));
      h = spec.layers.back().out_height;
      w = spec.layers.back().out_width;
      c = out_c;
    }
    if (spec.layers.empty() || c < 2) {
      spec.layers.push_back(random_layer(LayerOp::pointwise, 1, 1, 0, h, w, c, 3, true, rng));
      c = 3;
    }
    random_head(spec, 1 + static_cast<int>(rng() % (c - 1)), 2 + static_cast<int>(rng() % 15), 3, true, rng);
    SCOPED_TRACE("trial " + std::to_string(trial));
    expect_streaming_matches_whole(spec, static_cast<uint32_t>(trial));
  }
}

TEST(Runtime, EveryCodecDecodesToTheSymbols) {
  Loaded l(random_model({}, 3));
  const std::vector<uint8_t> image = random_image(l.model, 5);
  std::vector<int8_t> logits(l.model.local.classes);
  ASSERT_EQ(agn_runtime_run(&l.runtime, image.data(), image.size(), logits.data(), logits.size()), AGN_OK);
  const std::vector<uint8_t> map(agn_runtime_symbols(&l.runtime), agn_runtime_symbols(&l.runtime) + l.model.symbol_map_size);
  EXPECT_EQ(map.size(), l.model.symbol_count / 2);  // 4 bits per symbol (an even width)
  std::vector<uint8_t> symbols(l.model.symbol_count);  // one per byte, as the decoders write them
  agn_symbol_map_unpack(map.data(), l.model.symbol_count / l.model.feature_width, l.model.feature_width, symbols.data());
  static agn_lzw_decoder lzw;
  static agn_rans_model rans;
  ASSERT_EQ(agn_rans_model_load(&rans, l.model.rans, l.model.rans_size), AGN_OK);
  for (agn_codec codec : {AGN_CODEC_RAW, AGN_CODEC_LZW_FIXED, AGN_CODEC_LZW_VARIABLE, AGN_CODEC_RANS, AGN_CODEC_RAW}) {
    std::vector<uint8_t> payload(agn_runtime_max_payload(&l.model, codec));
    size_t written = 0;
    ASSERT_EQ(agn_runtime_encode(&l.runtime, codec, payload.data(), payload.size(), &written), AGN_OK)
        << l.runtime.error;
    payload.resize(written);
    std::vector<uint8_t> decoded(symbols.size());
    size_t count = 0;
    switch (codec) {
      case AGN_CODEC_RAW:
        EXPECT_EQ(written, l.model.symbol_count * 3 / 8);
        ASSERT_EQ(agn_unpack_symbols(payload.data(), payload.size(), 8, decoded.data(), decoded.size()), AGN_OK);
        break;
      case AGN_CODEC_LZW_FIXED:
      case AGN_CODEC_LZW_VARIABLE:
        ASSERT_EQ(agn_lzw_decode(&lzw, 8, codec == AGN_CODEC_LZW_FIXED ? AGN_LZW_FIXED : AGN_LZW_VARIABLE,
                                 payload.data(), payload.size(), decoded.data(), decoded.size(), &count), AGN_OK);
        EXPECT_EQ(count, symbols.size());
        break;
      case AGN_CODEC_RANS:
        ASSERT_EQ(agn_rans_decode(&rans, payload.data(), payload.size(), decoded.data(), decoded.size()), AGN_OK);
        break;
    }
    EXPECT_EQ(decoded, symbols) << "codec " << codec;
    // Encoding reuses the extractor's memory but never the symbols.
    EXPECT_EQ(std::memcmp(agn_runtime_symbols(&l.runtime), map.data(), map.size()), 0);
    EXPECT_TRUE(l.guard_intact());
  }
  // A second run after encoding gives the same result (the rings were overwritten by the codec).
  std::vector<int8_t> again(logits.size());
  ASSERT_EQ(agn_runtime_run(&l.runtime, image.data(), image.size(), again.data(), again.size()), AGN_OK);
  EXPECT_EQ(again, logits);
}

TEST(Runtime, ArenaIsCheckedAndSizedPerCodec) {
  const std::vector<uint8_t> bytes = write_model(random_model({}, 4));
  agn_model model;
  ASSERT_EQ(agn_model_load(&model, bytes.data(), bytes.size()), AGN_OK);
  size_t all = 0, rans_only = 0, raw_only = 0;
  ASSERT_EQ(agn_runtime_arena_size(&model, AGN_CODECS_ALL, &all), AGN_OK);
  EXPECT_EQ(all, model.stored_arena_size);  // write_model stores the size for every codec
  ASSERT_EQ(agn_runtime_arena_size(&model, AGN_CODEC_BIT(AGN_CODEC_RANS), &rans_only), AGN_OK);
  ASSERT_EQ(agn_runtime_arena_size(&model, AGN_CODEC_BIT(AGN_CODEC_RAW), &raw_only), AGN_OK);
  EXPECT_EQ(model.symbol_count, 19u * 32 * 32);
  EXPECT_EQ(model.symbol_map_size, model.symbol_count / 2);  // 4 bits per symbol
  EXPECT_GE(raw_only, model.symbol_map_size);
  EXPECT_EQ(rans_only, raw_only);  // rANS reads its tables in place: no arena of its own
  EXPECT_GE(all, model.symbol_map_size + sizeof(agn_lzw_encoder));
  EXPECT_LT(raw_only, all);

  std::vector<uint32_t> arena(all / 4 + 1);
  agn_runtime rt;
  EXPECT_EQ(agn_runtime_init(&rt, &model, AGN_CODECS_ALL, nullptr, arena.data(), all - 1), AGN_ERR_NO_SPACE);
  EXPECT_NE(std::string(rt.error).find("arena of"), std::string::npos) << rt.error;
  EXPECT_EQ(agn_runtime_init(&rt, &model, AGN_CODECS_ALL, nullptr, reinterpret_cast<uint8_t*>(arena.data()) + 1, all),
            AGN_ERR_ARG);
  EXPECT_EQ(agn_runtime_init(&rt, &model, 0x10, nullptr, arena.data(), all), AGN_ERR_ARG);

  ASSERT_EQ(agn_runtime_init(&rt, &model, AGN_CODEC_BIT(AGN_CODEC_RAW), nullptr, arena.data(), raw_only), AGN_OK);
  uint8_t out[16];
  size_t written = 0;
  EXPECT_EQ(agn_runtime_encode(&rt, AGN_CODEC_RAW, out, sizeof out, &written), AGN_ERR_STATE);
  std::vector<uint8_t> image = random_image(model, 1);
  std::vector<int8_t> logits(model.local.classes);
  EXPECT_EQ(agn_runtime_run(&rt, image.data(), image.size() - 1, logits.data(), logits.size()), AGN_ERR_ARG);
  EXPECT_EQ(agn_runtime_run(&rt, image.data(), image.size(), logits.data(), logits.size() - 1), AGN_ERR_ARG);
  ASSERT_EQ(agn_runtime_run(&rt, image.data(), image.size(), logits.data(), logits.size()), AGN_OK);
  EXPECT_EQ(agn_runtime_encode(&rt, AGN_CODEC_LZW_FIXED, out, sizeof out, &written), AGN_ERR_ARG);
  EXPECT_EQ(agn_runtime_encode(&rt, AGN_CODEC_RAW, out, sizeof out, &written), AGN_ERR_NO_SPACE);
}

TEST(Runtime, NoRansSectionMeansNoRansCodec) {
  RandomModelOptions o;
  o.rans = false;
  const std::vector<uint8_t> bytes = write_model(random_model(o, 5));
  agn_model model;
  ASSERT_EQ(agn_model_load(&model, bytes.data(), bytes.size()), AGN_OK);
  size_t size = 0;
  EXPECT_EQ(agn_runtime_arena_size(&model, AGN_CODECS_ALL, &size), AGN_ERR_ARG);
  std::vector<uint32_t> arena(20000);
  agn_runtime rt;
  EXPECT_EQ(agn_runtime_init(&rt, &model, AGN_CODECS_ALL, nullptr, arena.data(), arena.size() * 4), AGN_ERR_ARG);
  EXPECT_NE(std::string(rt.error).find("RANS"), std::string::npos);
}

// The random model with rANS tables learned from all-zero maps: its dense maps then cost far
// more than their raw packing.
ModelSpec with_tables_for_zero_maps(ModelSpec spec) {
  const auto& last = spec.layers.back();
  const unsigned remote = static_cast<unsigned>(last.out_channels - spec.split.k);
  auto counts = std::make_unique<agn_rans_counts>();
  EXPECT_EQ(agn_rans_counts_init(counts.get(), static_cast<unsigned>(spec.split.levels), remote,
                                 static_cast<unsigned>(last.out_height), static_cast<unsigned>(last.out_width)),
            AGN_OK);
  const std::vector<uint8_t> zeros(size_t{remote} * last.out_height * last.out_width, 0);
  EXPECT_EQ(agn_rans_counts_add(counts.get(), zeros.data(), zeros.size()), AGN_OK);
  spec.rans_model.resize(agn_rans_model_max_size(static_cast<unsigned>(spec.split.levels), remote));
  size_t written = 0;
  EXPECT_EQ(agn_rans_model_build(counts.get(), 16, spec.rans_model.data(), spec.rans_model.size(), &written), AGN_OK);
  spec.rans_model.resize(written);
  return spec;
}

// The send path: rANS when it fits in the raw packing's size, else the raw packing; always the
// bytes agn_runtime_encode gives for the coder it reports.
TEST(Runtime, DefaultEncodingFallsBackToPackingWhenRansDoesNotFit) {
  bool fell_back = false, sent_rans = false;
  for (const bool zero_tables : {false, true}) {
    const ModelSpec spec = zero_tables ? with_tables_for_zero_maps(random_model({}, 6)) : random_model({}, 6);
    for (const unsigned codecs : {AGN_CODEC_BIT(AGN_CODEC_RAW) | AGN_CODEC_BIT(AGN_CODEC_RANS),
                                  unsigned{AGN_CODEC_BIT(AGN_CODEC_RANS)}}) {
      Loaded l(spec, codecs);
      EXPECT_EQ(agn_runtime_default_codecs(&l.model), AGN_CODEC_BIT(AGN_CODEC_RAW) | AGN_CODEC_BIT(AGN_CODEC_RANS));
      const std::vector<uint8_t> image = random_image(l.model, 7);
      std::vector<int8_t> logits(l.model.local.classes);
      ASSERT_EQ(agn_runtime_run(&l.runtime, image.data(), image.size(), logits.data(), logits.size()), AGN_OK);
      const size_t cap = agn_pack_size_bytes(l.model.symbol_count, l.model.levels);
      ASSERT_EQ(agn_runtime_max_payload(&l.model, AGN_CODEC_RAW), cap);
      std::vector<uint8_t> rans(agn_runtime_max_payload(&l.model, AGN_CODEC_RANS)), sent(cap);
      size_t rans_size = 0, sent_size = 0;
      ASSERT_EQ(agn_runtime_encode(&l.runtime, AGN_CODEC_RANS, rans.data(), rans.size(), &rans_size), AGN_OK);
      agn_codec codec = AGN_CODEC_LZW_FIXED;
      const agn_status st = agn_runtime_encode_default(&l.runtime, sent.data(), sent.size(), &sent_size, &codec);
      SCOPED_TRACE(std::string(zero_tables ? "tables for zero maps" : "tables for the maps") + ": rANS " +
                   std::to_string(rans_size) + " bytes, packed " + std::to_string(cap));
      if (rans_size <= cap) {
        sent_rans = true;
        ASSERT_EQ(st, AGN_OK);
        EXPECT_EQ(codec, AGN_CODEC_RANS);
        EXPECT_EQ(sent_size, rans_size);
        EXPECT_TRUE(std::equal(rans.begin(), rans.begin() + static_cast<long>(rans_size), sent.begin()));
      } else if (codecs & AGN_CODEC_BIT(AGN_CODEC_RAW)) {
        fell_back = true;
        ASSERT_EQ(st, AGN_OK);
        EXPECT_EQ(codec, AGN_CODEC_RAW);
        std::vector<uint8_t> raw(cap);
        size_t raw_size = 0;
        ASSERT_EQ(agn_runtime_encode(&l.runtime, AGN_CODEC_RAW, raw.data(), raw.size(), &raw_size), AGN_OK);
        EXPECT_EQ(sent_size, raw_size);
        EXPECT_EQ(sent, raw);
      } else {
        EXPECT_EQ(st, AGN_ERR_NO_SPACE);  // nothing to fall back to
      }
    }
  }
  EXPECT_TRUE(sent_rans);
  EXPECT_TRUE(fell_back);
}

uint64_t counting_clock(void* context) { return ++*static_cast<uint64_t*>(context); }

TEST(Runtime, StageTicksAndMacs) {
  Loaded l(random_model({}, 6));
  uint64_t now = 0;
  agn_runtime_set_clock(&l.runtime, counting_clock, &now);
  const std::vector<uint8_t> image = random_image(l.model, 2);
  std::vector<int8_t> logits(l.model.local.classes);
  ASSERT_EQ(agn_runtime_run(&l.runtime, image.data(), image.size(), logits.data(), logits.size()), AGN_OK);
  EXPECT_EQ(l.runtime.ticks.runs, 1u);
  EXPECT_EQ(l.runtime.ticks.input, 32u);  // one mark per image row
  for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(l.runtime.ticks.layer[i], 32u) << i;  // one per output row
  EXPECT_EQ(l.runtime.ticks.split, 32u);
  EXPECT_EQ(l.runtime.ticks.local, 1u);
  agn_model_macs macs;
  agn_model_count_macs(&l.model, &macs);
  EXPECT_EQ(macs.layer[0], 32u * 32 * 3 * 9);
  EXPECT_EQ(macs.layer[1], 32u * 32 * 3 * 4);
  EXPECT_EQ(macs.layer[2], 32u * 32 * 4 * 9);
  EXPECT_EQ(macs.layer[3], 32u * 32 * 4 * 24);
  EXPECT_EQ(macs.local_dense, 5u * 10);
  EXPECT_EQ(macs.total, 27648u + 12288 + 36864 + 98304 + 50);
}

}  // namespace
