#!/usr/bin/env bash
# Installs the Debian packages agilenn needs (only those missing), then configures and builds the
# host release preset. Sourced by scripts/demo.sh and scripts/test.sh; safe to run again.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Build tools, LibTorch with a fast BLAS, and the format libraries.
packages=(
  cmake ninja-build g++ pkg-config
  libtorch-dev libopenblas0-openmp
  libcli11-dev nlohmann-json3-dev
  libjpeg62-turbo-dev libpng-dev zlib1g-dev libzstd-dev libmatio-dev libarchive-dev libstb-dev fonts-dejavu-core
  libgtest-dev libgmock-dev
  clang libclang-rt-14-dev  # the fuzz preset: clang with libFuzzer and the sanitizer runtimes
  # the cortex-m7 preset: cross compiler, C library and C++ headers, and the emulated board
  gcc-arm-none-eabi libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib qemu-system-arm
  iproute2  # ip and tc: the netem integration test of the UDP link (skipped where not allowed)
)

missing=()
for p in "${packages[@]}"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cd "$repo"
cmake --preset host >/dev/null
cmake --build --preset host
