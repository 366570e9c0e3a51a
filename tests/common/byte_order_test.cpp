#include "common/byte_order.h"

#include <gtest/gtest.h>

#include <cstring>

namespace {

TEST(ByteOrder, LittleEndianLayout) {
  uint8_t b[6] = {0xEE, 0, 0, 0, 0, 0xEE};
  agn_store_u32le(b + 1, 0x12345678u);  // unaligned on purpose
  const uint8_t expected[6] = {0xEE, 0x78, 0x56, 0x34, 0x12, 0xEE};
  EXPECT_EQ(std::memcmp(b, expected, sizeof(b)), 0);
  EXPECT_EQ(agn_load_u32le(b + 1), 0x12345678u);

  agn_store_u16le(b + 1, 0xBEEF);
  EXPECT_EQ(b[1], 0xEF);
  EXPECT_EQ(b[2], 0xBE);
  EXPECT_EQ(agn_load_u16le(b + 1), 0xBEEF);
}

TEST(ByteOrder, BigEndianLayout) {
  uint8_t b[4] = {};
  agn_store_u32be(b, 0x12345678u);
  EXPECT_EQ(b[0], 0x12);
  EXPECT_EQ(b[3], 0x78);
  EXPECT_EQ(agn_load_u32be(b), 0x12345678u);
  agn_store_u16be(b, 0xBEEF);
  EXPECT_EQ(b[0], 0xBE);
  EXPECT_EQ(b[1], 0xEF);
  EXPECT_EQ(agn_load_u16be(b), 0xBEEF);
}

TEST(ByteOrder, RoundTripsExtremes) {
  uint8_t b[4];
  for (uint32_t v : {0u, 1u, 0x80u, 0xFFu, 0x100u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu}) {
    agn_store_u32le(b, v);
    EXPECT_EQ(agn_load_u32le(b), v);
    agn_store_u32be(b, v);
    EXPECT_EQ(agn_load_u32be(b), v);
    agn_store_u16le(b, static_cast<uint16_t>(v));
    EXPECT_EQ(agn_load_u16le(b), static_cast<uint16_t>(v));
    agn_store_u16be(b, static_cast<uint16_t>(v));
    EXPECT_EQ(agn_load_u16be(b), static_cast<uint16_t>(v));
  }
}

}  // namespace
