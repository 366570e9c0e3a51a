#include "train/data/cifar_binary.h"

#include <sstream>
#include <stdexcept>

#include "host/file_io.h"

namespace agilenn::data {
namespace fs = std::filesystem;
namespace {

constexpr int kSide = 32;
constexpr size_t kPixelBytes = 3 * kSide * kSide;

std::vector<std::string> read_names(const fs::path& file, size_t expected) {
  std::vector<std::string> names;
  if (fs::exists(file)) {
    std::istringstream in(read_text_file(file));
    std::string line;
    while (std::getline(in, line)) {
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) names.push_back(line);
    }
    if (names.size() != expected) {
      throw std::runtime_error(file.string() + ": " + std::to_string(names.size()) +
                               " class names, expected " + std::to_string(expected));
    }
  } else {
    for (size_t i = 0; i < expected; ++i) names.push_back(std::to_string(i));
  }
  return names;
}

// Appends the records of one file: `label_bytes` label bytes then planar 32x32 RGB.
void append_records(const fs::path& file, size_t label_bytes, size_t label_offset,
                    size_t class_count, ImageSet& set) {
  const std::vector<uint8_t> bytes = read_file(file);
  const size_t record = label_bytes + kPixelBytes;
  if (bytes.empty() || bytes.size() % record != 0) {
    throw std::runtime_error(file.string() + ": " + std::to_string(bytes.size()) +
                             " bytes is not a whole number of " + std::to_string(record) +
                             "-byte records (truncated or not a CIFAR binary file)");
  }
  const size_t count = bytes.size() / record;
  const size_t base = set.labels.size();
  set.labels.resize(base + count);
  set.pixels.resize((base + count) * kPixelBytes);
  for (size_t r = 0; r < count; ++r) {
    const uint8_t* rec = bytes.data() + r * record;
    const uint8_t label = rec[label_offset];
    if (label >= class_count) {
      throw std::runtime_error(file.string() + ": record " + std::to_string(r) + " has label " +
                               std::to_string(label) + ", expected 0.." + std::to_string(class_count - 1));
    }
    set.labels[base + r] = label;
    uint8_t* dst = set.pixels.data() + (base + r) * kPixelBytes;
    const uint8_t* planes = rec + label_bytes;
    for (size_t p = 0; p < kSide * kSide; ++p) {
      dst[p * 3 + 0] = planes[p];
      dst[p * 3 + 1] = planes[kSide * kSide + p];
      dst[p * 3 + 2] = planes[2 * kSide * kSide + p];
    }
  }
}

ImageSet empty_set() {
  ImageSet set;
  set.height = kSide;
  set.width = kSide;
  set.channels = 3;
  return set;
}

}  // namespace

ImageSet read_cifar10_binary(const fs::path& dir, Split split) {
  ImageSet set = empty_set();
  set.classes = read_names(dir / "batches.meta.txt", 10);
  if (split == Split::kTrain) {
    for (int b = 1; b <= 5; ++b) {
      append_records(dir / ("data_batch_" + std::to_string(b) + ".bin"), 1, 0, 10, set);
    }
  } else {
    append_records(dir / "test_batch.bin", 1, 0, 10, set);
  }
  set.validate(dir.string());
  return set;
}

ImageSet read_cifar100_binary(const fs::path& dir, Split split, Cifar100Labels labels) {
  ImageSet set = empty_set();
  const bool fine = labels == Cifar100Labels::kFine;
  const size_t class_count = fine ? 100 : 20;
  set.classes = read_names(dir / (fine ? "fine_label_names.txt" : "coarse_label_names.txt"), class_count);
  append_records(dir / (split == Split::kTrain ? "train.bin" : "test.bin"), 2, fine ? 1 : 0,
                 class_count, set);
  set.validate(dir.string());
  return set;
}

}  // namespace agilenn::data
