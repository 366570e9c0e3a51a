// Instructions to encode one 19x32x32 map of 8-level symbols (the remote part of the default
// CIFAR-10 split) on the Cortex-M7, per coder, counted exactly by the agn_icount QEMU plugin:
//   stage 1: raw 3-bit packing           stage 2: LZW, variable-width codes
//   stage 3: LZW, fixed 12-bit codes     stage 4: rANS (tables already loaded, as on the device)
//   stage 5: framing of the rANS request: request header, then every fragment as a datagram of at
//            most AGN_WIRE_DEFAULT_MAX_DATAGRAM bytes with its CRC-32 and SipHash-2-4 tag
// The map is the synthetic codec vector (tests/codec/codec_vectors.h); each encoding is checked
// against its expected size and every datagram is parsed and authenticated afterwards, so the
// bench cannot silently time a failing coder.
#include "bsp/board.h"
#include "bsp/console.h"
#include "bsp/stage.h"
#include "codec/lzw.h"
#include "codec/pack.h"
#include "codec/rans.h"
#include "codec/symbol_map.h"
#include "codec_vectors.h"
#include "wire/wire.h"

namespace {

uint8_t g_symbols[AGN_VECTOR_COUNT];
uint8_t g_map[AGN_VECTOR_MAP_SIZE];         // g_symbols as the encoders read them (codec/symbol_map.h)
uint8_t g_sparse_map[AGN_VECTOR_MAP_SIZE];  // g_sparse's
uint8_t g_stream[4 + AGN_VECTOR_COUNT * 2];
agn_lzw_encoder g_lzw;
agn_rans_model g_rans;
uint8_t g_sparse[AGN_VECTOR_COUNT];
uint8_t g_rans_bytes[AGN_VECTOR_RANS_MODEL_SIZE];
uint8_t g_message[AGN_WIRE_REQUEST_HEADER + AGN_VECTOR_RANS_SIZE];
uint8_t g_datagrams[16][AGN_WIRE_DEFAULT_MAX_DATAGRAM];
size_t g_datagram_sizes[16];
const uint8_t kKey[AGN_WIRE_KEY_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

enum Stage : unsigned {
  kSetup = 0,
  kPack = 1,
  kLzwVariable = 2,
  kLzwFixed = 3,
  kRans = 4,
  kFraming = 5,
  kCheck = 6,
};

// Parses and authenticates every datagram; returns the number of bad ones.
int check_datagrams(size_t fragments) {
  int bad = 0;
  for (size_t i = 0; i < fragments; ++i) {
    agn_wire_header header;
    if (agn_wire_parse(g_datagrams[i], g_datagram_sizes[i], AGN_WIRE_DEFAULT_MAX_DATAGRAM,
                       &header) != AGN_WIRE_OK ||
        !agn_wire_tag_ok(kKey, g_datagrams[i], g_datagram_sizes[i]) || header.frag_index != i) {
      ++bad;
    }
  }
  return bad;
}

}  // namespace

int main() {
  agn_vector_symbol_map(g_symbols);
  agn_symbol_map_pack(g_symbols, AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH, g_map);
  // rANS codes the sparse map (like a real feature map, ~97 % zeros) with the fixed model.
  agn_vector_sparse_map(g_sparse);
  agn_symbol_map_pack(g_sparse, AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH, g_sparse_map);
  agn_vector_rans_model(g_rans_bytes);
  agn_rans_model_load(&g_rans, g_rans_bytes, sizeof(g_rans_bytes));

  size_t sizes[4] = {};
  agn_status status[4] = {};
  agn_stage_enter(kPack);
  status[0] = agn_pack_symbols(g_map, AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH, AGN_VECTOR_LEVELS, g_stream, sizeof(g_stream));
  sizes[0] = agn_pack_size_bytes(AGN_VECTOR_COUNT, AGN_VECTOR_LEVELS);
  agn_stage_enter(kLzwVariable);
  status[1] = agn_lzw_encode(&g_lzw, AGN_VECTOR_LEVELS, AGN_LZW_VARIABLE, g_map, AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH,
                             g_stream, sizeof(g_stream), &sizes[1]);
  agn_stage_enter(kLzwFixed);
  status[2] = agn_lzw_encode(&g_lzw, AGN_VECTOR_LEVELS, AGN_LZW_FIXED, g_map, AGN_VECTOR_ROWS, AGN_VECTOR_WIDTH,
                             g_stream, sizeof(g_stream), &sizes[2]);
  agn_stage_enter(kRans);
  status[3] = agn_rans_encode(&g_rans, g_sparse_map, sizeof(g_sparse_map),
                              g_message + AGN_WIRE_REQUEST_HEADER,
                              sizeof(g_message) - AGN_WIRE_REQUEST_HEADER, &sizes[3]);
  agn_stage_enter(kFraming);
  agn_status framing = agn_wire_request_header_write(AGN_WIRE_CODEC_RANS, g_message,
                                                     AGN_WIRE_REQUEST_HEADER);
  const size_t message_size = AGN_WIRE_REQUEST_HEADER + sizes[3];
  const size_t fragments = agn_wire_fragment_count(message_size, AGN_WIRE_DEFAULT_MAX_DATAGRAM);
  for (size_t i = 0; i < fragments && i < 16 && framing == AGN_OK; ++i) {
    framing = agn_wire_write_fragment(kKey, AGN_WIRE_REQUEST, 7, 1, g_message, message_size,
                                      AGN_WIRE_DEFAULT_MAX_DATAGRAM, static_cast<unsigned>(i),
                                      g_datagrams[i], sizeof(g_datagrams[i]),
                                      &g_datagram_sizes[i]);
  }
  agn_stage_enter(kCheck);

  const size_t expected[4] = {AGN_VECTOR_PACK_SIZE, AGN_VECTOR_LZW_VARIABLE_SIZE,
                              AGN_VECTOR_LZW_FIXED_SIZE, AGN_VECTOR_RANS_SIZE};
  const char* names[4] = {"pack", "lzw-variable", "lzw-fixed", "rans"};
  int failures = 0;
  for (int i = 0; i < 4; ++i) {
    agn_console_puts(names[i]);
    agn_console_puts(": ");
    agn_console_put_u64(sizes[i]);
    agn_console_puts(" bytes\n");
    if (status[i] != AGN_OK || sizes[i] != expected[i]) ++failures;
  }
  agn_console_puts("memory: flash ");
  agn_console_put_u64(agn_board_flash_used());
  agn_console_puts(" bytes, static SRAM ");
  agn_console_put_u64(agn_board_sram_static());
  agn_console_puts(" bytes, stack high-water ");
  agn_console_put_u64(agn_board_stack_high_water());
  agn_console_puts(" bytes\n");
  agn_console_puts("framing: ");
  agn_console_put_u64(fragments);
  agn_console_puts(" datagrams\n");
  if (framing != AGN_OK || fragments == 0 || fragments > 16 || check_datagrams(fragments) != 0) {
    ++failures;
  }
  return failures;
}
