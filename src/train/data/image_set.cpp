#include "train/data/image_set.h"

#include <cmath>
#include <stdexcept>

namespace agilenn::data {

const char* split_name(Split split) { return split == Split::kTrain ? "train" : "test"; }

void ImageSet::validate(const std::string& source) const {
  if (height <= 0 || width <= 0 || (channels != 1 && channels != 3)) {
    throw std::runtime_error(source + ": bad image geometry " + std::to_string(height) + "x" +
                             std::to_string(width) + "x" + std::to_string(channels));
  }
  if (pixels.size() != labels.size() * image_bytes()) {
    throw std::runtime_error(source + ": " + std::to_string(pixels.size()) +
                             " pixel bytes do not hold " + std::to_string(labels.size()) +
                             " images of " + std::to_string(image_bytes()) + " bytes");
  }
  if (classes.empty()) throw std::runtime_error(source + ": no classes");
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || static_cast<size_t>(labels[i]) >= classes.size()) {
      throw std::runtime_error(source + ": image " + std::to_string(i) + " has label " +
                               std::to_string(labels[i]) + ", expected 0.." +
                               std::to_string(classes.size() - 1));
    }
  }
}

ChannelStats channel_stats(const ImageSet& set) {
  const size_t c = static_cast<size_t>(set.channels);
  std::vector<uint64_t> sum(c, 0), sum_sq(c, 0);
  for (size_t i = 0; i < set.pixels.size(); i += c) {
    for (size_t k = 0; k < c; ++k) {
      const uint64_t v = set.pixels[i + k];
      sum[k] += v;
      sum_sq[k] += v * v;
    }
  }
  ChannelStats stats;
  const double n = static_cast<double>(set.pixels.size() / (c ? c : 1));
  for (size_t k = 0; k < c; ++k) {
    const double mean = n > 0 ? static_cast<double>(sum[k]) / n : 0.0;
    const double var = n > 0 ? static_cast<double>(sum_sq[k]) / n - mean * mean : 0.0;
    stats.mean.push_back(mean / 255.0);
    stats.std.push_back(std::sqrt(std::max(var, 0.0)) / 255.0);
  }
  return stats;
}

std::vector<size_t> class_counts(const ImageSet& set) {
  std::vector<size_t> counts(set.classes.size(), 0);
  for (int32_t label : set.labels) ++counts.at(static_cast<size_t>(label));
  return counts;
}

}  // namespace agilenn::data
