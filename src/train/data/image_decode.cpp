#include "train/data/image_decode.h"

#include <png.h>
// jpeglib.h needs size_t and FILE declared first.
#include <cstdio>
#include <jpeglib.h>

#include <algorithm>
#include <csetjmp>
#include <cctype>
#include <cstring>
#include <stdexcept>

#include "host/file_io.h"

namespace agilenn::data {
namespace {

struct JpegErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void jpeg_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (level -1) mean corrupt data, e.g. a truncated file padded with grey: keep the first.
void jpeg_emit_message(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<JpegErrorManager*>(cinfo->err);
  if (level < 0 && cinfo->err->num_warnings++ == 0) {
    (*cinfo->err->format_message)(cinfo, err->message);
  }
}

bool too_large(uint64_t width, uint64_t height, size_t max_pixels) {
  return width * height > max_pixels;  // both < 2^32: no overflow
}

std::string too_large_message(const std::string& name, const char* format, uint64_t width,
                              uint64_t height, size_t max_pixels) {
  return name + ": " + format + " image of " + std::to_string(width) + "x" + std::to_string(height) +
         " pixels is larger than the limit of " + std::to_string(max_pixels) + " pixels";
}

RgbImage decode_jpeg(const uint8_t* bytes, size_t size, const std::string& name, size_t max_pixels) {
  jpeg_decompress_struct cinfo{};
  JpegErrorManager err{};
  cinfo.err = jpeg_std_error(&err.base);
  err.base.error_exit = jpeg_error_exit;
  err.base.emit_message = jpeg_emit_message;
  RgbImage image;
  // Nothing with a destructor may be created between setjmp and a longjmp back to it; `image`
  // lives above it and its vector is only resized.
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    throw std::runtime_error(name + ": corrupt JPEG: " + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  if (too_large(cinfo.image_width, cinfo.image_height, max_pixels)) {
    const uint64_t width = cinfo.image_width, height = cinfo.image_height;
    jpeg_destroy_decompress(&cinfo);
    throw std::runtime_error(too_large_message(name, "JPEG", width, height, max_pixels));
  }
  cinfo.out_color_space = JCS_RGB;  // expands greyscale, converts YCbCr
  jpeg_start_decompress(&cinfo);
  image.height = static_cast<int>(cinfo.output_height);
  image.width = static_cast<int>(cinfo.output_width);
  image.pixels.resize(static_cast<size_t>(image.height) * static_cast<size_t>(image.width) * 3);
  // Stop at the first warning: the rest of a corrupt file is grey padding, which for a large
  // image header on a short file would be millions of rows decoded only to be thrown away.
  while (cinfo.output_scanline < cinfo.output_height && err.base.num_warnings == 0) {
    JSAMPROW row = image.pixels.data() + static_cast<size_t>(cinfo.output_scanline) * static_cast<size_t>(image.width) * 3;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  if (err.base.num_warnings == 0) jpeg_finish_decompress(&cinfo);
  const bool corrupt = err.base.num_warnings > 0;
  jpeg_destroy_decompress(&cinfo);
  if (corrupt) throw std::runtime_error(name + ": corrupt JPEG: " + err.message);
  return image;
}

RgbImage decode_png(const uint8_t* bytes, size_t size, const std::string& name, size_t max_pixels) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&png, bytes, size)) {
    throw std::runtime_error(name + ": corrupt PNG: " + png.message);
  }
  if (too_large(png.width, png.height, max_pixels)) {
    png_image_free(&png);
    throw std::runtime_error(too_large_message(name, "PNG", png.width, png.height, max_pixels));
  }
  png.format = PNG_FORMAT_RGB;  // strips alpha (composited on black), expands grey and palette
  RgbImage image;
  image.height = static_cast<int>(png.height);
  image.width = static_cast<int>(png.width);
  image.pixels.resize(static_cast<size_t>(png.height) * static_cast<size_t>(png.width) * 3);
  if (!png_image_finish_read(&png, nullptr, image.pixels.data(), 0, nullptr)) {
    const std::string message = png.message;
    png_image_free(&png);
    throw std::runtime_error(name + ": corrupt PNG: " + message);
  }
  return image;
}

}  // namespace

RgbImage decode_image(const uint8_t* bytes, size_t size, const std::string& name, size_t max_pixels) {
  if (size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    return decode_jpeg(bytes, size, name, max_pixels);
  }
  static constexpr uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size >= 8 && std::memcmp(bytes, kPngSignature, 8) == 0) return decode_png(bytes, size, name, max_pixels);
  throw std::runtime_error(name + ": not a JPEG or PNG file (" + std::to_string(size) +
                           " bytes, unknown signature)");
}

RgbImage decode_image_file(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = read_file(path);
  return decode_image(bytes.data(), bytes.size(), path.string());
}

bool is_image_file_name(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png";
}

}  // namespace agilenn::data
