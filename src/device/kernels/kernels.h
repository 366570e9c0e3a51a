// The kernel seam: the runtime calls every kernel through an agn_kernel_table, so an optimised
// table (e.g. Cortex-M7 DSP versions, one file per kernel beside reference/) can replace the
// reference one, bit-exact with it. Kernels never allocate and never fail: the model was
// validated at load, so they run unchecked.
//
// Row contract (the runtime streams the extractor one output row at a time):
//   - A tensor row is width * channels int8 values, HWC (pixel x, channel c at x * channels + c),
//     unless the table says otherwise for rows that only its own kernels write and read
//     (ring_row_bytes below; the image's rows and the last layer's are always HWC).
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

// `state` is what the table's prepare() wrote for the model (null for tables without one).
typedef void (*agn_conv_row_fn)(const agn_layer* layer, const void* state, const int8_t* const* in_rows,
                                int8_t* out_row);

// Consumes feature-map row `row_index`: adds (q - zp) of channels [0, k) to pool_sums[0..k) and
// writes the symbols of channels [k, C) (symbol = number of thresholds <= q) as row
// (c - k) * H + row_index of the symbol map `symbols` (codec/symbol_map.h, 4 bits each).
typedef void (*agn_split_row_fn)(const agn_model* model, const void* state, const int8_t* row, unsigned row_index,
                                 int32_t* pool_sums, uint8_t* symbols);

// The last extractor layer and the split in one step: from the last layer's input rows (conv
// row contract) straight to the pooling sums and symbols of feature-map row `row_index`, as
// conv row + split row would give them. `scratch_row` has room for one feature-map row.
typedef void (*agn_last_split_fn)(const agn_model* model, const void* state, const int8_t* const* in_rows,
                                  unsigned row_index, int8_t* scratch_row, int32_t* pool_sums, uint8_t* symbols);

// The Local NN from the pooling sums: pooled[0..k) = requantised means (scratch the caller
// provides), then logits[0..classes) from the dense layer.
typedef void (*agn_local_fn)(const agn_local_layer* local, const void* state, const int32_t* pool_sums,
                             int8_t* pooled, int8_t* logits);

typedef struct agn_kernel_table {
  agn_conv_row_fn depthwise;
  agn_conv_row_fn pointwise;
  agn_conv_row_fn conv;
  agn_split_row_fn split_row;
  agn_local_fn local;
  // Optional (null: not used).
  agn_last_split_fn last_split;  // used instead of the last layer's kernel + split_row
  // Bytes of per-model state (precomputed parameters) the kernels read; the runtime keeps it in
  // its arena (4-byte aligned) and calls prepare once at init.
  size_t (*state_size)(const agn_model* model);
  void (*prepare)(const agn_model* model, void* state);
  // Optional: bytes of one row of a layer's input ring, at least in_width * in_channels (null:
  // that, the HWC row). A table whose kernels pass some rows between them in another layout (the
  // Cortex-M7 depthwise kernel writes its rows packed for the pointwise one) says here how much
  // room they take; the runtime sizes and indexes its rings with it.
  size_t (*ring_row_bytes)(const agn_layer* layer);
  // Optional: for kernels that leave the planes of constant remote channels alone (the same
  // symbols for every image; the Cortex-M7 fused kernel finds them from the weights). Called once
  // at init: writes those planes of `symbols` and returns the mask of the ones that are all zero
  // (bit j: remote channel j, j < 64), which the encoder then need not read.
  uint64_t (*constant_planes)(const agn_model* model, const void* state, uint8_t* symbols);
} agn_kernel_table;

// Reference kernels (kernels/reference/): plain loops that read like the maths.
// They need no state (pass null). agn_conv_s8_ref computes a row of any layer op (depthwise,
// pointwise, general convolution).
void agn_conv_s8_ref(const agn_layer* layer, const void* state, const int8_t* const* in_rows, int8_t* out_row);
void agn_split_row_s8_ref(const agn_model* model, const void* state, const int8_t* row, unsigned row_index,
                          int32_t* pool_sums, uint8_t* symbols);
void agn_local_s8_ref(const agn_local_layer* local, const void* state, const int32_t* pool_sums, int8_t* pooled,
                      int8_t* logits);

extern const agn_kernel_table agn_kernels_reference;

// Cortex-M7 kernels (kernels/cm7/): DSP-extension SIMD through ACLE (portable C elsewhere, so
// the host tests check them too), exact fast requantisation with per-channel parameters
// prepared at init, bit-exact with the reference table. agn_kernels_cm7 also fuses the last
// (pointwise) layer with the split: the remote channels' accumulators are compared with int32
// thresholds (no requantisation) and the k local channels are pooled on the fly.
// agn_kernels_cm7_unfused is the same without the fusion (per-stage attribution, tests).
extern const agn_kernel_table agn_kernels_cm7;
extern const agn_kernel_table agn_kernels_cm7_unfused;

// Every kernel table with its name, the reference first; benches and tests that compare the
// tables iterate over this list (kernels/kernel_tables.cpp).
typedef struct agn_named_kernel_table {
  const char* name;
  const agn_kernel_table* kernels;
} agn_named_kernel_table;
#define AGN_KERNEL_TABLE_COUNT 3
extern const agn_named_kernel_table agn_kernel_tables[AGN_KERNEL_TABLE_COUNT];

// The conv row kernel of `table` for layer op `op` (agn_layer_op).
agn_conv_row_fn agn_kernel_for_op(const agn_kernel_table* table, unsigned op);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_DEVICE_KERNELS_KERNELS_H
