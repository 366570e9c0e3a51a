// JPEG (libjpeg-turbo) and PNG (libpng) decoding to 8-bit RGB.
//
// Greyscale, palette, alpha and 16-bit inputs are all converted to 8-bit RGB. Corrupt or truncated
// files are errors, not grey padding: libjpeg's "premature end of data" warnings throw.
#pragma once

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

// Picks the decoder from the file's signature, not its extension. `name` is used in errors.
RgbImage decode_image(const uint8_t* bytes, size_t size, const std::string& name);
RgbImage decode_image_file(const std::filesystem::path& path);

// True for the extensions image-folder readers pick up (.jpg, .jpeg, .png, any case).
bool is_image_file_name(const std::filesystem::path& path);

}  // namespace agilenn::data
