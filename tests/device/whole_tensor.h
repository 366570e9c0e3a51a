// A straightforward evaluation of a loaded model, layer by layer on whole tensors, with the same
// kernels the runtime streams. Comparing it with agn_runtime_run tests the streaming (row rings,
// row scheduling, padding rows), not the maths.
#pragma once

#include <cstdint>
#include <vector>

#include "device/device_model.h"
#include "device/kernels/kernels.h"

namespace agilenn::testing {

struct WholeResult {
  std::vector<std::vector<int8_t>> layers;  // each layer's full output, HWC
  std::vector<int32_t> pool_sums;           // k
  std::vector<uint8_t> symbols;             // the symbol map (symbol_map_size bytes, codec/symbol_map.h)
  std::vector<int8_t> logits;               // classes
};

WholeResult evaluate_whole(const agn_model& model, const std::vector<uint8_t>& image,
                           const agn_kernel_table& kernels = agn_kernels_reference);

// Little-endian int32 bytes, as the model file stores per-channel arrays.
std::vector<uint8_t> le_bytes(const std::vector<int32_t>& values);

}  // namespace agilenn::testing
