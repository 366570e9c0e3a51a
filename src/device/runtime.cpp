#include "device/runtime.h"

#include <string.h>

#include "codec/lzw.h"
#include "codec/pack.h"
#include "codec/rans.h"
#include "device/message.h"

using agilenn::device::Message;

// The codecs this build links (an AGN_CODEC_BIT mask, every codec by default). A device build may
// define it to fewer (src/device/CMakeLists.txt: agilenn_device_rans, raw packing and rANS), so that
// the other coders' code is not linked; init rejects the codecs left out.
#ifndef AGN_RUNTIME_CODECS
#define AGN_RUNTIME_CODECS AGN_CODECS_ALL
#endif

namespace {

constexpr unsigned kLinkedCodecs = AGN_RUNTIME_CODECS;
constexpr unsigned kLzwCodecs = AGN_CODEC_BIT(AGN_CODEC_LZW_FIXED) | AGN_CODEC_BIT(AGN_CODEC_LZW_VARIABLE);

static_assert(alignof(agn_lzw_encoder) <= 4, "arena parts are 4-byte aligned");

size_t pad4(size_t n) { return (n + 3) & ~size_t{3}; }
// The kernel state holds pointers: 4-byte aligned on the device, 8 on a 64-bit host.
size_t pad_pointer(size_t n) { return (n + alignof(void*) - 1) & ~(alignof(void*) - 1); }

// Bytes of one row of layer l's input ring: the kernel table's (kernels.h), or the HWC row.
size_t ring_row_bytes(const agn_kernel_table* kernels, const agn_layer& l) {
  return kernels->ring_row_bytes != nullptr ? kernels->ring_row_bytes(&l) : size_t{l.in_width} * l.in_channels;
}

// Offsets of the arena parts (see runtime.h).
struct Layout {
  size_t symbols = 0;
  size_t kernel_state = 0;
  size_t pool_sums = 0;
  size_t pooled = 0;
  size_t rings[AGN_MODEL_MAX_LAYERS] = {};
  size_t feature_row = 0;
  size_t codec = 0;
  size_t total = 0;
};

// Set-up code runs once per model: `cold` has GCC and Clang optimise it for size (flash).
#define AGN_SETUP __attribute__((cold))

// Not inlined: init and the arena size query share it (flash).
AGN_SETUP __attribute__((noinline)) Layout plan(const agn_model* m, unsigned codecs, const agn_kernel_table* kernels) {
  Layout p;
  p.symbols = 0;
  p.kernel_state = pad_pointer(m->symbol_map_size);
  const size_t shared = p.kernel_state + (kernels->state_size != nullptr ? pad4(kernels->state_size(m)) : 0);
  size_t off = shared;
  p.pool_sums = off;
  off += 4 * size_t{m->k};
  p.pooled = off;
  off += pad4(m->k);
  for (unsigned i = 0; i < m->layer_count; ++i) {
    p.rings[i] = off;
    off += pad4(size_t{m->layers[i].kernel} * ring_row_bytes(kernels, m->layers[i]));
  }
  p.feature_row = off;
  off += pad4(size_t{m->feature_width} * m->feature_channels);
  size_t codec_bytes = 0;
  if (codecs & (AGN_CODEC_BIT(AGN_CODEC_LZW_FIXED) | AGN_CODEC_BIT(AGN_CODEC_LZW_VARIABLE))) {
    codec_bytes = sizeof(agn_lzw_encoder);
  }
  p.codec = shared;
  const size_t codec_end = shared + pad4(codec_bytes);
  p.total = off > codec_end ? off : codec_end;
  return p;
}

bool codecs_valid(const agn_model* m, unsigned codecs) {
  if ((codecs & ~kLinkedCodecs) != 0) return false;
  return !(codecs & AGN_CODEC_BIT(AGN_CODEC_RANS)) || m->rans != nullptr;
}

// Stage bookkeeping: enter() tells the stage hook which stage begins, mark() adds the clock ticks
// since the previous mark to a stage's counter.
class Ticker {
 public:
  explicit Ticker(const agn_runtime* rt) : rt_(rt), last_(rt->clock ? rt->clock(rt->clock_context) : 0) {}
  ~Ticker() { enter(AGN_RUNTIME_STAGE_DONE); }
  void enter(unsigned stage) {
    if (rt_->stage_hook != nullptr) rt_->stage_hook(rt_->stage_context, stage);
  }
  // Adds the ticks since the previous mark to *counter.
  void mark(uint64_t* counter) {
    if (rt_->clock == nullptr) return;
    const uint64_t now = rt_->clock(rt_->clock_context);
    *counter += now - last_;
    last_ = now;
  }

