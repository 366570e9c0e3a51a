// The device pipeline: image -> feature extractor (int8, streamed row by row) -> split ->
// Local NN logits + remote symbols -> encoded payload.
//
// Memory: one caller-provided arena (aligned as a pointer: 4 bytes on the device, 8 on a 64-bit
// host; any storage duration), sized by agn_runtime_arena_size; the runtime never allocates.
// Arena layout (each part 4-byte aligned, the kernel state pointer-aligned):
//   1. symbols: the symbol map (codec/symbol_map.h: 4 bits per symbol, rows of ceil(W / 2) bytes,
//      channel-major), model->symbol_map_size bytes; valid from agn_runtime_run until the next run.
//      The planes of channels the kernel table knows to be constant are written once, at init.
//   2. the kernel table's state (kernels.h: state_size/prepare; none for the reference kernels).
//   3. a region shared by two phases:
//      a. while running the extractor: pooling sums (int32[k]), pooled values (int8[k]), for each
//         layer a ring of `kernel` input rows (in_width * in_channels bytes each, or what the
//         kernel table's ring_row_bytes says), and one
//         feature-map row (feature_width * C bytes). The full H x W x C map is never held.
//      b. while encoding with LZW: the agn_lzw_encoder. (rANS needs no arena: its tables are read
//         in place from the model's RANS section.)
//
// Streaming: every layer emits output row r as soon as its last input row has arrived, straight
// into the next layer's ring; rows of the last layer feed the split (pooling sums + symbols).
//
// Timing: with a clock set, each run adds elapsed ticks per stage to runtime->ticks (zero it to
// restart). The host tools pass a nanosecond clock; firmware can pass a cycle counter.
#ifndef AGILENN_DEVICE_RUNTIME_H
#define AGILENN_DEVICE_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "codec/rans.h"
#include "common/status.h"
#include "device/device_model.h"
#include "device/kernels/kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum agn_codec {
  AGN_CODEC_RAW = 0,           // codec/pack.h, ceil(log2 L) bits per symbol
  AGN_CODEC_LZW_FIXED = 1,     // codec/lzw.h, 12-bit codes
  AGN_CODEC_LZW_VARIABLE = 2,  // codec/lzw.h, growing widths
  AGN_CODEC_RANS = 3,          // codec/rans.h with the model's RANS section
} agn_codec;

#define AGN_CODEC_BIT(codec) (1u << (codec))
#define AGN_CODECS_ALL 0xFu

typedef uint64_t (*agn_clock_fn)(void* context);

// Stages of a run, as the stage hook sees them (agn_runtime_set_stage_hook).
typedef enum agn_runtime_stage {
  AGN_RUNTIME_STAGE_INPUT = 0,                                  // pixels to int8
  AGN_RUNTIME_STAGE_LAYER = 1,                                  // + i: extractor layer i's kernel
  AGN_RUNTIME_STAGE_SPLIT = AGN_RUNTIME_STAGE_LAYER + AGN_MODEL_MAX_LAYERS,  // pooling sums + quantizer
  AGN_RUNTIME_STAGE_LOCAL,                                      // pooling requantisation + dense
  AGN_RUNTIME_STAGE_ENCODE,                                     // agn_runtime_encode's coder
  AGN_RUNTIME_STAGE_DONE,                                       // back in the caller
} agn_runtime_stage;

// Called as each stage begins (and with AGN_RUNTIME_STAGE_DONE when run or encode returns), so
// that firmware can attribute executed instructions per stage without a clock.
typedef void (*agn_stage_hook)(void* context, unsigned stage);

typedef struct agn_stage_ticks {
  uint64_t input;                        // pixels to int8
  uint64_t layer[AGN_MODEL_MAX_LAYERS];  // each extractor layer's kernel
  uint64_t split;                        // pooling sums + quantizer
  uint64_t local;                        // pooling requantisation + dense
  uint64_t encode;                       // agn_runtime_encode
  uint32_t runs;                         // agn_runtime_run calls timed
} agn_stage_ticks;

