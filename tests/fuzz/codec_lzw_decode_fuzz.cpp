// libFuzzer target: codec/lzw.h decoder (one-shot and streaming) and the encode/decode round trip.
//
// Input: byte 0 -> levels L = 2 + b0 % 255 (2..256); byte 1 -> bit 0 width (fixed/variable),
// bits 1-2 -> repeat count for the round trip (1..4), all of it -> seed for chunk sizes;
// the rest is the payload.
//   1. The payload as an LZW stream: agn_lzw_decode, and the streaming decoder fed in random-sized
//      chunks and polled with random-sized buffers. Both must agree (accept the same streams, give
//      the same symbols), and every symbol must be < L.
//   2. The payload as symbols (each byte mod L, repeated with an offset so the dictionary can
//      fill up and CLEAR): streaming encode within agn_lzw_max_encoded_size, and for L <= 16 the
//      one-shot encode of the same symbols as a symbol map (one row per repeat) must give the same
//      bytes; decoding them must give the symbols back exactly.
#include <algorithm>
#include <cstring>
#include <vector>

#include "codec/lzw.h"
#include "codec/symbol_map.h"
#include "fuzz_support.h"

namespace {

using agilenn::fuzz::Rng;

// Output cap for decoding fuzz streams: n codes can expand to ~n^2/2 symbols.
constexpr size_t kDecodeCap = size_t{1} << 20;

agn_lzw_decoder g_decoder;  // ~16 KiB each: static, as on the device
agn_lzw_encoder g_encoder;

// Streaming decode of `in` in random chunks; at most `cap` symbols are kept (AGN_ERR_NO_SPACE
// past that). Returns the first error, or the finish status.
agn_status stream_decode(unsigned levels, agn_lzw_width width, const uint8_t* in, size_t size,
                         Rng& rng, size_t cap, std::vector<uint8_t>& out) {
  out.clear();
  agn_status st = agn_lzw_decoder_init(&g_decoder, levels, width);
  AGN_FUZZ_CHECK(st == AGN_OK);
  uint8_t buf[97];
  size_t pos = 0;
  for (;;) {
    size_t consumed = 0;
    if (pos < size) {
      const size_t chunk = rng.between(1, size - pos < 40 ? size - pos : 40);
      st = agn_lzw_decoder_sink(&g_decoder, in + pos, chunk, &consumed);
      if (st != AGN_OK) return st;
      AGN_FUZZ_CHECK(consumed <= chunk);
      pos += consumed;
    }
    // Drain: poll until it writes less than it was offered.
    for (;;) {
      const size_t want = rng.between(0, sizeof buf);
      size_t written = 0;
      st = agn_lzw_decoder_poll(&g_decoder, buf, want, &written);
      AGN_FUZZ_CHECK(written <= want);
      for (size_t i = 0; i < written; ++i) AGN_FUZZ_CHECK(buf[i] < levels);
      out.insert(out.end(), buf, buf + written);
      if (st != AGN_OK) return st;
      if (out.size() > cap) return AGN_ERR_NO_SPACE;
      if (written < want) break;
    }
    if (pos == size) break;
  }
  st = agn_lzw_decoder_finish(&g_decoder);
  AGN_FUZZ_CHECK(st != AGN_ERR_STATE);  // everything was polled
  return st;
}

// Streaming encode in random chunks.
agn_status stream_encode(unsigned levels, agn_lzw_width width, const uint8_t* symbols, size_t count,
                         Rng& rng, std::vector<uint8_t>& out) {
  out.clear();
  agn_status st = agn_lzw_encoder_init(&g_encoder, levels, width);
  AGN_FUZZ_CHECK(st == AGN_OK);
  uint8_t buf[23];
  size_t pos = 0;
  bool finished = false;
  while (!finished) {
    if (pos < count) {
      const size_t chunk = rng.between(1, count - pos < 300 ? count - pos : 300);
      size_t consumed = 0;
      st = agn_lzw_encoder_sink(&g_encoder, symbols + pos, chunk, &consumed);
      if (st != AGN_OK) return st;
      AGN_FUZZ_CHECK(consumed <= chunk);
      pos += consumed;
    } else {
      st = agn_lzw_encoder_finish(&g_encoder);
      if (st != AGN_OK) return st;
      finished = true;
    }
    for (;;) {
      const size_t want = rng.between(1, sizeof buf);
      size_t written = 0;
      st = agn_lzw_encoder_poll(&g_encoder, buf, want, &written);
      if (st != AGN_OK) return st;
      AGN_FUZZ_CHECK(written <= want);
      out.insert(out.end(), buf, buf + written);
      if (written < want) break;
    }
  }
  return AGN_OK;
}

void check_decoder(unsigned levels, agn_lzw_width width, const uint8_t* in, size_t size, Rng& rng) {
  static std::vector<uint8_t> oneshot(kDecodeCap);
  size_t written = 0;
  const agn_status st =
      agn_lzw_decode(&g_decoder, levels, width, in, size, oneshot.data(), kDecodeCap, &written);
  AGN_FUZZ_CHECK(written <= kDecodeCap);
  for (size_t i = 0; i < written; ++i) AGN_FUZZ_CHECK(oneshot[i] < levels);
  if (st == AGN_ERR_NO_SPACE) return;  // longer than the cap: nothing to compare

  std::vector<uint8_t> streamed;
  const agn_status st2 = stream_decode(levels, width, in, size, rng, kDecodeCap, streamed);
  AGN_FUZZ_CHECK((st == AGN_OK) == (st2 == AGN_OK));
  if (st == AGN_OK) {
    AGN_FUZZ_CHECK(streamed.size() == written);
    AGN_FUZZ_CHECK(std::equal(streamed.begin(), streamed.end(), oneshot.begin()));
  }
}

void check_round_trip(unsigned levels, agn_lzw_width width, const uint8_t* payload, size_t size,
                      unsigned repeats, Rng& rng) {
  std::vector<uint8_t> symbols(size * repeats);
  for (size_t j = 0; j < symbols.size(); ++j) {
    symbols[j] = static_cast<uint8_t>((payload[j % size] + (j / size) * 37u) % levels);
  }
  std::vector<uint8_t> encoded;
  agn_status st = stream_encode(levels, width, symbols.data(), symbols.size(), rng, encoded);
  AGN_FUZZ_CHECK(st == AGN_OK);
  AGN_FUZZ_CHECK(encoded.size() <= agn_lzw_max_encoded_size(symbols.size(), levels));

  if (levels <= AGN_SYMBOL_MAX_LEVELS) {
    std::vector<uint8_t> map(agn_symbol_map_size(repeats, static_cast<unsigned>(size)));
    AGN_FUZZ_CHECK(agn_symbol_map_pack(symbols.data(), repeats, static_cast<unsigned>(size), map.data()) == AGN_OK);
    std::vector<uint8_t> oneshot(agn_lzw_max_encoded_size(symbols.size(), levels));
    size_t written = 0;
    st = agn_lzw_encode(&g_encoder, levels, width, map.data(), repeats, static_cast<unsigned>(size), oneshot.data(),
                        oneshot.size(), &written);
    AGN_FUZZ_CHECK(st == AGN_OK);
    oneshot.resize(written);
    AGN_FUZZ_CHECK(oneshot == encoded);
  }

  std::vector<uint8_t> decoded(symbols.size() + 1);
  size_t count = 0;
  st = agn_lzw_decode(&g_decoder, levels, width, encoded.data(), encoded.size(), decoded.data(),
                      decoded.size(), &count);
  AGN_FUZZ_CHECK(st == AGN_OK);
  AGN_FUZZ_CHECK(count == symbols.size());
  AGN_FUZZ_CHECK(std::memcmp(decoded.data(), symbols.data(), count) == 0);

  std::vector<uint8_t> decoded2;
  st = stream_decode(levels, width, encoded.data(), encoded.size(), rng, symbols.size(), decoded2);
  AGN_FUZZ_CHECK(st == AGN_OK);
  AGN_FUZZ_CHECK(decoded2 == symbols);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const unsigned levels = 2u + data[0] % 255u;
  const agn_lzw_width width = (data[1] & 1) ? AGN_LZW_VARIABLE : AGN_LZW_FIXED;
  const unsigned repeats = 1u + ((data[1] >> 1) & 3u);
  // The payload is copied to its own allocation so that ASan catches any read past its end.
  const std::vector<uint8_t> payload(data + 2, data + size);
  Rng rng(data[1] * 1000003ull + size);

  check_decoder(levels, width, payload.data(), payload.size(), rng);
  if (!payload.empty()) check_round_trip(levels, width, payload.data(), payload.size(), repeats, rng);
  return 0;
}