 private:
  const agn_runtime* rt_;
  uint64_t last_;
};

// Input row `y` of layer `i` is in its ring: emit every output row that it completes.
// Neither inlined nor cloned: GCC would otherwise unroll the recursion into copies (4 KB of flash).
#if defined(__clang__)
__attribute__((noinline))
#else
__attribute__((noinline, noclone))
#endif
void push_row(agn_runtime* rt, unsigned i, unsigned y, Ticker* ticker) {
  const agn_model* m = rt->model;
  const agn_layer& l = m->layers[i];
  const size_t row_bytes = rt->row_bytes[i];
  const agn_conv_row_fn kernel = agn_kernel_for_op(rt->kernels, l.op);
  const bool last_layer = i + 1 == m->layer_count;
  while (rt->next_row[i] < l.out_height) {
    const int r = rt->next_row[i];
    const int first = r * l.stride - l.padding;
    int last = first + l.kernel - 1;
    if (last > l.in_height - 1) last = l.in_height - 1;
    if (last > static_cast<int>(y)) break;
    const int8_t* rows[AGN_MODEL_MAX_KERNEL];
    for (int j = 0; j < l.kernel; ++j) {
      const int iy = first + j;
      rows[j] = iy < 0 || iy >= l.in_height ? nullptr : rt->rings[i] + (iy % l.kernel) * row_bytes;
    }
    int8_t* out;
    if (last_layer) {
      out = rt->feature_row;
    } else {
      out = rt->rings[i + 1] + (r % m->layers[i + 1].kernel) * size_t{rt->row_bytes[i + 1]};
    }
    ticker->enter(AGN_RUNTIME_STAGE_LAYER + i);
    if (last_layer && rt->kernels->last_split != nullptr) {
      rt->kernels->last_split(m, rt->kernel_state, rows, static_cast<unsigned>(r), rt->feature_row, rt->pool_sums,
                              rt->symbols);
      ticker->mark(&rt->ticks.layer[i]);
      ++rt->next_row[i];
      continue;
    }
    kernel(&l, rt->kernel_state, rows, out);
    ticker->mark(&rt->ticks.layer[i]);
    ++rt->next_row[i];
    if (last_layer) {
      ticker->enter(AGN_RUNTIME_STAGE_SPLIT);
      rt->kernels->split_row(m, rt->kernel_state, rt->feature_row, static_cast<unsigned>(r), rt->pool_sums, rt->symbols);
      ticker->mark(&rt->ticks.split);
    } else {
      push_row(rt, i + 1, static_cast<unsigned>(r), ticker);
    }
  }
}

}  // namespace

extern "C" AGN_SETUP agn_status agn_runtime_kernel_arena_size(const agn_model* model, unsigned codecs,
                                                    const agn_kernel_table* kernels, size_t* size) {
  if (model == nullptr || size == nullptr || model->layer_count == 0 || !codecs_valid(model, codecs)) {
    return AGN_ERR_ARG;
  }
  *size = plan(model, codecs, kernels != nullptr ? kernels : &agn_kernels_reference).total;
  return AGN_OK;
}

extern "C" AGN_SETUP agn_status agn_runtime_arena_size(const agn_model* model, unsigned codecs, size_t* size) {
  return agn_runtime_kernel_arena_size(model, codecs, nullptr, size);
}

