#!/usr/bin/env bash
# Builds the libFuzzer targets of every reader of outside bytes (tests/fuzz, clang with
# AddressSanitizer and UndefinedBehaviorSanitizer, into build-fuzz/) and fuzzes each for a
# while from its seed corpus (tests/fuzz/corpus/<target>, grown in build-fuzz/corpus/).
# Prints each target's executions and what it found; exits non-zero on a crash, a leak, a
# timeout or an allocation over the limit, leaving the input in build-fuzz/findings/<target>/.
#
#   bash scripts/fuzz.sh [--seconds N] [--jobs J] [TARGET...]
#       (default: 30 s each, every target, as many side by side as there are cores)
#
# Targets: idx csv npy safetensors imagefolder runfiles checkpoint (a run's .pt through
# GenerativeModel::load and a resumed step) manifest (a feature extractor's extractor.json).
# A finding replays with
#   build-fuzz/fuzz_<target> build-fuzz/findings/<target>/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=30
jobs=$(nproc)
targets=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if ! [[ "$jobs" =~ ^[0-9]+$ ]] || ((jobs < 1)); then
  echo "fuzz.sh: --jobs takes a count of 1 or more, not '$jobs'" >&2
  exit 2
fi
all=(idx csv npy safetensors imagefolder runfiles checkpoint manifest)
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
  if [[ " ${all[*]} " != *" $t "* ]]; then
    echo "fuzz.sh: no target '$t' (targets: ${all[*]})" >&2
    exit 2
  fi
done

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

# fuzz_one TARGET: fuzzes one target into its log, and writes the fuzzer's exit status beside.
fuzz_one() {
  local t=$1 status=0
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
  build-fuzz/fuzz_$t "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" -max_total_time="$seconds" \
    -max_len=65536 -timeout=20 -rss_limit_mb=3072 -malloc_limit_mb=1024 \
    -artifact_prefix="build-fuzz/findings/$t/" -print_final_stats=1 \
    >"build-fuzz/fuzz-$t.log" 2>&1 || status=$?
  echo "$status" >"build-fuzz/fuzz-$t.status"
}

# A fuzzer runs on one core, so the targets run side by side, as many at once as --jobs (the
# cores): each gets its seconds of fuzzing, in a fraction of the wall time.
for t in "${targets[@]}"; do
  rm -f "build-fuzz/fuzz-$t.status"
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  fuzz_one "$t" &
done
wait

failed=0
for t in "${targets[@]}"; do
  log=build-fuzz/fuzz-$t.log
  findings=build-fuzz/findings/$t
  status=$(cat "build-fuzz/fuzz-$t.status" 2>/dev/null || echo "?")
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  if [ "$status" != 0 ]; then
    failed=1
    echo "fuzz $t: FOUND something after ${runs:-?} runs (exit $status); see $log and $findings/"
    grep -m3 -E "ERROR: |runtime error|SUMMARY" "$log" | sed 's/^/  /' || true
  else
    echo "fuzz $t: ${runs:-?} runs in ${seconds} s, coverage ${cov:-?} edges, nothing found"
  fi
done
exit $failed
