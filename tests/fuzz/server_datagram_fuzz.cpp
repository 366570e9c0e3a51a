// libFuzzer target: the server's datagram handler (server/server_core.h), the code that sees
// every untrusted byte that reaches `agilenn serve`.
//
// Input: a sequence of records, each
//   1. u8 flags: bit 0 = seal (recompute the CRC-32 and the SipHash tag under device 1's key, so
//      the fuzzer reaches reassembly, the window and the reply cache), bits 1-3 = advance the
//      clock by that many x 300 ms before this record (reassembly timeouts);
//   2. u16 little-endian length n (records are cut at the end of the input);
//   3. n bytes: the datagram.
// One ServerCore per input (limits small enough to hit the memory bounds), keys for devices 1
// and 2; every completed request is answered at once with logits of the request's CRC.
// Properties checked: a request never completes before it passed parse + tag (the completed
// bytes are exactly message_size long, for a known device); reassembly memory never exceeds the
// budgets; every datagram is counted exactly once as dropped, stored, duplicate or completed.
#include <arpa/inet.h>

#include <chrono>
#include <vector>

#include "common/byte_order.h"
#include "common/crc32.h"
#include "fuzz_support.h"
#include "server/server_core.h"
#include "wire/siphash.h"

namespace {

using agilenn::server::Clock;
using agilenn::wire::Key;

const Key kKey1 = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
const Key kKey2 = {2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2};

void seal(std::vector<uint8_t>& d) {
  if (d.size() < AGN_WIRE_OVERHEAD) return;
  uint32_t crc = agn_crc32_update(0, d.data(), 24);
  crc = agn_crc32_update(crc, d.data() + AGN_WIRE_HEADER_SIZE, d.size() - AGN_WIRE_OVERHEAD);
  agn_store_u32le(d.data() + 24, crc);
  const uint64_t tag = agn_siphash24(kKey1.data(), d.data(), d.size() - 8);
  agn_store_u32le(d.data() + d.size() - 8, static_cast<uint32_t>(tag));
  agn_store_u32le(d.data() + d.size() - 4, static_cast<uint32_t>(tag >> 32));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  agilenn::server::ServerLimits limits;
  limits.max_datagram = 512;
  limits.max_message = 4096;
  limits.device_bytes = 6000;
  limits.total_bytes = 9000;
  limits.max_partials = 3;
  limits.reply_cache = 2;
  agilenn::server::ServerCore core(agilenn::wire::KeyStore::of({{1, kKey1}, {2, kKey2}}), limits);
  sockaddr_in peer{};
  peer.sin_family = AF_INET;
  auto now = Clock::now();
  std::vector<agilenn::server::Outgoing> out;
  size_t at = 0;
  uint64_t datagrams = 0;
  while (at + 3 <= size) {
    const uint8_t flags = data[at];
    const size_t n = std::min<size_t>(agn_load_u16le(data + at + 1), size - at - 3);
    std::vector<uint8_t> d(data + at + 3, data + at + 3 + n);  // exact size: ASan sees overreads
    at += 3 + n;
    now += std::chrono::milliseconds(300 * ((flags >> 1) & 7));
    core.expire(now);
    if (flags & 1) seal(d);
    const auto before = core.counters();
    out.clear();
    const auto job = core.handle(d.data(), d.size(), peer, now, out);
    ++datagrams;
    const auto& after = core.counters();
    AGN_FUZZ_CHECK(after.datagrams == datagrams);
    if (job) {
      agn_wire_header h{};
      AGN_FUZZ_CHECK(agn_wire_parse(d.data(), d.size(), limits.max_datagram, &h) == AGN_WIRE_OK);
      AGN_FUZZ_CHECK(agn_wire_tag_ok((h.device_id == 1 ? kKey1 : kKey2).data(), d.data(), d.size()));
      AGN_FUZZ_CHECK(job->request.size() == h.message_size && h.message_size <= limits.max_message);
      AGN_FUZZ_CHECK(after.requests == before.requests + 1);
      const float logit = static_cast<float>(agn_crc32(job->request.data(), job->request.size()) & 0xFFFF);
      core.reply(*job, {AGN_WIRE_REPLY_OK, {logit, -logit}}, 1, out);
      for (const auto& o : out) {
        agn_wire_header rh{};
        AGN_FUZZ_CHECK(agn_wire_parse(o.datagram.data(), o.datagram.size(), limits.max_datagram, &rh) == AGN_WIRE_OK);
        AGN_FUZZ_CHECK(rh.type == AGN_WIRE_REPLY && rh.seq == h.seq);
      }
    } else {
      AGN_FUZZ_CHECK(after.requests == before.requests);
      // Cached replies go out only for authentic datagrams of answered requests.
      AGN_FUZZ_CHECK(out.empty() || after.duplicates_answered == before.duplicates_answered + 1);
    }
    AGN_FUZZ_CHECK(core.reassembly_bytes() <= limits.total_bytes);
    AGN_FUZZ_CHECK(core.peak_reassembly_bytes() <= limits.total_bytes);
  }
  return 0;
}
