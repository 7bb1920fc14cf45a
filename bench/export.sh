#!/usr/bin/env bash
# Export speed and memory: 10,000 images (1,000 per class) of a cGAN run with the full dataset
# card (every metric, TSTR included), as `latentlab-cli export` makes them. Prints the wall
# time of each stage, the total against the 2-minute target, images per second and the peak
# resident memory (VmHWM of the process).
#
#   bash bench/export.sh [RUN]      (default: trains a cGAN, cgan-cpu for $STEPS steps)
#
# Needs a build (scripts/build.sh). Time it on a quiet machine: every other process on the
# 2 cores slows it down. Output goes to $OUT (default /tmp/ll-bench-export).
set -euo pipefail
cd "$(dirname "$0")/.."
cli=build/app/latentlab-cli
out=${OUT:-/tmp/ll-bench-export}
per_class=${PER_CLASS:-1000}
[ -x "$cli" ] || { echo "export.sh: build first ($cli is missing)" >&2; exit 1; }
mkdir -p "$out"
calc() { awk "BEGIN { print $1 }"; }

run=${1:-$out/cgan}
if [ ! -f "$run/checkpoints/latest.json" ]; then
    echo "training $run (cgan-cpu, ${STEPS:-600} steps)"
    "$cli" train --dataset fashion-mnist --preset cgan-cpu --steps "${STEPS:-600}" --out "$run" >/dev/null
fi

log=$out/export.log
start=$(date +%s.%N)
"$cli" export --run "$run" --per-class "$per_class" --force --out "$out/dataset" >"$log" 2>&1 &
pid=$!
peak=0
stages=()
seen=""
while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    # Stage lines ("drawing...") as they appear, with the time they appeared.
    while IFS= read -r line; do
        case "$seen" in *"|$line|"*) ;; *) seen="$seen|$line|"; stages+=("$(date +%s.%N) $line");; esac
    done < <(tr '\r' '\n' <"$log" | grep -o '^[a-z-]*\.\.\.' || true)
    sleep 0.2
done
wait "$pid" || { cat "$log" >&2; exit 1; }
end=$(date +%s.%N)

echo
echo "stage timings (from when each stage's line appeared):"
prev=$start
prevName="start"
for s in "${stages[@]}"; do
    t=${s%% *}
    printf "  %-12s %7.1f s\n" "$prevName" "$(calc "$t - $prev")"
    prev=$t
    prevName=${s#* }
done
printf "  %-12s %7.1f s\n" "$prevName" "$(calc "$end - $prev")"
total=$(calc "$end - $start")
kept=$(($(wc -l <"$out/dataset/manifest.csv") - 1))
printf "\nexported %d images in %.1f s (%.0f images/s); target 120 s: %.2fx the target\n" \
    "$kept" "$total" "$(calc "$kept / $total")" "$(calc "$total / 120")"
printf "peak resident memory: %.0f MiB\n" "$(calc "$peak / 1024")"
grep -E "dropped|short|card" "$log" || true
