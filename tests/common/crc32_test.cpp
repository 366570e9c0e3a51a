#include "common/crc32.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace {

TEST(Crc32, StandardCheckValue) {
  const char* check = "123456789";
  EXPECT_EQ(agn_crc32(check, std::strlen(check)), 0xCBF43926u);
}

TEST(Crc32, EmptyAndKnownVectors) {
  EXPECT_EQ(agn_crc32(nullptr, 0), 0u);
  const uint8_t zero = 0;
  EXPECT_EQ(agn_crc32(&zero, 1), 0xD202EF8Du);
  const char* fox = "The quick brown fox jumps over the lazy dog";
  EXPECT_EQ(agn_crc32(fox, std::strlen(fox)), 0x414FA339u);
}

TEST(Crc32, IncrementalEqualsOneShotAtEverySplit) {
  std::mt19937 rng(7);
  std::vector<uint8_t> data(300);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  const uint32_t whole = agn_crc32(data.data(), data.size());
  for (size_t split = 0; split <= data.size(); ++split) {
    uint32_t crc = agn_crc32_update(0, data.data(), split);
    crc = agn_crc32_update(crc, data.data() + split, data.size() - split);
    ASSERT_EQ(crc, whole) << "split at " << split;
  }
  uint32_t bytewise = 0;
  for (uint8_t b : data) bytewise = agn_crc32_update(bytewise, &b, 1);
  EXPECT_EQ(bytewise, whole);
}

TEST(Crc32, DetectsEverySingleBitFlip) {
  std::vector<uint8_t> data(64, 0x5A);
  const uint32_t good = agn_crc32(data.data(), data.size());
  for (size_t bit = 0; bit < data.size() * 8; ++bit) {
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_NE(agn_crc32(data.data(), data.size()), good);
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
}

}  // namespace
