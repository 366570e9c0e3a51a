// Status codes returned by the device-side libraries (common, codec, and later the runtime).
//
// Contract: AGN_OK is 0 and every error is negative, so `if (st < 0)` tests for failure.
// Values are stable: they may be logged, sent over the wire or stored in test expectations.
#ifndef AGILENN_COMMON_STATUS_H
#define AGILENN_COMMON_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum agn_status {
  AGN_OK = 0,
  AGN_ERR_ARG = -1,        // an argument is out of its documented range (null pointer, bad L, ...)
  AGN_ERR_RANGE = -2,      // an input symbol is >= the number of levels L
  AGN_ERR_NO_SPACE = -3,   // the caller's output buffer is too small
  AGN_ERR_TRUNCATED = -4,  // the input ended before the format says it should
  AGN_ERR_CORRUPT = -5,    // the input violates the format (bad code, bad padding, trailing data)
  AGN_ERR_STATE = -6,      // call out of order (sink after finish, finish with output pending)
  AGN_ERR_FORMAT = -7,     // bad magic, unsupported version, or a size field that does not match
  AGN_ERR_CHECKSUM = -8,   // CRC-32 mismatch
} agn_status;

// A short constant English name for `status` ("ok", "corrupt input", ...); never null.
const char* agn_status_str(agn_status status);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_COMMON_STATUS_H
