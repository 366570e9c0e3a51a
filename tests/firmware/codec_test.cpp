// The codec on the emulated Cortex-M7: the shared vector (tests/codec/codec_vectors.h) must
// encode to the same bytes as on the host, every coder must round-trip it, and the documented
// check values must hold. Random maps of every shape the target's assembly row encoder takes
// (widths 1-32, 3-16 levels, long runs, dense rows) must round-trip through the rANS coder, and
// its two errors (a symbol out of range, a full output buffer) must be reported. All state is
// static: the target has no heap.
#include <string.h>

#include "codec/lzw.h"
#include "codec/pack.h"
#include "codec/rans.h"
#include "codec/symbol_map.h"
#include "codec_vectors.h"
#include "common/crc32.h"
#include "fw_test.h"

namespace {

uint8_t g_symbols[AGN_VECTOR_COUNT];
uint8_t g_map[AGN_VECTOR_MAP_SIZE];  // the symbols as the encoders read them (codec/symbol_map.h)
uint8_t g_decoded[AGN_VECTOR_COUNT];
uint8_t g_stream[4 + AGN_VECTOR_COUNT * 2];  // >= every coder's worst case for this map
agn_lzw_encoder g_lzw_encoder;
agn_lzw_decoder g_lzw_decoder;
agn_rans_model g_rans_model;
uint8_t g_sparse[AGN_VECTOR_COUNT];
uint8_t g_rans_bytes[AGN_VECTOR_RANS_MODEL_SIZE];

void check_documented_values() {
  AGN_CHECK_EQ(agn_crc32("123456789", 9), 0xCBF43926u);
  const uint8_t map[] = {0x21, 0x03};  // symbols 1, 2, 3
  uint8_t out[2] = {0xFF, 0xFF};
  AGN_CHECK_EQ(agn_pack_symbols(map, 1, 3, 8, out, sizeof(out)), AGN_OK);
  AGN_CHECK_EQ(out[0], 0xD1);
  AGN_CHECK_EQ(out[1], 0x00);
}

void check_pack() {
  const size_t size = agn_pack_size_bytes(AGN_VECTOR_COUNT, AGN_VECTOR_LEVELS);
  AGN_CHECK_EQ(size, AGN_VECTOR_PACK_SIZE);
  AGN_CHECK_EQ(agn_pack_symbols(g_map, AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH, AGN_VECTOR_LEVELS, g_stream, sizeof(g_stream)),
               AGN_OK);
  AGN_CHECK_EQ(agn_crc32(g_stream, size), AGN_VECTOR_PACK_CRC);
  memset(g_decoded, 0xFF, sizeof(g_decoded));
  AGN_CHECK_EQ(agn_unpack_symbols(g_stream, size, AGN_VECTOR_LEVELS, g_decoded, AGN_VECTOR_COUNT),
               AGN_OK);
  AGN_CHECK(memcmp(g_decoded, g_symbols, AGN_VECTOR_COUNT) == 0);
}

void check_lzw(agn_lzw_width width, size_t expected_size, uint32_t expected_crc) {
  size_t written = 0;
  AGN_CHECK_EQ(agn_lzw_encode(&g_lzw_encoder, AGN_VECTOR_LEVELS, width, g_map, AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH,
                              g_stream, sizeof(g_stream), &written),
               AGN_OK);
  AGN_CHECK_EQ(written, expected_size);
  AGN_CHECK_EQ(agn_crc32(g_stream, written), expected_crc);
  memset(g_decoded, 0xFF, sizeof(g_decoded));
  size_t decoded = 0;
  AGN_CHECK_EQ(agn_lzw_decode(&g_lzw_decoder, AGN_VECTOR_LEVELS, width, g_stream, written,
                              g_decoded, sizeof(g_decoded), &decoded),
               AGN_OK);
  AGN_CHECK_EQ(decoded, AGN_VECTOR_COUNT);
  AGN_CHECK(memcmp(g_decoded, g_symbols, AGN_VECTOR_COUNT) == 0);
}

uint32_t g_seed = 2024;
uint32_t next_random() {
  g_seed = g_seed * 1664525u + 1013904223u;
  return g_seed >> 8;
}

constexpr unsigned kMaxRandomSymbols = 3 * 6 * 32;
agn_rans_counts g_counts;
uint8_t g_random_model[16 * 1024];  // >= agn_rans_model_max_size(16, 3), checked below
uint8_t g_random_symbols[kMaxRandomSymbols], g_random_map[kMaxRandomSymbols], g_random_decoded[kMaxRandomSymbols];
uint8_t g_random_stream[4 + 4 * kMaxRandomSymbols];

// Symbols nonzero with probability per_mille / 1000, in clusters, values below `levels`.
void random_symbols(unsigned count, unsigned levels, unsigned per_mille, uint8_t* out) {
  for (unsigned i = 0; i < count; ++i) {
    const bool near = i > 0 && out[i - 1] != 0 && next_random() % 2 == 0;
    out[i] = near || next_random() % 1000 < per_mille ? static_cast<uint8_t>(1 + next_random() % (levels - 1)) : 0;
  }
}

void check_rans_random() {
  if (!AGN_CHECK(agn_rans_model_max_size(AGN_RANS_MAX_LEVELS, 3) <= sizeof(g_random_model))) return;
  for (unsigned t = 0; t < 400; ++t) {
    const unsigned levels = 3 + next_random() % 14, channels = 1 + next_random() % 3, height = 1 + next_random() % 6;
    const unsigned width = 1 + next_random() % 32, count = channels * height * width;
    if (!AGN_CHECK_EQ(agn_rans_counts_init(&g_counts, levels, channels, height, width), AGN_OK)) return;
    for (int k = 0; k < 3; ++k) {
      random_symbols(count, levels, next_random() % 400, g_random_symbols);
      agn_rans_counts_add(&g_counts, g_random_symbols, count);
    }
    size_t model_size = 0;
    if (!AGN_CHECK_EQ(agn_rans_model_build(&g_counts, 1 + next_random() % 8, g_random_model, sizeof(g_random_model),
                                           &model_size),
                      AGN_OK) ||
        !AGN_CHECK_EQ(agn_rans_model_load(&g_rans_model, g_random_model, model_size), AGN_OK)) {
      return;
    }
    random_symbols(count, levels, t % 5 == 0 ? 10 : next_random() % 600, g_random_symbols);  // some rows all runs
    const bool bad = t % 10 == 3 && levels < 16;  // a symbol in [levels, 15]
    if (bad) g_random_symbols[next_random() % count] = static_cast<uint8_t>(levels + next_random() % (16 - levels));
    const size_t map_size = agn_symbol_map_size(channels * height, width);
    AGN_CHECK_EQ(agn_symbol_map_pack(g_random_symbols, channels * height, width, g_random_map), AGN_OK);
    size_t written = 0;
    const agn_status st =
        agn_rans_encode(&g_rans_model, g_random_map, map_size, g_random_stream, sizeof(g_random_stream), &written);
    if (bad) {
      AGN_CHECK_EQ(st, AGN_ERR_RANGE);
      continue;
    }
    if (!AGN_CHECK_EQ(st, AGN_OK)) return;
    memset(g_random_decoded, 0xFF, count);
    AGN_CHECK_EQ(agn_rans_decode(&g_rans_model, g_random_stream, written, g_random_decoded, count), AGN_OK);
    if (!AGN_CHECK(memcmp(g_random_decoded, g_random_symbols, count) == 0)) {
      agn_console_puts("  round trip t=");
      agn_console_put_i32(static_cast<int32_t>(t));
      agn_console_puts("\n");
      return;
    }
    if (t % 7 == 0 && written > 4) {  // an output buffer one byte short of the stream
      size_t short_written = 0;
      AGN_CHECK_EQ(agn_rans_encode(&g_rans_model, g_random_map, map_size, g_random_stream, written - 1, &short_written),
                   AGN_ERR_NO_SPACE);
    }
  }
}

void check_rans() {
  agn_vector_sparse_map(g_sparse);
  agn_vector_rans_model(g_rans_bytes);
  AGN_CHECK_EQ(agn_rans_model_load(&g_rans_model, g_rans_bytes, sizeof(g_rans_bytes)), AGN_OK);
  size_t written = 0;
  AGN_CHECK_EQ(agn_symbol_map_pack(g_sparse, AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH, g_map), AGN_OK);
  AGN_CHECK_EQ(agn_rans_encode(&g_rans_model, g_map, sizeof(g_map), g_stream, sizeof(g_stream), &written), AGN_OK);
  AGN_CHECK_EQ(written, AGN_VECTOR_RANS_SIZE);
  AGN_CHECK_EQ(agn_crc32(g_stream, written), AGN_VECTOR_RANS_CRC);
  memset(g_decoded, 0xFF, sizeof(g_decoded));
  AGN_CHECK_EQ(agn_rans_decode(&g_rans_model, g_stream, written, g_decoded, AGN_VECTOR_COUNT),
               AGN_OK);
  AGN_CHECK(memcmp(g_decoded, g_sparse, AGN_VECTOR_COUNT) == 0);
}

}  // namespace

int main() {
  agn_vector_symbol_map(g_symbols);
  AGN_CHECK_EQ(agn_symbol_map_pack(g_symbols, AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH, g_map), AGN_OK);
  check_documented_values();
  check_pack();
  check_lzw(AGN_LZW_FIXED, AGN_VECTOR_LZW_FIXED_SIZE, AGN_VECTOR_LZW_FIXED_CRC);
  check_lzw(AGN_LZW_VARIABLE, AGN_VECTOR_LZW_VARIABLE_SIZE, AGN_VECTOR_LZW_VARIABLE_CRC);
  check_rans();
  check_rans_random();
  return agn_fw_test::finish("codec_test");
}
