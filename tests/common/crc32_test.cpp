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

// The definition, one bit at a time: the table-driven word loop and its byte tail must agree
// with it at every length and every alignment of the data.
uint32_t crc32_bitwise(const uint8_t* p, size_t size) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    c ^= p[i];
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : (c >> 1);
  }
  return ~c;
}

TEST(Crc32, EqualsBitwiseDefinitionAtEveryLengthAndAlignment) {
  std::mt19937 rng(3);
  std::vector<uint8_t> data(140);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 4; ++offset) {
    for (size_t size = 0; offset + size <= data.size(); ++size) {
      ASSERT_EQ(agn_crc32(data.data() + offset, size), crc32_bitwise(data.data() + offset, size))
          << "offset " << offset << ", " << size << " bytes";
    }
  }
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
