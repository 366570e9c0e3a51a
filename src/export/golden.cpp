#include "export/golden.h"

#include <stdexcept>
#include <string>

#include "common/byte_order.h"
#include "common/crc32.h"

namespace agilenn::exporter {
namespace {

void put_u16(std::vector<uint8_t>& out, uint16_t v) {
  out.resize(out.size() + 2);
  agn_store_u16le(out.data() + out.size() - 2, v);
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
  out.resize(out.size() + 4);
  agn_store_u32le(out.data() + out.size() - 4, v);
}

template <typename T>
void put_field(std::vector<uint8_t>& out, const std::vector<T>& v) {
  static_assert(sizeof(T) == 1);
  put_u32(out, static_cast<uint32_t>(v.size()));
  for (T x : v) out.push_back(static_cast<uint8_t>(x));
}

class Reader {
 public:
  Reader(const std::vector<uint8_t>& bytes, size_t end) : bytes_(bytes), end_(end) {}
  const uint8_t* take(size_t n, const char* what) {
    if (end_ - pos_ < n) throw std::runtime_error(std::string("golden vectors: truncated in ") + what);
    const uint8_t* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  uint16_t u16(const char* what) { return agn_load_u16le(take(2, what)); }
  uint32_t u32(const char* what) { return agn_load_u32le(take(4, what)); }
  template <typename T>
  std::vector<T> field(const char* what) {
    const uint32_t n = u32(what);
    const uint8_t* p = take(n, what);
    std::vector<T> v(n);
    for (uint32_t i = 0; i < n; ++i) v[i] = static_cast<T>(p[i]);
    return v;
  }
  bool done() const { return pos_ == end_; }

 private:
  const std::vector<uint8_t>& bytes_;
  size_t end_;
  size_t pos_ = 0;
};

}  // namespace

std::vector<uint8_t> write_golden(const std::vector<GoldenImage>& images) {
  if (images.size() > 0xFFFF) throw std::invalid_argument("golden vectors: more than 65535 images");
  const size_t layers = images.empty() ? 0 : images[0].expected.layers.size();
  std::vector<uint8_t> out;
  put_u32(out, kGoldenMagic);
  put_u16(out, kGoldenVersion);
  put_u16(out, static_cast<uint16_t>(images.size()));
  put_u16(out, static_cast<uint16_t>(layers));
  put_u16(out, 0);
  for (const GoldenImage& g : images) {
    if (g.expected.layers.size() != layers) throw std::invalid_argument("golden vectors: images with different layer counts");
    put_u32(out, g.label);
    put_field(out, g.input);
    for (const auto& l : g.expected.layers) put_field(out, l);
    put_field(out, g.expected.pooled);
    put_field(out, g.expected.logits);
    put_field(out, g.expected.symbols);
  }
  put_u32(out, agn_crc32(out.data(), out.size()));
  return out;
}

std::vector<GoldenImage> read_golden(const std::vector<uint8_t>& bytes) {
  if (bytes.size() < 16) throw std::runtime_error("golden vectors: truncated (" + std::to_string(bytes.size()) + " bytes)");
  const size_t body = bytes.size() - 4;
  if (agn_crc32(bytes.data(), body) != agn_load_u32le(bytes.data() + body)) {
    throw std::runtime_error("golden vectors: CRC-32 mismatch (corrupt file)");
  }
  Reader r(bytes, body);
  if (r.u32("header") != kGoldenMagic) throw std::runtime_error("golden vectors: bad magic (expected \"AGNG\")");
  const uint16_t version = r.u16("header");
  if (version != kGoldenVersion) throw std::runtime_error("golden vectors: unsupported version " + std::to_string(version));
  const uint16_t count = r.u16("header");
  const uint16_t layers = r.u16("header");
  r.u16("header");
  std::vector<GoldenImage> images(count);
  for (GoldenImage& g : images) {
    g.label = r.u32("label");
    g.input = r.field<uint8_t>("input");
    for (uint16_t i = 0; i < layers; ++i) g.expected.layers.push_back(r.field<int8_t>("layer output"));
    g.expected.pooled = r.field<int8_t>("pooled features");
    g.expected.logits = r.field<int8_t>("logits");
    g.expected.symbols = r.field<uint8_t>("symbols");
  }
  if (!r.done()) throw std::runtime_error("golden vectors: trailing bytes after the last image");
  return images;
}

}  // namespace agilenn::exporter
