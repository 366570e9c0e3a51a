#include "device/kernels/kernels.h"

extern "C" void agn_split_row_s8_ref(const agn_model* m, const int8_t* row, unsigned row_index, int32_t* pool_sums,
                                     uint8_t* symbols) {
  const unsigned channels = m->feature_channels;
  const unsigned width = m->feature_width;
  const unsigned k = m->k;
  const size_t plane = size_t{m->feature_height} * width;
  const int32_t zero_point = m->local.in_zero_point;
  for (unsigned x = 0; x < width; ++x) {
    const int8_t* pixel = row + x * channels;
    for (unsigned c = 0; c < k; ++c) pool_sums[c] += pixel[c] - zero_point;
    for (unsigned c = k; c < channels; ++c) {
      unsigned symbol = 0;
      for (unsigned t = 0; t + 1 < m->levels; ++t) symbol += m->thresholds[t] <= pixel[c] ? 1u : 0u;
      symbols[(c - k) * plane + size_t{row_index} * width + x] = static_cast<uint8_t>(symbol);
    }
  }
}
