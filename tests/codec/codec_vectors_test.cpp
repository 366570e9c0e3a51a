// The shared codec vector (codec_vectors.h) encodes to the expected bytes on the host; the same
// check runs on the emulated Cortex-M7 in tests/firmware/codec_test.cpp.
#include "codec_vectors.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "codec/lzw.h"
#include "codec/pack.h"
#include "codec/rans.h"
#include "codec/symbol_map.h"
#include "common/crc32.h"

namespace {

struct Encoded {
  size_t size;
  uint32_t crc;
};

// The vector's symbols (one per byte) as the symbol map the encoders read.
std::vector<uint8_t> to_map(const std::vector<uint8_t>& symbols) {
  std::vector<uint8_t> map(AGN_VECTOR_MAP_SIZE);
  EXPECT_EQ(agn_symbol_map_pack(symbols.data(), AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH, map.data()), AGN_OK);
  return map;
}

std::vector<uint8_t> symbol_map() {
  std::vector<uint8_t> symbols(AGN_VECTOR_COUNT);
  agn_vector_symbol_map(symbols.data());
  return to_map(symbols);
}

TEST(CodecVectors, Pack) {
  const auto map = symbol_map();
  std::vector<uint8_t> out(agn_pack_size_bytes(AGN_VECTOR_COUNT, AGN_VECTOR_LEVELS));
  ASSERT_EQ(agn_pack_symbols(map.data(), AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH, AGN_VECTOR_LEVELS, out.data(), out.size()),
            AGN_OK);
  EXPECT_EQ(out.size(), AGN_VECTOR_PACK_SIZE);
  EXPECT_EQ(agn_crc32(out.data(), out.size()), AGN_VECTOR_PACK_CRC);
}

TEST(CodecVectors, Lzw) {
  const auto map = symbol_map();
  auto encoder = std::make_unique<agn_lzw_encoder>();
  std::vector<uint8_t> out(agn_lzw_max_encoded_size(AGN_VECTOR_COUNT, AGN_VECTOR_LEVELS));
  const struct {
    agn_lzw_width width;
    Encoded expected;
  } cases[] = {{AGN_LZW_FIXED, {AGN_VECTOR_LZW_FIXED_SIZE, AGN_VECTOR_LZW_FIXED_CRC}},
               {AGN_LZW_VARIABLE, {AGN_VECTOR_LZW_VARIABLE_SIZE, AGN_VECTOR_LZW_VARIABLE_CRC}}};
  for (const auto& c : cases) {
    size_t written = 0;
    ASSERT_EQ(agn_lzw_encode(encoder.get(), AGN_VECTOR_LEVELS, c.width, map.data(), AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH,
                             out.data(), out.size(), &written),
              AGN_OK);
    EXPECT_EQ(written, c.expected.size) << "width mode " << c.width;
    EXPECT_EQ(agn_crc32(out.data(), written), c.expected.crc) << "width mode " << c.width;
  }
}

TEST(CodecVectors, Rans) {
  std::vector<uint8_t> symbols(AGN_VECTOR_COUNT);
  agn_vector_sparse_map(symbols.data());
  size_t zeros = 0;
  for (uint8_t s : symbols) zeros += s == 0;
  EXPECT_GT(zeros, symbols.size() * 85 / 100);  // sparse like a real map
  std::vector<uint8_t> bytes(AGN_VECTOR_RANS_MODEL_SIZE);
  agn_vector_rans_model(bytes.data());
  agn_rans_model model;
  ASSERT_EQ(agn_rans_model_load(&model, bytes.data(), bytes.size()), AGN_OK);
  std::vector<uint8_t> out(agn_rans_max_encoded_size(&model));
  size_t written = 0;
  const std::vector<uint8_t> map = to_map(symbols);
  ASSERT_EQ(agn_rans_encode(&model, map.data(), map.size(), out.data(), out.size(), &written), AGN_OK);
  EXPECT_EQ(written, AGN_VECTOR_RANS_SIZE);
  EXPECT_EQ(agn_crc32(out.data(), written), AGN_VECTOR_RANS_CRC);
  std::vector<uint8_t> decoded(symbols.size());
  ASSERT_EQ(agn_rans_decode(&model, out.data(), written, decoded.data(), decoded.size()), AGN_OK);
  EXPECT_EQ(decoded, symbols);
}

}  // namespace
