// Fixed-width packing of L-level symbols (the "raw" baseline and the quantizer's output format).
//
// Format (for `count` symbols of L levels, b = agn_pack_bits_per_symbol(L) = ceil(log2 L)):
//   1. Symbol i occupies stream bits [i*b, i*b + b), its least significant bit first.
//   2. Stream bit k is bit (k % 8) of byte k / 8 (LSB-first, the order Unix `compress` uses).
//   3. The stream is agn_pack_size_bytes(count, L) = ceil(count*b / 8) bytes; the unused high
//      bits of the last byte are zero.
// Example, L = 8 (b = 3): symbols 1,2,3 -> bits 001 010 011 read from the right:
//   byte 0 = 0b11'010'001 = 0xD1, byte 1 = 0b0000000'0 = 0x00.
//
// Contracts: 2 <= L <= AGN_SYMBOL_MAX_LEVELS (16); the encoder reads a symbol map
// (codec/symbol_map.h), the decoder writes one symbol per byte, both in [0, L). Buffers are owned
// by the caller.
#ifndef AGILENN_CODEC_PACK_H
#define AGILENN_CODEC_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "codec/symbol_map.h"
#include "common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// ceil(log2(levels)) for 2 <= levels <= 16, else 0.
unsigned agn_pack_bits_per_symbol(unsigned levels);

// Bytes that `count` packed symbols occupy; 0 if `levels` is out of range.
size_t agn_pack_size_bytes(size_t count, unsigned levels);

// Packs the rows * width symbols of `map` (symbol_map.h), row after row, into `out` (exactly
// agn_pack_size_bytes(rows * width, levels) bytes are written).
// Errors: AGN_ERR_ARG (bad levels / null), AGN_ERR_NO_SPACE (out_cap too small),
// AGN_ERR_RANGE (a symbol >= levels; `out` then holds garbage).
agn_status agn_pack_symbols(const uint8_t* map, size_t rows, unsigned width, unsigned levels, uint8_t* out,
                            size_t out_cap);

// Unpacks `count` symbols; `in_size` must equal agn_pack_size_bytes(count, levels).
// Errors: AGN_ERR_ARG, AGN_ERR_TRUNCATED (in_size too small), AGN_ERR_CORRUPT (in_size too
// large, a field >= levels, or nonzero padding bits).
agn_status agn_unpack_symbols(const uint8_t* in, size_t in_size, unsigned levels, uint8_t* symbols,
                              size_t count);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_CODEC_PACK_H
