#!/usr/bin/env bash
# Runs the libFuzzer targets for a bounded time each and fails if any of them finds a crash,
# a sanitizer report, a leak, a timeout or an out-of-memory.
#
#   bash tests/fuzz/run_fuzzers.sh [--bin-dir DIR] [--artifact-dir DIR] [TARGET...]
#
# TARGET: names of fuzzers in the bin dir (default: those CI runs, listed in fuzz_ci_targets.txt
# there; train_data_svhn_fuzz must be named, see its source). Each starts from the seeds
# that fuzz_seeds (same bin dir) writes into a fresh temp corpus; the corpus is thrown away.
# Environment: FUZZ_SECONDS (default 20) per target; FUZZ_ARGS, extra libFuzzer flags.
# A crashing input is kept as DIR/<target>/crash-* (--artifact-dir, default build/fuzz/fuzz-artifacts);
# reproduce with `build/fuzz/bin/<target> <that file>`.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin_dir="$repo/build/fuzz/bin"
artifact_dir="$repo/build/fuzz/fuzz-artifacts"
targets=()
while (($#)); do
  case "$1" in
    --bin-dir) bin_dir="$2"; shift 2 ;;
    --artifact-dir) artifact_dir="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "run_fuzzers: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
seconds="${FUZZ_SECONDS:-20}"

if ((${#targets[@]} == 0)); then
  if [[ -f "$bin_dir/fuzz_ci_targets.txt" ]]; then  # written by tests/fuzz/CMakeLists.txt
    mapfile -t targets < <(grep -v '^$' "$bin_dir/fuzz_ci_targets.txt")
  else
    for f in "$bin_dir"/*_fuzz; do
      [[ -x "$f" ]] && targets+=("$(basename "$f")")
    done
  fi
fi
if ((${#targets[@]} == 0)); then
  echo "run_fuzzers: no fuzzers in $bin_dir (cmake --preset fuzz && cmake --build --preset fuzz)" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/agilenn-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$bin_dir/fuzz_seeds" "$work/seeds"

failed=()
for name in "${targets[@]}"; do
  exe="$bin_dir/$name"
  [[ -x "$exe" ]] || { echo "run_fuzzers: $exe not built" >&2; failed+=("$name"); continue; }
  corpus="$work/corpus/$name"
  mkdir -p "$corpus" "$work/seeds/$name" "$artifact_dir/$name" "$work/tmp"
  log="$work/$name.log"
  # The targets' own temp files go under $work/tmp, removed even after a crash.
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  if TMPDIR="$work/tmp" ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" \
       UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}" \
       "$exe" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
              -print_final_stats=1 -artifact_prefix="$artifact_dir/$name/" ${FUZZ_ARGS:-} \
              "$corpus" "$work/seeds/$name" >"$log" 2>&1; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)"
    echo "fuzz: $name ok: ${runs:-?} runs in ${seconds}s, ${cov:-cov: ?}, corpus $(find "$corpus" -type f | wc -l) inputs"
  else
    echo "fuzz: $name FAILED; the last lines of its log:" >&2
    tail -n 60 "$log" >&2
    echo "fuzz: $name: crashing input kept in $artifact_dir/$name/" >&2
    failed+=("$name")
  fi
done

if ((${#failed[@]})); then
  echo "fuzz: ${#failed[@]} of ${#targets[@]} fuzzers failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} fuzzers ran ${seconds}s each without a finding"
