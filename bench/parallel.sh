#!/usr/bin/env bash
# Data-parallel training on this machine (issue 17): steps/s of 1 and 2 processes for a few CPU
# presets, with the same global batch (2 processes of half the batch: does it go faster?) and
# with twice the global batch (2 processes of the whole batch: more rows per second?), and what
# the all-reduces cost: milliseconds and megabytes per step, from each rank's log. Figures are
# medians over the logged intervals after the first fifth of the run (warm-up). Writes
# bench/PARALLEL.md and its "## Data-parallel:" section of bench/RESULTS.md. docs/scaling.md
# turns the figures into expected throughput for N machines or GPUs.
#
#   bash bench/parallel.sh                 (STEPS=300 per run, about 10 minutes)
#   STEPS=60 PRESETS="cgan-cpu" OUT=/tmp/p.md RESULTS=/tmp/r.md bash bench/parallel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cli=build/app/latentlab-cli
[ -x "$cli" ] || { echo "parallel.sh: build first (cmake --build build)" >&2; exit 1; }
steps=${STEPS:-300}
presets=${PRESETS:-"classifier-cpu cvae-cpu cgan-cpu ddpm-cpu"}
out=${OUT:-bench/PARALLEL.md}
results=${RESULTS:-bench/RESULTS.md}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core app bench || echo "+changes")

# One run: preset, processes, per-process batch. Prints its table row.
measure() {
    local preset=$1 nproc=$2 batch=$3 run="$tmp/$1-$2-$3" n=$steps
    # The U-Net's step is a second here: a fifth of the steps.
    [ "$preset" = ddpm-cpu ] && n=$((steps / 5))
    local args=(train --preset "$preset" --steps "$n" --batch "$batch" --log-every 5
                --sample-every 1000000 --checkpoint-every 1000000 --out "$run")
    [ "$nproc" -gt 1 ] && args+=(--nproc "$nproc")
    # ddpm's final sample grid is not training: its steps/s come from the log, not the clock.
    "$cli" "${args[@]}" >"$run.out" 2>&1 || { echo "parallel.sh: $preset failed:" >&2; tail -3 "$run.out" >&2; exit 1; }
    /usr/bin/python3 - "$run/log.jsonl" "$preset" "$nproc" "$batch" <<'PY'
import json, statistics, sys
log, preset, nproc, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lines = [json.loads(l) for l in open(log) if '"losses"' in l]
lines = lines[len(lines) // 5:]  # past the warm-up
# The rate between consecutive log lines, from the smoothed figure rank 0 logged.
rate = statistics.median(l["steps_per_s"] for l in lines)
ms = mb = "–"
if nproc > 1:
    ms = "%.2f" % statistics.median(max(r["allreduce_ms"] for r in l["ranks"]) for l in lines)
    mb = "%.2f" % statistics.median(l["ranks"][0]["allreduce_mb"] for l in lines)
print(f"| {preset} | {nproc} | {batch} | {nproc * batch} | {rate:.1f} | {rate * nproc * batch:.0f} | {ms} | {mb} |")
PY
}

{
    echo "## Data-parallel: 1 and 2 processes on this machine"
    echo
    echo "Written by \`bash bench/parallel.sh\` at $commit, $(date -u '+%Y-%m-%d %H:%M UTC'), on"
    echo "$(nproc) cores (load average before: $load); $steps steps a run, medians of the logged"
    echo "rates after the first fifth. All-reduce: the slowest rank's milliseconds per step in"
    echo "all-reduces (waiting for the other rank included) and the megabytes each rank sums per"
    echo "step (gradients, batch-norm and prior statistics, the per-step loss and stop exchange)."
    echo
    echo "| preset | processes | batch each | global batch | steps/s | rows/s | all-reduce ms/step | all-reduce MB/step |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    for p in $presets; do
        b=$("$cli" models | awk -v p="preset $p:" 'index($0, p) { for (i = 1; i <= NF; ++i) if ($i == "batch") { sub(/\./, "", $(i+1)); print $(i+1) } }' | head -1)
        measure "$p" 1 "$b"
        measure "$p" 2 $((b / 2))
        measure "$p" 2 "$b"
    done
} >"$tmp/parallel.md"
cp "$tmp/parallel.md" "$out"
cat "$out"

bash bench/put-section.sh "## Data-parallel:" "$out" "$results"
echo "wrote $out and its section of $results"