extern "C" AGN_SETUP agn_status agn_runtime_init(agn_runtime* rt, const agn_model* model, unsigned codecs,
                                       const agn_kernel_table* kernels, void* arena, size_t arena_size) {
  if (rt == nullptr) return AGN_ERR_ARG;
  memset(rt, 0, sizeof *rt);
  Message msg(rt->error, sizeof rt->error);
  if (model == nullptr || model->layer_count == 0 || arena == nullptr) {
    msg << "no model or no arena";
    return AGN_ERR_ARG;
  }
  if (reinterpret_cast<uintptr_t>(arena) % alignof(void*) != 0) {
    msg << "the arena must be " << static_cast<unsigned>(alignof(void*)) << "-byte aligned (a pointer's alignment)";
    return AGN_ERR_ARG;
  }
  if (!codecs_valid(model, codecs)) {
    msg << "codec mask " << codecs << " is not available for this model (this build links " << kLinkedCodecs << ")"
        << (model->rans == nullptr ? " (it has no RANS section)" : "");
    return AGN_ERR_ARG;
  }
  if (kernels == nullptr) kernels = &agn_kernels_reference;
  const Layout p = plan(model, codecs, kernels);
  if (arena_size < p.total) {
    msg << "arena of " << uint64_t{arena_size} << " bytes, the model needs " << uint64_t{p.total}
        << " (its file says " << model->stored_arena_size << ")";
    return AGN_ERR_NO_SPACE;
  }
  uint8_t* base = static_cast<uint8_t*>(arena);
  rt->model = model;
  rt->kernels = kernels;
  rt->codecs = codecs;
  rt->symbols = base + p.symbols;
  rt->pool_sums = reinterpret_cast<int32_t*>(base + p.pool_sums);
  rt->pooled = reinterpret_cast<int8_t*>(base + p.pooled);
  for (unsigned i = 0; i < model->layer_count; ++i) {
    rt->rings[i] = reinterpret_cast<int8_t*>(base + p.rings[i]);
    rt->row_bytes[i] = static_cast<uint32_t>(ring_row_bytes(kernels, model->layers[i]));
  }
  // Zeroed once, so that bytes no kernel writes (the unused half of an odd channel count's packed
  // pair, which meets a zero weight) are never read uninitialised.
  memset(base + p.rings[0], 0, p.feature_row - p.rings[0]);
  rt->feature_row = reinterpret_cast<int8_t*>(base + p.feature_row);
  rt->codec_state = base + p.codec;
  if (kernels->prepare != nullptr) {
    rt->kernel_state = base + p.kernel_state;
    kernels->prepare(model, rt->kernel_state);
  }
  if (kernels->constant_planes != nullptr) {
    rt->zero_planes = kernels->constant_planes(model, rt->kernel_state, rt->symbols);
  }
  if (codecs & AGN_CODEC_BIT(AGN_CODEC_RANS)) {
    const agn_status st = agn_rans_model_load(&rt->rans, model->rans, model->rans_size);
    if (st != AGN_OK) {
      msg << "RANS section: " << agn_status_str(st);
      rt->model = nullptr;
      return st;
    }
  }
  return AGN_OK;
}

extern "C" void agn_runtime_set_clock(agn_runtime* rt, agn_clock_fn clock, void* context) {
  rt->clock = clock;
  rt->clock_context = context;
}

extern "C" void agn_runtime_set_stage_hook(agn_runtime* rt, agn_stage_hook hook, void* context) {
  rt->stage_hook = hook;
  rt->stage_context = context;
}

extern "C" agn_status agn_runtime_run(agn_runtime* rt, const uint8_t* image, size_t image_size, int8_t* logits,
                                      size_t logits_cap) {
  if (rt == nullptr || rt->model == nullptr) return AGN_ERR_ARG;
  const agn_model* m = rt->model;
  Message msg(rt->error, sizeof rt->error);
  const size_t expected = size_t{m->input_height} * m->input_width * m->input_channels;
  if (image == nullptr || image_size != expected || logits == nullptr || logits_cap < m->local.classes) {
    msg << "run needs an image of " << uint64_t{expected} << " bytes (got " << uint64_t{image_size}
        << ") and room for " << unsigned{m->local.classes} << " logits (got " << uint64_t{logits_cap} << ")";
    return AGN_ERR_ARG;
  }
  rt->has_symbols = 0;
  Ticker ticker(rt);
  memset(rt->pool_sums, 0, 4 * size_t{m->k});
  for (unsigned i = 0; i < m->layer_count; ++i) rt->next_row[i] = 0;

  const agn_layer& first = m->layers[0];
  const size_t row_bytes = size_t{first.in_width} * first.in_channels;
  for (unsigned y = 0; y < m->input_height; ++y) {
    // Pixel p becomes the int8 value p - 128 (model_format.h, INPUT section).
    ticker.enter(AGN_RUNTIME_STAGE_INPUT);
    int8_t* dst = rt->rings[0] + (y % first.kernel) * size_t{rt->row_bytes[0]};
    const uint8_t* src = image + y * row_bytes;
    for (size_t j = 0; j < row_bytes; ++j) dst[j] = static_cast<int8_t>(src[j] - 128);
    ticker.mark(&rt->ticks.input);
    push_row(rt, 0, y, &ticker);
  }
  ticker.enter(AGN_RUNTIME_STAGE_LOCAL);
  rt->kernels->local(&m->local, rt->kernel_state, rt->pool_sums, rt->pooled, logits);
  ticker.mark(&rt->ticks.local);
  if (rt->clock != nullptr) ++rt->ticks.runs;
  rt->has_symbols = 1;
  return AGN_OK;
}

extern "C" const uint8_t* agn_runtime_symbols(const agn_runtime* rt) {
  return rt != nullptr && rt->has_symbols ? rt->symbols : nullptr;
}

