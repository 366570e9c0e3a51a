#include "server/server_core.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "common/byte_order.h"
#include "common/crc32.h"
#include "support/fake_backend.h"
#include "wire/siphash.h"

namespace {

using agilenn::server::BackendResult;
using agilenn::server::Clock;
using agilenn::server::Drop;
using agilenn::server::Job;
using agilenn::server::Outgoing;
using agilenn::server::ServerCore;
using agilenn::server::ServerLimits;
using agilenn::wire::Key;
using agilenn::wire::KeyStore;
using Bytes = std::vector<uint8_t>;

const Key kKey1 = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
const Key kKey2 = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};

std::vector<Bytes> datagrams(const Bytes& message, uint32_t seq, uint32_t device = 1, const Key& key = kKey1,
                             size_t max_datagram = 256, unsigned type = AGN_WIRE_REQUEST) {
  std::vector<Bytes> out;
  const size_t count = agn_wire_fragment_count(message.size(), max_datagram);
  for (size_t i = 0; i < count; ++i) {
    Bytes d(max_datagram);
    size_t n = 0;
    EXPECT_EQ(agn_wire_write_fragment(key.data(), type, device, seq, message.data(), message.size(), max_datagram,
                                      static_cast<unsigned>(i), d.data(), d.size(), &n),
              AGN_OK);
    d.resize(n);
    out.push_back(d);
  }
  return out;
}

void reseal(Bytes& d, const Key& key = kKey1) {
  uint32_t crc = agn_crc32_update(0, d.data(), 24);
  crc = agn_crc32_update(crc, d.data() + AGN_WIRE_HEADER_SIZE, d.size() - AGN_WIRE_OVERHEAD);
  agn_store_u32le(d.data() + 24, crc);
  const uint64_t tag = agn_siphash24(key.data(), d.data(), d.size() - 8);
  agn_store_u32le(d.data() + d.size() - 8, static_cast<uint32_t>(tag));
  agn_store_u32le(d.data() + d.size() - 4, static_cast<uint32_t>(tag >> 32));
}

struct Harness {
  explicit Harness(ServerLimits limits = make_limits()) : core(KeyStore::of({{1, kKey1}, {2, kKey2}}), limits) {
    peer.sin_family = AF_INET;
    peer.sin_port = htons(5000);
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  static ServerLimits make_limits() {
    ServerLimits l;
    l.max_datagram = 256;
    return l;
  }
  std::optional<Job> feed(const Bytes& d, Clock::time_point at = Clock::now()) {
    return core.handle(d.data(), d.size(), peer, at, out);
  }
  uint64_t drops(Drop reason) const { return core.counters().drops[static_cast<size_t>(reason)]; }

  ServerCore core;
  sockaddr_in peer{};
  std::vector<Outgoing> out;
};

TEST(ServerCore, AnswersOnceAndResendsFromCache) {
  Harness h;
  const Bytes request = agilenn::testing::fake_request(600, 1);
  const auto frags = datagrams(request, 100);
  ASSERT_EQ(frags.size(), 3u);
  EXPECT_FALSE(h.feed(frags[2]));
  EXPECT_FALSE(h.feed(frags[0]));
  EXPECT_FALSE(h.feed(frags[0]));  // duplicate fragment
  auto job = h.feed(frags[1]);
  ASSERT_TRUE(job);
  EXPECT_EQ(job->request, request);
  EXPECT_EQ(job->seq, 100u);
  EXPECT_EQ(h.core.reassembly_bytes(), 0u);
  // The request is being served: resent fragments are ignored, not reassembled again.
  EXPECT_FALSE(h.feed(frags[0]));
  EXPECT_EQ(h.core.counters().duplicates_ignored, 2u);
  EXPECT_TRUE(h.out.empty());

  agilenn::testing::FakeBackend backend;
  const std::span<const uint8_t> one[] = {job->request};
  const BackendResult result = backend.run(one)[0];
  h.core.reply(*job, result, 1500, h.out);
  ASSERT_EQ(h.out.size(), 1u);
  const Bytes reply = h.out[0].datagram;
  agn_wire_header hdr{};
  ASSERT_EQ(agn_wire_parse(reply.data(), reply.size(), 256, &hdr), AGN_WIRE_OK);
  EXPECT_EQ(hdr.type, AGN_WIRE_REPLY);
  EXPECT_EQ(hdr.seq, 100u);
  EXPECT_TRUE(agn_wire_tag_ok(kKey1.data(), reply.data(), reply.size()));
  agn_wire_reply parsed{};
  ASSERT_EQ(agn_wire_reply_parse(reply.data() + AGN_WIRE_HEADER_SIZE, hdr.payload_size, &parsed), AGN_OK);
  EXPECT_EQ(parsed.server_time_us, 1500u);
  EXPECT_EQ(agn_wire_reply_logit(&parsed, 3), result.logits[3]);

  // A resend of the answered request gets the same reply bytes without reaching the backend.
  h.out.clear();
  EXPECT_FALSE(h.feed(frags[1]));
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out[0].datagram, reply);
  EXPECT_EQ(h.core.counters().duplicates_answered, 1u);
  EXPECT_EQ(h.core.counters().requests, 1u);
  EXPECT_EQ(h.core.counters().dropped(), 0u);
}

