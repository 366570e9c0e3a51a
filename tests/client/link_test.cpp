#include "client/link.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace {

using agilenn::client::Clock;
using agilenn::client::LinkDirection;
using agilenn::client::LinkOptions;
using agilenn::client::parse_rate_bps;

TEST(Link, ParsesRates) {
  EXPECT_DOUBLE_EQ(parse_rate_bps("6mbps"), 6e6);
  EXPECT_DOUBLE_EQ(parse_rate_bps("270kbps"), 270e3);
  EXPECT_DOUBLE_EQ(parse_rate_bps("1.5Mbps"), 1.5e6);
  EXPECT_DOUBLE_EQ(parse_rate_bps("115200bps"), 115200);
  EXPECT_DOUBLE_EQ(parse_rate_bps("9600"), 9600);
  EXPECT_DOUBLE_EQ(parse_rate_bps("2G"), 2e9);
  EXPECT_EQ(parse_rate_bps("unlimited"), 0);
  for (const char* bad : {"", "fast", "-3mbps", "6xbps", "0kbps", "nan"}) {
    EXPECT_THROW(parse_rate_bps(bad), std::invalid_argument) << bad;
  }
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

TEST(Link, PacesAtTheRateAndAddsDelay) {
  LinkOptions o;
  o.rate_bps = 80000;  // 10 bytes per ms
  o.delay_ms = 7;
  LinkDirection link(o, 0);
  const auto t0 = Clock::now();
  std::vector<uint8_t> d(972);  // + 28 header bytes = 1000 bytes = 100 ms
  const auto a = link.transmit(d, t0);
  const auto b = link.transmit(d, t0);  // queued behind the first
  ASSERT_TRUE(a && b);
  EXPECT_NEAR(ms(*a - t0), 107.0, 0.01);
  EXPECT_NEAR(ms(*b - t0), 207.0, 0.01);
  const auto c = link.transmit(d, t0 + std::chrono::seconds(1));  // idle link: no queue
  EXPECT_NEAR(ms(*c - t0), 1107.0, 0.01);
}

TEST(Link, LossAndCorruptionRatesAndReproducibility) {
  LinkOptions o;
  o.loss = 0.2;
  o.corrupt = 0.1;
  o.seed = 5;
  LinkDirection a(o, 1), b(o, 1);
  int lost = 0, corrupted = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    std::vector<uint8_t> x(64, 0), y(64, 0);
    const auto ra = a.transmit(x, Clock::now());
    const auto rb = b.transmit(y, Clock::now());
    EXPECT_EQ(ra.has_value(), rb.has_value());
    EXPECT_EQ(x, y);
    if (!ra) {
      ++lost;
      continue;
    }
    int bits = 0;
    for (uint8_t v : x) bits += __builtin_popcount(v);
    EXPECT_LE(bits, 1);
    corrupted += bits;
  }
  EXPECT_NEAR(lost / double(n), 0.2, 0.015);
  EXPECT_NEAR(corrupted / double(n - lost), 0.1, 0.015);
}

TEST(Link, RejectsBadOptions) {
  LinkOptions o;
  o.loss = 1.0;
  EXPECT_THROW(agilenn::client::check_link_options(o), std::invalid_argument);
  o.loss = 0;
  o.delay_ms = -1;
  EXPECT_THROW(agilenn::client::check_link_options(o), std::invalid_argument);
}

}  // namespace
