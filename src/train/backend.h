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

// Sets LibTorch's intra-op threads: `threads` if > 0, else $OMP_NUM_THREADS if set, else every
// hardware thread (LibTorch 1.13 from Debian otherwise starts with one thread).
void set_compute_threads(int threads);

// Runs one small matrix product so that BLAS is loaded, then inspects /proc/self/maps.
Backend probe_backend();

}  // namespace agilenn::train
