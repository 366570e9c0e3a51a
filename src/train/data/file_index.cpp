#include "train/data/file_index.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <thread>

#include "host/progress.h"
#include "train/data/image_decode.h"

namespace agilenn::data {

ImageSet decode_file_index(const FileIndex& index, const DecodeOptions& options) {
  if (index.files.empty()) throw std::runtime_error("no image files to decode");
  ImageSet set;
  set.classes = index.classes;
  set.channels = 3;

  // The first image fixes the geometry; the rest decode straight into their slots.
  const RgbImage first = decode_image_file(index.files.front().path);
  set.height = first.height;
  set.width = first.width;
  const size_t stride = set.image_bytes();
  set.pixels.resize(stride * index.files.size());
  set.labels.resize(index.files.size());
  std::memcpy(set.pixels.data(), first.pixels.data(), stride);

  std::optional<Progress> progress;
  if (!options.progress_label.empty()) {
    progress.emplace(options.progress_label, index.files.size(), "img");
    progress->add(1);
  }

  const size_t n = index.files.size();
  std::atomic<size_t> next{1};
  std::atomic<size_t> first_failure{n};
  std::vector<std::exception_ptr> errors(n);
  auto worker = [&] {
    constexpr size_t kChunk = 64;
    for (;;) {
      const size_t begin = next.fetch_add(kChunk);
      if (begin >= n || begin > first_failure.load()) return;
      const size_t end = std::min(n, begin + kChunk);
      for (size_t i = begin; i < end; ++i) {
        try {
          const RgbImage image = decode_image_file(index.files[i].path);
          if (image.height != set.height || image.width != set.width) {
            throw std::runtime_error(index.files[i].path.string() + ": image is " +
                                     std::to_string(image.height) + "x" + std::to_string(image.width) +
                                     ", expected " + std::to_string(set.height) + "x" +
                                     std::to_string(set.width) + " like " +
                                     index.files.front().path.string());
          }
          std::memcpy(set.pixels.data() + i * stride, image.pixels.data(), stride);
        } catch (...) {
          errors[i] = std::current_exception();
          size_t seen = first_failure.load();
          while (i < seen && !first_failure.compare_exchange_weak(seen, i)) {
          }
        }
      }
      if (progress) progress->add(end - begin);
    }
  };

  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const size_t thread_count = std::min<size_t>(options.threads > 0 ? static_cast<size_t>(options.threads) : hw, n);
  std::vector<std::thread> threads;
  for (size_t t = 1; t < thread_count; ++t) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  if (first_failure.load() < n) std::rethrow_exception(errors[first_failure.load()]);
  if (progress) progress->finish();

  for (size_t i = 0; i < n; ++i) set.labels[i] = index.files[i].label;
  set.validate(index.files.front().path.parent_path().parent_path().string());
  return set;
}

}  // namespace agilenn::data
