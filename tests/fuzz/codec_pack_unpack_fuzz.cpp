// libFuzzer target: codec/pack.h symbol unpacking, and the pack/unpack round trip.
//
// Input: byte 0 -> levels L = 2 + b0 % 15 (2..16); byte 1 -> the symbol count: if bit 7 is
// set, count = b1 & 0x7F (mostly a size mismatch: truncated/corrupt paths), otherwise the most
// symbols the payload holds minus (b1 & 7); the rest is the packed payload.
//   1. agn_unpack_symbols on the payload; when it accepts, every symbol is < L and packing them
//      again gives the payload back byte for byte (the format has one encoding per sequence).
//   2. The payload as symbols (each byte mod L): pack, check the size, unpack, compare.
// The packer reads a symbol map (codec/symbol_map.h): the symbols go in as one row.
#include <cstring>
#include <vector>

#include "codec/pack.h"
#include "codec/symbol_map.h"
#include "fuzz_support.h"

namespace {

// Symbols (one per byte, < 16) as a symbol map of one row.
std::vector<uint8_t> to_map(const std::vector<uint8_t>& symbols) {
  std::vector<uint8_t> map(agn_symbol_map_size(1, static_cast<unsigned>(symbols.size())));
  AGN_FUZZ_CHECK(agn_symbol_map_pack(symbols.data(), 1, static_cast<unsigned>(symbols.size()), map.data()) == AGN_OK);
  return map;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const unsigned levels = 2u + data[0] % 15u;
  const unsigned bits = agn_pack_bits_per_symbol(levels);
  AGN_FUZZ_CHECK(bits >= 1 && bits <= 4);
  const std::vector<uint8_t> payload(data + 2, data + size);  // exact size: ASan sees overreads
  size_t count;
  if (data[1] & 0x80) {
    count = data[1] & 0x7Fu;
  } else {
    const size_t most = payload.size() * 8 / bits;
    const size_t less = data[1] & 7u;
    count = most > less ? most - less : 0;
  }

  // 1. Unpack arbitrary bytes.
  std::vector<uint8_t> symbols(count);
  const agn_status st = agn_unpack_symbols(payload.data(), payload.size(), levels, symbols.data(), count);
  if (st == AGN_OK) {
    AGN_FUZZ_CHECK(payload.size() == agn_pack_size_bytes(count, levels));
    for (uint8_t s : symbols) AGN_FUZZ_CHECK(s < levels);
    std::vector<uint8_t> packed(payload.size());
    const std::vector<uint8_t> map = to_map(symbols);
    AGN_FUZZ_CHECK(agn_pack_symbols(map.data(), 1, static_cast<unsigned>(count), levels, packed.data(), packed.size()) ==
                   AGN_OK);
    AGN_FUZZ_CHECK(packed == payload);
  } else {
    AGN_FUZZ_CHECK(st == AGN_ERR_TRUNCATED || st == AGN_ERR_CORRUPT);
  }

  // 2. Round trip.
  std::vector<uint8_t> input(payload.size());
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<uint8_t>(payload[i] % levels);
  const size_t packed_size = agn_pack_size_bytes(input.size(), levels);
  AGN_FUZZ_CHECK(packed_size == (input.size() * bits + 7) / 8);
  std::vector<uint8_t> packed(packed_size);
  const std::vector<uint8_t> map = to_map(input);
  const unsigned width = static_cast<unsigned>(input.size());
  AGN_FUZZ_CHECK(agn_pack_symbols(map.data(), 1, width, levels, packed.data(), packed.size()) == AGN_OK);
  std::vector<uint8_t> output(input.size());
  AGN_FUZZ_CHECK(agn_unpack_symbols(packed.data(), packed.size(), levels, output.data(), output.size()) ==
                 AGN_OK);
  AGN_FUZZ_CHECK(output == input);
  // Too small an output buffer is refused, never overrun.
  if (packed_size > 0) {
    AGN_FUZZ_CHECK(agn_pack_symbols(map.data(), 1, width, levels, packed.data(), packed_size - 1) == AGN_ERR_NO_SPACE);
  }
  return 0;
}
