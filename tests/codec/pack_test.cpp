#include "codec/pack.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace {

TEST(Pack, BitsPerSymbolAndSize) {
  EXPECT_EQ(agn_pack_bits_per_symbol(1), 0u);
  EXPECT_EQ(agn_pack_bits_per_symbol(2), 1u);
  EXPECT_EQ(agn_pack_bits_per_symbol(3), 2u);
  EXPECT_EQ(agn_pack_bits_per_symbol(8), 3u);
  EXPECT_EQ(agn_pack_bits_per_symbol(9), 4u);
  EXPECT_EQ(agn_pack_bits_per_symbol(16), 4u);
  EXPECT_EQ(agn_pack_bits_per_symbol(17), 0u);  // a symbol map holds 4 bits per symbol
  EXPECT_EQ(agn_pack_size_bytes(19 * 32 * 32, 8), 19u * 32 * 32 * 3 / 8);
  EXPECT_EQ(agn_pack_size_bytes(3, 8), 2u);
  EXPECT_EQ(agn_pack_size_bytes(0, 8), 0u);
  EXPECT_EQ(agn_pack_size_bytes(5, 16), 3u);
}

TEST(Pack, DocumentedBitOrder) {
  const uint8_t map[] = {0x21, 0x03};  // symbols 1, 2, 3 (symbol_map.h)
  uint8_t out[2] = {0xFF, 0xFF};
  ASSERT_EQ(agn_pack_symbols(map, 1, 3, 8, out, sizeof(out)), AGN_OK);
  EXPECT_EQ(out[0], 0xD1);
  EXPECT_EQ(out[1], 0x00);
}

TEST(Pack, RoundTripsEveryLevelCountAndLength) {
  std::mt19937 rng(1);
  for (unsigned levels = 2; levels <= 16; ++levels) {
    for (size_t count : {0, 1, 2, 7, 8, 9, 15, 16, 17, 100, 19 * 32 * 32}) {
      std::vector<uint8_t> symbols(count);
      for (auto& s : symbols) s = static_cast<uint8_t>(rng() % levels);
      if (count > 0) symbols.back() = static_cast<uint8_t>(levels - 1);  // top value at the tail
      // As rows of 8 when they divide the count (rows of odd width otherwise: one row).
      const unsigned width = count % 8 == 0 && count > 0 ? 8u : static_cast<unsigned>(count);
      const size_t rows = width > 0 ? count / width : 0;
      std::vector<uint8_t> map(agn_symbol_map_size(rows, width));
      ASSERT_EQ(agn_symbol_map_pack(symbols.data(), rows, width, map.data()), AGN_OK);
      const size_t size = agn_pack_size_bytes(count, levels);
      std::vector<uint8_t> packed(size + 1, 0xAA);
      ASSERT_EQ(agn_pack_symbols(map.data(), rows, width, levels, packed.data(), size), AGN_OK);
      EXPECT_EQ(packed[size], 0xAA) << "wrote past the packed size";
      std::vector<uint8_t> back(count);
      ASSERT_EQ(agn_unpack_symbols(packed.data(), size, levels, back.data(), count), AGN_OK)
          << "L=" << levels << " n=" << count;
      EXPECT_EQ(back, symbols);
    }
  }
}

TEST(Pack, RejectsBadInput) {
  const uint8_t map[] = {0x70, 0x08};  // symbols 0, 7, 8
  uint8_t out[4];
  EXPECT_EQ(agn_pack_symbols(map, 1, 3, 8, out, sizeof(out)), AGN_ERR_RANGE);
  EXPECT_EQ(agn_pack_symbols(map, 1, 2, 8, out, 0), AGN_ERR_NO_SPACE);
  EXPECT_EQ(agn_pack_symbols(map, 1, 2, 1, out, sizeof(out)), AGN_ERR_ARG);
  EXPECT_EQ(agn_pack_symbols(map, 1, 2, 17, out, sizeof(out)), AGN_ERR_ARG);

  uint8_t back[3];
  const uint8_t two_symbols[1] = {0x38};  // 0, 7 with 2 zero padding bits
  EXPECT_EQ(agn_unpack_symbols(two_symbols, 1, 8, back, 2), AGN_OK);
  EXPECT_EQ(agn_unpack_symbols(two_symbols, 1, 8, back, 3), AGN_ERR_TRUNCATED);
  const uint8_t padded[1] = {0x78};  // padding bit set
  EXPECT_EQ(agn_unpack_symbols(padded, 1, 8, back, 2), AGN_ERR_CORRUPT);
  const uint8_t too_long[2] = {0x38, 0};
  EXPECT_EQ(agn_unpack_symbols(too_long, 2, 8, back, 2), AGN_ERR_CORRUPT);
  const uint8_t five_levels[1] = {0x07};  // field value 7 with L = 5 (3-bit fields)
  EXPECT_EQ(agn_unpack_symbols(five_levels, 1, 5, back, 1), AGN_ERR_CORRUPT);
}

}  // namespace
