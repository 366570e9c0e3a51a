#include "train/backend.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <thread>

namespace agilenn::train {

void set_compute_threads(int threads) {
  if (threads <= 0) {
    const char* env = std::getenv("OMP_NUM_THREADS");
    threads = env && std::atoi(env) > 0 ? std::atoi(env) : static_cast<int>(std::thread::hardware_concurrency());
  }
  torch::set_num_threads(std::max(threads, 1));
}

Backend probe_backend() {
  Backend b;
  b.torch_version = TORCH_VERSION;
  b.threads = torch::get_num_threads();
  const torch::Tensor a = torch::ones({64, 64});
  volatile float sink = torch::mm(a, a).sum().item<float>();
  (void)sink;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const bool blas = path.find("blas") != std::string::npos || path.find("mkl") != std::string::npos ||
                      path.find("blis") != std::string::npos;
    if (!blas) continue;
    b.blas_library = path;
    b.blas_is_optimized = path.find("openblas") != std::string::npos ||
                          path.find("mkl") != std::string::npos || path.find("blis") != std::string::npos;
    if (b.blas_is_optimized) break;
  }
  return b;
}

}  // namespace agilenn::train
