// The memory a device needs for the pipeline: a firmware with what the device runs and nothing
// else (the fused Cortex-M7 kernels, the default coder: rANS when the model has tables, else raw
// packing; wire framing), on any model in the flash model slot (firmware/bsp/board.h). It runs one
// image (the same synthetic pattern as pipeline_bench.cpp) through init, run, encode and framing,
// then prints on the UART one line "agn-footprint key=value ..." that agilenn mcu bench reads
// (src/mcu/bench.h): the image's flash, its static SRAM, the capacities of its fixed buffers and
// what this model uses of them, and the stack high-water mark.
//
// It links agilenn_device_rans, the runtime built with raw packing and rANS only (no LZW). What
// still links in beyond what it runs: the reference kernels (the runtime's default table and the
// cm7 kernels' fallback where the fast path cannot be exact) and the model loader's checks.
#include "bsp/board.h"
#include "bsp/console.h"
#include "common/byte_order.h"
#include "device/kernels/kernels.h"
#include "device/runtime.h"
#include "wire/wire.h"

namespace {

constexpr size_t kArenaCapacity = 48 * 1024;
constexpr size_t kPayloadCapacity = 40 * 1024;

alignas(4) uint8_t g_arena[kArenaCapacity];
uint8_t g_message[AGN_WIRE_REQUEST_HEADER + kPayloadCapacity];
uint8_t g_datagram[AGN_WIRE_DEFAULT_MAX_DATAGRAM];
uint8_t g_image[64 * 64 * 3];  // the camera's frame; not counted (image_buffer)
agn_model g_model;
agn_runtime g_runtime;
const uint8_t kKey[AGN_WIRE_KEY_SIZE] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

int fail(const char* what, const char* detail) { return agn_console_fail("footprint", what, detail); }

}  // namespace

int main() {
  const uint8_t* slot = agn_board_model_slot();
  const size_t model_size = agn_load_u32le(slot + AGN_MODEL_OFFSET_FILE_SIZE);
  if (model_size > AGN_BOARD_MODEL_SLOT_BYTES || agn_model_load(&g_model, slot, model_size) != AGN_OK) {
    return fail("no valid model in the flash slot: ", g_model.error);
  }
  const size_t image_size = size_t{g_model.input_height} * g_model.input_width * g_model.input_channels;
  if (image_size > sizeof(g_image)) return fail("model input too large for the image buffer", "");
  for (size_t i = 0; i < image_size; ++i) g_image[i] = static_cast<uint8_t>((i * 7 + (i / 97) * 13) & 0xFF);
  // The payload buffer holds the raw packing: a rANS stream that would not fit in it (far more
  // than a real map needs) is sent packed instead (runtime.h, agn_runtime_encode_default).
  const size_t max_payload = agn_runtime_max_payload(&g_model, AGN_CODEC_RAW);
  const unsigned codecs = agn_runtime_default_codecs(&g_model);
  size_t arena_size = 0;
  agn_runtime_kernel_arena_size(&g_model, codecs, &agn_kernels_cm7, &arena_size);
  if (max_payload > kPayloadCapacity || arena_size > kArenaCapacity) return fail("model too large for the buffers", "");
  if (agn_runtime_init(&g_runtime, &g_model, codecs, &agn_kernels_cm7, g_arena, kArenaCapacity) != AGN_OK) {
    return fail("runtime init: ", g_runtime.error);
  }
  int8_t logits[256];
  size_t payload = 0;
  const agn_status run = agn_runtime_run(&g_runtime, g_image, image_size, logits, sizeof(logits));
  agn_codec codec = AGN_CODEC_RAW;
  const agn_status enc =
      agn_runtime_encode_default(&g_runtime, g_message + AGN_WIRE_REQUEST_HEADER, max_payload, &payload, &codec);
  if (run != AGN_OK || enc != AGN_OK) return fail("run or encode: ", g_runtime.error);
  agn_status framing = agn_wire_request_header_write(
      codec == AGN_CODEC_RANS ? AGN_WIRE_CODEC_RANS : AGN_WIRE_CODEC_PACKED, g_message, AGN_WIRE_REQUEST_HEADER);
  const size_t message_size = AGN_WIRE_REQUEST_HEADER + payload;
  const size_t fragments = agn_wire_fragment_count(message_size, AGN_WIRE_DEFAULT_MAX_DATAGRAM);
  for (size_t i = 0; i < fragments && framing == AGN_OK; ++i) {
    size_t size = 0;
    framing = agn_wire_write_fragment(kKey, AGN_WIRE_REQUEST, 7, 1, g_message, message_size,
                                      AGN_WIRE_DEFAULT_MAX_DATAGRAM, static_cast<unsigned>(i), g_datagram,
                                      sizeof(g_datagram), &size);
  }
  if (framing != AGN_OK || fragments == 0) return fail("framing failed", "");

  agn_console_puts("agn-footprint");
  agn_console_put_field("model_bytes", model_size);
  agn_console_put_field("flash_image", agn_board_flash_used());
  agn_console_put_field("sram_static", agn_board_sram_static());
  agn_console_put_field("arena_capacity", kArenaCapacity);
  agn_console_put_field("arena_used", arena_size);
  agn_console_put_field("payload_capacity", kPayloadCapacity);
  agn_console_put_field("payload_max", max_payload);
  agn_console_put_field("image_buffer", sizeof(g_image));
  agn_console_put_field("stack_high_water", agn_board_stack_high_water());
  agn_console_puts("\n");
  return 0;
}
