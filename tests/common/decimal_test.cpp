#include "common/decimal.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>

namespace {

std::string text_of(uint64_t value) {
  char out[AGN_DECIMAL_U64_SIZE];
  std::memset(out, 'x', sizeof out);
  const size_t n = agn_decimal_u64(value, out);
  EXPECT_EQ(n, std::strlen(out)) << value;
  return out;
}

TEST(Decimal, EdgeValues) {
  EXPECT_EQ(text_of(0), "0");
  EXPECT_EQ(text_of(9), "9");
  EXPECT_EQ(text_of(10), "10");
  EXPECT_EQ(text_of(65535), "65535");
  EXPECT_EQ(text_of(65536), "65536");
  EXPECT_EQ(text_of(0xFFFFFFFFull), "4294967295");
  EXPECT_EQ(text_of(0x100000000ull), "4294967296");
  EXPECT_EQ(text_of(10000000000000000000ull), "10000000000000000000");
  EXPECT_EQ(text_of(UINT64_MAX), "18446744073709551615");
}

TEST(Decimal, EqualsStdToStringOnRandomValues) {
  std::mt19937_64 rng(11);
  for (int i = 0; i < 100000; ++i) {
    const uint64_t v = rng() >> (rng() % 64);  // every magnitude
    ASSERT_EQ(text_of(v), std::to_string(v));
  }
  for (uint64_t p = 1, i = 0; i < 20; ++i, p *= 10) {
    ASSERT_EQ(text_of(p - 1), std::to_string(p - 1));
    ASSERT_EQ(text_of(p), std::to_string(p));
  }
}

}  // namespace
