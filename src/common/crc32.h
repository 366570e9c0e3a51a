// CRC-32 as used by Ethernet, zlib and PNG (IEEE 802.3): reflected polynomial 0xEDB88320,
// initial value 0xFFFFFFFF, final XOR 0xFFFFFFFF. Check value: CRC of "123456789" = 0xCBF43926.
//
// Incremental use (zlib convention; the pre/post inversion is done inside):
//   uint32_t crc = 0;                      // CRC of the empty message
//   crc = agn_crc32_update(crc, a, a_size);
//   crc = agn_crc32_update(crc, b, b_size);  // == agn_crc32(a ++ b)
// Table-driven, 4 bits per step (a 16-entry table in read-only memory, 64 bytes), a 4-byte word per
// loop iteration; no heap.
#ifndef AGILENN_COMMON_CRC32_H
#define AGILENN_COMMON_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Extends `crc` (the CRC of the bytes seen so far, 0 for none) with `size` bytes at `data`.
// `data` may be null only when `size` is 0.
uint32_t agn_crc32_update(uint32_t crc, const void* data, size_t size);

// CRC-32 of `size` bytes at `data`; same as agn_crc32_update(0, data, size).
uint32_t agn_crc32(const void* data, size_t size);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_COMMON_CRC32_H
