#include "common/decimal.h"

extern "C" size_t agn_decimal_u64(uint64_t value, char* out) {
  char digits[AGN_DECIMAL_U64_SIZE - 1];
  size_t n = 0;
  uint32_t hi = static_cast<uint32_t>(value >> 32), lo = static_cast<uint32_t>(value);
  do {
    // (hi, lo) / 10 by long division over 16-bit limbs, so that every dividend (remainder * 2^16 +
    // limb < 10 * 2^16) fits a 32-bit division.
    const uint32_t mid = (hi % 10) << 16 | lo >> 16;
    hi /= 10;
    const uint32_t low = (mid % 10) << 16 | (lo & 0xFFFFu);
    lo = (mid / 10) << 16 | low / 10;
    digits[n++] = static_cast<char>('0' + low % 10);
  } while (hi != 0 || lo != 0);
  for (size_t i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  out[n] = '\0';
  return n;
}
