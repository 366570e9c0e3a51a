// JPEG (libjpeg-turbo) and PNG (libpng) decoding to 8-bit RGB.
//
// Greyscale, palette, alpha and 16-bit inputs are all converted to 8-bit RGB. Corrupt or truncated
// files are errors, not grey padding: libjpeg's "premature end of data" warnings throw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace agilenn::data {

struct RgbImage {
  int height = 0;
  int width = 0;
  std::vector<uint8_t> pixels;  // height * width * 3, row-major RGB
};

// Largest image decoded by default, in pixels (8192 x 8192; the RGB result is 192 MiB). A header
// is only a claim: without a cap, a 100-byte file could ask for gigabytes.
inline constexpr size_t kMaxImagePixels = size_t{1} << 26;

// Picks the decoder from the file's signature, not its extension. `name` is used in errors.
// Images of more than `max_pixels` pixels (width * height, from the header) are refused with an
// error naming the file and the size, before any pixel buffer is allocated.
RgbImage decode_image(const uint8_t* bytes, size_t size, const std::string& name,
                      size_t max_pixels = kMaxImagePixels);
RgbImage decode_image_file(const std::filesystem::path& path);

// True for the extensions image-folder readers pick up (.jpg, .jpeg, .png, any case).
bool is_image_file_name(const std::filesystem::path& path);

}  // namespace agilenn::data
