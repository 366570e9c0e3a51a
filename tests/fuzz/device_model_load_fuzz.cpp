// libFuzzer target: the device model loader (device/device_model.h) and, for models it accepts,
// the runtime on them.
//
// Input: byte 0 picks the mode (b0 % 2), the rest is the model file:
//   0. agn_model_load on the raw rest.
//   1. The same with the header's file size and the trailing CRC-32 rewritten first, so the
//      fuzzer gets past the checksum into the section table and the sections.
// A model that loads must size its arena; if the arena, the image and the work are small, the
// runtime runs it on a fixed image and encodes with every codec it has (in bounds, no crash,
// symbols below L).
#include <cstring>
#include <vector>

#include "codec/symbol_map.h"
#include "common/byte_order.h"
#include "common/crc32.h"
#include "device/runtime.h"
#include "fuzz_support.h"

namespace {

constexpr size_t kArenaBytes = 256 * 1024;
constexpr uint64_t kMaxMacs = 4u << 20;
alignas(4) uint8_t g_arena[kArenaBytes];

void run_model(const agn_model& model) {
  unsigned codecs = AGN_CODEC_BIT(AGN_CODEC_RAW) | AGN_CODEC_BIT(AGN_CODEC_LZW_VARIABLE);
  if (model.rans != nullptr) codecs |= AGN_CODEC_BIT(AGN_CODEC_RANS);
  size_t arena = 0;
  AGN_FUZZ_CHECK(agn_runtime_arena_size(&model, codecs, &arena) == AGN_OK);
  agn_model_macs macs;
  agn_model_count_macs(&model, &macs);
  const size_t image_size = size_t{model.input_height} * model.input_width * model.input_channels;
  if (arena > kArenaBytes || macs.total > kMaxMacs || image_size > (1u << 16)) return;
  static agn_runtime rt;
  const agn_status st = agn_runtime_init(&rt, &model, codecs, nullptr, g_arena, arena);
  if (st != AGN_OK) {
    AGN_FUZZ_CHECK(model.rans != nullptr);  // only the rANS tables are validated at init
    return;
  }
  std::vector<uint8_t> image(image_size);
  for (size_t i = 0; i < image_size; ++i) image[i] = static_cast<uint8_t>(i * 37 + 11);
  std::vector<int8_t> logits(model.local.classes);
  AGN_FUZZ_CHECK(agn_runtime_run(&rt, image.data(), image.size(), logits.data(), logits.size()) == AGN_OK);
  const uint8_t* map = agn_runtime_symbols(&rt);  // rows of the symbol map (codec/symbol_map.h)
  const size_t row_bytes = agn_symbol_row_bytes(model.feature_width);
  for (uint32_t r = 0; r < model.symbol_count / model.feature_width; ++r) {
    for (unsigned x = 0; x < model.feature_width; ++x) {
      AGN_FUZZ_CHECK(agn_symbol_at(map + r * row_bytes, x) < model.levels);
    }
    if (model.feature_width % 2 != 0) AGN_FUZZ_CHECK(map[(r + 1) * row_bytes - 1] >> 4 == 0);  // the pad nibble
  }
  for (agn_codec codec : {AGN_CODEC_RAW, AGN_CODEC_LZW_VARIABLE, AGN_CODEC_RANS}) {
    if (!(codecs & AGN_CODEC_BIT(codec))) continue;
    std::vector<uint8_t> out(agn_runtime_max_payload(&model, codec));
    size_t written = 0;
    AGN_FUZZ_CHECK(agn_runtime_encode(&rt, codec, out.data(), out.size(), &written) == AGN_OK);
    AGN_FUZZ_CHECK(written <= out.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::vector<uint8_t> bytes(data + 1, data + size);  // exact-size copy: ASan sees overreads
  if (data[0] % 2 == 1 && bytes.size() >= AGN_MODEL_HEADER_SIZE + AGN_MODEL_CRC_SIZE) {
    agn_store_u32le(bytes.data() + AGN_MODEL_OFFSET_FILE_SIZE, static_cast<uint32_t>(bytes.size()));
    const size_t body = bytes.size() - AGN_MODEL_CRC_SIZE;
    agn_store_u32le(bytes.data() + body, agn_crc32(bytes.data(), body));
  }
  static agn_model model;
  const agn_status st = agn_model_load(&model, bytes.data(), bytes.size());
  AGN_FUZZ_CHECK(model.error[sizeof model.error - 1] == '\0');
  if (st != AGN_OK) {
    AGN_FUZZ_CHECK(model.error[0] != '\0');
    return 0;
  }
  run_model(model);
  return 0;
}
