#include "wire/siphash.h"

#include "common/byte_order.h"

namespace {

inline uint64_t rotl(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

inline uint64_t load_u64le(const uint8_t* p) {
  return static_cast<uint64_t>(agn_load_u32le(p)) | (static_cast<uint64_t>(agn_load_u32le(p + 4)) << 32);
}

struct SipState {
  uint64_t v0, v1, v2, v3;

  void round() {
    v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
    v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
    v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
    v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
  }

  // One message word: c = 2 compression rounds.
  void compress(uint64_t m) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

}  // namespace

extern "C" uint64_t agn_siphash24(const uint8_t key[16], const void* data, size_t size) {
  const uint64_t k0 = load_u64le(key);
  const uint64_t k1 = load_u64le(key + 8);
  // The initialisation constants spell "somepseudorandomlygeneratedbytes".
  SipState s{k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
             k1 ^ 0x7465646279746573ull};
  const uint8_t* p = static_cast<const uint8_t*>(data);
  const size_t whole = size & ~static_cast<size_t>(7);
  for (size_t i = 0; i < whole; i += 8) s.compress(load_u64le(p + i));
  // Last word: the remaining 0..7 bytes little-endian, the length mod 256 in the top byte.
  uint64_t last = static_cast<uint64_t>(size & 0xFF) << 56;
  for (size_t i = whole; i < size; ++i) last |= static_cast<uint64_t>(p[i]) << (8 * (i - whole));
  s.compress(last);
  // Finalisation: d = 4 rounds.
  s.v2 ^= 0xFF;
  s.round();
  s.round();
  s.round();
  s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
