// Host-side description of a device model and its writer (the layout is documented in
// include/agilenn/model_format.h). The exporter fills a ModelSpec from the quantised network and
// calls write_model; the bytes are what the device runtime loads.
//
// Contract: every field mirrors one field of the file; vectors hold the arrays in the file's
// layouts (weights OHWI / [ky][kx][c] / [oc][ic], per-channel arrays of out_channels entries).
// write_model throws std::invalid_argument naming the field when a value does not fit its file
// field or an array length does not match the shapes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agilenn/model_format.h"

namespace agilenn::modelfile {

struct InputSpec {
  int height = 32;
  int width = 32;
  int channels = 3;
  float scale = 1.0f;      // real value of one step of q = pixel - 128
  int32_t zero_point = 0;  // int8 value of real 0
};

enum class LayerOp : uint8_t {
  depthwise = AGN_OP_DEPTHWISE,
  pointwise = AGN_OP_POINTWISE,
  conv = AGN_OP_CONV,
};

struct LayerSpec {
  LayerOp op = LayerOp::pointwise;
  int kernel = 1;
  int stride = 1;
  int padding = 0;
  int in_height = 0, in_width = 0, in_channels = 0;
  int out_height = 0, out_width = 0, out_channels = 0;
  int32_t out_zero_point = 0;
  int32_t act_min = -128;  // int8 clamp of the output (ReLU6: [zp, zp + round(6 / out_scale)])
  int32_t act_max = 127;
  float out_scale = 1.0f;
  std::vector<int8_t> weights;      // layout and count per op (model_format.h)
  std::vector<int32_t> bias;        // out_channels
  std::vector<int32_t> multiplier;  // out_channels, Q31 in [2^30, 2^31) or 0
  std::vector<int32_t> shift;       // out_channels, AGN_MODEL_MIN_SHIFT..AGN_MODEL_MAX_SHIFT
};

struct LocalSpec {
  int in_channels = 0;  // == SplitSpec::k
  int classes = 0;
  int32_t pool_multiplier = 0;
  int32_t pool_shift = 0;
  int32_t pool_zero_point = 0;
  float pool_scale = 1.0f;
  int32_t logits_zero_point = 0;
  float logits_scale = 1.0f;
  std::vector<int8_t> weights;      // [classes][in_channels]
  std::vector<int32_t> bias;        // classes
  std::vector<int32_t> multiplier;  // classes
  std::vector<int32_t> shift;       // classes
};

struct SplitSpec {
  int k = 0;
  int levels = 8;
  float alpha = 0.5f;
  std::vector<int8_t> thresholds;   // levels - 1, nondecreasing
  std::vector<float> level_values;  // levels
};

struct ModelSpec {
  InputSpec input;
  std::vector<LayerSpec> layers;  // execution order
  LocalSpec local;
  SplitSpec split;
  std::vector<uint8_t> rans_model;  // agn_rans_model_build bytes; empty = no RANS section
  std::string metadata;             // empty = no METADATA section
};

// Serialises `spec` (sections in the order INPUT, LAYER..., LOCAL, SPLIT, RANS, METADATA), checks
// the result with the device runtime's loader (every shape and quantisation rule of
// model_format.h; its message names the section and field), fills in the arena size the runtime
// needs with every codec the model supports, and the CRC.
std::vector<uint8_t> write_model(const ModelSpec& spec);

// A real multiplier as the file stores it: real ~= multiplier * 2^(shift - 31) with multiplier
// in [2^30, 2^31) (TFLite's QuantizeMultiplier). Values too small for the shift range give
// {0, 0}; throws std::invalid_argument for negative, non-finite or too large (>= 2^30) values.
struct QuantizedMultiplier {
  int32_t multiplier = 0;
  int32_t shift = 0;
};
QuantizedMultiplier quantize_multiplier(double real);
// The real value a multiplier/shift pair stands for (exact in double).
double dequantize_multiplier(int32_t multiplier, int32_t shift);

}  // namespace agilenn::modelfile
