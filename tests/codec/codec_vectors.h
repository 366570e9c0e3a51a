// A deterministic test vector shared by the host codec tests (codec_vectors_test.cpp) and the
// on-target codec test (tests/firmware/codec_test.cpp): one 19x32x32 map of 8-level symbols,
// shaped like a quantized feature map (skewed per-channel statistics, runs), and the CRC-32 and
// size of its encoding by each coder. Both builds must produce exactly these bytes, so the
// device and the server agree on every stream. If a coder's format changes on purpose, update
// the expected values from the host test's failure message.
#ifndef AGILENN_TESTS_CODEC_CODEC_VECTORS_H
#define AGILENN_TESTS_CODEC_CODEC_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/byte_order.h"
#include "common/crc32.h"

#define AGN_VECTOR_CHANNELS 19
#define AGN_VECTOR_PLANE (32 * 32)
#define AGN_VECTOR_COUNT (AGN_VECTOR_CHANNELS * AGN_VECTOR_PLANE)
#define AGN_VECTOR_WIDTH 32
#define AGN_VECTOR_ROWS (AGN_VECTOR_CHANNELS * 32)  // rows of its symbol map (codec/symbol_map.h)
#define AGN_VECTOR_MAP_SIZE (AGN_VECTOR_COUNT / 2)
#define AGN_VECTOR_LEVELS 8

// Expected encodings of the map by the generic coders, and of the sparse map (below) by rANS
// with the fixed model of agn_vector_rans_model.
#define AGN_VECTOR_PACK_SIZE 7296u
#define AGN_VECTOR_PACK_CRC 0x8BD308D9u
#define AGN_VECTOR_LZW_FIXED_SIZE 4053u
#define AGN_VECTOR_LZW_FIXED_CRC 0x0AEC5BB9u
#define AGN_VECTOR_LZW_VARIABLE_SIZE 3552u
#define AGN_VECTOR_LZW_VARIABLE_CRC 0x5943B1C1u
#define AGN_VECTOR_RANS_SIZE 1387u
#define AGN_VECTOR_RANS_CRC 0x3CFAE0C9u
#define AGN_VECTOR_RANS_MODEL_SIZE (16u + 34u * AGN_VECTOR_CHANNELS + 17u + AGN_VECTOR_LEVELS + 4u)

// Fills `symbols[0..AGN_VECTOR_COUNT)`, channel-major.
static inline void agn_vector_symbol_map(uint8_t* symbols) {
  uint32_t x = 0x2545F491u;  // xorshift32 state
  for (size_t c = 0; c < AGN_VECTOR_CHANNELS; ++c) {
    uint8_t previous = 0;
    for (size_t i = 0; i < AGN_VECTOR_PLANE; ++i) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      uint8_t s;
      if ((x & 3u) != 0 && i > 0) {
        s = previous;  // runs: 3 in 4 symbols repeat their left neighbour
      } else {
        // Geometric magnitude around a per-channel centre.
        unsigned magnitude = 0;
        while (magnitude < 3 && (x >> (8 + magnitude)) & 1u) ++magnitude;
        const unsigned centre = (unsigned)(c % 5) + 1;
        const unsigned value = (x >> 16) & 1u ? centre + magnitude
                                              : centre - (magnitude < centre ? magnitude : centre);
        s = (uint8_t)(value < AGN_VECTOR_LEVELS ? value : AGN_VECTOR_LEVELS - 1);
      }
      symbols[c * AGN_VECTOR_PLANE + i] = s;
      previous = s;
    }
  }
}

// Fills `symbols[0..AGN_VECTOR_COUNT)` with a sparse map like a real quantized feature map
// (codec/rans.h: ~97 % zeros): a nonzero seeds with probability 1/64, and a symbol below or
// right of a nonzero is nonzero with probability 1/2; values geometric from 1.
static inline void agn_vector_sparse_map(uint8_t* symbols) {
  uint32_t x = 0x9E3779B9u;
  for (size_t c = 0; c < AGN_VECTOR_CHANNELS; ++c) {
    for (size_t i = 0; i < AGN_VECTOR_PLANE; ++i) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      const size_t col = i % 32;
      const int near = (col > 0 && symbols[c * AGN_VECTOR_PLANE + i - 1] != 0) ||
                       (i >= 32 && symbols[c * AGN_VECTOR_PLANE + i - 32] != 0);
      uint8_t s = 0;
      if ((x & 63u) == 0 || (near && (x & 0x100u) != 0)) {
        s = 1;
        while (s < AGN_VECTOR_LEVELS - 1 && ((x >> (12 + s)) & 1u)) ++s;
      }
      symbols[c * AGN_VECTOR_PLANE + i] = s;
    }
  }
}

// Writes the fixed rANS model (codec/rans.h layout, AGN_VECTOR_RANS_MODEL_SIZE bytes) of the
// sparse map: one run table and one value table for every context.
static inline void agn_vector_rans_model(uint8_t* out) {
  static const uint8_t run_freq[16] = {40, 20, 12, 10, 8, 8, 6, 6, 6, 5, 5, 5, 5, 5, 30, 85};
  static const uint8_t value_freq[AGN_VECTOR_LEVELS - 1] = {150, 50, 24, 12, 10, 6, 4};
  agn_store_u32le(out, 0x4D534E41u);
  agn_store_u16le(out + 4, 2);
  out[6] = AGN_VECTOR_LEVELS;
  out[7] = 8;
  agn_store_u16le(out + 8, AGN_VECTOR_CHANNELS);
  agn_store_u16le(out + 10, 32);
  agn_store_u16le(out + 12, 32);
  out[14] = 1;
  out[15] = 1;
  uint8_t* p = out + 16;
  memset(p, 0, 34u * AGN_VECTOR_CHANNELS);
  p += 34u * AGN_VECTOR_CHANNELS;
  unsigned start = 0;
  for (unsigned s = 0; s < 16; ++s, start += run_freq[s - 1]) *p++ = (uint8_t)start;
  *p++ = 0;
  start = 0;
  for (unsigned s = 0; s < AGN_VECTOR_LEVELS - 1; ++s, start += value_freq[s - 1]) *p++ = (uint8_t)start;
  *p++ = 0;
  agn_store_u32le(p, agn_crc32(out, (size_t)(p - out)));
}

#endif  // AGILENN_TESTS_CODEC_CODEC_VECTORS_H
