#include <string.h>

#include "codec/rans.h"
#include "codec/symbol_map.h"
#include "common/crc32.h"
#include "device/device_model.h"
#include "device/message.h"

using agilenn::device::Message;

namespace {

static_assert(AGN_MODEL_MAX_LEVELS == AGN_SYMBOL_MAX_LEVELS, "the runtime holds the symbols in a symbol map");

constexpr int64_t kInt32Max = 0x7FFFFFFF;
// Largest |w * (q - zp)| term: |w| <= 128, |q - zp| <= 255.
constexpr int64_t kMaxTerm = 128 * 255;

struct Span {
  const uint8_t* data = nullptr;
  uint32_t size = 0;
};

struct Sections {
  Span input, local, split, rans, metadata;
  Span layers[AGN_MODEL_MAX_LAYERS];
  unsigned layer_count = 0;
};

int32_t i32(const uint8_t* p) { return static_cast<int32_t>(agn_load_u32le(p)); }

bool is_int8(int64_t v) { return v >= -128 && v <= 127; }

class Loader {
 public:
  explicit Loader(agn_model* m) : m_(m), msg_(m->error, sizeof m->error) {}

  agn_status load(const uint8_t* data, size_t size);

 private:
  agn_status read_table(const uint8_t* data, uint32_t body_end, Sections* s);
  agn_status read_input(Span s);
  agn_status read_layer(unsigned index, Span s);
  agn_status read_local(Span s);
  agn_status read_split(Span s);
  agn_status read_rans(Span s);
  // Checks multiplier/shift pairs and that int32 accumulation of `terms` products plus the bias
  // cannot overflow. `bias` may be null (pooling: no bias).
  bool check_requant(const char* what, unsigned index, const uint8_t* bias, const uint8_t* multiplier,
                     const uint8_t* shift, unsigned count, uint64_t terms);
  bool check_multiplier(const char* what, unsigned index, unsigned channel, int32_t multiplier, int32_t shift);