TEST(ServerCore, EveryBadDatagramIsDroppedAndCountedBeforeStoring) {
  Harness h;
  const Bytes request = agilenn::testing::fake_request(400, 2);
  const Bytes good = datagrams(request, 7)[0];
  auto edited = [&](auto edit, bool seal) {
    Bytes d = good;
    edit(d);
    if (seal) reseal(d);
    return d;
  };
  struct Case {
    Bytes datagram;
    Drop reason;
  };
  Bytes forged_other_key = good;
  reseal(forged_other_key, kKey2);
  Bytes oversized(300, 0);
  const std::vector<Case> cases = {
      {Bytes(good.begin(), good.begin() + 20), Drop::truncated},
      {Bytes(good.begin(), good.end() - 1), Drop::truncated},
      {oversized, Drop::oversized},
      {edited([](Bytes& d) { d[0] = 'X'; }, true), Drop::bad_magic},
      {edited([](Bytes& d) { d[2] = 9; }, true), Drop::wrong_version},
      {edited([](Bytes& d) { d[3] = 7; }, true), Drop::bad_type},
      {edited([](Bytes& d) { d[22] = 1; }, true), Drop::bad_header},
      {edited([](Bytes& d) { d[40] ^= 1; }, false), Drop::bad_checksum},
      {edited([](Bytes& d) { d[d.size() - 1] ^= 1; }, false), Drop::bad_mac},
      {forged_other_key, Drop::bad_mac},
      {edited([](Bytes& d) { d[4] = 9; }, true), Drop::unknown_device},
      {datagrams(agilenn::testing::fake_request(10, 1), 7, 1, kKey1, 256, AGN_WIRE_REPLY)[0], Drop::wrong_direction},
  };
  std::map<Drop, uint64_t> expected;
  for (const auto& c : cases) {
    EXPECT_FALSE(h.feed(c.datagram)) << drop_name(c.reason);
    EXPECT_EQ(h.drops(c.reason), ++expected[c.reason]) << drop_name(c.reason);
    EXPECT_EQ(h.core.reassembly_bytes(), 0u) << drop_name(c.reason);
    EXPECT_EQ(h.core.devices(), 0u) << "no device state before authentication: " << drop_name(c.reason);
  }
  EXPECT_EQ(h.drops(Drop::bad_mac), 2u);
  EXPECT_EQ(h.core.counters().dropped(), cases.size());
  EXPECT_TRUE(h.out.empty());
}

TEST(ServerCore, ReplaysOlderThanTheWindowAreDropped) {
  Harness h;
  agilenn::testing::FakeBackend backend;
  const Bytes request = agilenn::testing::fake_request(50, 3);
  const Bytes first = datagrams(request, 1000)[0];
  auto job = h.feed(first);
  ASSERT_TRUE(job);
  h.core.reply(*job, {AGN_WIRE_REPLY_OK, {1.0f}}, 0, h.out);
  // Move the window far ahead with answered requests, as a live device does.
  for (uint32_t s = 1001; s <= 1000 + AGN_WIRE_WINDOW; ++s) {
    auto j = h.feed(datagrams(agilenn::testing::fake_request(50, s), s)[0]);
    ASSERT_TRUE(j);
    h.core.reply(*j, {AGN_WIRE_REPLY_OK, {1.0f}}, 0, h.out);
  }
  h.out.clear();
  EXPECT_FALSE(h.feed(first));  // a captured datagram, replayed: outside the window now
  EXPECT_EQ(h.drops(Drop::replayed), 1u);
  EXPECT_TRUE(h.out.empty());
  // Inside the window but evicted from the 8-entry reply cache: also a replay, nothing decoded.
  EXPECT_FALSE(h.feed(datagrams(agilenn::testing::fake_request(50, 1010), 1010)[0]));
  EXPECT_EQ(h.drops(Drop::replayed), 2u);
  EXPECT_EQ(h.core.counters().requests, 1u + AGN_WIRE_WINDOW);
}

