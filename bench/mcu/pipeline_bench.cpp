// Instructions per stage of the device pipeline on the Cortex-M7, for any model file: QEMU's
// loader puts the model in the flash model slot (firmware/bsp/board.h), so the weights are read
// from flash as on the device. Runs one image (a test image QEMU put in the image slot,
// src/mcu/bench_link.h, or else a fixed synthetic pattern) through the runtime with each kernel
// table, then encodes with the default coder (rANS if the model has tables,
// else raw packing) and frames the request in wire datagrams, one at a time as a radio would
// send them. Stages for the agn_icount plugin (table t = 0, 1, ... in agn_kernel_tables order):
//   1 + 4t: extractor (input conversion and every layer kernel, fused kernels included)
//   2 + 4t: Local NN (pooling requantisation and dense)
//   3 + 4t: quantize (the split kernel: pooling sums and symbols; 0 when fused into the last layer)
//   4 + 4t: encode
//   13: framing, 14: checks and report
// Every table's logits, symbols and payload must equal the first's (reference) or the bench
// fails. Prints on the UART one line "agn-bench key=value ..." with the memory figures that
// agilenn mcu bench reads (src/mcu/bench.h).
#include <string.h>

#include "bsp/board.h"
#include "bsp/console.h"
#include "bsp/stage.h"
#include "common/byte_order.h"
#include "common/crc32.h"
#include "device/kernels/kernels.h"
#include "device/runtime.h"
#include "mcu/bench_link.h"
#include "wire/wire.h"

