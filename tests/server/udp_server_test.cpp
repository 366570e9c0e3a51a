// The server's stats as issue 5 asks for them: requests, drops by reason, the batch-size histogram
// and p50/p99 service time, in the stats line and the JSON, periodically while serving and at the end.
#include "server/udp_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_backend.h"

namespace {

using agilenn::server::Drop;
using agilenn::server::ServeOptions;
using agilenn::server::ServingThread;
using agilenn::server::Stats;
using agilenn::server::UdpServer;

TEST(Stats, LineAndJsonNameEveryFigure) {
  Stats s;
  s.counters.datagrams = 20;
  s.counters.requests = 12;
  s.counters.replies = 11;
  s.counters.drops[static_cast<size_t>(Drop::bad_mac)] = 3;
  s.counters.drops[static_cast<size_t>(Drop::busy)] = 1;
  s.batch_histogram = {{1, 5}, {32, 2}};
  s.service_p50_ms = 1.5;
  s.service_p99_ms = 9;
  s.uptime_s = 2;
  const std::string line = s.to_line();
  EXPECT_NE(line.find("12 requests, 11 replies"), std::string::npos) << line;
  EXPECT_NE(line.find("service p50 1.50 ms p99 9.00 ms"), std::string::npos) << line;
  EXPECT_NE(line.find("drops 4 (bad_mac=3 busy=1)"), std::string::npos) << line;
  EXPECT_NE(line.find("batches 1:5 32:2"), std::string::npos) << line;

  const nlohmann::json j = s.to_json();
  EXPECT_EQ(j["requests"], 12);
  EXPECT_EQ(j["dropped"], 4);
  EXPECT_EQ(j["drops"].size(), agilenn::server::kDropReasons);  // every reason, zeros included
  EXPECT_EQ(j["drops"]["bad_mac"], 3);
  EXPECT_EQ(j["drops"]["truncated"], 0);
  EXPECT_EQ(j["batch_histogram"]["32"], 2);
  EXPECT_EQ(j["service_ms"]["p50"], 1.5);
  EXPECT_EQ(j["service_ms"]["p99"], 9.0);
}

TEST(UdpServer, StatsArrivePeriodicallyAndCountDropsByReason) {
  agilenn::testing::FakeBackend backend;
  ServeOptions options;
  options.stats_interval_s = 0.05;
  sockaddr_in loopback{};
  loopback.sin_family = AF_INET;
  loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  UdpServer server(loopback, agilenn::wire::KeyStore::development({}), backend, options);
  std::mutex mutex;
  std::vector<Stats> periodic;
  ServingThread serving(server, [&](const Stats& s) {
    std::lock_guard lock(mutex);
    periodic.push_back(s);
  });
  agilenn::wire::UdpSocket device;
  const uint8_t garbage[5] = {1, 2, 3, 4, 5};  // shorter than a header
  ASSERT_TRUE(device.send_to(garbage, sizeof garbage, server.address()));
  // Several intervals; the wait ends as soon as a periodic report has seen the datagram.
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::lock_guard lock(mutex);
    if (periodic.size() >= 2 && periodic.back().counters.datagrams == 1) break;
  }
  serving.stop();
  {
    std::lock_guard lock(mutex);
    ASSERT_GE(periodic.size(), 2u);
    EXPECT_LE(periodic.front().uptime_s, periodic.back().uptime_s);
  }
  const Stats last = server.stats();  // what `agilenn serve` prints on exit
  EXPECT_EQ(last.counters.datagrams, 1u);
  EXPECT_EQ(last.counters.drops[static_cast<size_t>(Drop::truncated)], 1u);
  EXPECT_NE(last.to_line().find("drops 1 (truncated=1)"), std::string::npos) << last.to_line();
}

}  // namespace
