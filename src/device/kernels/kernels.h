// The kernel seam: the runtime calls every kernel through an agn_kernel_table, so an optimised
// table (e.g. Cortex-M7 DSP versions, one file per kernel beside reference/) can replace the
// reference one, bit-exact with it. Kernels never allocate and never fail: the model was
// validated at load, so they run unchecked.
//
// Row contract (the runtime streams the extractor one output row at a time):
//   - A tensor row is width * channels int8 values, HWC (pixel x, channel c at x * channels + c).
//   - A conv row kernel computes output row r of `layer` from in_rows[0..kernel), where
//     in_rows[j] is input row r * stride - padding + j, or null when that row is padding.
//     Columns outside the row are padding too. Padding contributes nothing (q = zero point).
#ifndef AGILENN_DEVICE_KERNELS_KERNELS_H
#define AGILENN_DEVICE_KERNELS_KERNELS_H

#include <stdint.h>

#include "device/device_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*agn_conv_row_fn)(const agn_layer* layer, const int8_t* const* in_rows, int8_t* out_row);

// Consumes feature-map row `row_index`: adds (q - zp) of channels [0, k) to pool_sums[0..k) and
// writes the symbols of channels [k, C) at symbols[(c - k) * H * W + row_index * W + x]
// (symbol = number of thresholds <= q).
typedef void (*agn_split_row_fn)(const agn_model* model, const int8_t* row, unsigned row_index,
                                 int32_t* pool_sums, uint8_t* symbols);

// The Local NN from the pooling sums: pooled[0..k) = requantised means (scratch the caller
// provides), then logits[0..classes) from the dense layer.
typedef void (*agn_local_fn)(const agn_local_layer* local, const int32_t* pool_sums, int8_t* pooled,
                             int8_t* logits);

typedef struct agn_kernel_table {
  agn_conv_row_fn depthwise;
  agn_conv_row_fn pointwise;
  agn_conv_row_fn conv;
  agn_split_row_fn split_row;
  agn_local_fn local;
} agn_kernel_table;

// Reference kernels (kernels/reference/): plain loops that read like the maths.
void agn_conv_dw_s8_ref(const agn_layer* layer, const int8_t* const* in_rows, int8_t* out_row);
void agn_conv_pw_s8_ref(const agn_layer* layer, const int8_t* const* in_rows, int8_t* out_row);
void agn_conv_s8_ref(const agn_layer* layer, const int8_t* const* in_rows, int8_t* out_row);
void agn_split_row_s8_ref(const agn_model* model, const int8_t* row, unsigned row_index, int32_t* pool_sums,
                          uint8_t* symbols);
void agn_local_s8_ref(const agn_local_layer* local, const int32_t* pool_sums, int8_t* pooled, int8_t* logits);

extern const agn_kernel_table agn_kernels_reference;

// The conv row kernel of `table` for layer op `op` (agn_layer_op).
agn_conv_row_fn agn_kernel_for_op(const agn_kernel_table* table, unsigned op);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_DEVICE_KERNELS_KERNELS_H
