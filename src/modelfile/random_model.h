// Models with random weights and consistent quantisation parameters, for tests and benchmarks
// of the device runtime before (and independently of) a trained export. Deterministic per seed.
// Multipliers are chosen so that activations spread over the int8 range instead of saturating.
#pragma once

#include <cstdint>
#include <random>

#include "modelfile/model_spec.h"

namespace agilenn::modelfile {

// One layer of `op` on an in_height x in_width x in_channels input; relu6 clamps the output to
// [zp, zp + ~6/scale] like a folded BN + ReLU6, otherwise the full int8 range.
LayerSpec random_layer(LayerOp op, int kernel, int stride, int padding, int in_height, int in_width,
                       int in_channels, int out_channels, bool relu6, std::mt19937& rng);

struct RandomModelOptions {
  int height = 32;
  int width = 32;
  int in_channels = 3;
  int stride = 1;         // of the first depthwise layer
  int mid_channels = 4;
  int out_channels = 24;  // C
  int k = 5;
  int levels = 8;         // L
  int classes = 10;
  bool rans = true;       // add a RANS section with random tables
  // Shaped like an export of a rate-trained model: the pointwise layers clamped as the exporter
  // writes ReLU6 ([-128, 127], zero point -128, so the Cortex-M7 kernels take their assembly
  // paths), thresholds where the last layer's values fall, and three remote channels dead (a bias
  // no input can offset: two at the bottom of the clamp, one at the top) where C - k >= 3.
  bool export_like = false;
};

// The AgileNN extractor of src/train/models.cpp: dw 3x3 (stride) -> pw -> ReLU6 -> dw 3x3 ->
// pw -> ReLU6, then the Local NN on k channels and an L-level quantizer.
ModelSpec random_model(const RandomModelOptions& options, uint32_t seed);

// Replaces spec.local and spec.split (and the RANS tables) for the current last layer.
void random_head(ModelSpec& spec, int k, int levels, int classes, bool rans, std::mt19937& rng);

}  // namespace agilenn::modelfile
