// The device model file: one flat, checksummed byte string that holds the int8 AgileNN device
// half (feature extractor, split, Local NN, feature quantizer thresholds, codec tables). The
// exporter writes it (src/modelfile write_model), the runtime (src/device) reads it in place, so on
// the MCU the weights stay in flash. Everything here is C so firmware and host share it.
//
// File layout (all multi-byte fields little-endian, common/byte_order.h; offsets from byte 0):
//   1. Header, AGN_MODEL_HEADER_SIZE = 20 bytes:
//        0: u32 magic 0x4D4E4741 (bytes "AGNM")
//        4: u16 version = AGN_MODEL_VERSION (1)
//        6: u16 section count N, 1..AGN_MODEL_MAX_SECTIONS
//        8: u32 file size in bytes, CRC included
//       12: u32 arena size: bytes of caller arena the runtime needs for this model
//           (agn_model_arena_size; write_model fills it in)
//       16: u32 flags, 0 (reserved)
//   2. Section table at byte 20: N entries of 12 bytes: u32 type, u32 offset, u32 size.
//      Entries are sorted by offset; every payload starts at a multiple of 4, at or after the end
//      of the table and of the previous payload, and ends at or before the CRC. Gaps are zero bytes.
//   3. Section payloads (types and layouts below).
//   4. Last 4 bytes: u32 CRC-32 (common/crc32.h) of every byte before it.
//
// Sections (each type at most once except LAYER; INPUT, LAYER, LOCAL and SPLIT are required;
// unknown types are rejected, a new type means a new version). Inside a payload, "pad4" means
// zero bytes up to the next offset that is a multiple of 4 from the payload start, so every
// int32/f32 array is 4-byte aligned in the file. f32 is IEEE-754 binary32 stored like a u32.
//   AGN_SECTION_INPUT (1), 16 bytes: the image the device feeds in.
//        0: u16 height, u16 width, u16 channels (pixels are u8, HWC, row-major)
//        6: u16 reserved 0
//        8: f32 scale, 12: i32 zero_point (int8) of the int8 input tensor.
//      The runtime maps pixel p to the int8 value q = p - 128; scale and zero_point say what q
//      means (the exporter folds the normalisation into the first layer) and are the input
//      quantisation of the first layer.
//   AGN_SECTION_LAYER (2), one per extractor layer, in execution order. Layer i's input is layer
//   i-1's output (layer 0's: the INPUT section), with that tensor's zero point.
//        0: u8 op (agn_layer_op), u8 kernel K, u8 stride S, u8 padding P
//        4: u16 in_height, in_width, in_channels, out_height, out_width, out_channels
//       16: i32 out_zero_point, i32 act_min, i32 act_max (int8 clamp; ReLU6 is a clamp here)
//       28: f32 out_scale
//       32: i8 weights, pad4, i32 bias[out_channels], i32 multiplier[out_channels],
//           i32 shift[out_channels]. Payload size is exactly 32 + pad4(W) + 12 * out_channels.
//      Weight layouts and counts W (weights are symmetric per output channel, zero point 0):
//        AGN_OP_DEPTHWISE: [ky][kx][c], W = K*K*C, in_channels == out_channels (multiplier 1)
//        AGN_OP_POINTWISE: [oc][ic], W = out_c*in_c; K = 1, S = 1, P = 0
//        AGN_OP_CONV:      [oc][ky][kx][ic] (OHWI), W = out_c*K*K*in_c
//      Shapes: 1 <= K <= AGN_MODEL_MAX_KERNEL, 1 <= S <= AGN_MODEL_MAX_STRIDE, P < K,
//      out = (in + 2P - K) / S + 1 (floor, must be >= 1). Padded pixels hold the input zero point.
//   AGN_SECTION_LOCAL (3): the Local NN on channels [0, k) of the last layer's output.
//        0: u16 in_channels (== k), u16 classes
//        4: i32 pool_multiplier, i32 pool_shift, i32 pool_zero_point, f32 pool_scale
//       20: i32 logits_zero_point, f32 logits_scale
//       28: i8 weights[classes][k], pad4, i32 bias[classes], i32 multiplier[classes],
//           i32 shift[classes]. Payload size is exactly 28 + pad4(classes*k) + 12 * classes.
//   AGN_SECTION_SPLIT (4): the split and the feature quantizer.
//        0: u16 k (1 <= k < C, C = the last layer's out_channels), u16 levels L (2..16: the device
//           holds symbols in 4 bits, src/codec/symbol_map.h)
//        4: f32 alpha (final = alpha * local + (1 - alpha) * remote), in [0, 1]
//        8: i8 thresholds[L-1], nondecreasing, pad4, f32 level_values[L] (the real value the
//           server substitutes for each symbol). Size exactly 8 + pad4(L-1) + 4L.
//   AGN_SECTION_RANS (5), optional: a rANS model (codec/rans.h, version 2: context tables of
//      zero-run events, written by agn_rans_model_build) for the C - k remote channels of the
//      last layer's H x W map and L levels; its dimensions must match the model's.
//   AGN_SECTION_METADATA (6), optional: UTF-8 text for host tools (the exporter writes JSON:
//      run, data set, class names). The runtime does not read it.
//
// Arithmetic (TFLite int8 semantics; the exporter's integer simulation must match exactly):
//   1. Requantisation of an int32 accumulator acc with Q31 multiplier M (M == 0 or
//      2^30 <= M < 2^31) and shift s (AGN_MODEL_MIN_SHIFT..AGN_MODEL_MAX_SHIFT):
//        x = saturate_int32(acc * 2^max(s, 0))        (saturation only matters for huge acc)
//        y = SaturatingRoundingDoublingHighMul(x, M)  = (x * M + nudge) / 2^31 in int64, C division
//            (truncation toward zero), nudge = 2^30 if x * M >= 0 else 1 - 2^30 (so ties go toward
//            +infinity); the one overflow case x == M == INT32_MIN gives INT32_MAX
//        z = RoundingDivideByPOT(y, max(-s, 0))       = y / 2^e rounded half away from zero
//        out = clamp(zero_point_out + z, act_min, act_max)
//   2. Conv layers: acc = bias[oc] + sum w * (q_in - zp_in) over the window (padding: q_in = zp_in,
//      so it adds nothing), then requantisation with that channel's multiplier and shift.
//   3. Global average pooling over the H*W pixels of channel c < k: acc = sum (q - zp_feature),
//      then requantisation with pool_multiplier/pool_shift/pool_zero_point, clamp [-128, 127].
//      (The exporter folds 1 / (H*W) into the multiplier.)
//   4. Dense: acc = bias[j] + sum_i w[j][i] * (pooled_i - pool_zero_point), requantised with
//      class j's multiplier/shift and logits_zero_point, clamp [-128, 127].
//   5. Quantizer: a feature value q (int8, channel c >= k) becomes the symbol
//      s = number of thresholds t with t <= q (0..L-1). Symbols are stored channel-major:
//      index (c - k) * H*W + row * W + col, the layout codec/rans.h fixes; the device holds them
//      4 bits each (codec/symbol_map.h).
#ifndef AGILENN_MODEL_FORMAT_H
#define AGILENN_MODEL_FORMAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AGN_MODEL_MAGIC 0x4D4E4741u  // "AGNM" little-endian
#define AGN_MODEL_VERSION 1
#define AGN_MODEL_HEADER_SIZE 20
#define AGN_MODEL_SECTION_ENTRY_SIZE 12
#define AGN_MODEL_CRC_SIZE 4
#define AGN_MODEL_MAX_SECTIONS 64
#define AGN_MODEL_MAX_LAYERS 16
#define AGN_MODEL_MAX_KERNEL 7
#define AGN_MODEL_MAX_STRIDE 4
#define AGN_MODEL_MAX_LEVELS 16  // the device holds each symbol in 4 bits
#define AGN_MODEL_MIN_SHIFT (-31)
#define AGN_MODEL_MAX_SHIFT 30

