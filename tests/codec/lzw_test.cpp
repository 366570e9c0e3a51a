#include "codec/lzw.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

struct Result {
  agn_status status = AGN_OK;
  Bytes data;
};

// Streams `symbols` through the encoder `in_chunk` symbols per sink and `out_chunk` bytes per poll.
Bytes encode_stream(const Bytes& symbols, unsigned levels, agn_lzw_width width, size_t in_chunk,
                    size_t out_chunk) {
  auto enc = std::make_unique<agn_lzw_encoder>();
  EXPECT_EQ(agn_lzw_encoder_init(enc.get(), levels, width), AGN_OK);
  Bytes out;
  Bytes buf(out_chunk);
  auto drain = [&] {
    size_t n = 0;
    do {
      EXPECT_EQ(agn_lzw_encoder_poll(enc.get(), buf.data(), buf.size(), &n), AGN_OK);
      out.insert(out.end(), buf.begin(), buf.begin() + static_cast<long>(n));
    } while (n == buf.size());
  };
  size_t pos = 0;
  while (pos < symbols.size()) {
    const size_t len = std::min(in_chunk, symbols.size() - pos);
    size_t consumed = 0;
    EXPECT_EQ(agn_lzw_encoder_sink(enc.get(), symbols.data() + pos, len, &consumed), AGN_OK);
    pos += consumed;
    drain();
  }
  EXPECT_EQ(agn_lzw_encoder_finish(enc.get()), AGN_OK);
  drain();
  return out;
}

Result decode_stream(const Bytes& bytes, unsigned levels, agn_lzw_width width, size_t in_chunk,
                     size_t out_chunk) {
  auto dec = std::make_unique<agn_lzw_decoder>();
  Result r;
  r.status = agn_lzw_decoder_init(dec.get(), levels, width);
  Bytes buf(out_chunk);
  size_t pos = 0;
  while (r.status == AGN_OK) {
    const size_t len = std::min(in_chunk, bytes.size() - pos);
    size_t consumed = 0;
    r.status = agn_lzw_decoder_sink(dec.get(), bytes.data() + pos, len, &consumed);
    pos += consumed;
    size_t n = 0;
    size_t produced = 0;
    while (r.status == AGN_OK) {
      r.status = agn_lzw_decoder_poll(dec.get(), buf.data(), buf.size(), &n);
      r.data.insert(r.data.end(), buf.begin(), buf.begin() + static_cast<long>(n));
      produced += n;
      if (n < buf.size()) break;
    }
    if (consumed == 0 && produced == 0) break;
  }
  if (r.status == AGN_OK) r.status = agn_lzw_decoder_finish(dec.get());
  return r;
}

Bytes random_symbols(size_t count, unsigned levels, uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes s(count);
  for (auto& v : s) v = static_cast<uint8_t>(rng() % levels);
  return s;
}

// Inputs named by what they stress; all use `levels` symbols.
std::vector<std::pair<const char*, Bytes>> test_inputs(unsigned levels) {
  std::vector<std::pair<const char*, Bytes>> v;
  v.emplace_back("empty", Bytes{});
  v.emplace_back("single", Bytes{static_cast<uint8_t>(levels - 1)});
  v.emplace_back("constant", Bytes(20000, static_cast<uint8_t>(levels / 2)));  // KwKwK chains
  Bytes alternating(20000);
  for (size_t i = 0; i < alternating.size(); ++i) alternating[i] = static_cast<uint8_t>(i % 2);
  v.emplace_back("alternating", alternating);
  // Max entropy: every code is short, so the dictionary fills and resets many times.
  v.emplace_back("random", random_symbols(60000, levels, levels));
  // A counter in base L: many distinct strings, fills the dictionary quickly.
  Bytes counter;
  for (uint32_t i = 0; counter.size() < 60000; ++i) {
    for (uint32_t x = i, d = 0; d < 4; ++d, x /= levels) counter.push_back(static_cast<uint8_t>(x % levels));
  }
  v.emplace_back("counter", counter);
  // Skewed, like quantized features: mostly one level.
  Bytes skewed = random_symbols(19 * 32 * 32, levels, 99);
  for (size_t i = 0; i < skewed.size(); ++i) {
    if (i % 7 != 0) skewed[i] = 0;
  }
  v.emplace_back("skewed", skewed);
  return v;
}

