#include "device/whole_tensor.h"

#include "common/byte_order.h"

namespace agilenn::testing {

std::vector<uint8_t> le_bytes(const std::vector<int32_t>& values) {
  std::vector<uint8_t> out(values.size() * 4);
  for (size_t i = 0; i < values.size(); ++i) agn_store_u32le(out.data() + 4 * i, static_cast<uint32_t>(values[i]));
  return out;
}

WholeResult evaluate_whole(const agn_model& m, const std::vector<uint8_t>& image, const agn_kernel_table& kernels) {
  WholeResult result;
  std::vector<uint32_t> state(kernels.state_size != nullptr ? kernels.state_size(&m) / 4 + 1 : 0);
  if (kernels.prepare != nullptr) kernels.prepare(&m, state.data());
  const void* st = kernels.prepare != nullptr ? state.data() : nullptr;
  result.pool_sums.assign(m.k, 0);
  result.symbols.assign(m.symbol_map_size, 0xFF);
  std::vector<int8_t> scratch(size_t{m.feature_width} * m.feature_channels);
  std::vector<int8_t> input(image.size());
  for (size_t i = 0; i < image.size(); ++i) input[i] = static_cast<int8_t>(image[i] - 128);
  for (unsigned i = 0; i < m.layer_count; ++i) {
    const agn_layer& l = m.layers[i];
    const size_t in_row = size_t{l.in_width} * l.in_channels;
    const size_t out_row = size_t{l.out_width} * l.out_channels;
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
    result.layers.push_back(output);
    input = output;
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