  agn_model* m_;
  Message msg_;
};

bool Loader::check_multiplier(const char* what, unsigned index, unsigned channel, int32_t multiplier,
                              int32_t shift) {
  if (multiplier != 0 && multiplier < (1 << 30)) {
    msg_ << what << index << ": multiplier[" << channel << "] = " << static_cast<int64_t>(multiplier)
         << ", expected 0 or 2^30..2^31-1";
    return false;
  }
  if (shift < AGN_MODEL_MIN_SHIFT || shift > AGN_MODEL_MAX_SHIFT) {
    msg_ << what << index << ": shift[" << channel << "] = " << static_cast<int64_t>(shift) << ", expected "
         << AGN_MODEL_MIN_SHIFT << ".." << AGN_MODEL_MAX_SHIFT;
    return false;
  }
  return true;
}

bool Loader::check_requant(const char* what, unsigned index, const uint8_t* bias, const uint8_t* multiplier,
                           const uint8_t* shift, unsigned count, uint64_t terms) {
  for (unsigned c = 0; c < count; ++c) {
    if (!check_multiplier(what, index, c, agn_i32_at(multiplier, c), agn_i32_at(shift, c))) return false;
    const int64_t b = bias ? agn_i32_at(bias, c) : 0;
    const int64_t worst = static_cast<int64_t>(terms) * kMaxTerm + (b < 0 ? -b : b);
    if (worst > kInt32Max) {
      msg_ << what << index << ": channel " << c << " can overflow the int32 accumulator (" << terms
           << " products, bias " << b << ")";
      return false;
    }
  }
  return true;
}

agn_status Loader::read_table(const uint8_t* data, uint32_t body_end, Sections* s) {
  const unsigned count = agn_load_u16le(data + AGN_MODEL_OFFSET_SECTION_COUNT);
  const uint64_t table_end = AGN_MODEL_HEADER_SIZE + uint64_t{AGN_MODEL_SECTION_ENTRY_SIZE} * count;
  if (count == 0 || count > AGN_MODEL_MAX_SECTIONS || table_end > body_end) {
    msg_ << "section count " << count << " does not fit the file (1.." << AGN_MODEL_MAX_SECTIONS << " entries)";
    return AGN_ERR_CORRUPT;
  }
  uint64_t previous_end = table_end;
  for (unsigned i = 0; i < count; ++i) {
    const uint8_t* e = data + AGN_MODEL_HEADER_SIZE + AGN_MODEL_SECTION_ENTRY_SIZE * i;
    const uint32_t type = agn_load_u32le(e);
    const uint32_t offset = agn_load_u32le(e + 4);
    const uint32_t size = agn_load_u32le(e + 8);
    if (offset % 4 != 0 || offset < previous_end || uint64_t{offset} + size > body_end) {
      msg_ << "section " << i << " (type " << type << "): bytes " << offset << ".." << (uint64_t{offset} + size)
           << " are unaligned, overlap the previous section or pass the checksum at " << body_end;
      return AGN_ERR_CORRUPT;
    }
    previous_end = uint64_t{offset} + size;
    const Span span{data + offset, size};
    Span* single = nullptr;
    switch (type) {
      case AGN_SECTION_INPUT: single = &s->input; break;
      case AGN_SECTION_LOCAL: single = &s->local; break;
      case AGN_SECTION_SPLIT: single = &s->split; break;
      case AGN_SECTION_RANS: single = &s->rans; break;
      case AGN_SECTION_METADATA: single = &s->metadata; break;
      case AGN_SECTION_LAYER:
        if (s->layer_count == AGN_MODEL_MAX_LAYERS) {
          msg_ << "more than " << AGN_MODEL_MAX_LAYERS << " LAYER sections";
          return AGN_ERR_CORRUPT;
        }
        s->layers[s->layer_count++] = span;
        continue;
      default:
        msg_ << "section " << i << ": unknown type " << type;
        return AGN_ERR_CORRUPT;
    }
    if (single->data != nullptr) {
      msg_ << "section " << i << ": second section of type " << type;
      return AGN_ERR_CORRUPT;
    }
    *single = span;
  }
  const char* missing = s->input.data == nullptr ? "INPUT"
                        : s->layer_count == 0    ? "LAYER"
                        : s->local.data == nullptr ? "LOCAL"
                        : s->split.data == nullptr ? "SPLIT"
                                                   : nullptr;
  if (missing != nullptr) {
    msg_ << "no " << missing << " section";
    return AGN_ERR_CORRUPT;
  }
  return AGN_OK;
}

agn_status Loader::read_input(Span s) {
  if (s.size != AGN_MODEL_INPUT_SIZE) {
    msg_ << "INPUT section: " << s.size << " bytes, expected " << AGN_MODEL_INPUT_SIZE;
    return AGN_ERR_CORRUPT;
  }
  m_->input_height = agn_load_u16le(s.data);
  m_->input_width = agn_load_u16le(s.data + 2);
  m_->input_channels = agn_load_u16le(s.data + 4);
  m_->input_scale = agn_f32_at(s.data + 8, 0);
  m_->input_zero_point = i32(s.data + 12);
  if (m_->input_height == 0 || m_->input_width == 0 || m_->input_channels == 0 || agn_load_u16le(s.data + 6) != 0 ||
      !is_int8(m_->input_zero_point)) {
    msg_ << "INPUT section: shape " << unsigned{m_->input_height} << "x" << unsigned{m_->input_width} << "x"
         << unsigned{m_->input_channels} << ", zero point " << int64_t{m_->input_zero_point}
         << " (expected nonzero sizes, reserved 0, an int8 zero point)";
    return AGN_ERR_CORRUPT;
  }
  return AGN_OK;
}

agn_status Loader::read_layer(unsigned index, Span s) {
  if (s.size < AGN_MODEL_LAYER_FIXED_SIZE) {
    msg_ << "layer " << index << ": " << s.size << " bytes, shorter than its " << AGN_MODEL_LAYER_FIXED_SIZE
         << "-byte fixed part";
    return AGN_ERR_CORRUPT;
  }
  agn_layer& l = m_->layers[index];
  const uint8_t* p = s.data;
  l.op = p[0];
  l.kernel = p[1];
  l.stride = p[2];
  l.padding = p[3];
  l.in_height = agn_load_u16le(p + 4);
  l.in_width = agn_load_u16le(p + 6);
  l.in_channels = agn_load_u16le(p + 8);
  l.out_height = agn_load_u16le(p + 10);
  l.out_width = agn_load_u16le(p + 12);
  l.out_channels = agn_load_u16le(p + 14);
  l.out_zero_point = i32(p + 16);
  l.act_min = i32(p + 20);
  l.act_max = i32(p + 24);
  l.out_scale = agn_f32_at(p + 28, 0);

  // The input is the previous layer's output (layer 0: the image).
  const agn_layer* prev = index > 0 ? &m_->layers[index - 1] : nullptr;
  const unsigned in_h = prev ? prev->out_height : m_->input_height;
  const unsigned in_w = prev ? prev->out_width : m_->input_width;
  const unsigned in_c = prev ? prev->out_channels : m_->input_channels;
  l.in_zero_point = prev ? prev->out_zero_point : m_->input_zero_point;
  if (l.in_height != in_h || l.in_width != in_w || l.in_channels != in_c) {
    msg_ << "layer " << index << ": input " << unsigned{l.in_height} << "x" << unsigned{l.in_width} << "x"
         << unsigned{l.in_channels} << " does not match the " << (prev ? "previous layer's output " : "image ")
         << in_h << "x" << in_w << "x" << in_c;
    return AGN_ERR_CORRUPT;
  }
  const unsigned k = l.kernel;
  if (l.op < AGN_OP_DEPTHWISE || l.op > AGN_OP_CONV || k < 1 || k > AGN_MODEL_MAX_KERNEL || l.stride < 1 ||
      l.stride > AGN_MODEL_MAX_STRIDE || l.padding >= k || l.out_channels == 0 ||
      (l.op == AGN_OP_POINTWISE && (k != 1 || l.stride != 1 || l.padding != 0)) ||
      (l.op == AGN_OP_DEPTHWISE && l.in_channels != l.out_channels)) {
    msg_ << "layer " << index << ": op " << unsigned{l.op} << " kernel " << k << " stride " << unsigned{l.stride}
         << " padding " << unsigned{l.padding} << " channels " << unsigned{l.in_channels} << "->"
         << unsigned{l.out_channels} << " is not a valid layer";
    return AGN_ERR_CORRUPT;
  }
  // 32 bits suffice (sizes are u16, kernel and padding small) and need no 64-bit division routine.
  const int32_t span_h = static_cast<int32_t>(in_h + 2 * l.padding) - static_cast<int32_t>(k);
  const int32_t span_w = static_cast<int32_t>(in_w + 2 * l.padding) - static_cast<int32_t>(k);
  const int32_t out_h = span_h < 0 ? 0 : span_h / l.stride + 1;
  const int32_t out_w = span_w < 0 ? 0 : span_w / l.stride + 1;
  if (out_h != l.out_height || out_w != l.out_width || out_h == 0 || out_w == 0) {
    msg_ << "layer " << index << ": output " << unsigned{l.out_height} << "x" << unsigned{l.out_width}
         << ", expected (in + 2*padding - kernel) / stride + 1 = " << out_h << "x" << out_w;
    return AGN_ERR_CORRUPT;
  }
  if (!is_int8(l.out_zero_point) || !is_int8(l.act_min) || !is_int8(l.act_max) || l.act_min > l.act_max) {
    msg_ << "layer " << index << ": zero point " << int64_t{l.out_zero_point} << ", clamp " << int64_t{l.act_min}
         << ".." << int64_t{l.act_max} << " (expected int8 values, min <= max)";
    return AGN_ERR_CORRUPT;
  }
  uint64_t terms = 0;  // products per output value
  switch (l.op) {
    case AGN_OP_DEPTHWISE: terms = uint64_t{k} * k; break;
    case AGN_OP_POINTWISE: terms = in_c; break;
    default: terms = uint64_t{k} * k * in_c; break;
  }
  const uint64_t weights = terms * l.out_channels;  // depthwise: K*K per channel
  const uint64_t expected = AGN_MODEL_LAYER_FIXED_SIZE + ((weights + 3) & ~uint64_t{3}) + 12ull * l.out_channels;
  if (s.size != expected) {
    msg_ << "layer " << index << ": " << s.size << " bytes, expected " << expected << " for " << weights
         << " weights and " << unsigned{l.out_channels} << " channels";
    return AGN_ERR_CORRUPT;
  }
  l.weights = reinterpret_cast<const int8_t*>(p + AGN_MODEL_LAYER_FIXED_SIZE);
  l.bias = p + AGN_MODEL_LAYER_FIXED_SIZE + ((weights + 3) & ~uint64_t{3});
  l.multiplier = l.bias + 4 * l.out_channels;
  l.shift = l.multiplier + 4 * l.out_channels;
  if (!check_requant("layer ", index, l.bias, l.multiplier, l.shift, l.out_channels, terms)) return AGN_ERR_CORRUPT;
  return AGN_OK;
}

agn_status Loader::read_local(Span s) {
  agn_local_layer& l = m_->local;
  if (s.size < AGN_MODEL_LOCAL_FIXED_SIZE) {
    msg_ << "LOCAL section: " << s.size << " bytes, shorter than its fixed part";
    return AGN_ERR_CORRUPT;
  }
  const uint8_t* p = s.data;
  l.in_channels = agn_load_u16le(p);
  l.classes = agn_load_u16le(p + 2);
  l.pool_multiplier = i32(p + 4);
  l.pool_shift = i32(p + 8);
  l.pool_zero_point = i32(p + 12);
  l.pool_scale = agn_f32_at(p + 16, 0);
  l.logits_zero_point = i32(p + 20);
  l.logits_scale = agn_f32_at(p + 24, 0);
  l.pool_count = uint32_t{m_->feature_height} * m_->feature_width;
  l.in_zero_point = m_->layers[m_->layer_count - 1].out_zero_point;
  if (l.in_channels != m_->k || l.classes == 0 || !is_int8(l.pool_zero_point) || !is_int8(l.logits_zero_point)) {
    msg_ << "LOCAL section: " << unsigned{l.in_channels} << " inputs (split k = " << unsigned{m_->k} << "), "
         << unsigned{l.classes} << " classes, zero points " << int64_t{l.pool_zero_point} << " and "
         << int64_t{l.logits_zero_point} << " (expected k inputs, >= 1 class, int8 zero points)";
    return AGN_ERR_CORRUPT;
  }
  const uint64_t weights = uint64_t{l.classes} * l.in_channels;
  const uint64_t expected = AGN_MODEL_LOCAL_FIXED_SIZE + ((weights + 3) & ~uint64_t{3}) + 12ull * l.classes;
  if (s.size != expected) {
    msg_ << "LOCAL section: " << s.size << " bytes, expected " << expected;
    return AGN_ERR_CORRUPT;
  }
  // Pooling sums pool_count values of |q - zp| <= 255.
  if (!check_multiplier("LOCAL pooling", 0, 0, l.pool_multiplier, l.pool_shift)) return AGN_ERR_CORRUPT;
  if (uint64_t{l.pool_count} * 255 > kInt32Max) {
    msg_ << "LOCAL section: pooling " << l.pool_count << " pixels can overflow int32";
    return AGN_ERR_CORRUPT;
  }
  l.weights = reinterpret_cast<const int8_t*>(p + AGN_MODEL_LOCAL_FIXED_SIZE);
  l.bias = p + AGN_MODEL_LOCAL_FIXED_SIZE + ((weights + 3) & ~uint64_t{3});
  l.multiplier = l.bias + 4 * l.classes;
  l.shift = l.multiplier + 4 * l.classes;
  if (!check_requant("LOCAL dense ", 0, l.bias, l.multiplier, l.shift, l.classes, l.in_channels)) {
    return AGN_ERR_CORRUPT;
  }
  return AGN_OK;
}

agn_status Loader::read_split(Span s) {
  if (s.size < AGN_MODEL_SPLIT_FIXED_SIZE) {
    msg_ << "SPLIT section: " << s.size << " bytes, shorter than its fixed part";
    return AGN_ERR_CORRUPT;
  }
  m_->k = agn_load_u16le(s.data);
  m_->levels = agn_load_u16le(s.data + 2);
  m_->alpha = agn_f32_at(s.data + 4, 0);
  const unsigned channels = m_->feature_channels;
  if (m_->levels > AGN_MODEL_MAX_LEVELS) {
    msg_ << "SPLIT section: " << unsigned{m_->levels} << " levels; the device holds a symbol in 4 bits, so at most "
         << AGN_MODEL_MAX_LEVELS;
    return AGN_ERR_CORRUPT;
  }
  if (m_->k < 1 || m_->k >= channels || m_->levels < 2 || !(m_->alpha >= 0.0f && m_->alpha <= 1.0f)) {
    msg_ << "SPLIT section: k = " << unsigned{m_->k} << " of " << channels << " channels, " << unsigned{m_->levels}
         << " levels (expected 1 <= k < channels, 2.." << AGN_MODEL_MAX_LEVELS << " levels, alpha in [0, 1])";
    return AGN_ERR_CORRUPT;
  }
  const uint32_t expected = AGN_MODEL_SPLIT_FIXED_SIZE + agn_model_pad4(m_->levels - 1u) + 4u * m_->levels;
  if (s.size != expected) {
    msg_ << "SPLIT section: " << s.size << " bytes, expected " << expected;
    return AGN_ERR_CORRUPT;
  }
  m_->thresholds = reinterpret_cast<const int8_t*>(s.data + AGN_MODEL_SPLIT_FIXED_SIZE);
  m_->level_values = s.data + AGN_MODEL_SPLIT_FIXED_SIZE + agn_model_pad4(m_->levels - 1u);
  for (unsigned i = 1; i + 1 < m_->levels; ++i) {
    if (m_->thresholds[i] < m_->thresholds[i - 1]) {
      msg_ << "SPLIT section: threshold " << i << " (" << int{m_->thresholds[i]} << ") is below threshold "
           << (i - 1) << " (" << int{m_->thresholds[i - 1]} << ")";
      return AGN_ERR_CORRUPT;
    }
  }
  const uint64_t symbols = uint64_t{channels - m_->k} * m_->feature_height * m_->feature_width;
  if (symbols > kInt32Max) {
    msg_ << "SPLIT section: " << symbols << " symbols per image is too many";
    return AGN_ERR_CORRUPT;
  }
  m_->symbol_count = static_cast<uint32_t>(symbols);
  m_->symbol_map_size =
      static_cast<uint32_t>(agn_symbol_map_size(size_t{channels - m_->k} * m_->feature_height, m_->feature_width));
  return AGN_OK;
}

agn_status Loader::read_rans(Span s) {
  const unsigned remote = m_->feature_channels - m_->k;
  agn_rans_model rans;
  const agn_status st = agn_rans_model_load(&rans, s.data, s.size);
  if (st != AGN_OK) {
    msg_ << "RANS section: not a rANS model (" << agn_status_str(st) << ")";
    return AGN_ERR_CORRUPT;
  }
  if (rans.levels != m_->levels || rans.channels != remote || rans.height != m_->feature_height ||
      rans.width != m_->feature_width) {
    msg_ << "RANS section: tables for " << unsigned{rans.channels} << "x" << unsigned{rans.height} << "x"
         << unsigned{rans.width} << " maps of " << unsigned{rans.levels} << " levels, the model has " << remote
         << "x" << unsigned{m_->feature_height} << "x" << unsigned{m_->feature_width} << " of "
         << unsigned{m_->levels};
    return AGN_ERR_CORRUPT;
  }
  m_->rans = s.data;
  m_->rans_size = s.size;
  return AGN_OK;
}

agn_status Loader::load(const uint8_t* data, size_t size) {
  if (data == nullptr) {
    msg_ << "no model data";
    return AGN_ERR_ARG;
  }
  constexpr size_t kMin = AGN_MODEL_HEADER_SIZE + AGN_MODEL_CRC_SIZE;
  if (size < kMin) {
    msg_ << "model of " << uint64_t{size} << " bytes is shorter than a header and checksum (" << uint64_t{kMin}
         << " bytes)";
    return AGN_ERR_TRUNCATED;
  }
  if (agn_load_u32le(data + AGN_MODEL_OFFSET_MAGIC) != AGN_MODEL_MAGIC) {
    msg_ << "not an agilenn model file (it does not start with \"AGNM\")";
    return AGN_ERR_FORMAT;
  }
  const unsigned version = agn_load_u16le(data + AGN_MODEL_OFFSET_VERSION);
  if (version != AGN_MODEL_VERSION) {
    msg_ << "model format version " << version << ", this runtime reads version " << AGN_MODEL_VERSION;
    return AGN_ERR_FORMAT;
  }
  const uint32_t file_size = agn_load_u32le(data + AGN_MODEL_OFFSET_FILE_SIZE);
  if (file_size > size) {
    msg_ << "model truncated: the header says " << file_size << " bytes, there are " << uint64_t{size};
    return AGN_ERR_TRUNCATED;
  }
  if (file_size != size || file_size < kMin) {
    msg_ << "the header says " << file_size << " bytes, the model has " << uint64_t{size};
    return AGN_ERR_FORMAT;
  }
  const uint32_t body_end = file_size - AGN_MODEL_CRC_SIZE;
  const uint32_t stored_crc = agn_load_u32le(data + body_end);
  const uint32_t crc = agn_crc32(data, body_end);
  if (crc != stored_crc) {
    msg_ << "model checksum mismatch (CRC-32 " << crc << ", stored " << stored_crc << ")";
    return AGN_ERR_CHECKSUM;
  }
  if (agn_load_u32le(data + AGN_MODEL_OFFSET_FLAGS) != 0) {
    msg_ << "unknown header flags " << agn_load_u32le(data + AGN_MODEL_OFFSET_FLAGS);
    return AGN_ERR_FORMAT;
  }
  m_->data = data;
  m_->size = size;
  m_->stored_arena_size = agn_load_u32le(data + AGN_MODEL_OFFSET_ARENA_SIZE);

  Sections s;
  agn_status st = read_table(data, body_end, &s);
  if (st != AGN_OK) return st;
  if ((st = read_input(s.input)) != AGN_OK) return st;
  m_->layer_count = static_cast<uint16_t>(s.layer_count);
  for (unsigned i = 0; i < s.layer_count; ++i) {
    if ((st = read_layer(i, s.layers[i])) != AGN_OK) return st;
  }
  const agn_layer& last = m_->layers[s.layer_count - 1];
  m_->feature_height = last.out_height;
  m_->feature_width = last.out_width;
  m_->feature_channels = last.out_channels;
  if ((st = read_split(s.split)) != AGN_OK) return st;
  if ((st = read_local(s.local)) != AGN_OK) return st;
  if (s.rans.data != nullptr && (st = read_rans(s.rans)) != AGN_OK) return st;
  m_->metadata = s.metadata.data;
  m_->metadata_size = s.metadata.size;
  return AGN_OK;
}

}  // namespace

