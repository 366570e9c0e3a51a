// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): the message
// authentication code of every agilenn datagram (docs/wire.md says why this one).
//
// Contract: the key is 16 bytes, k0 = bytes 0..7 and k1 = bytes 8..15 read little-endian, as in
// the reference implementation; the result is the 64-bit output, which the wire stores
// little-endian (so it matches the reference implementation's 8 output bytes). Portable C, no
// heap, constant time in the key and data (no data-dependent branches or table lookups).
#ifndef AGILENN_WIRE_SIPHASH_H
#define AGILENN_WIRE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// SipHash-2-4 of `size` bytes at `data` under `key`. `data` may be null only when `size` is 0.
uint64_t agn_siphash24(const uint8_t key[16], const void* data, size_t size);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_WIRE_SIPHASH_H
