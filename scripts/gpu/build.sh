#!/usr/bin/env bash
# Run ON the GPU machine (Ubuntu, PyTorch with CUDA, CMake, ninja; see docs/building.md), after
# scripts/gpu/prepare.sh here: builds build/gpu/bin/agilenn against that machine's CUDA LibTorch
# with our other dependencies linked statically from .gpu/prefix (no SVHN: no matio there), and
# extracts CIFAR-10 into ./data. Then: build/gpu/bin/agilenn train ... --device cuda
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
[[ -d data/cifar10 ]] || { mkdir -p data && tar xzf .gpu/cifar10-jpg.tar.gz -C data; }
p=$PWD/.gpu/prefix
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DAGILENN_BUILD_TESTS=OFF -DAGILENN_WITH_MATIO=OFF \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$p" -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" \
  -DJPEG_LIBRARY_RELEASE="$p/lib/libjpeg.a" -DJPEG_INCLUDE_DIR="$p/include" \
  -DPNG_LIBRARY_RELEASE="$p/lib/libpng16.a" -DPNG_PNG_INCLUDE_DIR="$p/include" \
  -DZLIB_LIBRARY_RELEASE="$p/lib/libz.a" -DZLIB_INCLUDE_DIR="$p/include" \
  -DLibArchive_LIBRARY="$p/lib/libarchive.a" -DLibArchive_INCLUDE_DIR="$p/include" \
  -DSTB_LIBRARY="$p/lib/libstb.a" -DSTB_INCLUDE_DIR="$p/include/stb" >/dev/null
cmake --build build/gpu --target agilenn -j"$(nproc)"
