#include "codec/symbol_map.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <vector>

#include "codec/lzw.h"
#include "codec/pack.h"

namespace {

using Bytes = std::vector<uint8_t>;

TEST(SymbolMap, DocumentedLayout) {
  // Two rows of 3 symbols: 1 2 3 / 4 5 15; each row in 2 bytes, low nibble first, a zero pad.
  const Bytes symbols = {1, 2, 3, 4, 5, 15};
  Bytes map(agn_symbol_map_size(2, 3), 0xEE);
  ASSERT_EQ(map.size(), 4u);
  ASSERT_EQ(agn_symbol_map_pack(symbols.data(), 2, 3, map.data()), AGN_OK);
  EXPECT_EQ(map, (Bytes{0x21, 0x03, 0x54, 0x0F}));
  EXPECT_EQ(agn_symbol_at(map.data() + 2, 2), 15u);
  Bytes back(symbols.size());
  agn_symbol_map_unpack(map.data(), 2, 3, back.data());
  EXPECT_EQ(back, symbols);
  EXPECT_EQ(agn_symbol_map_size(19 * 32, 32), 19u * 32 * 32 / 2);
}

TEST(SymbolMap, RoundTripsAndRejectsWideSymbols) {
  std::mt19937 rng(4);
  for (unsigned width : {1u, 2u, 7u, 32u, 33u}) {
    const size_t rows = 5;
    Bytes symbols(rows * width);
    for (auto& s : symbols) s = static_cast<uint8_t>(rng() % 16);
    Bytes map(agn_symbol_map_size(rows, width));
    ASSERT_EQ(agn_symbol_map_pack(symbols.data(), rows, width, map.data()), AGN_OK);
    Bytes back(symbols.size());
    agn_symbol_map_unpack(map.data(), rows, width, back.data());
    EXPECT_EQ(back, symbols) << "width " << width;
    symbols[rows * width / 2] = 16;
    EXPECT_EQ(agn_symbol_map_pack(symbols.data(), rows, width, map.data()), AGN_ERR_RANGE);
  }
  EXPECT_EQ(agn_symbol_map_pack(nullptr, 1, 1, nullptr), AGN_ERR_ARG);
}

// Packing and LZW code the symbols as one stream: rows of odd width (with their pad nibbles) give
// the same bytes as one row of the same symbols.
TEST(SymbolMap, RowPaddingIsInvisibleToTheStreamCoders) {
  std::mt19937 rng(9);
  const size_t rows = 6;
  const unsigned width = 11;
  Bytes symbols(rows * width);
  for (auto& s : symbols) s = static_cast<uint8_t>(rng() % 3 == 0 ? rng() % 8 : 0);
  Bytes rows_map(agn_symbol_map_size(rows, width)), one_row(agn_symbol_map_size(1, rows * width));
  ASSERT_EQ(agn_symbol_map_pack(symbols.data(), rows, width, rows_map.data()), AGN_OK);
  ASSERT_EQ(agn_symbol_map_pack(symbols.data(), 1, rows * width, one_row.data()), AGN_OK);

  Bytes a(agn_pack_size_bytes(symbols.size(), 8)), b(a.size());
  ASSERT_EQ(agn_pack_symbols(rows_map.data(), rows, width, 8, a.data(), a.size()), AGN_OK);
  ASSERT_EQ(agn_pack_symbols(one_row.data(), 1, rows * width, 8, b.data(), b.size()), AGN_OK);
  EXPECT_EQ(a, b);

  auto enc = std::make_unique<agn_lzw_encoder>();
  for (agn_lzw_width mode : {AGN_LZW_FIXED, AGN_LZW_VARIABLE}) {
    Bytes x(agn_lzw_max_encoded_size(symbols.size(), 8)), y(x.size());
    size_t nx = 0, ny = 0;
    ASSERT_EQ(agn_lzw_encode(enc.get(), 8, mode, rows_map.data(), rows, width, x.data(), x.size(), &nx), AGN_OK);
    ASSERT_EQ(agn_lzw_encode(enc.get(), 8, mode, one_row.data(), 1, rows * width, y.data(), y.size(), &ny), AGN_OK);
    x.resize(nx);
    y.resize(ny);
    EXPECT_EQ(x, y);
    Bytes decoded(symbols.size());
    auto dec = std::make_unique<agn_lzw_decoder>();
    size_t n = 0;
    ASSERT_EQ(agn_lzw_decode(dec.get(), 8, mode, x.data(), x.size(), decoded.data(), decoded.size(), &n), AGN_OK);
    EXPECT_EQ(decoded, symbols);
  }
}

}  // namespace
