#include "train/backend.h"

#include <gtest/gtest.h>

namespace agilenn::train {
namespace {

// scripts/setup.sh installs libopenblas0-openmp so that LibTorch's BLAS calls go to OpenBLAS;
// the reference BLAS makes training about 25x slower.
TEST(Backend, LibTorchUsesAnOptimisedBlas) {
  const Backend b = probe_backend();
  EXPECT_EQ(b.torch_version.rfind("1.", 0) == 0 || b.torch_version.rfind("2.", 0) == 0, true) << b.torch_version;
  EXPECT_GE(b.threads, 1);
  EXPECT_TRUE(b.blas_is_optimized) << "BLAS in use: '" << b.blas_library << "'";
}

TEST(Backend, ComputeThreadsFollowTheRequest) {
  set_compute_threads(1);
  EXPECT_EQ(probe_backend().threads, 1);
  set_compute_threads(2);
  EXPECT_EQ(probe_backend().threads, 2);
}

}  // namespace
}  // namespace agilenn::train