TEST(Lzw, KnownAnswerStreams) {
  const Bytes symbols = {1, 2, 3};
  // Variable: codes 1, 2, 3, STOP=9, each 4 bits (bitlen(9..12) = 4), LSB first.
  EXPECT_EQ(encode_stream(symbols, 8, AGN_LZW_VARIABLE, 100, 100), (Bytes{0x21, 0x93}));
  // Fixed: the same codes in 12 bits each.
  EXPECT_EQ(encode_stream(symbols, 8, AGN_LZW_FIXED, 100, 100),
            (Bytes{0x01, 0x20, 0x00, 0x03, 0x90, 0x00}));
  EXPECT_EQ(encode_stream({}, 8, AGN_LZW_VARIABLE, 1, 1), (Bytes{0x09}));
  EXPECT_EQ(encode_stream({}, 8, AGN_LZW_FIXED, 1, 1), (Bytes{0x09, 0x00}));
  // 0 0 0: codes 0, then 10 (= "00", KwKwK), STOP: 0000 1010 1001 with widths 4,4,4.
  EXPECT_EQ(encode_stream({0, 0, 0}, 8, AGN_LZW_VARIABLE, 1, 1), (Bytes{0xA0, 0x09}));
}

// The header's format written out the slow, obvious way: textbook LZW with a std::map
// dictionary, CLEAR as soon as code 4095 is assigned, widths from the documented rule.
Bytes reference_encode(const Bytes& symbols, unsigned levels, agn_lzw_width width) {
  std::map<std::pair<unsigned, unsigned>, unsigned> dict;
  unsigned next = levels + 2;
  unsigned since_reset = 0;
  Bytes out;
  uint64_t acc = 0;
  unsigned bits = 0;
  auto put = [&](unsigned code) {
    unsigned w = 12;
    if (width == AGN_LZW_VARIABLE) {
      w = 0;
      for (unsigned v = levels + 1 + since_reset; v; v >>= 1) ++w;
    }
    EXPECT_LE(w, 12u);
    EXPECT_LT(code, 1u << w);
    acc |= static_cast<uint64_t>(code) << bits;
    bits += w;
    for (; bits >= 8; bits -= 8, acc >>= 8) out.push_back(static_cast<uint8_t>(acc));
    ++since_reset;
  };
  int current = -1;
  for (uint8_t c : symbols) {
    if (current < 0) {
      current = c;
      continue;
    }
    auto it = dict.find({static_cast<unsigned>(current), c});
    if (it != dict.end()) {
      current = static_cast<int>(it->second);
      continue;
    }
    put(static_cast<unsigned>(current));
    dict[{static_cast<unsigned>(current), c}] = next++;
    if (next == 4096) {
      put(levels);
      dict.clear();
      next = levels + 2;
      since_reset = 0;
    }
    current = c;
  }
  if (current >= 0) put(static_cast<unsigned>(current));
  put(levels + 1);
  if (bits > 0) out.push_back(static_cast<uint8_t>(acc));
  return out;
}

TEST(Lzw, MatchesReferenceWrittenFromTheHeader) {
  for (unsigned levels : {2u, 8u, 200u}) {
    for (const auto& [name, symbols] : test_inputs(levels)) {
      for (agn_lzw_width width : {AGN_LZW_FIXED, AGN_LZW_VARIABLE}) {
        EXPECT_EQ(encode_stream(symbols, levels, width, 4096, 4096),
                  reference_encode(symbols, levels, width))
            << name << " L=" << levels << " width=" << width;
      }
    }
  }
}

class LzwRoundTrip : public ::testing::TestWithParam<std::tuple<unsigned, agn_lzw_width>> {};

TEST_P(LzwRoundTrip, WholeAndOneUnitAtATimeWithinBound) {
  const auto [levels, width] = GetParam();
  for (const auto& [name, symbols] : test_inputs(levels)) {
    SCOPED_TRACE(name);
    const Bytes whole = encode_stream(symbols, levels, width, symbols.size() + 1, 4096);
    EXPECT_LE(whole.size(), agn_lzw_max_encoded_size(symbols.size(), levels));
    const Bytes trickle = encode_stream(symbols, levels, width, 1, 1);
    EXPECT_EQ(trickle, whole);

    Result r = decode_stream(whole, levels, width, whole.size(), 1 << 16);
    EXPECT_EQ(r.status, AGN_OK);
    EXPECT_EQ(r.data, symbols);
    r = decode_stream(whole, levels, width, 1, 1);
    EXPECT_EQ(r.status, AGN_OK);
    EXPECT_EQ(r.data, symbols);

    // One-shot helpers agree with the streaming objects (the encoder reads a symbol map, one row
    // here: at most 16 levels).
    if (levels > AGN_SYMBOL_MAX_LEVELS) continue;
    Bytes map(agn_symbol_map_size(1, static_cast<unsigned>(symbols.size())));
    ASSERT_EQ(agn_symbol_map_pack(symbols.data(), 1, static_cast<unsigned>(symbols.size()), map.data()), AGN_OK);
    auto enc = std::make_unique<agn_lzw_encoder>();
    Bytes out(agn_lzw_max_encoded_size(symbols.size(), levels));
    size_t written = 0;
    ASSERT_EQ(agn_lzw_encode(enc.get(), levels, width, map.data(), 1, static_cast<unsigned>(symbols.size()),
                             out.data(), out.size(), &written),
              AGN_OK);
    out.resize(written);
    EXPECT_EQ(out, whole);
    auto dec = std::make_unique<agn_lzw_decoder>();
    Bytes back(symbols.size());
    ASSERT_EQ(agn_lzw_decode(dec.get(), levels, width, out.data(), out.size(), back.data(),
                             back.size(), &written), AGN_OK);
    EXPECT_EQ(written, symbols.size());
    EXPECT_EQ(back, symbols);
  }
}

