// libFuzzer target: codec/rans.h model loader and decoder, and the encode/decode round trip.
//
// Input: byte 0 picks the mode (b0 % 3):
//   0. agn_rans_model_load on the raw rest.
//   1. The same with the trailing CRC-32 recomputed first, so the fuzzer gets past the checksum.
//      A model that loads then decodes the bytes 0..15 of the input as a stream (must stay in
//      bounds).
//   2. A model built from the input, then arbitrary stream bytes:
//        b1 -> levels 2 + b1 % 15, b2 -> channels 1 + b2 % 4, b3 -> height 1 + b3 % 16,
//        b4 -> width 1 + b4 % 40, then channels * height * width map bytes (a byte below 160 is
//        the symbol 0, else byte % levels: sparse like a feature map; missing bytes are 0) whose
//        events train the tables (min_events 1), then the stream. agn_rans_decode must stay in
//        bounds; if it accepts the stream, encoding the symbols must give the stream back byte for
//        byte (rANS with this renormalisation is a bijection). The map itself must round-trip
//        within agn_rans_max_encoded_size, and one byte short is never accepted.
#include <cstring>
#include <memory>
#include <vector>

#include "codec/rans.h"
#include "codec/symbol_map.h"
#include "common/crc32.h"
#include "fuzz_support.h"

namespace {

void check_load(const uint8_t* data, size_t size, bool fix_crc) {
  std::vector<uint8_t> bytes(data, data + size);  // exact-size copy: ASan sees overreads
  if (fix_crc && bytes.size() >= 20) {
    const uint32_t crc = agn_crc32(bytes.data(), bytes.size() - 4);
    for (int i = 0; i < 4; ++i) bytes[bytes.size() - 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
  }
  agn_rans_model model;
  if (agn_rans_model_load(&model, bytes.data(), bytes.size()) != AGN_OK) return;
  AGN_FUZZ_CHECK(bytes.size() == agn_rans_model_size(model.levels, model.channels, model.run_tables, model.value_tables));
  const size_t count = size_t{model.channels} * model.height * model.width;
  if (count > 1u << 16) return;
  std::vector<uint8_t> symbols(count);
  const std::vector<uint8_t> stream(bytes.begin(), bytes.begin() + 16);
  if (agn_rans_decode(&model, stream.data(), stream.size(), symbols.data(), count) == AGN_OK) {
    for (uint8_t s : symbols) AGN_FUZZ_CHECK(s < model.levels);
  }
}

// Symbols (one per byte) as the symbol map the encoder reads (codec/symbol_map.h).
std::vector<uint8_t> to_map(const agn_rans_model& model, const std::vector<uint8_t>& symbols) {
  const size_t rows = size_t{model.channels} * model.height;
  std::vector<uint8_t> map(agn_symbol_map_size(rows, model.width));
  AGN_FUZZ_CHECK(agn_symbol_map_pack(symbols.data(), rows, model.width, map.data()) == AGN_OK);
  return map;
}

void check_codec(const uint8_t* data, size_t size) {
  if (size < 5) return;
  const unsigned levels = 2u + data[1] % 15u;
  const unsigned channels = 1u + data[2] % 4u;
  const unsigned height = 1u + data[3] % 16u;
  const unsigned width = 1u + data[4] % 40u;
  const size_t count = size_t{channels} * height * width;
  size_t pos = 5;
  std::vector<uint8_t> map(count, 0);
  for (size_t i = 0; i < count && pos < size; ++i, ++pos) {
    map[i] = data[pos] < 160 ? 0 : static_cast<uint8_t>(data[pos] % levels);
  }
  auto counts = std::make_unique<agn_rans_counts>();
  AGN_FUZZ_CHECK(agn_rans_counts_init(counts.get(), levels, channels, height, width) == AGN_OK);
  AGN_FUZZ_CHECK(agn_rans_counts_add(counts.get(), map.data(), count) == AGN_OK);
  std::vector<uint8_t> bytes(agn_rans_model_max_size(levels, channels));
  size_t written = 0;
  AGN_FUZZ_CHECK(agn_rans_model_build(counts.get(), 1, bytes.data(), bytes.size(), &written) == AGN_OK);
  bytes.resize(written);
  agn_rans_model model;
  AGN_FUZZ_CHECK(agn_rans_model_load(&model, bytes.data(), bytes.size()) == AGN_OK);
  const std::vector<uint8_t> stream(data + pos, data + size);

  // 1. Arbitrary stream bytes.
  std::vector<uint8_t> symbols(count);
  if (agn_rans_decode(&model, stream.data(), stream.size(), symbols.data(), count) == AGN_OK) {
    for (uint8_t s : symbols) AGN_FUZZ_CHECK(s < levels);
    std::vector<uint8_t> again(agn_rans_max_encoded_size(&model));
    const std::vector<uint8_t> nibbles = to_map(model, symbols);
    AGN_FUZZ_CHECK(agn_rans_encode(&model, nibbles.data(), nibbles.size(), again.data(), again.size(), &written) ==
                   AGN_OK);
    AGN_FUZZ_CHECK(written == stream.size());
    AGN_FUZZ_CHECK(std::memcmp(again.data(), stream.data(), written) == 0);
  }

  // 2. Round trip of the map.
  const size_t cap = agn_rans_max_encoded_size(&model);
  std::vector<uint8_t> encoded(cap);
  const std::vector<uint8_t> nibbles = to_map(model, map);
  AGN_FUZZ_CHECK(agn_rans_encode(&model, nibbles.data(), nibbles.size(), encoded.data(), cap, &written) == AGN_OK);
  AGN_FUZZ_CHECK(written >= 4 && written <= cap);
  encoded.resize(written);
  std::vector<uint8_t> decoded(count);
  AGN_FUZZ_CHECK(agn_rans_decode(&model, encoded.data(), encoded.size(), decoded.data(), count) == AGN_OK);
  AGN_FUZZ_CHECK(decoded == map);
  const std::vector<uint8_t> short_stream(encoded.begin(), encoded.end() - 1);  // exact size
  AGN_FUZZ_CHECK(agn_rans_decode(&model, short_stream.data(), short_stream.size(), decoded.data(), count) != AGN_OK);
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
