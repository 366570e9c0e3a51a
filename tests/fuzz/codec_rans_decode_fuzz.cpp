// libFuzzer target: codec/rans.h model loader and decoder, and the encode/decode round trip.
//
// Input: byte 0 picks the mode (b0 % 3):
//   0. agn_rans_model_load on the raw rest.
//   1. The same with the trailing CRC-32 recomputed first, so the fuzzer gets past the checksum.
//      In both, a model that loads must save back to exactly the same bytes.
//   2. A valid model from header bytes, then arbitrary stream bytes:
//        b1 -> levels 2 + b1 % 15, b2 -> scale_bits 8 + b2 % 8, b3 -> channels 1 + b3 % 4,
//        b4 b5 -> plane_size 1 + (b4 | b5 << 8) % 1024, b6 b7 -> count (u16 LE) % (channels *
//        plane_size + 1), then channels * levels count bytes (each squared, so tables are skewed),
//        then the stream. agn_rans_decode must stay in bounds; if it accepts the stream, encoding
//        the symbols must give the stream back byte for byte (rANS with this renormalisation is a
//        bijection). Then the stream bytes as symbols (mod L, at most channels * plane_size):
//        encode, check the size bound, decode, compare.
#include <cstring>
#include <vector>

#include "codec/rans.h"
#include "common/crc32.h"
#include "fuzz_support.h"

namespace {

void check_load(const uint8_t* data, size_t size, bool fix_crc) {
  std::vector<uint8_t> bytes(data, data + size);  // exact-size copy: ASan sees overreads
  if (fix_crc && bytes.size() >= 16) {
    const uint32_t crc = agn_crc32(bytes.data(), bytes.size() - 4);
    for (int i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
  }
  agn_rans_model model;
  if (agn_rans_model_load(&model, bytes.data(), bytes.size()) != AGN_OK) return;
  // Loaded tables are valid: every freq >= 1, cum consistent, rows sum to M.
  for (unsigned c = 0; c < model.channels; ++c) {
    unsigned cum = 0;
    for (unsigned s = 0; s < model.levels; ++s) {
      AGN_FUZZ_CHECK(model.freq[c][s] >= 1);
      AGN_FUZZ_CHECK(model.cum[c][s] == cum);
      cum += model.freq[c][s];
    }
    AGN_FUZZ_CHECK(cum == (1u << model.scale_bits));
    AGN_FUZZ_CHECK(model.cum[c][model.levels] == cum);
  }
  std::vector<uint8_t> saved(agn_rans_model_serialized_size(model.levels, model.channels));
  size_t written = 0;
  AGN_FUZZ_CHECK(agn_rans_model_save(&model, saved.data(), saved.size(), &written) == AGN_OK);
  AGN_FUZZ_CHECK(written == bytes.size());
  AGN_FUZZ_CHECK(std::memcmp(saved.data(), bytes.data(), written) == 0);
}

void check_codec(const uint8_t* data, size_t size) {
  if (size < 8) return;
  const unsigned levels = 2u + data[1] % 15u;
  const unsigned scale_bits = 8u + data[2] % 8u;
  const unsigned channels = 1u + data[3] % 4u;
  const size_t plane_size = 1u + (data[4] | (size_t{data[5]} << 8)) % 1024u;
  const size_t max_count = channels * plane_size;
  const size_t count = (data[6] | (size_t{data[7]} << 8)) % (max_count + 1);
  size_t pos = 8;

  agn_rans_model model;
  AGN_FUZZ_CHECK(agn_rans_model_init(&model, levels, channels, scale_bits) == AGN_OK);
  for (unsigned c = 0; c < channels; ++c) {
    uint32_t counts[AGN_RANS_MAX_LEVELS] = {};
    for (unsigned s = 0; s < levels && pos < size; ++s, ++pos) counts[s] = uint32_t{data[pos]} * data[pos];
    AGN_FUZZ_CHECK(agn_rans_model_set_counts(&model, c, counts) == AGN_OK);
  }
  const std::vector<uint8_t> stream(data + pos, data + size);

  // 1. Arbitrary stream bytes.
  std::vector<uint8_t> symbols(count);
  const agn_status st =
      agn_rans_decode(&model, stream.data(), stream.size(), plane_size, symbols.data(), count);
  if (st == AGN_OK) {
    for (uint8_t s : symbols) AGN_FUZZ_CHECK(s < levels);
    std::vector<uint8_t> again(agn_rans_max_encoded_size(count, scale_bits));
    size_t written = 0;
    AGN_FUZZ_CHECK(agn_rans_encode(&model, symbols.data(), count, plane_size, again.data(),
                                   again.size(), &written) == AGN_OK);
    AGN_FUZZ_CHECK(written == stream.size());
    AGN_FUZZ_CHECK(std::memcmp(again.data(), stream.data(), written) == 0);
  }

  // 2. Round trip of the stream bytes taken as symbols.
  const size_t n = stream.size() < max_count ? stream.size() : max_count;
  std::vector<uint8_t> input(n);
  for (size_t i = 0; i < n; ++i) input[i] = static_cast<uint8_t>(stream[i] % levels);
  const size_t cap = agn_rans_max_encoded_size(n, scale_bits);
  std::vector<uint8_t> encoded(cap);
  size_t written = 0;
  AGN_FUZZ_CHECK(agn_rans_encode(&model, input.data(), n, plane_size, encoded.data(), cap, &written) ==
                 AGN_OK);
  AGN_FUZZ_CHECK(written >= 4 && written <= cap);
  encoded.resize(written);
  std::vector<uint8_t> decoded(n);
  AGN_FUZZ_CHECK(agn_rans_decode(&model, encoded.data(), encoded.size(), plane_size, decoded.data(), n) ==
                 AGN_OK);
  AGN_FUZZ_CHECK(decoded == input);
  // One byte short is never accepted.
  if (written > 4) {
    AGN_FUZZ_CHECK(agn_rans_decode(&model, encoded.data(), written - 1, plane_size, decoded.data(), n) !=
                   AGN_OK);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  switch (data[0] % 3) {
    case 0: check_load(data + 1, size - 1, false); break;
    case 1: check_load(data + 1, size - 1, true); break;
    default: check_codec(data, size); break;
  }
  return 0;
}
