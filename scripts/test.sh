#!/usr/bin/env bash
# The test suite: set up and build, fuzz each decoder of untrusted bytes for FUZZ_SECONDS
# (default 20; 0 skips it) with the clang/libFuzzer `fuzz` preset, build the Cortex-M7 firmware
# and run its tests in QEMU (`cortex-m7` preset), then run every host test with CTest (extra
# arguments go to that run). CTest's summary is the last thing printed.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
cd "$repo"
if [[ "${FUZZ_SECONDS:-20}" != 0 ]]; then
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz
  ctest --preset fuzz
fi
cmake --preset cortex-m7 >/dev/null
cmake --build --preset cortex-m7
ctest --preset cortex-m7
exec ctest --preset host "$@"