TEST(ServerCore, LostDuplicatedReorderedFragmentsAt256Bytes) {
  Harness h;
  std::mt19937 rng(4);
  for (uint32_t seq = 1; seq <= 30; ++seq) {
    const Bytes request = agilenn::testing::fake_request(1 + rng() % 3000, seq);
    auto frags = datagrams(request, seq, 2, kKey2);
    std::vector<Bytes> arrivals;
    for (const auto& f : frags) {
      if (rng() % 4 != 0) arrivals.push_back(f);  // first transmission: 25 % lost
      if (rng() % 5 == 0) arrivals.push_back(f);  // duplicated
    }
    for (const auto& f : frags) arrivals.push_back(f);  // the resend
    std::shuffle(arrivals.begin(), arrivals.end() - static_cast<long>(frags.size()), rng);
    int completed = 0;
    for (const auto& d : arrivals) {
      if (auto job = h.feed(d)) {
        ++completed;
        EXPECT_EQ(job->request, request);
        h.core.reply(*job, {AGN_WIRE_REPLY_OK, {0.5f}}, 0, h.out);
      }
    }
    EXPECT_EQ(completed, 1) << "seq " << seq;
  }
  EXPECT_EQ(h.core.reassembly_bytes(), 0u);
  EXPECT_EQ(h.core.counters().dropped(), 0u);
}

TEST(ServerCore, ReassemblyMemoryIsBoundedAndTimesOut) {
  ServerLimits limits = Harness::make_limits();
  limits.device_bytes = 5000;
  limits.total_bytes = 8000;
  limits.max_message = 4000;
  Harness h(limits);
  const auto t0 = Clock::now();
  // Device 1: a 3000-byte partial fits, a second one would exceed its 5000-byte budget.
  EXPECT_FALSE(h.feed(datagrams(agilenn::testing::fake_request(2996, 1), 1)[0], t0));
  EXPECT_FALSE(h.feed(datagrams(agilenn::testing::fake_request(2996, 2), 2)[0], t0));
  EXPECT_EQ(h.drops(Drop::memory), 1u);
  // Too big a message is refused before anything is stored.
  EXPECT_FALSE(h.feed(datagrams(agilenn::testing::fake_request(4000, 3), 3)[0], t0));
  EXPECT_EQ(h.drops(Drop::message_too_big), 1u);
  // Device 2 may use the rest of the total budget only.
  EXPECT_FALSE(h.feed(datagrams(agilenn::testing::fake_request(2996, 4), 4, 2, kKey2)[0], t0));
  EXPECT_FALSE(h.feed(datagrams(agilenn::testing::fake_request(2996, 5), 5, 2, kKey2)[0], t0));
  EXPECT_EQ(h.drops(Drop::memory), 2u);
  EXPECT_LE(h.core.reassembly_bytes(), limits.total_bytes);
  EXPECT_LE(h.core.peak_reassembly_bytes(), limits.total_bytes);
  // Timeouts free everything; a later message is accepted again.
  h.core.expire(t0 + std::chrono::milliseconds(500));
  EXPECT_EQ(h.drops(Drop::reassembly_timeout), 0u);
  h.core.expire(t0 + std::chrono::milliseconds(1001));
  EXPECT_EQ(h.drops(Drop::reassembly_timeout), 2u);
  EXPECT_EQ(h.core.reassembly_bytes(), 0u);
  EXPECT_FALSE(h.feed(datagrams(agilenn::testing::fake_request(2996, 6), 6)[0], t0));
  EXPECT_GT(h.core.reassembly_bytes(), 0u);
}

TEST(ServerCore, DeviceTableIsBoundedInDevelopmentMode) {
  ServerLimits limits = Harness::make_limits();
  limits.max_devices = 3;
  ServerCore core(KeyStore::development(kKey1), limits);
  std::vector<Outgoing> out;
  sockaddr_in peer{};
  int jobs = 0;
  for (uint32_t device = 10; device < 15; ++device) {
    const Bytes d = datagrams(agilenn::testing::fake_request(20, device), 1, device)[0];
    jobs += core.handle(d.data(), d.size(), peer, Clock::now(), out).has_value();
  }
  EXPECT_EQ(jobs, 3);
  EXPECT_EQ(core.counters().drops[static_cast<size_t>(Drop::too_many_devices)], 2u);
}

TEST(ServerCore, AbandonedRequestIsReassembledOnResend) {
  Harness h;
  const Bytes d = datagrams(agilenn::testing::fake_request(20, 1), 5)[0];
  auto job = h.feed(d);
  ASSERT_TRUE(job);
  h.core.abandon(*job);
  EXPECT_EQ(h.drops(Drop::busy), 1u);
  EXPECT_TRUE(h.feed(d));
}

}  // namespace
