// The device pipeline on the emulated Cortex-M7 against the host build: the model is the
// generated C++ source of a random default-shaped model (tools/mcu_vectors), the images and the
// host runtime's outputs come from device_vectors.bin over semihosting (its path is QEMU's
// -append text). Every kernel table must give the host's logits, symbols and encoded bytes (all
// four codecs) bit for bit.
#include <string.h>

#include "agilenn_model.h"
#include "bsp/semihost.h"
#include "common/byte_order.h"
#include "common/crc32.h"
#include "device/kernels/kernels.h"
#include "device/runtime.h"
#include "fw_test.h"

namespace {

constexpr uint32_t kVectorsMagic = 0x56444741u;
constexpr uint16_t kVectorsVersion = 2;  // the symbols as a symbol map (tools/mcu_vectors)
constexpr unsigned kCodecs = 4;
constexpr uint32_t kNoPayload = 0xFFFFFFFFu;

uint8_t g_vectors[128 * 1024];
alignas(4) uint8_t g_arena[48 * 1024];
uint8_t g_payload[32 * 1024];
agn_model g_model;
agn_runtime g_runtime;


// Reads the vectors file named by the last word of the command line; returns its size or 0.
size_t read_vectors() {
  char line[512];
  if (agn_semihost_command_line(line, sizeof(line)) != 0) return 0;
  const char* path = strrchr(line, ' ');
  path = path != nullptr ? path + 1 : line;
  const int file = agn_semihost_open(path, AGN_SEMIHOST_READ);
  if (file < 0) return 0;
  const size_t size = agn_semihost_read(file, g_vectors, sizeof(g_vectors));
  agn_semihost_close(file);
  return size;
}

// Runs every record of the vectors through the runtime with `table`.
void check_table(const agn_named_kernel_table& table, const uint8_t* records, unsigned count, size_t image_bytes) {
  agn_console_puts("kernels: ");
  agn_console_puts(table.name);
  agn_console_puts("\n");
  size_t arena_size = 0;
  AGN_CHECK_EQ(agn_runtime_kernel_arena_size(&g_model, AGN_CODECS_ALL, table.kernels, &arena_size), AGN_OK);
  AGN_CHECK(arena_size <= sizeof(g_arena));
  if (!AGN_CHECK_EQ(agn_runtime_init(&g_runtime, &g_model, AGN_CODECS_ALL, table.kernels, g_arena, sizeof(g_arena)),
                    AGN_OK)) {
    agn_console_puts(g_runtime.error);
    return;
  }
  const uint8_t* p = records;
  for (unsigned n = 0; n < count; ++n) {
    const uint8_t* image = p;
    const int8_t* logits = reinterpret_cast<const int8_t*>(image + image_bytes);
    const uint8_t* symbols = image + image_bytes + g_model.local.classes;
    p = symbols + g_model.symbol_map_size;
    int8_t got_logits[64];
    AGN_CHECK_EQ(agn_runtime_run(&g_runtime, image, image_bytes, got_logits, sizeof(got_logits)), AGN_OK);
    AGN_CHECK(memcmp(got_logits, logits, g_model.local.classes) == 0);
    AGN_CHECK(memcmp(agn_runtime_symbols(&g_runtime), symbols, g_model.symbol_map_size) == 0);
    for (unsigned codec = 0; codec < kCodecs; ++codec) {
      const uint32_t size = agn_load_u32le(p);
      p += 4;
      if (size == kNoPayload) continue;
      size_t written = 0;
      AGN_CHECK_EQ(agn_runtime_encode(&g_runtime, static_cast<agn_codec>(codec), g_payload, sizeof(g_payload), &written),
                   AGN_OK);
      AGN_CHECK_EQ(written, size);
      AGN_CHECK(written == size && memcmp(g_payload, p, size) == 0);
      p += size;
    }
  }
}

}  // namespace

int main() {
  AGN_CHECK_EQ(agn_model_load(&g_model, agilenn_model, AGILENN_MODEL_SIZE), AGN_OK);
  const size_t size = read_vectors();
  if (!AGN_CHECK(size >= 24 && size < sizeof(g_vectors))) return agn_fw_test::finish("fw_pipeline_test");
  AGN_CHECK_EQ(agn_crc32(g_vectors, size - 4), agn_load_u32le(g_vectors + size - 4));
  AGN_CHECK_EQ(agn_load_u32le(g_vectors), kVectorsMagic);
  const unsigned count = agn_load_u16le(g_vectors + 6);
  const size_t image_bytes = agn_load_u32le(g_vectors + 8);
  AGN_CHECK_EQ(image_bytes, size_t{g_model.input_height} * g_model.input_width * g_model.input_channels);
  AGN_CHECK_EQ(agn_load_u16le(g_vectors + 12), g_model.local.classes);
  AGN_CHECK_EQ(agn_load_u16le(g_vectors + 14), kCodecs);
  AGN_CHECK_EQ(agn_load_u16le(g_vectors + 4), kVectorsVersion);
  AGN_CHECK_EQ(agn_load_u32le(g_vectors + 16), g_model.symbol_map_size);
  AGN_CHECK(count >= 1);
  if (agn_fw_test::failures() != 0) return agn_fw_test::finish("fw_pipeline_test");
  for (const agn_named_kernel_table& table : agn_kernel_tables) check_table(table, g_vectors + 20, count, image_bytes);
  return agn_fw_test::finish("fw_pipeline_test");
}
