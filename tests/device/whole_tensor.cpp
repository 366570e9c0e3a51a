#include "device/whole_tensor.h"

#include <cstring>

#include "common/byte_order.h"
#include "device/kernels/cm7/cm7_kernels.h"

namespace agilenn::testing {

std::vector<uint8_t> le_bytes(const std::vector<int32_t>& values) {
  std::vector<uint8_t> out(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i) agn_store_u32le(out.data() + 4 * i, static_cast<uint32_t>(values[i]));
  return out;
}

namespace {

// Whether layer i's kernel of `kernels` writes its rows packed (the Cortex-M7 tables:
// cm7_kernels.h, Layer::packed_out).
bool packed_out(const agn_kernel_table& kernels, const void* state, unsigned i) {
  return (&kernels == &agn_kernels_cm7 || &kernels == &agn_kernels_cm7_unfused) &&
         device::cm7::state_of(state).layer[i].packed_out != 0;
}

}  // namespace

WholeResult evaluate_whole(const agn_model& m, const std::vector<uint8_t>& image, const agn_kernel_table& kernels) {
  WholeResult result;
  std::vector<uint32_t> state(kernels.state_size != nullptr ? kernels.state_size(&m) / 4 + 1 : 0);
  if (kernels.prepare != nullptr) kernels.prepare(&m, state.data());
  const void* st = kernels.prepare != nullptr ? state.data() : nullptr;
  result.pool_sums.assign(m.k, 0);
  result.symbols.assign(m.symbol_map_size, 0xFF);
  if (kernels.constant_planes != nullptr) kernels.constant_planes(&m, st, result.symbols.data());
  std::vector<int8_t> scratch(size_t{m.feature_width} * m.feature_channels);
  std::vector<int8_t> input(image.size());
  for (size_t i = 0; i < image.size(); ++i) input[i] = static_cast<int8_t>(image[i] - 128);
  size_t in_row = size_t{m.input_width} * m.input_channels;
  for (unsigned i = 0; i < m.layer_count; ++i) {
    const agn_layer& l = m.layers[i];
    // Rows as the next layer's ring holds them (kernels.h: ring_row_bytes).
    const size_t out_row = i + 1 < m.layer_count && kernels.ring_row_bytes != nullptr
                               ? kernels.ring_row_bytes(&m.layers[i + 1])
                               : size_t{l.out_width} * l.out_channels;
    std::vector<int8_t> output(out_row * l.out_height);
    for (int r = 0; r < l.out_height; ++r) {
      std::vector<const int8_t*> rows(l.kernel);
      for (int j = 0; j < l.kernel; ++j) {
        const int y = r * l.stride - l.padding + j;
        rows[j] = y < 0 || y >= l.in_height ? nullptr : input.data() + y * in_row;
      }
      if (i + 1 == m.layer_count && kernels.last_split != nullptr) {
        kernels.last_split(&m, st, rows.data(), static_cast<unsigned>(r), scratch.data(), result.pool_sums.data(),
                           result.symbols.data());
      } else {
        agn_kernel_for_op(&kernels, l.op)(&l, st, rows.data(), output.data() + r * out_row);
      }
    }
    // HWC for the comparison with the reference.
    std::vector<int8_t> hwc(size_t{l.out_height} * l.out_width * l.out_channels);
    const bool packed = packed_out(kernels, st, i);
    const size_t pixel = 2 * size_t{(l.out_channels + 1u) / 2u};  // halfwords of a packed pixel
    for (size_t y = 0; y < l.out_height; ++y) {
      for (size_t x = 0; x < l.out_width; ++x) {
        for (size_t c = 0; c < l.out_channels; ++c) {
          int16_t v = 0;
          if (packed) {
            std::memcpy(&v, output.data() + y * out_row + 2 * (pixel * x + c), 2);
          } else {
            v = output[y * out_row + x * l.out_channels + c];
          }
          hwc[(y * l.out_width + x) * l.out_channels + c] = static_cast<int8_t>(v);
        }
      }
    }
    result.layers.push_back(hwc);
    input = output;
    in_row = out_row;
  }
  const size_t row = size_t{m.feature_width} * m.feature_channels;
  for (unsigned y = 0; kernels.last_split == nullptr && y < m.feature_height; ++y) {
    kernels.split_row(&m, st, input.data() + y * row, y, result.pool_sums.data(), result.symbols.data());
  }
  std::vector<int8_t> pooled(m.k);
  result.logits.resize(m.local.classes);
  kernels.local(&m.local, st, result.pool_sums.data(), pooled.data(), result.logits.data());
  return result;
}

}  // namespace agilenn::testing
