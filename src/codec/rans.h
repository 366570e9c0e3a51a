// Context-modelled static rANS (range asymmetric numeral systems, J. Duda 2013) over zero runs of
// L-level symbols. The quantized feature maps are mostly the symbol 0 (97 % on the quick-preset
// CIFAR-10 model), so the coder does not code symbol by symbol: each row of each channel becomes
// a few events (a run of zeros, the nonzero value that ends it, or "the rest of the row is zero"),
// each coded with a static frequency table chosen by the channel and by already-coded neighbours.
// The tables are learned at export from training images and shipped with the model; the encoder
// touches each symbol once (a word-wide zero scan, 16 symbols per 8 bytes) and does rANS work
// only per event.
//
// Symbol layout (fixed, known to both sides): channel-major planes of height x width, row-major:
// symbol (c, y, x) is at index (c * height + y) * width + x. The encoder reads a symbol map
// (codec/symbol_map.h: 4 bits per symbol, row c * height + y), as the device holds it; the decoder
// and agn_rans_counts_add use one symbol per byte.
//
// Events of one row (row y of channel c), coded first to last, column x0 starting at 0:
//   while x0 < width:
//     if row[x0..width) is all zero: the run symbol END (15); the row is done.
//     else with p the first nonzero column >= x0 and r = p - x0:
//       r >= 14: the run symbol ESCAPE (14) (14 zeros, the run goes on), x0 += 14, continue;
//       else:    the run symbol r (0..13), then the value symbol row[p] - 1 (0..L-2; not coded
//                when L = 2), x0 = p + 1.
//   Run symbols are coded with the table of run context (c, 2 * d + n): d = the offset of the first
//   nonzero in columns x0 .. x0+7 of row y-1 (0..7), or 8 if there is none (or y = 0); n = 1 if
//   x0 > 0 and row[x0-1] != 0, else 0 (AGN_RANS_RUN_CONTEXTS = 18 per channel).
//   Value symbols use value context (c, 4 * min(up, 3) + min(left, 3)) with up = symbol (y-1, p)
//   (0 for y = 0) and left = symbol (y, p-1) (0 for p = 0) (AGN_RANS_VALUE_CONTEXTS = 16).
//
// Coder parameters:
//   1. State x is 32-bit and lives in [2^23, 2^31) between events; renormalisation moves whole
//      bytes. Frequencies have 8 bits: M = 256.
//   2. Encoding symbol s with frequency f and cumulative start c:
//      while x >= f * 2^23: output byte (x & 0xFF), x >>= 8;  then x = (x / f) * 256 + x % f + c.
//   3. Events are encoded last to first, starting from x = 2^23; decoding runs first to last.
//
// Stream format (agn_rans_encode output):
//   1. Bytes 0..3: the final encoder state, u32 little-endian, in [2^23, 2^31).
//   2. Then the renormalisation bytes in the order the decoder reads them.
//   Nothing else: the shape is in the model. The decoder checks that it ends on exactly the last
//   byte with x = 2^23 and that every run fits its row; anything else is corrupt (this catches
//   truncation and most corruption; it is not a checksum).
//
// Model serialisation (agn_rans_model_build writes it; all multi-byte fields little-endian):
//    0: u32 magic 0x4D534E41 (bytes "ANSM")
//    4: u16 version = 2
//    6: u8 levels L (2..AGN_RANS_MAX_LEVELS), u8 scale_bits = 8
//    8: u16 channels C (1..AGN_RANS_MAX_CHANNELS), u16 height H >= 1, u16 width W >= 1
//   14: u8 run tables R >= 1, u8 value tables V >= 1
//   16: u8 run_map[C][18]: the run table of each run context (< R)
//       u8 value_map[C][16]: the value table of each value context (< V)
//       R run tables of 17 bytes, V value tables of L bytes: a table of n symbols is n + 1 bytes
//       start[0..n]: start[0] = 0 < start[1] < ... < start[n-1] <= 255 and start[n] = 0 standing
//       for 256, so symbol s has cumulative start start[s] and frequency start[s+1] - start[s]
//       (mod 256, >= 1). (A value table for L = 2 is {0, 0}: its one symbol is never coded.)
//   last: u32 CRC-32 (common/crc32.h) of every byte before it.
//   Total agn_rans_model_size(L, C, R, V) = 16 + 34 C + 17 R + L V + 4 bytes.
//
// Memory: agn_rans_model is a small view (no copy) of the serialised bytes, which must outlive
// it (on the device they stay in flash). Encode writes into the caller's output buffer only;
// decode and encode use a few words of stack. agn_rans_counts (statistics for learning tables)
// is large (~140 KiB) and only for host tools.
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
#define AGN_RANS_MAX_TABLES 255
#define AGN_RANS_SCALE_BITS 8
#define AGN_RANS_STATE_LOW (1u << 23)
#define AGN_RANS_MODEL_MAGIC 0x4D534E41u
#define AGN_RANS_MODEL_VERSION 2
#define AGN_RANS_RUN_SYMBOLS 16
#define AGN_RANS_RUN_ESCAPE 14
#define AGN_RANS_RUN_END 15
#define AGN_RANS_RUN_CONTEXTS 18
#define AGN_RANS_VALUE_CONTEXTS 16