INSTANTIATE_TEST_SUITE_P(LevelsAndWidths, LzwRoundTrip,
                         ::testing::Combine(::testing::Values(2u, 3u, 8u, 16u, 256u),
                                            ::testing::Values(AGN_LZW_FIXED, AGN_LZW_VARIABLE)));

TEST(Lzw, VariableIsNeverLargerThanFixed) {
  for (const auto& [name, symbols] : test_inputs(8)) {
    EXPECT_LE(encode_stream(symbols, 8, AGN_LZW_VARIABLE, 4096, 4096).size(),
              encode_stream(symbols, 8, AGN_LZW_FIXED, 4096, 4096).size())
        << name;
  }
}

TEST(Lzw, WorstCaseGrowthBound) {
  // The bound allows 12 bits per symbol; check the documented figure for L = 8.
  EXPECT_EQ(agn_lzw_max_encoded_size(0, 8), 2u);
  EXPECT_EQ(agn_lzw_max_encoded_size(1000, 8), 1502u);
  // L = 256 random: codes almost never extend, the closest real input gets to the bound.
  const Bytes symbols = random_symbols(50000, 256, 3);
  for (agn_lzw_width width : {AGN_LZW_FIXED, AGN_LZW_VARIABLE}) {
    const Bytes out = encode_stream(symbols, 256, width, 4096, 4096);
    EXPECT_LE(out.size(), agn_lzw_max_encoded_size(symbols.size(), 256));
  }
}

TEST(Lzw, EncoderRejectsOutOfRangeSymbolAndMisuse) {
  auto enc = std::make_unique<agn_lzw_encoder>();
  EXPECT_EQ(agn_lzw_encoder_init(enc.get(), 1, AGN_LZW_FIXED), AGN_ERR_ARG);
  EXPECT_EQ(agn_lzw_encoder_init(enc.get(), 257, AGN_LZW_FIXED), AGN_ERR_ARG);
  ASSERT_EQ(agn_lzw_encoder_init(enc.get(), 8, AGN_LZW_FIXED), AGN_OK);
  const uint8_t in[] = {1, 2, 8, 3};
  size_t consumed = 99;
  EXPECT_EQ(agn_lzw_encoder_sink(enc.get(), in, sizeof(in), &consumed), AGN_ERR_RANGE);
  EXPECT_EQ(consumed, 2u);
  EXPECT_EQ(agn_lzw_encoder_finish(enc.get()), AGN_ERR_RANGE);  // sticky

  ASSERT_EQ(agn_lzw_encoder_init(enc.get(), 8, AGN_LZW_FIXED), AGN_OK);
  EXPECT_EQ(agn_lzw_encoder_finish(enc.get()), AGN_OK);
  EXPECT_EQ(agn_lzw_encoder_finish(enc.get()), AGN_ERR_STATE);
  EXPECT_EQ(agn_lzw_encoder_sink(enc.get(), in, 1, &consumed), AGN_ERR_STATE);

  Bytes small(3);
  size_t written = 0;
  const Bytes symbols = random_symbols(100, 8, 5);
  Bytes map(agn_symbol_map_size(10, 10));
  ASSERT_EQ(agn_symbol_map_pack(symbols.data(), 10, 10, map.data()), AGN_OK);
  EXPECT_EQ(agn_lzw_encode(enc.get(), 8, AGN_LZW_FIXED, map.data(), 10, 10, small.data(), small.size(), &written),
            AGN_ERR_NO_SPACE);
  EXPECT_LE(written, small.size());
}