typedef struct agn_runtime {
  const agn_model* model;
  const agn_kernel_table* kernels;
  unsigned codecs;  // AGN_CODEC_BIT mask of the codecs the arena was sized for
  uint8_t* symbols;
  int32_t* pool_sums;
  int8_t* pooled;
  int8_t* rings[AGN_MODEL_MAX_LAYERS];
  uint32_t row_bytes[AGN_MODEL_MAX_LAYERS];  // bytes of one row of each ring (kernels.h: ring_row_bytes)
  int8_t* feature_row;
  void* codec_state;     // the LZW encoder's state (arena)
  agn_rans_model rans;   // a view of the model's RANS section, parsed at init
  void* kernel_state;  // null if the kernel table has none
  uint64_t zero_planes;  // remote channels whose planes are zero for every image (kernels.h: constant_planes)
  uint16_t next_row[AGN_MODEL_MAX_LAYERS];  // next output row of each layer during a run
  int has_symbols;
  agn_clock_fn clock;
  void* clock_context;
  agn_stage_hook stage_hook;
  void* stage_context;
  agn_stage_ticks ticks;
  char error[AGN_MODEL_ERROR_SIZE];
} agn_runtime;

// Bytes of arena the runtime needs for `model`, the codecs in `codecs` (AGN_CODEC_BIT mask;
// AGN_CODEC_RANS needs a RANS section) and `kernels` (null: the reference kernels).
// Errors: AGN_ERR_ARG.
agn_status agn_runtime_kernel_arena_size(const agn_model* model, unsigned codecs, const agn_kernel_table* kernels,
                                         size_t* size);
// The same for the reference kernels (what the model file's header records).
agn_status agn_runtime_arena_size(const agn_model* model, unsigned codecs, size_t* size);

// Lays the arena out for `model` (loaded with agn_model_load; it must outlive the runtime) and
// validates the RANS section's tables if `codecs` has AGN_CODEC_RANS. `kernels` null means the
// reference kernels. Errors: AGN_ERR_ARG (null, unaligned arena, codec unavailable),
// AGN_ERR_NO_SPACE (arena too small), the rANS model's load error. runtime->error says why.
agn_status agn_runtime_init(agn_runtime* runtime, const agn_model* model, unsigned codecs,
                            const agn_kernel_table* kernels, void* arena, size_t arena_size);

// Records elapsed ticks per stage in runtime->ticks from now on (null clock: stop timing).
void agn_runtime_set_clock(agn_runtime* runtime, agn_clock_fn clock, void* context);

// Calls `hook` as each stage begins from now on (null hook: stop).
void agn_runtime_set_stage_hook(agn_runtime* runtime, agn_stage_hook hook, void* context);

// Runs the extractor, the split and the Local NN on one image (u8 HWC, exactly
// input_height * input_width * input_channels bytes). Writes model->local.classes int8 logits
// (scale and zero point in model->local) and keeps the symbols in the arena.
// Errors: AGN_ERR_ARG (null, wrong image size, logits_cap < classes).
agn_status agn_runtime_run(agn_runtime* runtime, const uint8_t* image, size_t image_size, int8_t* logits,
                           size_t logits_cap);

// The symbol map of the last run (model->symbol_map_size bytes, codec/symbol_map.h: rows
// (c - k) * feature_height + y of feature_width symbols), or null before the first run.
// agn_symbol_map_unpack gives one symbol per byte.
const uint8_t* agn_runtime_symbols(const agn_runtime* runtime);

// Encodes the last run's symbols with `codec` into out[0..out_cap) (payload only, no header).
// Reuses the extractor's memory, so it does not disturb the symbols: several codecs may encode
// the same run. Errors: AGN_ERR_STATE (no run yet), AGN_ERR_ARG (codec not in the init mask),
// AGN_ERR_NO_SPACE, and the codec's own errors.
agn_status agn_runtime_encode(agn_runtime* runtime, agn_codec codec, uint8_t* out, size_t out_cap,
                              size_t* written);

// The device's send path. agn_runtime_default_codecs is the init mask it needs: raw packing, and
// rANS when the model has a RANS section. agn_runtime_encode_default encodes with rANS when init
// enabled it, else with raw packing; a rANS stream that does not fit in out_cap is replaced by the
// raw packing (if init enabled it), so out_cap = agn_runtime_max_payload(model, AGN_CODEC_RAW)
// always suffices (rANS's worst case is far larger, real maps far smaller). *codec says which
// coder wrote the payload. Errors: those of agn_runtime_encode.
unsigned agn_runtime_default_codecs(const agn_model* model);
agn_status agn_runtime_encode_default(agn_runtime* runtime, uint8_t* out, size_t out_cap, size_t* written,
                                      agn_codec* codec);

// Largest payload `codec` can produce for this model (a safe out_cap). For rANS that worst case
// (codec/rans.h agn_rans_max_encoded_size) is about 2 bytes per symbol, far above real maps: a
// device sends with agn_runtime_encode_default into a buffer of the raw packing's size.
size_t agn_runtime_max_payload(const agn_model* model, agn_codec codec);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_DEVICE_RUNTIME_H
