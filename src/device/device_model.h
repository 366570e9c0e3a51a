// Loading and validating a device model file (layout: include/agilenn/model_format.h).
//
// agn_model_load checks everything once so the hot path needs no checks: file size, magic,
// version, CRC-32, the section table (bounds, alignment, order, overlaps, required and duplicate
// sections), every shape (the layer chain, the output size formula, weight and array sizes), the
// quantisation parameters (zero points and clamps in int8, multipliers in [2^30, 2^31) or 0,
// shifts in range), the split (1 <= k < C, 2..16 levels, sorted thresholds, alpha in [0, 1]) and the RANS
// section's header (levels and channels; its CRC and tables are checked by agn_runtime_init).
// It does not look at the stored arena size (advisory; agn_runtime_init checks the real fit).
//
// The model keeps pointers into `data`: the bytes must stay valid and unchanged while the model
// is used (on the MCU they are a const array in flash). int32 arrays are read with
// common/byte_order.h, so `data` needs no alignment and the host's byte order does not matter.
// agn_model is a fixed-size caller-owned struct (no heap).
#ifndef AGILENN_DEVICE_DEVICE_MODEL_H
#define AGILENN_DEVICE_DEVICE_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "agilenn/model_format.h"
#include "common/byte_order.h"
#include "common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AGN_MODEL_ERROR_SIZE 160

// One extractor layer, as the kernels see it. The input quantisation is the previous tensor's.
typedef struct agn_layer {
  uint8_t op;  // agn_layer_op
  uint8_t kernel;
  uint8_t stride;
  uint8_t padding;
  uint16_t in_height, in_width, in_channels;
  uint16_t out_height, out_width, out_channels;
  int32_t in_zero_point;
  int32_t out_zero_point;
  int32_t act_min, act_max;
  float out_scale;
  const int8_t* weights;       // layout per op (model_format.h)
  const uint8_t* bias;         // out_channels little-endian i32 (read with agn_i32_at)
  const uint8_t* multiplier;   // out_channels little-endian i32
  const uint8_t* shift;        // out_channels little-endian i32
} agn_layer;

// The Local NN: global average pooling of channels [0, k) then dense k -> classes.
typedef struct agn_local_layer {
  uint16_t in_channels;  // k
  uint16_t classes;
  uint32_t pool_count;   // H * W of the feature map
  int32_t in_zero_point; // the feature map's zero point
  int32_t pool_multiplier, pool_shift, pool_zero_point;
  float pool_scale;
  int32_t logits_zero_point;
  float logits_scale;
  const int8_t* weights;  // [classes][k]
  const uint8_t* bias;    // classes little-endian i32
  const uint8_t* multiplier;
  const uint8_t* shift;
} agn_local_layer;

typedef struct agn_model {
  const uint8_t* data;
  size_t size;
  uint32_t stored_arena_size;  // the header's advisory value
  uint16_t input_height, input_width, input_channels;
  float input_scale;
  int32_t input_zero_point;
  uint16_t layer_count;
  agn_layer layers[AGN_MODEL_MAX_LAYERS];
  agn_local_layer local;
  // The split and the quantizer.
  uint16_t k;
  uint16_t levels;
  float alpha;
  const int8_t* thresholds;      // levels - 1, nondecreasing
  const uint8_t* level_values;   // levels little-endian f32
  // Feature map geometry (the last layer's output).
  uint16_t feature_height, feature_width, feature_channels;
  uint32_t symbol_count;         // (feature_channels - k) * feature_height * feature_width
  uint32_t symbol_map_size;      // bytes of their symbol map (codec/symbol_map.h, 4 bits each)
  const uint8_t* rans;           // RANS section or null
  uint32_t rans_size;
  const uint8_t* metadata;       // METADATA section (not terminated) or null
  uint32_t metadata_size;
  char error[AGN_MODEL_ERROR_SIZE];  // why the last load failed ("" after success)
} agn_model;

// Errors: AGN_ERR_ARG (null), AGN_ERR_TRUNCATED (shorter than the header or its file size),
// AGN_ERR_FORMAT (magic, version, file size larger than the buffer, flags), AGN_ERR_CHECKSUM,
// AGN_ERR_CORRUPT (section table or contents). model->error says what and where.
agn_status agn_model_load(agn_model* model, const uint8_t* data, size_t size);

// Multiply-accumulates of one inference: each extractor layer, then the Local NN's dense layer
// (pooling adds are not MACs).
typedef struct agn_model_macs {
  uint64_t layer[AGN_MODEL_MAX_LAYERS];
  uint64_t local_dense;
  uint64_t total;
} agn_model_macs;
void agn_model_count_macs(const agn_model* model, agn_model_macs* macs);

// Element i of a little-endian int32 array in the model (i32 and f32 arrays of the file).
static inline int32_t agn_i32_at(const uint8_t* array, size_t i) {
  return (int32_t)agn_load_u32le(array + 4 * i);
}
float agn_f32_at(const uint8_t* array, size_t i);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_DEVICE_DEVICE_MODEL_H
