#include "train/data/tensor.h"

#include <stdexcept>

namespace agilenn::data {

torch::Tensor images_to_tensor(const ImageSet& set, const std::vector<size_t>& indices,
                               const std::vector<double>& mean, const std::vector<double>& std,
                               int out_channels) {
  const int in_c = set.channels;
  if (out_channels != in_c && !(in_c == 1 && out_channels == 3)) {
    throw std::invalid_argument("cannot make " + std::to_string(out_channels) + "-channel tensors from " +
                                std::to_string(in_c) + "-channel images");
  }
  if (mean.size() != static_cast<size_t>(in_c) || std.size() != static_cast<size_t>(in_c)) {
    throw std::invalid_argument("mean/std need one value per image channel (" + std::to_string(in_c) + ")");
  }
  const int64_t n = static_cast<int64_t>(indices.size()), h = set.height, w = set.width;
  torch::Tensor out = torch::empty({n, out_channels, h, w}, torch::kFloat32);
  float* dst = out.data_ptr<float>();
  const int64_t plane = h * w;
  for (int64_t i = 0; i < n; ++i) {
    const size_t idx = indices[static_cast<size_t>(i)];
    if (idx >= set.size()) throw std::out_of_range("image index " + std::to_string(idx) + " out of range");
    const uint8_t* src = set.image(idx);
    float* img = dst + i * out_channels * plane;
    for (int c = 0; c < out_channels; ++c) {
      const int sc = in_c == 1 ? 0 : c;
      const float scale = static_cast<float>(1.0 / (255.0 * std[static_cast<size_t>(sc)]));
      const float offset = static_cast<float>(mean[static_cast<size_t>(sc)] / std[static_cast<size_t>(sc)]);
      float* p = img + c * plane;
      for (int64_t k = 0; k < plane; ++k) p[k] = static_cast<float>(src[k * in_c + sc]) * scale - offset;
    }
  }
  return out;
}

torch::Tensor labels_to_tensor(const ImageSet& set, const std::vector<size_t>& indices) {
  torch::Tensor out = torch::empty({static_cast<int64_t>(indices.size())}, torch::kInt64);
  int64_t* dst = out.data_ptr<int64_t>();
  for (size_t i = 0; i < indices.size(); ++i) dst[i] = set.labels.at(indices[i]);
  return out;
}

}  // namespace agilenn::data
