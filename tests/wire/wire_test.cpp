#include "wire/wire.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "common/byte_order.h"
#include "common/crc32.h"
#include "wire/siphash.h"

namespace {

using Bytes = std::vector<uint8_t>;

const uint8_t kKey[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

Bytes message_of(size_t size, unsigned seed) {
  Bytes m(size);
  std::mt19937 rng(seed);
  for (auto& b : m) b = static_cast<uint8_t>(rng());
  return m;
}

std::vector<Bytes> fragments(const Bytes& message, size_t max_datagram, uint32_t seq = 7,
                             unsigned type = AGN_WIRE_REQUEST, uint32_t device = 42) {
  const size_t count = agn_wire_fragment_count(message.size(), max_datagram);
  std::vector<Bytes> out;
  for (size_t i = 0; i < count; ++i) {
    Bytes d(max_datagram);
    size_t written = 0;
    EXPECT_EQ(agn_wire_write_fragment(kKey, type, device, seq, message.data(), message.size(), max_datagram,
                                      static_cast<unsigned>(i), d.data(), d.size(), &written),
              AGN_OK);
    d.resize(written);
    out.push_back(d);
  }
  return out;
}

// Recomputes CRC and tag after a field was edited, so that a test reaches the check it targets.
void reseal(Bytes& d) {
  const size_t payload = d.size() - AGN_WIRE_OVERHEAD;
  uint32_t crc = agn_crc32_update(0, d.data(), 24);
  crc = agn_crc32_update(crc, d.data() + AGN_WIRE_HEADER_SIZE, payload);
  agn_store_u32le(d.data() + 24, crc);
  const uint64_t tag = agn_siphash24(kKey, d.data(), d.size() - 8);
  agn_store_u32le(d.data() + d.size() - 8, static_cast<uint32_t>(tag));
  agn_store_u32le(d.data() + d.size() - 4, static_cast<uint32_t>(tag >> 32));
}

agn_wire_verdict parse(const Bytes& d, agn_wire_header* h = nullptr, size_t max = 1200) {
  return agn_wire_parse(d.data(), d.size(), max, h);
}

TEST(WireHeader, RoundTripsEveryField) {
  const Bytes m = message_of(3000, 1);
  const auto frags = fragments(m, 1200, 0xDEADBEEF, AGN_WIRE_REPLY, 0x01020304);
  ASSERT_EQ(frags.size(), 3u);  // 3000 / 1164 -> 3 fragments of 1000 bytes
  for (size_t i = 0; i < frags.size(); ++i) {
    agn_wire_header h{};
    ASSERT_EQ(parse(frags[i], &h), AGN_WIRE_OK);
    EXPECT_EQ(h.version, AGN_WIRE_VERSION);
    EXPECT_EQ(h.type, AGN_WIRE_REPLY);
    EXPECT_EQ(h.device_id, 0x01020304u);
    EXPECT_EQ(h.seq, 0xDEADBEEFu);
    EXPECT_EQ(h.frag_index, i);
    EXPECT_EQ(h.frag_count, 3);
    EXPECT_EQ(h.message_size, 3000u);
    EXPECT_EQ(h.payload_size, 1000);
    EXPECT_EQ(h.flags, 0);
    EXPECT_EQ(frags[i].size(), 1036u);
    EXPECT_TRUE(agn_wire_tag_ok(kKey, frags[i].data(), frags[i].size()));
    EXPECT_EQ(0, std::memcmp(frags[i].data() + AGN_WIRE_HEADER_SIZE, m.data() + 1000 * i, 1000));
  }
  // Byte layout: magic "AG", then little-endian fields.
  EXPECT_EQ(frags[1][0], 'A');
  EXPECT_EQ(frags[1][1], 'G');
  EXPECT_EQ(frags[1][4], 0x04);
  EXPECT_EQ(frags[1][8], 0xEF);
  EXPECT_EQ(frags[1][12], 1);
}

TEST(WireHeader, FragmentCountAndLimits) {
  EXPECT_EQ(agn_wire_fragment_count(1, 1200), 1u);
  EXPECT_EQ(agn_wire_fragment_count(1164, 1200), 1u);
  EXPECT_EQ(agn_wire_fragment_count(1165, 1200), 2u);
  EXPECT_EQ(agn_wire_fragment_count(7296, 256), 34u);  // the raw 3-bit CIFAR payload, 220 B chunks
  EXPECT_EQ(agn_wire_fragment_count(0, 1200), 0u);
  EXPECT_EQ(agn_wire_fragment_count(10, AGN_WIRE_OVERHEAD), 0u);
  EXPECT_EQ(agn_wire_fragment_count(AGN_WIRE_MAX_MESSAGE + 1, 60000), 0u);
  EXPECT_EQ(agn_wire_fragment_count(AGN_WIRE_MAX_FRAGMENTS + 1, AGN_WIRE_MIN_DATAGRAM), 0u);
  for (size_t size : {1u, 219u, 220u, 221u, 999u, 7296u}) {
    for (const auto& d : fragments(message_of(size, 2), 256)) {
      EXPECT_LE(d.size(), 256u);
      EXPECT_EQ(parse(d, nullptr, 256), AGN_WIRE_OK);
    }
  }
}

TEST(WireHeader, WriteRejectsBadArguments) {
  const Bytes m = message_of(100, 3);
  Bytes out(1200);
  size_t w = 0;
  EXPECT_EQ(agn_wire_write_fragment(kKey, 3, 1, 1, m.data(), m.size(), 1200, 0, out.data(), out.size(), &w), AGN_ERR_ARG);
  EXPECT_EQ(agn_wire_write_fragment(kKey, 1, 1, 1, m.data(), m.size(), 1200, 1, out.data(), out.size(), &w), AGN_ERR_ARG);
  EXPECT_EQ(agn_wire_write_fragment(kKey, 1, 1, 1, m.data(), 0, 1200, 0, out.data(), out.size(), &w), AGN_ERR_ARG);
  EXPECT_EQ(agn_wire_write_fragment(kKey, 1, 1, 1, m.data(), m.size(), 1200, 0, out.data(), 135, &w), AGN_ERR_NO_SPACE);
  EXPECT_EQ(agn_wire_write_fragment(nullptr, 1, 1, 1, m.data(), m.size(), 1200, 0, out.data(), 136, &w), AGN_ERR_ARG);
}

TEST(WireHeader, EveryMalformationIsNamed) {
  const Bytes good = fragments(message_of(500, 4), 256)[1];
  ASSERT_EQ(parse(good), AGN_WIRE_OK);
  // Every truncation, including cuts inside the header.
  for (size_t n = 0; n < good.size(); ++n) {
    Bytes cut(good.begin(), good.begin() + static_cast<long>(n));
    EXPECT_EQ(parse(cut), AGN_WIRE_TRUNCATED) << n;
  }
  EXPECT_EQ(agn_wire_parse(nullptr, 0, 1200, nullptr), AGN_WIRE_TRUNCATED);
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(parse(longer), AGN_WIRE_OVERSIZED);
  EXPECT_EQ(parse(good, nullptr, good.size() - 1), AGN_WIRE_OVERSIZED);

  auto edited = [&](size_t at, uint8_t value, bool seal) {
    Bytes d = good;
    d[at] = value;
    if (seal) reseal(d);
    return parse(d);
  };
  EXPECT_EQ(edited(0, 'X', true), AGN_WIRE_BAD_MAGIC);
  EXPECT_EQ(edited(2, 2, true), AGN_WIRE_BAD_VERSION);
  EXPECT_EQ(edited(3, 0, true), AGN_WIRE_BAD_TYPE);
  EXPECT_EQ(edited(3, 3, true), AGN_WIRE_BAD_TYPE);
  EXPECT_EQ(edited(22, 1, true), AGN_WIRE_BAD_HEADER);     // flags
  EXPECT_EQ(edited(12, 9, true), AGN_WIRE_BAD_HEADER);     // index >= count
  EXPECT_EQ(edited(14, 0, true), AGN_WIRE_BAD_HEADER);     // count 0
  EXPECT_EQ(edited(14, 2, true), AGN_WIRE_BAD_HEADER);     // count disagrees with the sizes
  EXPECT_EQ(edited(17, 0x02, true), AGN_WIRE_BAD_HEADER);  // message size 756 disagrees
  {
    Bytes d = good;  // message size over the maximum
    agn_store_u32le(d.data() + 16, AGN_WIRE_MAX_MESSAGE + 1);
    reseal(d);
    EXPECT_EQ(parse(d), AGN_WIRE_BAD_HEADER);
  }
  {
    Bytes d = good;  // payload size field larger than the datagram
    agn_store_u16le(d.data() + 20, static_cast<uint16_t>(d.size()));
    EXPECT_EQ(parse(d), AGN_WIRE_TRUNCATED);
    agn_store_u16le(d.data() + 20, 1);
    EXPECT_EQ(parse(d), AGN_WIRE_OVERSIZED);
  }
  // Any single flipped bit in the CRC-covered bytes is a checksum error (or a header error when
  // it hits a checked field first); it never parses.
  for (size_t i = 0; i < good.size() - 8; ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes d = good;
      d[i] ^= static_cast<uint8_t>(1u << bit);
      EXPECT_NE(parse(d), AGN_WIRE_OK) << "byte " << i << " bit " << bit;
    }
  }
  EXPECT_EQ(edited(40, static_cast<uint8_t>(good[40] ^ 1), false), AGN_WIRE_BAD_CHECKSUM);
  // A flipped tag bit parses (no key needed) but fails authentication, as does another key.
  Bytes d = good;
  d.back() ^= 0x80;
  EXPECT_EQ(parse(d), AGN_WIRE_OK);
  EXPECT_FALSE(agn_wire_tag_ok(kKey, d.data(), d.size()));
  uint8_t other[16] = {};
  EXPECT_FALSE(agn_wire_tag_ok(other, good.data(), good.size()));
  EXPECT_TRUE(agn_wire_tag_ok(kKey, good.data(), good.size()));
  EXPECT_STREQ(agn_wire_verdict_name(AGN_WIRE_BAD_MAC), "bad_mac");
}

struct Assembly {
  Bytes buffer = Bytes(8000);
  Bytes bitmap = Bytes(AGN_WIRE_MAX_FRAGMENTS / 8);
  agn_wire_assembler a{};
  Assembly() { agn_wire_assembler_init(&a, buffer.data(), buffer.size(), bitmap.data(), bitmap.size()); }
  agn_wire_add_result add(const Bytes& d) {
    agn_wire_header h{};
    EXPECT_EQ(agn_wire_parse(d.data(), d.size(), 256, &h), AGN_WIRE_OK);
    return agn_wire_assembler_add(&a, &h, d.data() + AGN_WIRE_HEADER_SIZE);
  }
};

TEST(WireAssembler, ReorderedDuplicatedAndLostFragments) {
  const Bytes m = message_of(7296, 5);
  auto frags = fragments(m, 256);
  ASSERT_EQ(frags.size(), 34u);
  std::mt19937 rng(9);
  for (int trial = 0; trial < 20; ++trial) {
    std::shuffle(frags.begin(), frags.end(), rng);
    Assembly s;
    // First pass: lose every fragment whose position is a multiple of 5 and duplicate others.
    size_t complete = 0;
    for (size_t i = 0; i < frags.size(); ++i) {
      if (i % 5 == 0) continue;
      EXPECT_NE(s.add(frags[i]), AGN_WIRE_ADD_COMPLETE);
      if (i % 3 == 0) {
        EXPECT_EQ(s.add(frags[i]), AGN_WIRE_ADD_DUPLICATE);
      }
    }
    // The resend: every fragment again; exactly one completes the message.
    for (const auto& f : frags) complete += s.add(f) == AGN_WIRE_ADD_COMPLETE;
    EXPECT_EQ(complete, 1u);
    EXPECT_EQ(0, std::memcmp(s.buffer.data(), m.data(), m.size()));
    EXPECT_EQ(s.a.message_size, m.size());
  }
}

TEST(WireAssembler, RejectsOtherMessagesAndOversize) {
  Assembly s;
  const auto a = fragments(message_of(500, 6), 256, 1);
  const auto b = fragments(message_of(500, 6), 256, 2);
  const auto c = fragments(message_of(600, 6), 256, 1);
  EXPECT_EQ(s.add(a[0]), AGN_WIRE_ADD_STORED);
  EXPECT_EQ(s.add(b[1]), AGN_WIRE_ADD_MISMATCH);
  EXPECT_EQ(s.add(c[1]), AGN_WIRE_ADD_MISMATCH);
  EXPECT_EQ(s.add(fragments(message_of(500, 6), 256, 1, AGN_WIRE_REPLY)[1]), AGN_WIRE_ADD_MISMATCH);
  EXPECT_EQ(s.add(fragments(message_of(500, 6), 256, 1, AGN_WIRE_REQUEST, 43)[1]), AGN_WIRE_ADD_MISMATCH);
  agn_wire_assembler_reset(&s.a);
  EXPECT_EQ(s.add(b[1]), AGN_WIRE_ADD_STORED);

  Bytes small(100), bits(1);
  agn_wire_assembler tiny;
  agn_wire_assembler_init(&tiny, small.data(), small.size(), bits.data(), bits.size());
  agn_wire_header h{};
  ASSERT_EQ(parse(a[0], &h, 256), AGN_WIRE_OK);
  EXPECT_EQ(agn_wire_assembler_add(&tiny, &h, a[0].data() + AGN_WIRE_HEADER_SIZE), AGN_WIRE_ADD_TOO_BIG);
  const auto many = fragments(message_of(90, 6), AGN_WIRE_MIN_DATAGRAM);  // 90 one-byte fragments
  ASSERT_EQ(agn_wire_parse(many[0].data(), many[0].size(), 1200, &h), AGN_WIRE_OK);
  EXPECT_EQ(agn_wire_assembler_add(&tiny, &h, many[0].data() + AGN_WIRE_HEADER_SIZE), AGN_WIRE_ADD_TOO_BIG);
}

TEST(WireWindow, ReplaysAndSerialArithmetic) {
  agn_wire_window w;
  agn_wire_window_init(&w);
  EXPECT_EQ(agn_wire_window_check(&w, 5), AGN_WIRE_SEQ_NEW);
  agn_wire_window_advance(&w, 5);
  EXPECT_EQ(agn_wire_window_check(&w, 5), AGN_WIRE_SEQ_OPEN);
  agn_wire_window_mark_done(&w, 5);
  EXPECT_EQ(agn_wire_window_check(&w, 5), AGN_WIRE_SEQ_DONE);
  EXPECT_EQ(agn_wire_window_check(&w, 6), AGN_WIRE_SEQ_NEW);
  EXPECT_EQ(agn_wire_window_check(&w, 4), AGN_WIRE_SEQ_OPEN);
  agn_wire_window_advance(&w, 3);  // older: no change
  EXPECT_EQ(w.newest, 5u);
  agn_wire_window_advance(&w, 5 + AGN_WIRE_WINDOW - 1);
  EXPECT_EQ(agn_wire_window_check(&w, 5), AGN_WIRE_SEQ_DONE);  // the last slot of the window
  agn_wire_window_advance(&w, 5 + AGN_WIRE_WINDOW);
  EXPECT_EQ(agn_wire_window_check(&w, 5), AGN_WIRE_SEQ_STALE);
  EXPECT_EQ(agn_wire_window_check(&w, 6), AGN_WIRE_SEQ_OPEN);
  agn_wire_window_mark_done(&w, 5);  // stale: ignored
  agn_wire_window_mark_done(&w, 1000);  // newer than newest: ignored
  EXPECT_EQ(agn_wire_window_check(&w, 1000), AGN_WIRE_SEQ_NEW);
  // Wrap-around: 0xFFFFFFFF -> 0 is one step forward.
  agn_wire_window_init(&w);
  agn_wire_window_advance(&w, 0xFFFFFFFEu);
  agn_wire_window_mark_done(&w, 0xFFFFFFFEu);
  EXPECT_EQ(agn_wire_window_check(&w, 1), AGN_WIRE_SEQ_NEW);
  agn_wire_window_advance(&w, 1);
  EXPECT_EQ(agn_wire_window_check(&w, 0xFFFFFFFEu), AGN_WIRE_SEQ_DONE);
  EXPECT_EQ(agn_wire_window_check(&w, 0xFFFFFFFFu), AGN_WIRE_SEQ_OPEN);
  // A jump of more than the window forgets everything before it.
  agn_wire_window_advance(&w, 1000);
  EXPECT_EQ(agn_wire_window_check(&w, 1), AGN_WIRE_SEQ_STALE);
  EXPECT_EQ(agn_wire_window_check(&w, 999), AGN_WIRE_SEQ_OPEN);
}

TEST(WireBodies, RequestAndReplyRoundTrip) {
  uint8_t req[8];
  EXPECT_EQ(agn_wire_request_header_write(AGN_WIRE_CODEC_RANS, req, 3), AGN_ERR_NO_SPACE);
  EXPECT_EQ(agn_wire_request_header_write(9, req, sizeof req), AGN_ERR_ARG);
  ASSERT_EQ(agn_wire_request_header_write(AGN_WIRE_CODEC_RANS, req, sizeof req), AGN_OK);
  req[4] = 0xAB;
  unsigned codec = 99;
  const uint8_t* stream = nullptr;
  size_t stream_size = 0;
  ASSERT_EQ(agn_wire_request_parse(req, 5, &codec, &stream, &stream_size), AGN_OK);
  EXPECT_EQ(codec, AGN_WIRE_CODEC_RANS);
  EXPECT_EQ(stream_size, 1u);
  EXPECT_EQ(stream[0], 0xAB);
  EXPECT_EQ(agn_wire_request_parse(req, 3, &codec, &stream, &stream_size), AGN_ERR_TRUNCATED);
  req[2] = 1;
  EXPECT_EQ(agn_wire_request_parse(req, 5, &codec, &stream, &stream_size), AGN_ERR_FORMAT);

  const float logits[3] = {1.5f, -2.25f, 1e-30f};
  Bytes out(agn_wire_reply_size(3));
  size_t written = 0;
  ASSERT_EQ(agn_wire_reply_write(AGN_WIRE_REPLY_OK, 1234, logits, 3, out.data(), out.size(), &written), AGN_OK);
  EXPECT_EQ(written, 20u);
  agn_wire_reply r{};
  ASSERT_EQ(agn_wire_reply_parse(out.data(), out.size(), &r), AGN_OK);
  EXPECT_EQ(r.classes, 3u);
  EXPECT_EQ(r.server_time_us, 1234u);
  for (unsigned i = 0; i < 3; ++i) EXPECT_EQ(agn_wire_reply_logit(&r, i), logits[i]);
  EXPECT_EQ(agn_wire_reply_parse(out.data(), 19, &r), AGN_ERR_TRUNCATED);
  Bytes longer = out;
  longer.push_back(0);
  EXPECT_EQ(agn_wire_reply_parse(longer.data(), longer.size(), &r), AGN_ERR_FORMAT);
  EXPECT_EQ(agn_wire_reply_write(AGN_WIRE_REPLY_BAD_REQUEST, 0, logits, 3, out.data(), out.size(), &written), AGN_ERR_ARG);
  ASSERT_EQ(agn_wire_reply_write(AGN_WIRE_REPLY_BAD_REQUEST, 7, nullptr, 0, out.data(), out.size(), &written), AGN_OK);
  ASSERT_EQ(agn_wire_reply_parse(out.data(), written, &r), AGN_OK);
  EXPECT_EQ(r.status, AGN_WIRE_REPLY_BAD_REQUEST);
  out[0] = 7;
  EXPECT_EQ(agn_wire_reply_parse(out.data(), written, &r), AGN_ERR_FORMAT);
}

TEST(WireDevKey, DependsOnEveryModelByte) {
  Bytes model = message_of(300, 7);
  uint8_t a[16], b[16];
  agn_wire_dev_key(model.data(), model.size(), a);
  agn_wire_dev_key(model.data(), model.size(), b);
  EXPECT_EQ(0, std::memcmp(a, b, 16));
  model[299] ^= 1;
  agn_wire_dev_key(model.data(), model.size(), b);
  EXPECT_NE(0, std::memcmp(a, b, 16));
  EXPECT_NE(0, std::memcmp(a, a + 8, 8));
}

}  // namespace