TEST(Lzw, EveryTruncationIsRejected) {
  const Bytes symbols = random_symbols(3000, 8, 11);
  for (agn_lzw_width width : {AGN_LZW_FIXED, AGN_LZW_VARIABLE}) {
    const Bytes whole = encode_stream(symbols, 8, width, 4096, 4096);
    for (size_t len = 0; len < whole.size(); ++len) {
      const Bytes cut(whole.begin(), whole.begin() + static_cast<long>(len));
      const Result r = decode_stream(cut, 8, width, 4096, 1 << 16);
      ASSERT_EQ(r.status, AGN_ERR_TRUNCATED) << "length " << len;
      ASSERT_LE(r.data.size(), symbols.size());
    }
    Bytes extra = whole;
    extra.push_back(0);
    EXPECT_EQ(decode_stream(extra, 8, width, 4096, 1 << 16).status, AGN_ERR_CORRUPT);
    extra.back() = 0x55;
    EXPECT_EQ(decode_stream(extra, 8, width, 1, 1).status, AGN_ERR_CORRUPT);
  }
}

TEST(Lzw, RejectsCodesBeyondTheNextFreeCode) {
  // Variable, L = 8: the first code may only be a symbol, CLEAR (8) or STOP (9).
  EXPECT_EQ(decode_stream({0x0A}, 8, AGN_LZW_VARIABLE, 1, 1).status, AGN_ERR_CORRUPT);
  // Second code may be at most 10 (the KwKwK entry): 1, then 11.
  EXPECT_EQ(decode_stream({0xB1, 0x09}, 8, AGN_LZW_VARIABLE, 1, 1).status, AGN_ERR_CORRUPT);
  // 1, then 10 is fine ("11"), then STOP: 1 10 STOP(bitlen(11) = 4).
  const Result ok = decode_stream({0xA1, 0x09}, 8, AGN_LZW_VARIABLE, 1, 1);
  EXPECT_EQ(ok.status, AGN_OK);
  EXPECT_EQ(ok.data, (Bytes{1, 1, 1}));
  // Fixed: a 12-bit code of 4095 at the start.
  EXPECT_EQ(decode_stream({0xFF, 0x0F}, 8, AGN_LZW_FIXED, 1, 1).status, AGN_ERR_CORRUPT);
  // Nonzero padding after STOP.
  EXPECT_EQ(decode_stream({0x09, 0x10}, 8, AGN_LZW_FIXED, 1, 1).status, AGN_ERR_CORRUPT);
  // A stream that never sends CLEAR: 4095-L+1 codes each naming the newest entry grows past
  // 4095 and must be rejected rather than written out of bounds.
  auto enc_codes = [](const std::vector<unsigned>& codes) {
    Bytes b;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (unsigned c : codes) {
      acc |= c << bits;
      bits += 12;
      while (bits >= 8) {
        b.push_back(static_cast<uint8_t>(acc));
        acc >>= 8;
        bits -= 8;
      }
    }
    if (bits) b.push_back(static_cast<uint8_t>(acc));
    return b;
  };
  std::vector<unsigned> codes = {0};
  for (unsigned next = 10; next <= 4096; ++next) codes.push_back(next <= 4095 ? next : 0);
  const Result r = decode_stream(enc_codes(codes), 8, AGN_LZW_FIXED, 4096, 1 << 24);
  EXPECT_EQ(r.status, AGN_ERR_CORRUPT);
}

TEST(Lzw, FuzzedStreamsNeverCrash) {
  std::mt19937 rng(2024);
  const Bytes symbols = random_symbols(5000, 8, 12);
  size_t rejected = 0;
  size_t trials = 0;
  for (agn_lzw_width width : {AGN_LZW_FIXED, AGN_LZW_VARIABLE}) {
    const Bytes whole = encode_stream(symbols, 8, width, 4096, 4096);
    for (int t = 0; t < 300; ++t, ++trials) {
      Bytes bad = whole;
      for (int k = 0; k < 1 + t % 3; ++k) bad[rng() % bad.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
      const Result r = decode_stream(bad, 8, width, 1 + rng() % 64, 1 + rng() % 64);
      rejected += r.status != AGN_OK;
      if (r.status == AGN_OK) {
        EXPECT_NE(r.data, symbols);
      }
    }
    for (int t = 0; t < 300; ++t) {  // pure garbage, bounded output
      Bytes garbage(rng() % 200);
      for (auto& b : garbage) b = static_cast<uint8_t>(rng());
      auto dec = std::make_unique<agn_lzw_decoder>();
      Bytes out(64);
      size_t written = 0;
      const agn_status st = agn_lzw_decode(dec.get(), 8, width, garbage.data(), garbage.size(),
                                           out.data(), out.size(), &written);
      EXPECT_LE(written, out.size());
      EXPECT_LE(st, AGN_OK);
    }
  }
  // LZW has almost no redundancy: many flips decode to other valid data (the frame CRC catches
  // those). Only the structural checks reject; make sure they fire at all.
  std::printf("LZW bit-flipped streams rejected: %zu of %zu\n", rejected, trials);
  EXPECT_GT(rejected, 0u);
}

}  // namespace
