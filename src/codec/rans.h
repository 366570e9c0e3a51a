// Static-model rANS (range asymmetric numeral systems, J. Duda 2013) over L-level symbols, with
// one frequency table per feature channel. Beats LZW on the quantized feature maps because the
// per-channel symbol statistics are learned on the training set and shipped with the model.
//
// Coder parameters:
//   1. State x is 32-bit and lives in [2^23, 2^31) between symbols; renormalisation moves whole
//      bytes. M = 2^scale_bits (scale_bits in [8, 15], default 12) is the frequency total.
//   2. Encoding symbol s with frequency f and cumulative start c:
//      while x >= 2^(31 - scale_bits) * f: output byte (x & 0xFF), x >>= 8;
//      x = (x / f) * M + (x % f) + c.
//   3. Symbols are encoded last to first, starting from x = 2^23; decoding runs first to last.
//
// Symbol layout (fixed, known to both sides): channel-major. Symbol j of a map with
// plane_size = H*W symbols per channel uses the table of channel j / plane_size; a C x H x W map
// is encoded as count = C * H * W symbols with plane_size = H * W.
//
// Stream format (agn_rans_encode output):
//   1. Bytes 0..3: the final encoder state, u32 little-endian, in [2^23, 2^31).
//   2. Then the renormalisation bytes in the order the decoder reads them.
//   Nothing else: the symbol count and plane size travel in the caller's frame header. The
//   decoder checks that it ends on exactly the last byte with x = 2^23; anything else is
//   corrupt (this catches truncation and most corruption; it is not a checksum).
//
// Model serialisation (agn_rans_model_save; all multi-byte fields little-endian):
//   1. u32 magic 0x4D534E41 (bytes "ANSM")
//   2. u16 version = 1
//   3. u8 levels L (2..AGN_RANS_MAX_LEVELS), u8 scale_bits (8..15)
//   4. u16 channels C (1..AGN_RANS_MAX_CHANNELS), u16 reserved = 0
//   5. C * L u16 frequencies, channel-major (channel 0 symbols 0..L-1, channel 1, ...)
//   6. u32 CRC-32 (common/crc32.h) of bytes 1..5
//   Total agn_rans_model_serialized_size(L, C) = 12 + 2*C*L + 4 bytes. Load checks the size
//   exactly, magic, version, ranges, CRC, every frequency >= 1 and each channel summing to M.
//
// Memory: agn_rans_model is a fixed-size caller-owned struct (~4.2 KiB); encode writes into the
// caller's output buffer only (sized by agn_rans_max_encoded_size); decode uses no scratch.
#ifndef AGILENN_CODEC_RANS_H
#define AGILENN_CODEC_RANS_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AGN_RANS_MAX_LEVELS 16
#define AGN_RANS_MAX_CHANNELS 64
#define AGN_RANS_DEFAULT_SCALE_BITS 12
#define AGN_RANS_STATE_LOW (1u << 23)
#define AGN_RANS_MODEL_MAGIC 0x4D534E41u
#define AGN_RANS_MODEL_VERSION 1

typedef struct agn_rans_model {
  uint16_t levels;
  uint16_t channels;
  uint16_t scale_bits;
  uint16_t freq[AGN_RANS_MAX_CHANNELS][AGN_RANS_MAX_LEVELS];     // each >= 1, row sums to M
  uint16_t cum[AGN_RANS_MAX_CHANNELS][AGN_RANS_MAX_LEVELS + 1];  // cum[c][s] = sum freq[c][<s]
} agn_rans_model;

// Quantizes `counts[0..levels)` to `freqs` with every freq >= 1 and sum exactly 1 << scale_bits,
// close to proportional (integer greedy on the cost change). All-zero counts give a uniform
// table. Errors: AGN_ERR_ARG (levels outside [2, AGN_RANS_MAX_LEVELS], scale_bits outside [8, 15]).
agn_status agn_rans_quantize_freqs(const uint32_t* counts, unsigned levels, unsigned scale_bits,
                                   uint16_t* freqs);

// Sets up a model with uniform tables for every channel. Errors: AGN_ERR_ARG.
agn_status agn_rans_model_init(agn_rans_model* model, unsigned levels, unsigned channels,
                               unsigned scale_bits);
// Replaces channel `channel`'s table. Errors: AGN_ERR_ARG (bad channel; a freq of 0 or a sum != M).
agn_status agn_rans_model_set_freqs(agn_rans_model* model, unsigned channel, const uint16_t* freqs);
// Quantizes `counts` (agn_rans_quantize_freqs) and sets channel `channel`'s table.
agn_status agn_rans_model_set_counts(agn_rans_model* model, unsigned channel, const uint32_t* counts);

// 16 + 2 * channels * levels.
size_t agn_rans_model_serialized_size(unsigned levels, unsigned channels);
// Errors: AGN_ERR_ARG, AGN_ERR_NO_SPACE.
agn_status agn_rans_model_save(const agn_rans_model* model, uint8_t* out, size_t out_cap,
                               size_t* written);
// `size` must be exactly the serialised size. Errors: AGN_ERR_TRUNCATED (shorter than the
// header or than its counts say), AGN_ERR_FORMAT (magic, version, ranges, size, table sums),
// AGN_ERR_CHECKSUM. On error `model` is left unspecified.
agn_status agn_rans_model_load(agn_rans_model* model, const uint8_t* in, size_t size);

// Largest stream agn_rans_encode can produce for `count` symbols under any model with
// `scale_bits`: 4 + ceil(count * scale_bits / 8) + count / 256 + 1 bytes.
size_t agn_rans_max_encoded_size(size_t count, unsigned scale_bits);

// Encodes `count` symbols (layout above) into `out`. The bytes are produced back to front at the
// end of `out` and then moved to its start. Errors: AGN_ERR_ARG (plane_size 0, more channels
// than the model has), AGN_ERR_RANGE (symbol >= levels), AGN_ERR_NO_SPACE.
agn_status agn_rans_encode(const agn_rans_model* model, const uint8_t* symbols, size_t count,
                           size_t plane_size, uint8_t* out, size_t out_cap, size_t* written);

// Decodes exactly `count` symbols from the whole stream `in[0..size)`. Errors: AGN_ERR_ARG,
// AGN_ERR_TRUNCATED (input ran out), AGN_ERR_CORRUPT (bad initial or final state, bytes left).
// Never reads outside `in` or writes outside `symbols[0..count)`.
agn_status agn_rans_decode(const agn_rans_model* model, const uint8_t* in, size_t size,
                           size_t plane_size, uint8_t* symbols, size_t count);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_CODEC_RANS_H