extern "C" AGN_SETUP size_t agn_runtime_max_payload(const agn_model* m, agn_codec codec) {
  switch (codec) {
    case AGN_CODEC_RAW: return agn_pack_size_bytes(m->symbol_count, m->levels);
    case AGN_CODEC_LZW_FIXED:
    case AGN_CODEC_LZW_VARIABLE:
      return (kLinkedCodecs & kLzwCodecs) != 0 ? agn_lzw_max_encoded_size(m->symbol_count, m->levels) : 0;
    case AGN_CODEC_RANS: {
      agn_rans_model rans;
      return m->rans != nullptr && agn_rans_model_load(&rans, m->rans, m->rans_size) == AGN_OK
                 ? agn_rans_max_encoded_size(&rans)
                 : 0;
    }
  }
  return 0;
}

// Not inlined into agn_runtime_encode_default's two calls (flash).
extern "C" __attribute__((noinline)) agn_status agn_runtime_encode(agn_runtime* rt, agn_codec codec, uint8_t* out,
                                                                  size_t out_cap, size_t* written) {
  if (rt == nullptr || rt->model == nullptr || out == nullptr || written == nullptr) return AGN_ERR_ARG;
  *written = 0;
  Message msg(rt->error, sizeof rt->error);
  if (!rt->has_symbols) {
    msg << "encode before the first run";
    return AGN_ERR_STATE;
  }
  if (static_cast<unsigned>(codec) > AGN_CODEC_RANS || !(rt->codecs & AGN_CODEC_BIT(codec))) {
    msg << "codec " << static_cast<unsigned>(codec) << " was not enabled at init";
    return AGN_ERR_ARG;
  }
  const agn_model* m = rt->model;
  const size_t rows = size_t{m->feature_height} * static_cast<unsigned>(m->feature_channels - m->k);  // of the symbol map
  Ticker ticker(rt);
  ticker.enter(AGN_RUNTIME_STAGE_ENCODE);
  agn_status st = AGN_OK;
  switch (codec) {
    case AGN_CODEC_RAW:
      if ((kLinkedCodecs & AGN_CODEC_BIT(AGN_CODEC_RAW)) == 0) break;  // init accepted no such codec
      st = agn_pack_symbols(rt->symbols, rows, m->feature_width, m->levels, out, out_cap);
      if (st == AGN_OK) *written = agn_pack_size_bytes(m->symbol_count, m->levels);
      break;
    case AGN_CODEC_LZW_FIXED:
    case AGN_CODEC_LZW_VARIABLE:
      if ((kLinkedCodecs & kLzwCodecs) == 0) break;
      st = agn_lzw_encode(static_cast<agn_lzw_encoder*>(rt->codec_state), m->levels,
                          codec == AGN_CODEC_LZW_FIXED ? AGN_LZW_FIXED : AGN_LZW_VARIABLE, rt->symbols, rows,
                          m->feature_width, out, out_cap, written);
      break;
    case AGN_CODEC_RANS:
      if ((kLinkedCodecs & AGN_CODEC_BIT(AGN_CODEC_RANS)) == 0) break;
      st = agn_rans_encode_known(&rt->rans, rt->symbols, m->symbol_map_size, rt->zero_planes, out, out_cap, written);
      break;
  }
  ticker.mark(&rt->ticks.encode);
  if (st != AGN_OK) msg << "encoding failed: " << agn_status_str(st);
  return st;
}

extern "C" AGN_SETUP unsigned agn_runtime_default_codecs(const agn_model* m) {
  return AGN_CODEC_BIT(AGN_CODEC_RAW) | (m != nullptr && m->rans != nullptr ? AGN_CODEC_BIT(AGN_CODEC_RANS) : 0u);
}

extern "C" agn_status agn_runtime_encode_default(agn_runtime* rt, uint8_t* out, size_t out_cap, size_t* written,
                                                 agn_codec* codec) {
  if (rt == nullptr || codec == nullptr) return AGN_ERR_ARG;
  *codec = rt->codecs & AGN_CODEC_BIT(AGN_CODEC_RANS) ? AGN_CODEC_RANS : AGN_CODEC_RAW;
  agn_status st = agn_runtime_encode(rt, *codec, out, out_cap, written);
  if (st == AGN_ERR_NO_SPACE && *codec == AGN_CODEC_RANS && (rt->codecs & AGN_CODEC_BIT(AGN_CODEC_RAW))) {
    *codec = AGN_CODEC_RAW;
    st = agn_runtime_encode(rt, AGN_CODEC_RAW, out, out_cap, written);
  }
  return st;
}
