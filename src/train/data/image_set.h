// A split of a labelled image data set held in memory, as decoded uint8 HWC pixels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace agilenn::data {

enum class Split { kTrain, kTest };
const char* split_name(Split split);

struct ImageSet {
  int height = 0;
  int width = 0;
  int channels = 0;                  // 3 for RGB, 1 for idx (greyscale) data
  std::vector<std::string> classes;  // class index -> human-readable name
  std::vector<uint8_t> pixels;       // size() * height * width * channels, image after image
  std::vector<int32_t> labels;       // one per image, in [0, classes.size())

  size_t size() const { return labels.size(); }
  size_t image_bytes() const {
    return static_cast<size_t>(height) * static_cast<size_t>(width) * static_cast<size_t>(channels);
  }
  const uint8_t* image(size_t i) const { return pixels.data() + i * image_bytes(); }

  // Throws std::runtime_error naming `source` when pixel count, label range or class list
  // disagree; every reader calls it before returning.
  void validate(const std::string& source) const;
};

struct ChannelStats {
  std::vector<double> mean;  // per channel, pixel values scaled to [0, 1]
  std::vector<double> std;
};

ChannelStats channel_stats(const ImageSet& set);
std::vector<size_t> class_counts(const ImageSet& set);

}  // namespace agilenn::data
