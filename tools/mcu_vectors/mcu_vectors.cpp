// mcu_vectors: writes a random model of the default shape, shaped like an export of a
// rate-trained model (src/modelfile/random_model.h, export_like), as a model folder, and the host
// runtime's outputs for a few images, so that firmware can check that it computes exactly the
// same bytes (tests/firmware/pipeline_test.cpp) and benches have a model before a trained export
// exists.
//
//   mcu_vectors --out DIR [--seed S] [--images N]
//
// DIR receives, like an export folder (src/export):
//   model.agnm                the device model file (include/agilenn/model_format.h)
//   agilenn_model.h/.cpp      the same bytes as a const array (modelfile/c_source.h)
//   device_vectors.bin        the host runtime's outputs (format below)
//
// device_vectors.bin (all multi-byte fields little-endian):
//   1. u32 magic 0x56444741 (bytes "AGDV"), u16 version 2, u16 image count N
//   2. u32 image bytes, u16 classes, u16 codec count (4), u32 symbol map bytes
//   3. N records: the image (u8 HWC), the logits (i8), the symbol map (codec/symbol_map.h, 4 bits
//      per symbol, as agn_runtime_symbols holds it; version 1 had one byte per symbol), then for
//      each codec of agn_codec in order (raw, LZW fixed, LZW variable, rANS) u32 size + payload
//      (size 0xFFFFFFFF and no bytes if the model has no table for that codec)
//   4. u32 CRC-32 (common/crc32.h) of every byte before it.
// Images: 0 is a smooth colour pattern, the others uniform random pixels (seeded).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "common/crc32.h"
#include "device/runtime.h"
#include "host/file_io.h"
#include "modelfile/c_source.h"
#include "modelfile/random_model.h"

namespace {

constexpr uint32_t kMagic = 0x56444741u;
constexpr uint16_t kVersion = 2;
constexpr uint32_t kNoPayload = 0xFFFFFFFFu;

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  uint8_t b[2];
  agn_store_u16le(b, v);
  out.insert(out.end(), b, b + 2);
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  uint8_t b[4];
  agn_store_u32le(b, v);
  out.insert(out.end(), b, b + 4);
}

std::vector<uint8_t> make_image(unsigned index, size_t height, size_t width, size_t channels, std::mt19937& rng) {
  std::vector<uint8_t> image(height * width * channels);
  for (size_t y = 0; y < height; ++y) {
    for (size_t x = 0; x < width; ++x) {
      for (size_t c = 0; c < channels; ++c) {
        uint8_t& p = image[(y * width + x) * channels + c];
        p = index == 0 ? static_cast<uint8_t>((x * 8 + y * (c + 1) * 5 + c * 60) & 0xFF)
                       : static_cast<uint8_t>(std::uniform_int_distribution<int>(0, 255)(rng));
      }
    }
  }
  return image;
}

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "mcu_vectors: " << why << "\nusage: mcu_vectors --out DIR [--seed S] [--images N]\n";
  std::exit(2);
}

std::string_view as_text(const std::vector<uint8_t>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

int main(int argc, char** argv) {
  std::filesystem::path out_dir;
  uint32_t seed = 1;
  int images = 2;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") usage("writes a random model folder and the host runtime's outputs");
    if (i + 1 >= argc) usage("missing value for " + arg);
    const std::string value = argv[++i];
    if (arg == "--out") {
      out_dir = value;
    } else if (arg == "--seed") {
      seed = static_cast<uint32_t>(std::stoul(value));
    } else if (arg == "--images") {
      images = std::stoi(value);
    } else {
      usage("unknown option " + arg);
    }
  }
  if (out_dir.empty()) usage("--out is required");
  if (images < 1 || images > 100) usage("--images must be in [1, 100]");

  try {
    agilenn::modelfile::RandomModelOptions options;
    options.export_like = true;  // the device's default paths: the Cortex-M7 assembly loops
    const std::vector<uint8_t> model_bytes = agilenn::modelfile::write_model(agilenn::modelfile::random_model(options, seed));
    static agn_model model;
    if (agn_model_load(&model, model_bytes.data(), model_bytes.size()) != AGN_OK) {
      throw std::runtime_error(std::string("model: ") + model.error);
    }
    size_t arena_size = 0;
    agn_runtime_arena_size(&model, AGN_CODECS_ALL, &arena_size);
    std::vector<uint32_t> arena(arena_size / 4 + 1);
    static agn_runtime rt;
    if (agn_runtime_init(&rt, &model, AGN_CODECS_ALL, nullptr, arena.data(), arena.size() * 4) != AGN_OK) {
      throw std::runtime_error(std::string("runtime: ") + rt.error);
    }
    const size_t image_bytes = size_t{model.input_height} * model.input_width * model.input_channels;
    std::vector<uint8_t> out;
    put_u32(out, kMagic);
    put_u16(out, kVersion);
    put_u16(out, static_cast<uint16_t>(images));
    put_u32(out, static_cast<uint32_t>(image_bytes));
    put_u16(out, model.local.classes);
    put_u16(out, 4);
    put_u32(out, model.symbol_map_size);
    std::mt19937 rng(seed);
    for (int n = 0; n < images; ++n) {
      const std::vector<uint8_t> image =
          make_image(static_cast<unsigned>(n), model.input_height, model.input_width, model.input_channels, rng);
      std::vector<int8_t> logits(model.local.classes);
      if (agn_runtime_run(&rt, image.data(), image.size(), logits.data(), logits.size()) != AGN_OK) {
        throw std::runtime_error(std::string("run: ") + rt.error);
      }
      out.insert(out.end(), image.begin(), image.end());
      for (int8_t v : logits) out.push_back(static_cast<uint8_t>(v));
      const uint8_t* symbols = agn_runtime_symbols(&rt);
      out.insert(out.end(), symbols, symbols + model.symbol_map_size);
      for (unsigned codec = AGN_CODEC_RAW; codec <= AGN_CODEC_RANS; ++codec) {
        if (codec == AGN_CODEC_RANS && model.rans == nullptr) {
          put_u32(out, kNoPayload);
          continue;
        }
        std::vector<uint8_t> payload(agn_runtime_max_payload(&model, static_cast<agn_codec>(codec)));
        size_t written = 0;
        if (agn_runtime_encode(&rt, static_cast<agn_codec>(codec), payload.data(), payload.size(), &written) !=
            AGN_OK) {
          throw std::runtime_error(std::string("encode: ") + rt.error);
        }
        put_u32(out, static_cast<uint32_t>(written));
        out.insert(out.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(written));
      }
    }
    put_u32(out, agn_crc32(out.data(), out.size()));

    std::filesystem::create_directories(out_dir);
    const std::string origin = "random_model seed " + std::to_string(seed);
    const agilenn::modelfile::CSource source =
        agilenn::modelfile::generate_c_source(model_bytes, "agilenn_model", "agilenn_model.h", "mcu_vectors", origin);
    agilenn::write_file_atomic(out_dir / "model.agnm", as_text(model_bytes));
    agilenn::write_file_atomic(out_dir / "agilenn_model.h", source.header);
    agilenn::write_file_atomic(out_dir / "agilenn_model.cpp", source.source);
    agilenn::write_file_atomic(out_dir / "device_vectors.bin", as_text(out));
    std::cerr << "mcu_vectors: " << model_bytes.size() << "-byte model, " << images << " images, " << out.size()
              << " bytes of vectors in " << out_dir.string() << "\n";
  } catch (const std::exception& e) {
    std::cerr << "mcu_vectors: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
