// The client and the server over real loopback UDP, with the client's link emulation providing
// loss and corruption: every request returns exactly once (answered or fallback), and an answer
// is always the backend's logits for exactly the bytes sent.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstdio>
#include <thread>

#include "client/load.h"
#include "client/remote_client.h"
#include "server/udp_server.h"
#include "support/fake_backend.h"

namespace {

using agilenn::client::ClientOptions;
using agilenn::client::RemoteClient;
using agilenn::client::RemoteResult;
using agilenn::server::ServeOptions;
using agilenn::server::UdpServer;
using agilenn::wire::Key;
using agilenn::wire::KeyStore;

const Key kKey = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6};

// A server on an ephemeral loopback port, run on its own thread for the test's lifetime.
struct ServerThread {
  explicit ServerThread(ServeOptions options, KeyStore keys = KeyStore::development(kKey), double call_ms = 0)
      : backend(call_ms) {
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server = std::make_unique<UdpServer>(any, std::move(keys), backend, options);
    thread = std::thread([this] { server->run(stop); });
  }
  ~ServerThread() {
    stop = true;
    thread.join();
  }
  agilenn::testing::FakeBackend backend;
  std::unique_ptr<UdpServer> server;
  std::atomic<bool> stop{false};
  std::thread thread;
};

struct SweepResult {
  int answered = 0, fallback = 0, wrong = 0;
  double wire_bytes = 0;
};

SweepResult run_requests(RemoteClient& client, int n, size_t payload, uint32_t salt) {
  SweepResult s;
  for (int i = 0; i < n; ++i) {
    const auto request = agilenn::testing::fake_request(payload, salt * 100000 + static_cast<uint32_t>(i));
    const RemoteResult r = client.request(request);
    if (r.answered) {
      ++s.answered;
      s.wrong += r.logits != agilenn::testing::fake_logits(std::span(request).subspan(AGN_WIRE_REQUEST_HEADER));
    } else {
      ++s.fallback;
    }
    s.wire_bytes += static_cast<double>(r.wire_bytes);
  }
  return s;
}

TEST(Loopback, LossSweepEveryRequestReturnsOnceAndNeverWrong) {
  ServeOptions so;
  so.limits.max_datagram = 256;
  so.batch.max_wait_ms = 1;  // one device: nothing to wait for
  ServerThread server(so);
  for (double loss : {0.0, 0.01, 0.05, 0.20}) {
    ClientOptions co;
    co.server = server.server->address();
    co.device_id = 7;
    co.key = kKey;
    co.max_datagram = 256;  // a 700-byte request is 4 fragments
    co.link.loss = loss;
    co.link.corrupt = 0.02;
    co.link.rate_bps = 6e6;
    co.link.seed = 11;
    RemoteClient client(co);
    const int n = 60;
    const SweepResult s = run_requests(client, n, 700, static_cast<uint32_t>(loss * 100) + 1);
    std::fprintf(stderr, "loss %.2f: %d answered, %d fallback, %.0f wire bytes per request\n", loss, s.answered,
                 s.fallback, s.wire_bytes / n);
    EXPECT_EQ(s.answered + s.fallback, n);
    EXPECT_EQ(s.wrong, 0);
    if (loss <= 0.05) {
      EXPECT_LE(s.fallback, n * 5 / 100) << "loss " << loss;
    }
    EXPECT_GE(s.answered, n / 2) << "loss " << loss;
  }
  const auto stats = server.server->stats();
  EXPECT_GT(stats.counters.drops[static_cast<size_t>(agilenn::server::Drop::bad_checksum)] +
                stats.counters.drops[static_cast<size_t>(agilenn::server::Drop::bad_header)],
            0u);
  EXPECT_EQ(stats.counters.requests, server.backend.decoded.load());
}

TEST(Loopback, WrongKeyIsNeverAnswered) {
  ServeOptions so;
  ServerThread server(so, KeyStore::of({{1, kKey}}));
  ClientOptions co;
  co.server = server.server->address();
  co.device_id = 1;
  co.key = kKey;
  co.key[0] ^= 1;
  co.deadline_ms = 60;
  RemoteClient client(co);
  const SweepResult s = run_requests(client, 3, 100, 1);
  EXPECT_EQ(s.fallback, 3);
  EXPECT_EQ(server.backend.decoded.load(), 0u);
  EXPECT_GE(server.server->stats().counters.drops[static_cast<size_t>(agilenn::server::Drop::bad_mac)], 3u);
}

// 64 simulated devices x 200 requests against one server: no crash, bounded reassembly memory,
// every request answered or counted.
TEST(Loopback, LoadManyDevices) {
  ServeOptions so;
  so.limits.total_bytes = 1 << 20;
  so.batch.max_batch = 32;
  so.batch.max_wait_ms = 2;
  ServerThread server(so, KeyStore::development(kKey), 1.0);
  agilenn::client::LoadOptions lo;
  lo.client.server = server.server->address();
  lo.client.key = kKey;
  lo.client.deadline_ms = 1000;
  lo.first_device = 1000;
  lo.devices = 64;
  lo.requests_per_device = 200;
  lo.make_request = [](uint32_t device, int64_t i) {
    return agilenn::testing::fake_request(400, device * 1000 + static_cast<uint32_t>(i));
  };
  const auto report = agilenn::client::run_load(lo);
  const auto stats = server.server->stats();
  std::fprintf(stderr, "load: %lld answered in %.2f s (%.0f/s), round trip p99 %.2f ms; server %s\n",
               static_cast<long long>(report.answered), report.seconds, report.answered_per_s, report.round_trip_p99_ms,
               stats.to_line().c_str());
  EXPECT_EQ(report.requests, 64 * 200);
  EXPECT_EQ(report.answered + report.fallbacks, report.requests);
  EXPECT_EQ(report.fallbacks, 0);
  EXPECT_EQ(stats.devices, 64u);
  EXPECT_LE(stats.peak_reassembly_bytes, so.limits.total_bytes);
  EXPECT_EQ(stats.counters.requests, stats.counters.replies);
  EXPECT_GE(stats.counters.requests, static_cast<uint64_t>(report.requests));
  EXPECT_EQ(stats.counters.dropped(), 0u);
  EXPECT_GT(stats.batch_histogram.rbegin()->first, 1);  // requests from many devices were batched
}

// Run by netem_test.sh inside a network namespace whose loopback has netem delay, loss,
// reordering, duplication and corruption: real kernel-level link effects, no client emulation.
TEST(Loopback, UnderNetem) {
  if (std::getenv("AGILENN_NETEM") == nullptr) GTEST_SKIP() << "run by tests/client/netem_test.sh under netem";
  ServeOptions so;
  so.limits.max_datagram = 256;
  so.batch.max_wait_ms = 1;
  ServerThread server(so);
  ClientOptions co;
  co.server = server.server->address();
  co.key = kKey;
  co.max_datagram = 256;
  RemoteClient client(co);
  const int n = 100;
  const SweepResult s = run_requests(client, n, 700, 77);
  std::fprintf(stderr, "netem: %d answered, %d fallback, %.0f wire bytes per request; server %s\n", s.answered,
               s.fallback, s.wire_bytes / n, server.server->stats().to_line().c_str());
  EXPECT_EQ(s.answered + s.fallback, n);
  EXPECT_EQ(s.wrong, 0);
  EXPECT_LE(s.fallback, n * 5 / 100);
}

}  // namespace
