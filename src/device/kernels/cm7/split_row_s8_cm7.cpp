// The split of one feature-map row for the Cortex-M7 (unfused): pooling sums of the k local
// channels, and each remote value's symbol from a 256-entry table built at init, two symbols per
// byte store.
#include "codec/symbol_map.h"
#include "device/kernels/cm7/cm7_kernels.h"

namespace cm7 = agilenn::device::cm7;

extern "C" void agn_split_row_s8_cm7(const agn_model* m, const void* state, const int8_t* row, unsigned row_index,
                                     int32_t* pool_sums, uint8_t* symbols) {
  const uint8_t* symbol_of = cm7::state_of(state).symbol_of + 128;
  const unsigned channels = m->feature_channels, width = m->feature_width, k = m->k;
  const size_t row_bytes = agn_symbol_row_bytes(width);
  const size_t plane = size_t{m->feature_height} * row_bytes;
  const int32_t zero_point = m->local.in_zero_point;
  uint8_t* out = symbols + size_t{row_index} * row_bytes;
  for (unsigned c = 0; c < k; ++c) {
    int32_t sum = 0;
    for (unsigned x = 0; x < width; ++x) sum += row[x * channels + c];
    pool_sums[c] += sum - static_cast<int32_t>(width) * zero_point;
  }
  for (unsigned c = k; c < channels; ++c, out += plane) {
    const int8_t* v = row + c;
    uint8_t* o = out;
    for (unsigned x = 0; x + 1 < width; x += 2, v += 2 * channels) {
      *o++ = static_cast<uint8_t>(symbol_of[v[0]] | symbol_of[v[channels]] << 4);
    }
    if (width & 1u) *o = symbol_of[v[0]];
  }
}
