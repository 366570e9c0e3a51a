// The exporter's integer simulation of a device model: plain loops over whole tensors that follow
// the arithmetic of include/agilenn/model_format.h ("Arithmetic"), using export/quantize.h's
// fixed-point functions. It is written independently of the device runtime (src/device, which
// streams rows and shares no code with this file) so that the golden vectors it produces are a
// real check of the runtime, and it counts the training-set symbols for the rANS tables.
#pragma once

#include <cstdint>
#include <vector>

#include "modelfile/model_spec.h"

namespace agilenn::exporter {

struct Simulation {
  std::vector<std::vector<int8_t>> layers;  // each extractor layer's output, HWC (row, col, channel)
  std::vector<int8_t> pooled;               // Local NN: k pooled features
  std::vector<int8_t> logits;               // Local NN: classes
  std::vector<uint8_t> symbols;             // (C - k) * H * W, channel-major
};

// Runs `spec` on one HWC uint8 image of spec.input's shape. Throws std::invalid_argument when the
// spec's shapes do not chain (layer i's input is not layer i-1's output, k out of range, array
// lengths that do not match).
Simulation simulate(const modelfile::ModelSpec& spec, const uint8_t* image);

// The symbol of an int8 feature value: the number of thresholds t with t <= q.
uint8_t quantize_symbol(const std::vector<int8_t>& thresholds, int8_t q);

}  // namespace agilenn::exporter
