#include "codec/symbol_map.h"
#include "device/kernels/kernels.h"

extern "C" void agn_split_row_s8_ref(const agn_model* m, const void*, const int8_t* row, unsigned row_index, int32_t* pool_sums,
                                     uint8_t* symbols) {
  const unsigned channels = m->feature_channels;
  const unsigned width = m->feature_width;
  const unsigned k = m->k;
  const size_t row_bytes = agn_symbol_row_bytes(width);
  const int32_t zero_point = m->local.in_zero_point;
  for (unsigned x = 0; x < width; ++x) {
    const int8_t* pixel = row + x * channels;
    for (unsigned c = 0; c < k; ++c) pool_sums[c] += pixel[c] - zero_point;
  }
  for (unsigned c = k; c < channels; ++c) {
    uint8_t* out = symbols + (size_t{c - k} * m->feature_height + row_index) * row_bytes;
    for (unsigned x = 0; x < width; ++x) {
      unsigned symbol = 0;
      for (unsigned t = 0; t + 1 < m->levels; ++t) symbol += m->thresholds[t] <= row[x * channels + c] ? 1u : 0u;
      // Two symbols a byte, the even column in the low nibble.
      if (x % 2 == 0) {
        out[x / 2] = static_cast<uint8_t>(symbol);
      } else {
        out[x / 2] = static_cast<uint8_t>(out[x / 2] | symbol << 4);
      }
    }
  }
}
