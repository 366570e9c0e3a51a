#!/usr/bin/env bash
# The main job: set up, build, then run `agilenn demo` (extra arguments are passed on to it).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
cd "$repo"
exec build/host/bin/agilenn demo "$@"