extern "C" agn_status agn_model_load(agn_model* model, const uint8_t* data, size_t size) {
  if (model == nullptr) return AGN_ERR_ARG;
  memset(model, 0, sizeof *model);
  const agn_status st = Loader(model).load(data, size);
  if (st != AGN_OK) {
    // Keep the message, drop every pointer into the rejected bytes.
    char error[AGN_MODEL_ERROR_SIZE];
    memcpy(error, model->error, sizeof error);
    memset(model, 0, sizeof *model);
    memcpy(model->error, error, sizeof error);
  }
  return st;
}

extern "C" float agn_f32_at(const uint8_t* array, size_t i) {
  const uint32_t bits = agn_load_u32le(array + 4 * i);
  float value;
  memcpy(&value, &bits, sizeof value);
  return value;
}

extern "C" void agn_model_count_macs(const agn_model* model, agn_model_macs* macs) {
  memset(macs, 0, sizeof *macs);
  for (unsigned i = 0; i < model->layer_count; ++i) {
    const agn_layer& l = model->layers[i];
    const uint64_t pixels = uint64_t{l.out_height} * l.out_width;
    const uint64_t window = uint64_t{l.kernel} * l.kernel;
    switch (l.op) {
      case AGN_OP_DEPTHWISE: macs->layer[i] = pixels * l.out_channels * window; break;
      case AGN_OP_POINTWISE: macs->layer[i] = pixels * l.out_channels * l.in_channels; break;
      default: macs->layer[i] = pixels * l.out_channels * window * l.in_channels; break;
    }
    macs->total += macs->layer[i];
  }
  macs->local_dense = uint64_t{model->local.classes} * model->local.in_channels;
  macs->total += macs->local_dense;
}
