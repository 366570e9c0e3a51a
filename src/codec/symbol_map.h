// The symbol map: the quantized remote channels of one image as the device holds them, 4 bits
// per symbol. The runtime's split kernels write it and every device-side encoder reads it
// (pack.h, lzw.h agn_lzw_encode, rans.h agn_rans_encode); decoders write one symbol per byte.
//
// Layout, for `rows` rows of `width` symbols (a feature map: rows = channels * height, row
// c * height + y is row y of channel c; channel-major, row-major, like the decoders' bytes):
//   1. Each row takes agn_symbol_row_bytes(width) = ceil(width / 2) bytes; row r starts at byte
//      r * agn_symbol_row_bytes(width).
//   2. Symbol x of a row is in byte x / 2 of the row: the low nibble for even x, the high nibble
//      for odd x. A row of odd width ends with a zero high nibble.
// So symbols are below AGN_SYMBOL_MAX_LEVELS = 16. With an even width the map is simply symbol i
// in nibble i (byte i / 2, low nibble first) of a flat array, half the bytes of one per symbol.
#ifndef AGILENN_CODEC_SYMBOL_MAP_H
#define AGILENN_CODEC_SYMBOL_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AGN_SYMBOL_MAX_LEVELS 16

static inline size_t agn_symbol_row_bytes(unsigned width) { return ((size_t)width + 1u) / 2u; }

// Bytes of a map of `rows` rows of `width` symbols.
static inline size_t agn_symbol_map_size(size_t rows, unsigned width) { return rows * agn_symbol_row_bytes(width); }

// Symbol x of a map row.
static inline unsigned agn_symbol_at(const uint8_t* row, unsigned x) {
  return (row[x >> 1] >> ((x & 1u) * 4u)) & 0xFu;
}

// One symbol per byte (rows * width of them, row after row, the decoders' layout) to a map of
// agn_symbol_map_size(rows, width) bytes. Errors: AGN_ERR_ARG (null), AGN_ERR_RANGE (a symbol
// >= 16; `map` then holds garbage).
agn_status agn_symbol_map_pack(const uint8_t* symbols, size_t rows, unsigned width, uint8_t* map);

// A map back to one symbol per byte (rows * width bytes), for host code that wants bytes.
void agn_symbol_map_unpack(const uint8_t* map, size_t rows, unsigned width, uint8_t* symbols);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_CODEC_SYMBOL_MAP_H
