// libFuzzer target: train/data/image_decode.h, decode_image on bytes in memory (JPEG through
// libjpeg-turbo, PNG through libpng).
//
// Input: the file's bytes. std::exception (corrupt file, over the pixel limit) is the expected
// outcome for bad input; only crashes, sanitizer reports, leaks and timeouts are findings.
// A PNG is decoded twice: as given, and with every chunk's CRC recomputed, so that mutations get
// past libpng's checksums into the chunk parsers and the inflater.
#include <zlib.h>

#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "train/data/image_decode.h"

namespace {

// 2048 x 2048: big enough for any interesting header, small enough to keep runs fast.
constexpr size_t kMaxPixels = size_t{1} << 22;

void decode(const uint8_t* data, size_t size) {
  try {
    const agilenn::data::RgbImage image = agilenn::data::decode_image(data, size, "fuzz", kMaxPixels);
    AGN_FUZZ_CHECK(image.height > 0 && image.width > 0);
    AGN_FUZZ_CHECK(static_cast<size_t>(image.height) * static_cast<size_t>(image.width) <= kMaxPixels);
    AGN_FUZZ_CHECK(image.pixels.size() ==
                   static_cast<size_t>(image.height) * static_cast<size_t>(image.width) * 3);
  } catch (const std::exception&) {
  }
}

uint32_t load_u32be(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Rewrites the CRC of each whole chunk; returns whether anything changed.
bool fix_png_crcs(std::vector<uint8_t>& png) {
  bool changed = false;
  size_t pos = 8;  // after the signature
  while (pos + 12 <= png.size()) {
    const uint32_t length = load_u32be(&png[pos]);
    if (length > png.size() - pos - 12) break;
    const uint8_t* type_and_data = &png[pos + 4];
    const uint32_t crc = static_cast<uint32_t>(crc32(0, type_and_data, length + 4));
    uint8_t* stored = &png[pos + 8 + length];
    if (load_u32be(stored) != crc) {
      for (int i = 0; i < 4; ++i) stored[i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
      changed = true;
    }
    pos += 12 + static_cast<size_t>(length);
  }
  return changed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  decode(data, size);
  static constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 8 && std::memcmp(data, kPngSignature, 8) == 0) {
    std::vector<uint8_t> fixed(data, data + size);
    if (fix_png_crcs(fixed)) decode(fixed.data(), fixed.size());
  }
  return 0;
}
