#include "support/format_writers.h"

#include <archive.h>
#include <archive_entry.h>
#include <matio.h>
#include <png.h>
#include <unistd.h>
#include <zlib.h>
// jpeglib.h needs size_t and FILE declared first.
#include <cstdio>
#include <jpeglib.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <stdexcept>

namespace agilenn::testing {
namespace fs = std::filesystem;

std::vector<uint8_t> make_image(int height, int width, int channels, uint32_t seed) {
  std::vector<uint8_t> pixels(static_cast<size_t>(height * width * channels));
  std::mt19937 rng(seed);
  // Smooth gradients plus a little noise: compresses like a photo, survives JPEG recognisably.
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        const int v = x * 120 / std::max(1, width - 1) + y * 60 / std::max(1, height - 1) + c * 20 +
                      static_cast<int>((seed * 7) % 40) + static_cast<int>(rng() % 8);
        pixels[static_cast<size_t>((y * width + x) * channels + c)] = static_cast<uint8_t>(std::min(v, 255));
      }
    }
  }
  return pixels;
}

std::vector<uint8_t> encode_jpeg(const std::vector<uint8_t>& hwc, int height, int width, int channels,
                                 int quality, bool progressive) {
  jpeg_compress_struct cinfo{};
  jpeg_error_mgr jerr{};
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  jpeg_mem_dest(&cinfo, &out, &out_size);
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = channels;
  cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(hwc.data()) + static_cast<size_t>(cinfo.next_scanline) * static_cast<size_t>(width * channels);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::vector<uint8_t> bytes(out, out + out_size);
  jpeg_destroy_compress(&cinfo);
  std::free(out);
  return bytes;
}

void write_jpeg(const fs::path& path, const std::vector<uint8_t>& hwc, int height, int width, int channels,
                int quality) {
  write_bytes(path, encode_jpeg(hwc, height, width, channels, quality));
}

void write_png(const fs::path& path, const std::vector<uint8_t>& hwc, int height, int width, int channels) {
  fs::create_directories(path.parent_path());
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  static constexpr png_uint_32 kFormats[] = {0, PNG_FORMAT_GRAY, PNG_FORMAT_GA, PNG_FORMAT_RGB, PNG_FORMAT_RGBA};
  image.format = kFormats[channels];
  if (!png_image_write_to_file(&image, path.c_str(), 0, hwc.data(), width * channels, nullptr)) {
    throw std::runtime_error(path.string() + ": " + image.message);
  }
}

std::vector<uint8_t> cifar_record(const std::vector<uint8_t>& labels, const std::vector<uint8_t>& hwc) {
  std::vector<uint8_t> rec(labels);
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < 32 * 32; ++p) rec.push_back(hwc[static_cast<size_t>(p * 3 + c)]);
  }
  return rec;
}

void write_idx(const fs::path& path, const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
               bool gzip) {
  std::vector<uint8_t> bytes = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(d >> shift));
  }
  bytes.insert(bytes.end(), data.begin(), data.end());
  if (!gzip) return write_bytes(path, bytes);
  fs::create_directories(path.parent_path());
  gzFile gz = gzopen(path.c_str(), "wb");
  if (!gz) throw std::runtime_error(path.string() + ": gzopen failed");
  gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(gz);
}

void write_svhn_mat(const fs::path& path, const std::vector<std::vector<uint8_t>>& hwc_images, int height,
                    int width, const std::vector<double>& labels) {
  fs::create_directories(path.parent_path());
  const size_t n = hwc_images.size(), h = static_cast<size_t>(height), w = static_cast<size_t>(width);
  // MATLAB is column-major: X(r, c, ch, i) at r + h*(c + w*(ch + 3*i)).
  std::vector<uint8_t> x(h * w * 3 * n);
  for (size_t i = 0; i < n; ++i) {
    for (size_t r = 0; r < h; ++r) {
      for (size_t c = 0; c < w; ++c) {
        for (size_t ch = 0; ch < 3; ++ch) x[r + h * (c + w * (ch + 3 * i))] = hwc_images[i][(r * w + c) * 3 + ch];
      }
    }
  }
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  if (!mat) throw std::runtime_error(path.string() + ": Mat_CreateVer failed");
  size_t x_dims[4] = {h, w, 3, n};
  matvar_t* xv = Mat_VarCreate("X", MAT_C_UINT8, MAT_T_UINT8, 4, x_dims, x.data(), 0);
  std::vector<double> y(labels);
  size_t y_dims[2] = {labels.size(), 1};
  matvar_t* yv = Mat_VarCreate("y", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, y_dims, y.data(), 0);
  Mat_VarWrite(mat, xv, MAT_COMPRESSION_NONE);
  Mat_VarWrite(mat, yv, MAT_COMPRESSION_NONE);
  Mat_VarFree(xv);
  Mat_VarFree(yv);
  Mat_Close(mat);
}

void write_tar_gz(const fs::path& path, const std::vector<std::pair<std::string, std::string>>& files) {
  fs::create_directories(path.parent_path());
  archive* a = archive_write_new();
  archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  if (archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) {
    throw std::runtime_error(path.string() + ": " + archive_error_string(a));
  }
  for (const auto& [name, contents] : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(contents.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, contents.data(), contents.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

void write_text(const fs::path& path, const std::string& text) {
  write_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

void write_bytes(const fs::path& path, const std::vector<uint8_t>& bytes) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error(path.string() + ": write failed");
}

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "agilenn-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace agilenn::testing
