#include "common/status.h"

extern "C" const char* agn_status_str(agn_status status) {
  switch (status) {
    case AGN_OK: return "ok";
    case AGN_ERR_ARG: return "invalid argument";
    case AGN_ERR_RANGE: return "symbol out of range";
    case AGN_ERR_NO_SPACE: return "output buffer too small";
    case AGN_ERR_TRUNCATED: return "truncated input";
    case AGN_ERR_CORRUPT: return "corrupt input";
    case AGN_ERR_STATE: return "call out of order";
    case AGN_ERR_FORMAT: return "bad format header";
    case AGN_ERR_CHECKSUM: return "checksum mismatch";
  }
  return "unknown status";
}
