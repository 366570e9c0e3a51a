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

#define AGN_VECTOR_CHANNELS 19
#define AGN_VECTOR_PLANE (32 * 32)
#define AGN_VECTOR_COUNT (AGN_VECTOR_CHANNELS * AGN_VECTOR_PLANE)
#define AGN_VECTOR_LEVELS 8

// Expected encodings of the map (rANS: tables from the map's own per-channel histogram,
// agn_rans_model_set_counts, default scale bits).
#define AGN_VECTOR_PACK_SIZE 7296u
#define AGN_VECTOR_PACK_CRC 0x8BD308D9u
#define AGN_VECTOR_LZW_FIXED_SIZE 4053u
#define AGN_VECTOR_LZW_FIXED_CRC 0x0AEC5BB9u
#define AGN_VECTOR_LZW_VARIABLE_SIZE 3552u
#define AGN_VECTOR_LZW_VARIABLE_CRC 0x5943B1C1u
#define AGN_VECTOR_RANS_SIZE 5130u
#define AGN_VECTOR_RANS_CRC 0x81317F65u

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

#endif  // AGILENN_TESTS_CODEC_CODEC_VECTORS_H