typedef struct agn_rans_model {
  uint16_t levels;
  uint16_t channels;
  uint16_t height;
  uint16_t width;
  uint16_t run_tables;
  uint16_t value_tables;
  const uint8_t* run_map;      // [channels][AGN_RANS_RUN_CONTEXTS]
  const uint8_t* value_map;    // [channels][AGN_RANS_VALUE_CONTEXTS]
  const uint8_t* run_start;    // [run_tables][AGN_RANS_RUN_SYMBOLS + 1]
  const uint8_t* value_start;  // [value_tables][levels]
} agn_rans_model;

// Event counts per context, for learning tables (host tools; see the memory note above).
typedef struct agn_rans_counts {
  uint16_t levels;
  uint16_t channels;
  uint16_t height;
  uint16_t width;
  uint32_t run[AGN_RANS_MAX_CHANNELS][AGN_RANS_RUN_CONTEXTS][AGN_RANS_RUN_SYMBOLS];
  uint32_t value[AGN_RANS_MAX_CHANNELS][AGN_RANS_VALUE_CONTEXTS][AGN_RANS_MAX_LEVELS - 1];
} agn_rans_counts;

// Quantizes `counts[0..n)` to `freqs` with every freq >= 1 and sum exactly 256, close to
// proportional (integer greedy on the cost change). All-zero counts give a uniform table.
// Errors: AGN_ERR_ARG (n outside [2, AGN_RANS_RUN_SYMBOLS]).
agn_status agn_rans_quantize_freqs(const uint32_t* counts, unsigned n, uint16_t* freqs);

// Zeroes `counts` for maps of channels x height x width symbols of `levels` levels.
// Errors: AGN_ERR_ARG (levels, channels or a zero dimension out of range).
agn_status agn_rans_counts_init(agn_rans_counts* counts, unsigned levels, unsigned channels,
                                unsigned height, unsigned width);
// Adds the events of one map (exactly channels * height * width symbols) to `counts`.
// Errors: AGN_ERR_ARG (wrong count), AGN_ERR_RANGE (symbol >= levels; counts are then partial).
agn_status agn_rans_counts_add(agn_rans_counts* counts, const uint8_t* symbols, size_t count);

// Serialised size of a model with these dimensions.
size_t agn_rans_model_size(unsigned levels, unsigned channels, unsigned run_tables,
                           unsigned value_tables);
// Largest model agn_rans_model_build can write for these dimensions.
size_t agn_rans_model_max_size(unsigned levels, unsigned channels);
// Builds and serialises tables from `counts`. Context merging: a context with at least
// `min_events` events gets a table of its own, else it shares its channel's table (all of the
// channel's contexts of that kind summed) if the channel has `min_events` events, else the table
// of all channels together (table 0). At most AGN_RANS_MAX_TABLES tables per kind, given to the
// contexts with the most events. Errors: AGN_ERR_ARG, AGN_ERR_NO_SPACE.
agn_status agn_rans_model_build(const agn_rans_counts* counts, uint32_t min_events, uint8_t* out,
                                size_t out_cap, size_t* written);
// Validates `in[0..size)` (size exactly the serialised size) and points `model` into it.
// Errors: AGN_ERR_TRUNCATED (shorter than the header or than its counts say), AGN_ERR_FORMAT
// (magic, version, ranges, size, tables, maps), AGN_ERR_CHECKSUM. On error `model` is unspecified.
agn_status agn_rans_model_load(agn_rans_model* model, const uint8_t* in, size_t size);

// Largest stream agn_rans_encode can produce under `model`: at most 2 * width + 1 events per
// row, each at most 8 bits plus a rounding loss below 1/256 byte, plus the 4-byte state:
// 5 + E + E / 256 with E = channels * height * (2 * width + 1). About 2 bytes per symbol, far
// above any real map; a caller may give a smaller buffer (e.g. the raw 3-bit packing's size)
// and send the symbols packed when encode answers AGN_ERR_NO_SPACE.
size_t agn_rans_max_encoded_size(const agn_rans_model* model);

// Encodes one map (a symbol map of channels * height rows of width symbols: map_size exactly
// agn_symbol_map_size(channels * height, width)) into `out`. The bytes are produced back to front
// at the end of `out` and then moved to its start.
// Errors: AGN_ERR_ARG (null, wrong size), AGN_ERR_RANGE (symbol >= levels), AGN_ERR_NO_SPACE.
agn_status agn_rans_encode(const agn_rans_model* model, const uint8_t* map, size_t map_size,
                           uint8_t* out, size_t out_cap, size_t* written);
// The same, told that the channels whose bit is set in `zero_channels` (bit c: channel c) are all
// zero: their planes are not read. The caller vouches for them (the device runtime knows which of
// a model's channels are zero for every image: kernels.h, constant_planes); the stream is the
// same as agn_rans_encode's when that is true.
agn_status agn_rans_encode_known(const agn_rans_model* model, const uint8_t* map, size_t map_size,
                                 uint64_t zero_channels, uint8_t* out, size_t out_cap, size_t* written);

// Decodes one map from the whole stream `in[0..size)` into symbols[0..count) (count exactly
// channels * height * width). Errors: AGN_ERR_ARG, AGN_ERR_TRUNCATED (input ran out),
// AGN_ERR_CORRUPT (bad initial or final state, a run past its row, bytes left). Never reads
// outside `in` or writes outside `symbols[0..count)`.
agn_status agn_rans_decode(const agn_rans_model* model, const uint8_t* in, size_t size,
                           uint8_t* symbols, size_t count);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_CODEC_RANS_H