namespace {

constexpr unsigned kFramingStage = 13;
constexpr unsigned kOtherStage = 14;
constexpr size_t kArenaCapacity = 64 * 1024;
constexpr size_t kPayloadCapacity = 40 * 1024;

constexpr unsigned kTableCount = AGN_KERNEL_TABLE_COUNT;
static_assert(1 + 4 * kTableCount <= kFramingStage, "every table's four stages come before framing's");

alignas(4) uint8_t g_arena[kArenaCapacity];
uint8_t g_message[AGN_WIRE_REQUEST_HEADER + kPayloadCapacity];
uint8_t g_datagram[AGN_WIRE_DEFAULT_MAX_DATAGRAM];
uint8_t g_image[64 * 64 * 3];
uint8_t g_first_symbols[16 * 1024];  // the reference table's symbol map
int8_t g_first_logits[256];
size_t g_first_payload_size;
uint32_t g_first_payload_crc;
agn_model g_model;
agn_runtime g_runtime;
const uint8_t kKey[AGN_WIRE_KEY_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

unsigned g_stage_base;
// Runtime stage -> plugin stage, for the table being measured.
void on_stage(void*, unsigned stage) {
  unsigned s = kOtherStage;
  if (stage < AGN_RUNTIME_STAGE_SPLIT) {
    s = g_stage_base;
  } else if (stage == AGN_RUNTIME_STAGE_LOCAL) {
    s = g_stage_base + 1;
  } else if (stage == AGN_RUNTIME_STAGE_SPLIT) {
    s = g_stage_base + 2;
  } else if (stage == AGN_RUNTIME_STAGE_ENCODE) {
    s = g_stage_base + 3;
  }
  agn_stage_enter(s);
}

int fail(const char* what, const char* detail) { return agn_console_fail("pipeline_bench", what, detail); }

}  // namespace

int main() {
  if (agn_board_model_slot() != reinterpret_cast<const uint8_t*>(AGN_BOARD_MODEL_SLOT_ADDRESS)) {
    return fail("the linker script's model slot moved", "");
  }
  const uint8_t* slot = agn_board_model_slot();
  const size_t model_size = agn_load_u32le(slot + AGN_MODEL_OFFSET_FILE_SIZE);
  if (model_size > AGN_BOARD_MODEL_SLOT_BYTES || agn_model_load(&g_model, slot, model_size) != AGN_OK) {
    return fail("no valid model in the flash slot: ", g_model.error);
  }
  const size_t image_size = size_t{g_model.input_height} * g_model.input_width * g_model.input_channels;
  if (image_size > sizeof(g_image) || g_model.symbol_map_size > sizeof(g_first_symbols) ||
      g_model.local.classes > sizeof(g_first_logits)) {
    return fail("model too large for the bench's buffers", "");
  }
  // The test image in the image slot, or the synthetic pattern.
  const uint8_t* image_slot = slot + AGN_BENCH_IMAGE_OFFSET;
  const bool real_image = agn_load_u32le(image_slot) == AGN_BENCH_IMAGE_MAGIC;
  if (real_image) {
    if (model_size > AGN_BENCH_IMAGE_OFFSET || agn_load_u32le(image_slot + 4) != image_size) {
      return fail("the image slot's image is not the model's input size, or the model reaches into it", "");
    }
    memcpy(g_image, image_slot + AGN_BENCH_IMAGE_HEADER, image_size);
  } else {
    for (size_t i = 0; i < image_size; ++i) g_image[i] = static_cast<uint8_t>((i * 7 + (i / 97) * 13) & 0xFF);
  }
  // The payload buffer holds the raw packing: a rANS stream that would not fit in it (far more
  // than a real map needs) is sent packed instead (runtime.h, agn_runtime_encode_default).
  const size_t max_payload = agn_runtime_max_payload(&g_model, AGN_CODEC_RAW);
  if (max_payload > kPayloadCapacity) return fail("payload buffer too small", "");
  const unsigned codecs = agn_runtime_default_codecs(&g_model);
  agn_codec codec = AGN_CODEC_RAW;

  size_t arena_used = 0;
  size_t payload = 0;
  for (unsigned t = 0; t < kTableCount; ++t) {
    size_t arena_size = 0;
    agn_runtime_kernel_arena_size(&g_model, codecs, agn_kernel_tables[t].kernels, &arena_size);
    if (arena_size > kArenaCapacity ||
        agn_runtime_init(&g_runtime, &g_model, codecs, agn_kernel_tables[t].kernels, g_arena, kArenaCapacity) !=
            AGN_OK) {
      return fail("runtime init: ", g_runtime.error);
    }
    if (arena_size > arena_used) arena_used = arena_size;
    g_stage_base = 1 + 4 * t;
    agn_runtime_set_stage_hook(&g_runtime, on_stage, nullptr);
    int8_t logits[256];
    const agn_status run = agn_runtime_run(&g_runtime, g_image, image_size, logits, sizeof(logits));
    const agn_status enc =
        agn_runtime_encode_default(&g_runtime, g_message + AGN_WIRE_REQUEST_HEADER, max_payload, &payload, &codec);
    agn_stage_enter(kOtherStage);
    if (run != AGN_OK || enc != AGN_OK) return fail("run or encode: ", g_runtime.error);
    const uint32_t crc = agn_crc32(g_message + AGN_WIRE_REQUEST_HEADER, payload);
    if (t == 0) {
      memcpy(g_first_logits, logits, g_model.local.classes);
      memcpy(g_first_symbols, agn_runtime_symbols(&g_runtime), g_model.symbol_map_size);
      g_first_payload_size = payload;
      g_first_payload_crc = crc;
    } else if (memcmp(g_first_logits, logits, g_model.local.classes) != 0 ||
               memcmp(g_first_symbols, agn_runtime_symbols(&g_runtime), g_model.symbol_map_size) != 0 ||
               payload != g_first_payload_size || crc != g_first_payload_crc) {
      return fail("outputs differ from the reference kernels': ", agn_kernel_tables[t].name);
    }
  }

  // Framing: the request header, then each datagram is written (and checked, as the radio
  // bridge would receive it) in one buffer.
  agn_stage_enter(kFramingStage);
  agn_status framing = agn_wire_request_header_write(
      codec == AGN_CODEC_RANS ? AGN_WIRE_CODEC_RANS : AGN_WIRE_CODEC_PACKED, g_message, AGN_WIRE_REQUEST_HEADER);
  const size_t message_size = AGN_WIRE_REQUEST_HEADER + payload;
  const size_t fragments = agn_wire_fragment_count(message_size, AGN_WIRE_DEFAULT_MAX_DATAGRAM);
  size_t bad = 0;
  for (size_t i = 0; i < fragments && framing == AGN_OK; ++i) {
    agn_stage_enter(kFramingStage);
    size_t size = 0;
    framing = agn_wire_write_fragment(kKey, AGN_WIRE_REQUEST, 7, 1, g_message, message_size,
                                      AGN_WIRE_DEFAULT_MAX_DATAGRAM, static_cast<unsigned>(i), g_datagram,
                                      sizeof(g_datagram), &size);
    agn_stage_enter(kOtherStage);
    agn_wire_header header;
    if (agn_wire_parse(g_datagram, size, AGN_WIRE_DEFAULT_MAX_DATAGRAM, &header) != AGN_WIRE_OK ||
        !agn_wire_tag_ok(kKey, g_datagram, size) || header.frag_index != i) {
      ++bad;
    }
  }
  agn_stage_enter(kOtherStage);
  if (framing != AGN_OK || fragments == 0 || bad != 0) return fail("framing failed", "");

  agn_model_macs macs;
  agn_model_count_macs(&g_model, &macs);
  agn_console_puts("agn-bench");
  agn_console_put_field("tables", kTableCount);
  agn_console_put_field("model_bytes", model_size);
  agn_console_put_field("flash_image", agn_board_flash_used());
  agn_console_put_field("sram_static", agn_board_sram_static());
  agn_console_put_field("arena_capacity", kArenaCapacity);
  agn_console_put_field("arena_used", arena_used);
  agn_console_put_field("payload_capacity", kPayloadCapacity);
  agn_console_put_field("payload_max", max_payload);
  agn_console_put_field("stack_high_water", agn_board_stack_high_water());
  agn_console_put_field("bench_buffers", sizeof(g_image) + sizeof(g_first_symbols) + sizeof(g_first_logits));
  agn_console_put_field("macs", macs.total);
  agn_console_put_field("payload_bytes", payload);
  agn_console_put_field("datagrams", fragments);
  agn_console_put_field("codec", static_cast<unsigned>(codec));
  agn_console_put_field("real_image", real_image ? 1u : 0u);
  agn_console_puts("\n");
  for (unsigned t = 0; t < kTableCount; ++t) {
    agn_console_puts("agn-bench-table ");
    agn_console_put_u64(t);
    agn_console_puts(" ");
    agn_console_puts(agn_kernel_tables[t].name);
    agn_console_puts("\n");
  }
  return 0;
}