// Header field offsets.
#define AGN_MODEL_OFFSET_MAGIC 0
#define AGN_MODEL_OFFSET_VERSION 4
#define AGN_MODEL_OFFSET_SECTION_COUNT 6
#define AGN_MODEL_OFFSET_FILE_SIZE 8
#define AGN_MODEL_OFFSET_ARENA_SIZE 12
#define AGN_MODEL_OFFSET_FLAGS 16

// Fixed part sizes of the sections (the arrays follow).
#define AGN_MODEL_INPUT_SIZE 16
#define AGN_MODEL_LAYER_FIXED_SIZE 32
#define AGN_MODEL_LOCAL_FIXED_SIZE 28
#define AGN_MODEL_SPLIT_FIXED_SIZE 8

typedef enum agn_section_type {
  AGN_SECTION_INPUT = 1,
  AGN_SECTION_LAYER = 2,
  AGN_SECTION_LOCAL = 3,
  AGN_SECTION_SPLIT = 4,
  AGN_SECTION_RANS = 5,
  AGN_SECTION_METADATA = 6,
} agn_section_type;

typedef enum agn_layer_op {
  AGN_OP_DEPTHWISE = 1,
  AGN_OP_POINTWISE = 2,
  AGN_OP_CONV = 3,
} agn_layer_op;

// Rounds n up to a multiple of 4 (the "pad4" above).
static inline uint32_t agn_model_pad4(uint32_t n) { return (n + 3u) & ~3u; }

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_MODEL_FORMAT_H
