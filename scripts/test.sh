#!/usr/bin/env bash
# The test suite: set up, build, then run every test with CTest.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$repo/scripts/setup.sh"
cd "$repo"
exec ctest --preset host "$@"
