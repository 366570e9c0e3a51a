// Decimal text of an unsigned 64-bit value without a 64-bit division: a 32-bit core has none in
// hardware, and the library routine (__aeabi_uldivmod) costs 0.7 KB of flash on the Cortex-M7.
// Error messages (device/message.h) and the firmware console print numbers through this.
#ifndef AGILENN_COMMON_DECIMAL_H
#define AGILENN_COMMON_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Room for the longest text, 18446744073709551615, and its NUL.
#define AGN_DECIMAL_U64_SIZE 21

// Writes `value` in decimal (no sign, no leading zeros; "0" for zero) and a NUL to `out`, which
// has room for AGN_DECIMAL_U64_SIZE chars; returns the number of digits.
size_t agn_decimal_u64(uint64_t value, char* out);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_COMMON_DECIMAL_H
