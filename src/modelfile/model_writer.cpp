#include <bit>
#include <cmath>
#include <stdexcept>

#include "common/byte_order.h"
#include "common/crc32.h"
#include "device/device_model.h"
#include "device/runtime.h"
#include "modelfile/model_spec.h"

namespace agilenn::modelfile {
namespace {

[[noreturn]] void fail(const std::string& field, const std::string& what) {
  throw std::invalid_argument("model spec: " + field + ": " + what);
}

void check_range(const std::string& field, long long value, long long lo, long long hi) {
  if (value < lo || value > hi) {
    fail(field, "expected " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " + std::to_string(value));
  }
}

void check_size(const std::string& field, size_t size, size_t expected) {
  if (size != expected) {
    fail(field, "expected " + std::to_string(expected) + " entries, got " + std::to_string(size));
  }
}

// Appends little-endian fields to a payload; arrays start at 4-byte offsets via pad4().
class Payload {
 public:
  void u8(uint8_t v) { bytes_.push_back(v); }
  void u16(uint16_t v) {
    uint8_t b[2];
    agn_store_u16le(b, v);
    bytes_.insert(bytes_.end(), b, b + 2);
  }
  void u32(uint32_t v) {
    uint8_t b[4];
    agn_store_u32le(b, v);
    bytes_.insert(bytes_.end(), b, b + 4);
  }
  void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
  void f32(float v) { u32(std::bit_cast<uint32_t>(v)); }
  void i8s(const std::vector<int8_t>& v) {
    for (int8_t x : v) u8(static_cast<uint8_t>(x));
  }
  void i32s(const std::vector<int32_t>& v) {
    for (int32_t x : v) i32(x);
  }
  void pad4() { bytes_.resize(agn_model_pad4(static_cast<uint32_t>(bytes_.size())), 0); }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

void check_u16(const std::string& field, int value) { check_range(field, value, 0, 0xFFFF); }

void check_requant(const std::string& field, const std::vector<int32_t>& multiplier,
                   const std::vector<int32_t>& shift, size_t count) {
  check_size(field + ".multiplier", multiplier.size(), count);
  check_size(field + ".shift", shift.size(), count);
}


// The tail shared by the layer and local sections: int8 weights, padding to 4 bytes, then the
// int32 bias, multipliers and shifts per output channel.
void append_weights_and_requant(Payload& p, const std::vector<int8_t>& weights, const std::vector<int32_t>& bias,
                                const std::vector<int32_t>& multiplier, const std::vector<int32_t>& shift) {
  p.i8s(weights);
  p.pad4();
  p.i32s(bias);
  p.i32s(multiplier);
  p.i32s(shift);
}

std::vector<uint8_t> input_payload(const InputSpec& in) {
  check_u16("input.height", in.height);
  check_u16("input.width", in.width);
  check_u16("input.channels", in.channels);
  check_range("input.zero_point", in.zero_point, -128, 127);
  Payload p;
  p.u16(static_cast<uint16_t>(in.height));
  p.u16(static_cast<uint16_t>(in.width));
  p.u16(static_cast<uint16_t>(in.channels));
  p.u16(0);
  p.f32(in.scale);
  p.i32(in.zero_point);
  return std::move(p.bytes());
}

size_t weight_count(const LayerSpec& l) {
  const size_t kk = static_cast<size_t>(l.kernel) * static_cast<size_t>(l.kernel);
  switch (l.op) {
    case LayerOp::depthwise: return kk * static_cast<size_t>(l.out_channels);
    case LayerOp::pointwise: return static_cast<size_t>(l.out_channels) * static_cast<size_t>(l.in_channels);
    case LayerOp::conv: return static_cast<size_t>(l.out_channels) * kk * static_cast<size_t>(l.in_channels);
  }
  fail("layer.op", "unknown op " + std::to_string(static_cast<int>(l.op)));
}

std::vector<uint8_t> layer_payload(const LayerSpec& l, size_t index) {
  const std::string name = "layers[" + std::to_string(index) + "]";
  check_range(name + ".kernel", l.kernel, 0, 0xFF);
  check_range(name + ".stride", l.stride, 0, 0xFF);
  check_range(name + ".padding", l.padding, 0, 0xFF);
  check_u16(name + ".in_height", l.in_height);
  check_u16(name + ".in_width", l.in_width);
  check_u16(name + ".in_channels", l.in_channels);
  check_u16(name + ".out_height", l.out_height);
  check_u16(name + ".out_width", l.out_width);
  check_u16(name + ".out_channels", l.out_channels);
  const size_t channels = static_cast<size_t>(l.out_channels);
  check_size(name + ".weights", l.weights.size(), weight_count(l));
  check_size(name + ".bias", l.bias.size(), channels);
  check_requant(name, l.multiplier, l.shift, channels);
  Payload p;
  p.u8(static_cast<uint8_t>(l.op));
  p.u8(static_cast<uint8_t>(l.kernel));
  p.u8(static_cast<uint8_t>(l.stride));
  p.u8(static_cast<uint8_t>(l.padding));
  for (int v : {l.in_height, l.in_width, l.in_channels, l.out_height, l.out_width, l.out_channels}) {
    p.u16(static_cast<uint16_t>(v));
  }
  p.i32(l.out_zero_point);
  p.i32(l.act_min);
  p.i32(l.act_max);
  p.f32(l.out_scale);
  append_weights_and_requant(p, l.weights, l.bias, l.multiplier, l.shift);
  return std::move(p.bytes());
}

std::vector<uint8_t> local_payload(const LocalSpec& l) {
  check_u16("local.in_channels", l.in_channels);
  check_u16("local.classes", l.classes);
  const size_t classes = static_cast<size_t>(l.classes);
  check_size("local.weights", l.weights.size(), classes * static_cast<size_t>(l.in_channels));
  check_size("local.bias", l.bias.size(), classes);
  check_requant("local", l.multiplier, l.shift, classes);
  Payload p;
  p.u16(static_cast<uint16_t>(l.in_channels));
  p.u16(static_cast<uint16_t>(l.classes));
  p.i32(l.pool_multiplier);
  p.i32(l.pool_shift);
  p.i32(l.pool_zero_point);
  p.f32(l.pool_scale);
  p.i32(l.logits_zero_point);
  p.f32(l.logits_scale);
  append_weights_and_requant(p, l.weights, l.bias, l.multiplier, l.shift);
  return std::move(p.bytes());
}

std::vector<uint8_t> split_payload(const SplitSpec& s) {
  check_u16("split.k", s.k);
  check_range("split.levels", s.levels, 2, AGN_MODEL_MAX_LEVELS);
  check_size("split.thresholds", s.thresholds.size(), static_cast<size_t>(s.levels - 1));
  check_size("split.level_values", s.level_values.size(), static_cast<size_t>(s.levels));
  Payload p;
  p.u16(static_cast<uint16_t>(s.k));
  p.u16(static_cast<uint16_t>(s.levels));
  p.f32(s.alpha);
  p.i8s(s.thresholds);
  p.pad4();
  for (float v : s.level_values) p.f32(v);
  return std::move(p.bytes());
}

}  // namespace

std::vector<uint8_t> write_model(const ModelSpec& spec) {
  std::vector<std::pair<agn_section_type, std::vector<uint8_t>>> sections;
  sections.emplace_back(AGN_SECTION_INPUT, input_payload(spec.input));
  for (size_t i = 0; i < spec.layers.size(); ++i) {
    sections.emplace_back(AGN_SECTION_LAYER, layer_payload(spec.layers[i], i));
  }
  sections.emplace_back(AGN_SECTION_LOCAL, local_payload(spec.local));
  sections.emplace_back(AGN_SECTION_SPLIT, split_payload(spec.split));
  if (!spec.rans_model.empty()) sections.emplace_back(AGN_SECTION_RANS, spec.rans_model);
  if (!spec.metadata.empty()) {
    sections.emplace_back(AGN_SECTION_METADATA, std::vector<uint8_t>(spec.metadata.begin(), spec.metadata.end()));
  }
  if (sections.size() > AGN_MODEL_MAX_SECTIONS) {
    fail("layers", "too many sections (" + std::to_string(sections.size()) + ")");
  }

  const size_t table_end = AGN_MODEL_HEADER_SIZE + AGN_MODEL_SECTION_ENTRY_SIZE * sections.size();
  std::vector<uint8_t> file(table_end, 0);
  for (size_t i = 0; i < sections.size(); ++i) {
    const auto& [type, payload] = sections[i];
    file.resize(agn_model_pad4(static_cast<uint32_t>(file.size())), 0);
    uint8_t* entry = file.data() + AGN_MODEL_HEADER_SIZE + AGN_MODEL_SECTION_ENTRY_SIZE * i;
    agn_store_u32le(entry, static_cast<uint32_t>(type));
    agn_store_u32le(entry + 4, static_cast<uint32_t>(file.size()));
    agn_store_u32le(entry + 8, static_cast<uint32_t>(payload.size()));
    file.insert(file.end(), payload.begin(), payload.end());
  }
  file.resize(agn_model_pad4(static_cast<uint32_t>(file.size())), 0);
  if (file.size() + AGN_MODEL_CRC_SIZE > 0xFFFFFFFFu) fail("model", "larger than 4 GiB");
  file.resize(file.size() + AGN_MODEL_CRC_SIZE, 0);

  uint8_t* h = file.data();
  agn_store_u32le(h + AGN_MODEL_OFFSET_MAGIC, AGN_MODEL_MAGIC);
  agn_store_u16le(h + AGN_MODEL_OFFSET_VERSION, AGN_MODEL_VERSION);
  agn_store_u16le(h + AGN_MODEL_OFFSET_SECTION_COUNT, static_cast<uint16_t>(sections.size()));
  agn_store_u32le(h + AGN_MODEL_OFFSET_FILE_SIZE, static_cast<uint32_t>(file.size()));
  agn_store_u32le(h + AGN_MODEL_OFFSET_ARENA_SIZE, 0);
  agn_store_u32le(h + AGN_MODEL_OFFSET_FLAGS, 0);
  const size_t body = file.size() - AGN_MODEL_CRC_SIZE;
  agn_store_u32le(h + body, agn_crc32(h, body));

  // The runtime's own loader validates the result, and sizes the arena for every codec the model
  // supports (the loader ignores the arena field, so it can be filled in afterwards).
  agn_model model;
  if (agn_model_load(&model, file.data(), file.size()) != AGN_OK) fail("model", model.error);
  unsigned codecs = AGN_CODEC_BIT(AGN_CODEC_RAW) | AGN_CODEC_BIT(AGN_CODEC_LZW_FIXED) |
                    AGN_CODEC_BIT(AGN_CODEC_LZW_VARIABLE);
  if (model.rans != nullptr) codecs |= AGN_CODEC_BIT(AGN_CODEC_RANS);
  size_t arena = 0;
  if (agn_runtime_arena_size(&model, codecs, &arena) != AGN_OK || arena > 0xFFFFFFFFu) fail("model", "arena size");
  agn_store_u32le(h + AGN_MODEL_OFFSET_ARENA_SIZE, static_cast<uint32_t>(arena));
  agn_store_u32le(h + body, agn_crc32(h, body));
  return file;
}

QuantizedMultiplier quantize_multiplier(double real) {
  if (!std::isfinite(real) || real < 0) fail("multiplier", "expected a finite value >= 0, got " + std::to_string(real));
  if (real == 0) return {};
  int exponent = 0;
  const double fraction = std::frexp(real, &exponent);  // real = fraction * 2^exponent, fraction in [0.5, 1)
  int64_t q = std::llround(fraction * 2147483648.0);
  if (q == (int64_t{1} << 31)) {
    q /= 2;
    ++exponent;
  }
  if (exponent > AGN_MODEL_MAX_SHIFT) fail("multiplier", std::to_string(real) + " is too large");
  if (exponent < AGN_MODEL_MIN_SHIFT) return {};
  return {static_cast<int32_t>(q), exponent};
}

double dequantize_multiplier(int32_t multiplier, int32_t shift) { return std::ldexp(multiplier, shift - 31); }

}  // namespace agilenn::modelfile
