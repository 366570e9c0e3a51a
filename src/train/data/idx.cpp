#include "train/data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace agilenn::data {
namespace fs = std::filesystem;
namespace {

struct IdxArray {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;
};

// Reads a whole (possibly gzip-compressed) file.
std::vector<uint8_t> read_maybe_gzip(const fs::path& file) {
  if (!fs::exists(file)) throw std::runtime_error(file.string() + ": file not found");
  std::unique_ptr<gzFile_s, int (*)(gzFile)> gz(gzopen(file.c_str(), "rb"), gzclose);
  if (!gz) throw std::runtime_error(file.string() + ": cannot open");
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  for (;;) {
    const int n = gzread(gz.get(), buf, sizeof buf);
    if (n < 0) {
      int errnum = 0;
      const char* msg = gzerror(gz.get(), &errnum);
      throw std::runtime_error(file.string() + ": corrupt gzip data: " + msg);
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  // A truncated .gz ends without its trailer; zlib reports that only as an error state.
  int errnum = 0;
  const char* msg = gzerror(gz.get(), &errnum);
  if (errnum != Z_OK && errnum != Z_STREAM_END) {
    throw std::runtime_error(file.string() + ": corrupt gzip data: " + msg);
  }
  return out;
}

IdxArray read_idx_array(const fs::path& file, uint8_t expected_rank) {
  const std::vector<uint8_t> bytes = read_maybe_gzip(file);
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0) {
    throw std::runtime_error(file.string() + ": not an idx file (bad magic)");
  }
  if (bytes[2] != 0x08) {
    throw std::runtime_error(file.string() + ": idx element type 0x" + std::to_string(bytes[2]) +
                             ", expected 0x08 (unsigned byte)");
  }
  if (bytes[3] != expected_rank) {
    throw std::runtime_error(file.string() + ": idx rank " + std::to_string(bytes[3]) +
                             ", expected " + std::to_string(expected_rank));
  }
  const size_t header = 4 + 4 * static_cast<size_t>(expected_rank);
  if (bytes.size() < header) throw std::runtime_error(file.string() + ": truncated idx header");
  IdxArray array;
  size_t count = 1;
  for (size_t d = 0; d < expected_rank; ++d) {
    const uint8_t* p = bytes.data() + 4 + 4 * d;
    const uint32_t dim = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    if (dim == 0 || dim > (1u << 28)) {
      throw std::runtime_error(file.string() + ": implausible idx dimension " + std::to_string(dim));
    }
    array.dims.push_back(dim);
    // Unchecked, 256 x 2^28 x 2^28 wraps to 0 and an empty file would pass as 256 huge images.
    if (__builtin_mul_overflow(count, size_t{dim}, &count)) {
      std::string shape;
      for (uint32_t x : array.dims) {
        if (!shape.empty()) shape += 'x';  // not `"" + to_string`: GCC 12 -O3 warns (-Wrestrict)
        shape += std::to_string(x);
      }
      throw std::runtime_error(file.string() + ": implausible idx dimensions " + shape +
                               " (more than 2^64 bytes)");
    }
  }
  if (bytes.size() - header != count) {
    throw std::runtime_error(file.string() + ": " + std::to_string(bytes.size() - header) +
                             " data bytes, header says " + std::to_string(count) +
                             (bytes.size() - header < count ? " (truncated)" : ""));
  }
  array.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
  return array;
}

}  // namespace

ImageSet read_idx(const fs::path& images_file, const fs::path& labels_file) {
  IdxArray images = read_idx_array(images_file, 3);
  const IdxArray labels = read_idx_array(labels_file, 1);
  if (labels.dims[0] != images.dims[0]) {
    throw std::runtime_error(labels_file.string() + ": " + std::to_string(labels.dims[0]) +
                             " labels for " + std::to_string(images.dims[0]) + " images in " +
                             images_file.string());
  }
  ImageSet set;
  set.height = static_cast<int>(images.dims[1]);
  set.width = static_cast<int>(images.dims[2]);
  set.channels = 1;
  set.pixels = std::move(images.data);
  set.labels.assign(labels.data.begin(), labels.data.end());
  const int32_t max_label = *std::max_element(set.labels.begin(), set.labels.end());
  for (int32_t c = 0; c <= max_label; ++c) set.classes.push_back(std::to_string(c));
  set.validate(images_file.string());
  return set;
}

std::pair<fs::path, fs::path> find_idx_files(const fs::path& dir, Split split) {
  const std::vector<std::string> prefixes =
      split == Split::kTrain ? std::vector<std::string>{"train"} : std::vector<std::string>{"t10k", "test"};
  std::string tried;
  for (const std::string& prefix : prefixes) {
    tried += " *" + prefix + "-images-idx3-ubyte[.gz] + *" + prefix + "-labels-idx1-ubyte[.gz];";
  }
  if (fs::is_directory(dir)) {
    std::vector<fs::path> names;
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) names.push_back(e.path());
    std::sort(names.begin(), names.end());
    for (const std::string& prefix : prefixes) {
      for (const fs::path& p : names) {
        const std::string name = p.filename().string();
        const size_t at = name.find(prefix + "-images-idx3-ubyte");
        if (at == std::string::npos) continue;
        // The labels file has the same name with "images-idx3" -> "labels-idx1".
        std::string label_name = name;
        label_name.replace(at + prefix.size() + 1, 11, "labels-idx1");
        for (const fs::path& q : names) {
          const std::string candidate = q.filename().string();
          // Allow one of the pair gzip-compressed and the other not.
          if (candidate == label_name || candidate + ".gz" == label_name ||
              candidate == label_name + ".gz") {
            return {p, q};
          }
        }
      }
    }
  }
  throw std::runtime_error(dir.string() + ": no idx " + split_name(split) + " files (looked for" + tried + ")");
}

}  // namespace agilenn::data
