#!/usr/bin/env bash
# Builds everything and runs the whole test suite through ctest. GUI and Vulkan tests start
# their own Xvfb (xvfb-run) and render with Mesa's lavapipe, so no display is needed.
#
#   bash scripts/test.sh [ctest options]              Release build in build/
#   bash scripts/test.sh --sanitize [ctest options]   the same suite built with AddressSanitizer
#       and UndefinedBehaviorSanitizer in build-sanitize/ (suppressions: tests/sanitize/)
#   bash scripts/test.sh --tsan [ctest options]       the trainer's tests (train: the trainer,
#       its checkpoints, faults and kills) built with ThreadSanitizer in build-tsan/, on one core
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
supp="$PWD/tests/sanitize"

# sanitized_build DIR CMAKE_OPTION [TARGET...]: set-up, then DIR configured once with the
# option and built (-O1 -g1: sanitizer reports with file and line, at a compile cost two cores
# can bear).
sanitized_build() {
  local dir=$1 option=$2
  shift 2
  bash scripts/setup.sh
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -D"$option"=ON -DLATENTLAB_BUILD_BENCH=OFF
  fi
  cmake --build "$dir" --parallel "$(nproc)" ${1:+--target "$@"}
}

if [ "${1:-}" = "--sanitize" ]; then
  shift
  sanitized_build build-sanitize LATENTLAB_SANITIZE
  # detect_container_overflow: Debian's LibTorch, Qt and OpenCV fill std containers in code
  # that is not instrumented, so the annotations would disagree. Leaks: see lsan.supp.
  export ASAN_OPTIONS="detect_container_overflow=0:detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp:${UBSAN_OPTIONS:-}"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0:${LSAN_OPTIONS:-}"
  cd build-sanitize
  # The fuzz targets are sanitized builds of their own (build-fuzz/); no need to run them twice.
  exec ctest --output-on-failure --timeout 3000 -E '^fuzz_readers$' "$@"
fi
if [ "${1:-}" = "--tsan" ]; then
  shift
  sanitized_build build-tsan LATENTLAB_SANITIZE_THREAD test_train latentlab-cli
  # One core, so every pool (LibTorch's OpenMP, OpenBLAS, the app's) has one thread: libgomp
  # is not instrumented, and TSan would take its workers' writes for races (HouseSettings).
  export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp:${TSAN_OPTIONS:-}"
  cd build-tsan
  exec taskset -c 0 ctest --output-on-failure --timeout 3000 -R '^train$' "$@"
fi
bash scripts/build.sh
cd build
# One test a core: most suites keep one core busy at a time (small batches, waits on files and
# child processes), so side by side the suite takes about two thirds of its serial time on two
# cores. Those that time real steps (gui, gui_background) and the fuzzers ask to run alone.
ctest --output-on-failure --timeout 1500 --parallel "$(nproc)" "$@"
