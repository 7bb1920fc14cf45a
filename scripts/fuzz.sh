#!/usr/bin/env bash
# Builds the libFuzzer targets of every reader of outside bytes (tests/fuzz, clang with
# AddressSanitizer and UndefinedBehaviorSanitizer, into build-fuzz/) and fuzzes each for a
# while from its seed corpus (tests/fuzz/corpus/<target>, grown in build-fuzz/corpus/).
# Prints each target's executions and what it found; exits non-zero on a crash, a leak, a
# timeout or an allocation over the limit, leaving the input in build-fuzz/findings/<target>/.
#
#   bash scripts/fuzz.sh [--seconds N] [TARGET...]   (default: 30 s each, every target)
#
# Targets: idx csv npy safetensors imagefolder runfiles checkpoint (a run's .pt through
# GenerativeModel::load and a resumed step) manifest (a feature extractor's extractor.json).
# A finding replays with
#   build-fuzz/fuzz_<target> build-fuzz/findings/<target>/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=30
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=(idx csv npy safetensors imagefolder runfiles checkpoint manifest)

bash scripts/setup.sh
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -S tests/fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
cmake --build build-fuzz --parallel "$(nproc)"

# LibTorch and OpenCV are not instrumented: their containers cannot be checked for overflow,
# and their one-time allocations at start are not ours to leak. No input may make a reader
# allocate more than 1 GiB at once (a header that claims 2^40 items must be refused first).
export ASAN_OPTIONS="detect_container_overflow=0:allocator_may_return_null=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp:${LSAN_OPTIONS:-}"
export OMP_NUM_THREADS=1
failed=0
for t in "${targets[@]}"; do
  corpus=build-fuzz/corpus/$t
  findings=build-fuzz/findings/$t
  mkdir -p "$corpus" "$findings"
  log=build-fuzz/fuzz-$t.log
  status=0
  build-fuzz/fuzz_$t "$corpus" "tests/fuzz/corpus/$t" -max_total_time="$seconds" \
    -max_len=65536 -timeout=20 -rss_limit_mb=3072 -malloc_limit_mb=1024 \
    -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1 || status=$?
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  if ((status)); then
    failed=1
    echo "fuzz $t: FOUND something after ${runs:-?} runs (exit $status); see $log and $findings/"
    grep -m3 -E "ERROR: |runtime error|SUMMARY" "$log" | sed 's/^/  /' || true
  else
    echo "fuzz $t: ${runs:-?} runs in ${seconds} s, coverage ${cov:-?} edges, nothing found"
  fi
done
exit $failed
