#include "codec/symbol_map.h"

extern "C" agn_status agn_symbol_map_pack(const uint8_t* symbols, size_t rows, unsigned width, uint8_t* map) {
  if (rows > 0 && width > 0 && (symbols == nullptr || map == nullptr)) return AGN_ERR_ARG;
  for (size_t r = 0; r < rows; ++r) {
    for (unsigned x = 0; x < width; x += 2) {
      const unsigned lo = symbols[x];
      const unsigned hi = x + 1 < width ? symbols[x + 1] : 0u;
      if (lo >= AGN_SYMBOL_MAX_LEVELS || hi >= AGN_SYMBOL_MAX_LEVELS) return AGN_ERR_RANGE;
      *map++ = (uint8_t)(lo | hi << 4);
    }
    symbols += width;
  }
  return AGN_OK;
}

extern "C" void agn_symbol_map_unpack(const uint8_t* map, size_t rows, unsigned width, uint8_t* symbols) {
  const size_t row_bytes = agn_symbol_row_bytes(width);
  for (size_t r = 0; r < rows; ++r, map += row_bytes) {
    for (unsigned x = 0; x < width; ++x) *symbols++ = (uint8_t)agn_symbol_at(map, x);
  }
}
