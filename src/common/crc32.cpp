#include "common/crc32.h"

namespace {

struct Crc32Table {
  uint32_t entry[256];
};

// Built at compile time so that the table lands in flash on the MCU.
constexpr Crc32Table make_table() {
  Crc32Table t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? (c >> 1) ^ 0xEDB88320u : (c >> 1);
    t.entry[i] = c;
  }
  return t;
}

constexpr Crc32Table kTable = make_table();

}  // namespace

extern "C" uint32_t agn_crc32_update(uint32_t crc, const void* data, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  for (size_t i = 0; i < size; ++i) c = kTable.entry[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
  return ~c;
}

extern "C" uint32_t agn_crc32(const void* data, size_t size) { return agn_crc32_update(0, data, size); }
