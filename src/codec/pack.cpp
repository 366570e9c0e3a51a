#include "codec/pack.h"

extern "C" unsigned agn_pack_bits_per_symbol(unsigned levels) {
  if (levels < 2 || levels > AGN_SYMBOL_MAX_LEVELS) return 0;
  unsigned bits = 0;
  while ((1u << bits) < levels) ++bits;
  return bits;
}

extern "C" size_t agn_pack_size_bytes(size_t count, unsigned levels) {
  const size_t bits = agn_pack_bits_per_symbol(levels);
  // count * bits / 8 rounded up, written to avoid overflowing count * bits.
  return (count / 8) * bits + ((count % 8) * bits + 7) / 8;
}

extern "C" agn_status agn_pack_symbols(const uint8_t* map, size_t rows, unsigned width, unsigned levels,
                                       uint8_t* out, size_t out_cap) {
  const unsigned bits = agn_pack_bits_per_symbol(levels);
  const size_t count = rows * width;
  if (bits == 0 || (count > 0 && (map == nullptr || out == nullptr))) return AGN_ERR_ARG;
  const size_t size = agn_pack_size_bytes(count, levels);
  if (out_cap < size) return AGN_ERR_NO_SPACE;

  uint32_t acc = 0;  // pending bits, LSB = oldest; never holds more than 7 + 8 bits
  unsigned acc_bits = 0;
  size_t n = 0;
  // Appends `symbols` symbols of `bits` bits each, packed in `value`.
  const auto put = [&](uint32_t value, unsigned symbols) {
    acc |= value << acc_bits;
    acc_bits += symbols * bits;
    while (acc_bits >= 8) {
      out[n++] = (uint8_t)acc;
      acc >>= 8;
      acc_bits -= 8;
    }
  };
  for (size_t r = 0; r < rows; ++r) {
    // A byte of the map at a time: its two symbols (symbol_map.h), then an odd row's last one.
    for (unsigned i = 0; i < width / 2; ++i) {
      const unsigned byte = *map++;
      const unsigned lo = byte & 0xFu, hi = byte >> 4;
      if (lo >= levels || hi >= levels) return AGN_ERR_RANGE;
      put(lo | hi << bits, 2);
    }
    if (width & 1u) {
      const unsigned last = *map++ & 0xFu;
      if (last >= levels) return AGN_ERR_RANGE;
      put(last, 1);
    }
  }
  if (acc_bits > 0) out[n++] = (uint8_t)acc;
  return AGN_OK;
}

extern "C" agn_status agn_unpack_symbols(const uint8_t* in, size_t in_size, unsigned levels,
                                         uint8_t* symbols, size_t count) {
  const unsigned bits = agn_pack_bits_per_symbol(levels);
  if (bits == 0 || (count > 0 && symbols == nullptr) || (in_size > 0 && in == nullptr)) {
    return AGN_ERR_ARG;
  }
  const size_t size = agn_pack_size_bytes(count, levels);
  if (in_size < size) return AGN_ERR_TRUNCATED;
  if (in_size > size) return AGN_ERR_CORRUPT;

  const uint32_t mask = (1u << bits) - 1u;
  uint32_t acc = 0;
  unsigned acc_bits = 0;
  size_t n = 0;
  for (size_t i = 0; i < count; ++i) {
    while (acc_bits < bits) {
      acc |= (uint32_t)in[n++] << acc_bits;
      acc_bits += 8;
    }
    const uint32_t s = acc & mask;
    if (s >= levels) return AGN_ERR_CORRUPT;
    symbols[i] = (uint8_t)s;
    acc >>= bits;
    acc_bits -= bits;
  }
  if (acc != 0) return AGN_ERR_CORRUPT;  // padding bits of the last byte must be zero
  return AGN_OK;
}
