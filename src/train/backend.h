// What LibTorch computes with in this process: version, threads, and the BLAS library that the
// dynamic linker actually resolved (Debian picks it through the libblas.so.3 alternative;
// reference BLAS makes training ~25x slower than OpenBLAS, see docs/building.md).
#pragma once

#include <string>

namespace agilenn::train {

struct Backend {
  std::string torch_version;
  int threads = 0;
  std::string blas_library;  // path of the mapped libblas/libopenblas, "" if none is mapped
  bool blas_is_optimized = false;  // OpenBLAS, MKL or BLIS rather than the reference BLAS
};

// Runs one small matrix product so that BLAS is loaded, then inspects /proc/self/maps.
Backend probe_backend();

}  // namespace agilenn::train
