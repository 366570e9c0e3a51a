// The codec on the emulated Cortex-M7: the shared vector (tests/codec/codec_vectors.h) must
// encode to the same bytes as on the host, every coder must round-trip it, and the documented
// check values must hold. All state is static: the target has no heap.
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
  return agn_fw_test::finish("codec_test");
}
