#!/usr/bin/env bash
# The main job: set up, build, then run `agilenn demo` (extra arguments are passed on to it).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
cd "$repo"
# The Cortex-M7 firmware and the QEMU instruction-count plugin for the demo's last stage.
cmake --preset cortex-m7 >/dev/null
cmake --build --preset cortex-m7
exec build/host/bin/agilenn demo "$@"
