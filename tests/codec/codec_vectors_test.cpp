// The shared codec vector (codec_vectors.h) encodes to the expected bytes on the host; the same
// check runs on the emulated Cortex-M7 in tests/firmware/codec_test.cpp.
#include "codec_vectors.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "codec/lzw.h"
#include "codec/pack.h"
#include "codec/rans.h"
#include "common/crc32.h"

namespace {

struct Encoded {
  size_t size;
  uint32_t crc;
};

std::vector<uint8_t> symbol_map() {
  std::vector<uint8_t> symbols(AGN_VECTOR_COUNT);
  agn_vector_symbol_map(symbols.data());
  return symbols;
}

TEST(CodecVectors, Pack) {
  const auto symbols = symbol_map();
  std::vector<uint8_t> out(agn_pack_size_bytes(symbols.size(), AGN_VECTOR_LEVELS));
  ASSERT_EQ(agn_pack_symbols(symbols.data(), symbols.size(), AGN_VECTOR_LEVELS, out.data(),
                             out.size()),
            AGN_OK);
  EXPECT_EQ(out.size(), AGN_VECTOR_PACK_SIZE);
  EXPECT_EQ(agn_crc32(out.data(), out.size()), AGN_VECTOR_PACK_CRC);
}

TEST(CodecVectors, Lzw) {
  const auto symbols = symbol_map();
  auto encoder = std::make_unique<agn_lzw_encoder>();
  std::vector<uint8_t> out(agn_lzw_max_encoded_size(symbols.size(), AGN_VECTOR_LEVELS));
  const struct {
    agn_lzw_width width;
    Encoded expected;
  } cases[] = {{AGN_LZW_FIXED, {AGN_VECTOR_LZW_FIXED_SIZE, AGN_VECTOR_LZW_FIXED_CRC}},
               {AGN_LZW_VARIABLE, {AGN_VECTOR_LZW_VARIABLE_SIZE, AGN_VECTOR_LZW_VARIABLE_CRC}}};
  for (const auto& c : cases) {
    size_t written = 0;
    ASSERT_EQ(agn_lzw_encode(encoder.get(), AGN_VECTOR_LEVELS, c.width, symbols.data(),
                             symbols.size(), out.data(), out.size(), &written),
              AGN_OK);
    EXPECT_EQ(written, c.expected.size) << "width mode " << c.width;
    EXPECT_EQ(agn_crc32(out.data(), written), c.expected.crc) << "width mode " << c.width;
  }
}

TEST(CodecVectors, Rans) {
  const auto symbols = symbol_map();
  auto model = std::make_unique<agn_rans_model>();
  ASSERT_EQ(agn_rans_model_init(model.get(), AGN_VECTOR_LEVELS, AGN_VECTOR_CHANNELS,
                                AGN_RANS_DEFAULT_SCALE_BITS),
            AGN_OK);
  for (unsigned c = 0; c < AGN_VECTOR_CHANNELS; ++c) {
    uint32_t counts[AGN_VECTOR_LEVELS] = {};
    for (size_t i = 0; i < AGN_VECTOR_PLANE; ++i) ++counts[symbols[c * AGN_VECTOR_PLANE + i]];
    ASSERT_EQ(agn_rans_model_set_counts(model.get(), c, counts), AGN_OK);
  }
  std::vector<uint8_t> out(agn_rans_max_encoded_size(symbols.size(), AGN_RANS_DEFAULT_SCALE_BITS));
  size_t written = 0;
  ASSERT_EQ(agn_rans_encode(model.get(), symbols.data(), symbols.size(), AGN_VECTOR_PLANE,
                            out.data(), out.size(), &written),
            AGN_OK);
  EXPECT_EQ(written, AGN_VECTOR_RANS_SIZE);
  EXPECT_EQ(agn_crc32(out.data(), written), AGN_VECTOR_RANS_CRC);
}

}  // namespace
