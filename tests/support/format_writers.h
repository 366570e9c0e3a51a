// Writers of the official data formats, for tests: each produces files exactly as the
// distributed data sets store them, so the readers are tested against the real layouts.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace agilenn::testing {

// A deterministic pseudo-random HWC image.
std::vector<uint8_t> make_image(int height, int width, int channels, uint32_t seed);

// JPEG via libjpeg (channels 1 = greyscale JPEG, 3 = YCbCr), PNG via libpng (channels 1..4).
void write_jpeg(const std::filesystem::path& path, const std::vector<uint8_t>& hwc, int height,
                int width, int channels, int quality = 95);
void write_png(const std::filesystem::path& path, const std::vector<uint8_t>& hwc, int height,
               int width, int channels);
std::vector<uint8_t> encode_jpeg(const std::vector<uint8_t>& hwc, int height, int width, int channels,
                                 int quality = 95, bool progressive = false);

// One CIFAR record: `label_bytes` labels, then 32x32 RGB as three planes (R, G, B).
std::vector<uint8_t> cifar_record(const std::vector<uint8_t>& labels, const std::vector<uint8_t>& hwc);

// idx file with unsigned-byte data; gzip-compressed when `gzip`.
void write_idx(const std::filesystem::path& path, const std::vector<uint32_t>& dims,
               const std::vector<uint8_t>& data, bool gzip);

// SVHN format 2 .mat (MATLAB v5): X uint8 HxWx3xN column-major from HWC images, y double Nx1.
void write_svhn_mat(const std::filesystem::path& path, const std::vector<std::vector<uint8_t>>& hwc_images,
                    int height, int width, const std::vector<double>& labels);

// A .tar.gz (libarchive) holding `files` (relative path, contents).
void write_tar_gz(const std::filesystem::path& path,
                  const std::vector<std::pair<std::string, std::string>>& files);

void write_text(const std::filesystem::path& path, const std::string& text);
void write_bytes(const std::filesystem::path& path, const std::vector<uint8_t>& bytes);

// A fresh empty folder under the system temp folder, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

}  // namespace agilenn::testing
