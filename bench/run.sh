#!/usr/bin/env bash
# Every speed figure of the workbench in one run, written to bench/RESULTS.md with the machine,
# the date and the commit: each preset's training step in C++ against Python PyTorch
# (bench_train, with each step's GFLOP/s against the machine's measured peak), each sampling
# family's images/s against Python (bench_sample), evaluation (features, FID, KID,
# precision/recall) for 10,000 against 10,000 images (bench_metrics), and, in a build with the
# GUI, the sample grid's frames/s at 1600x1000 (bench_grid) and the window's cost against the
# CLI (bench_window), both under xvfb-run when there is no display. The sample-quality table of
# the CPU presets (bench/presets.sh, about an hour) is included from bench/PRESETS.md when
# present: `MARKDOWN=bench/PRESETS.md bash bench/presets.sh` writes it; the window's soak
# (bench/soak.sh, 30 minutes) likewise from bench/SOAK.md, and data-parallel training
# (bench/parallel.sh, 15 minutes) from bench/PARALLEL.md. About 20 minutes.
#
#   bash bench/run.sh                 (RESULTS=path to write elsewhere; ROUNDS=3)
#
# Needs a build with the benchmarks (scripts/build.sh builds them) and Debian's python3-torch
# (/usr/bin/python3). Run it on a quiet machine: a compiler or a training beside it makes every
# row slower, and the rows with two OpenMP threads many times slower.
set -euo pipefail
cd "$(dirname "$0")/.."
results=${RESULTS:-bench/RESULTS.md}
rounds=${ROUNDS:-3}
for b in bench_train bench_sample bench_metrics; do
    [ -x "build/bench/$b" ] || { echo "run.sh: build first (build/bench/$b is missing)" >&2; exit 1; }
done
[ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null ||
    { echo "run.sh: Debian's python3-torch is missing (apt-get install python3-torch)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
# How long each stage took, for the results' header (issue 15 asks for the whole under 20 min).
stages=
mark=$start
stage_done() {
    local now
    now=$(date +%s)
    stages="$stages${stages:+, }$1 $(( (now - mark + 30) / 60 )) min"
    mark=$now
}

echo "== training steps (bench_train, $rounds rounds) =="
# 5 warm-up steps (oneDNN's kernels and the allocator are set after the first two) and 20
# timed ones or 2 s, whichever ends first: the rounds, not long loops, give the spread.
build/bench/bench_train --rounds "$rounds" --warmup 5 --steps 20 --max-seconds 2 \
    --markdown "$tmp/train.md"
stage_done training
echo "== sampling (bench_sample, $rounds rounds) =="
build/bench/bench_sample --rounds "$rounds" --markdown "$tmp/sample.md"
stage_done sampling
echo "== evaluation (bench_metrics) =="
build/bench/bench_metrics --repeats 1 | tee "$tmp/metrics.txt"
stage_done evaluation
# The window's benchmarks need an X display; Xvfb stands in for one on a headless machine
# (scripts/xvfb.sh: with its allocator set so that a presented frame costs it no page faults).
gui() {
    if [ -n "${DISPLAY:-}" ]; then "$@"; else bash scripts/xvfb.sh "$@"; fi
}
if [ -x build/bench/bench_grid ] && [ -x build/bench/bench_window ]; then
    echo "== grid rendering (bench_grid) =="
    # Half a second of warm-up: the frame rate has settled after the first few frames.
    gui build/bench/bench_grid --seconds 1.5 --warmup 0.5 --markdown "$tmp/grid.md"
    stage_done grid
    # cvae-cpu at the app's sample interval: the window's work (a grid of 64 samples every 250
    # steps, the chart, the panel) is the same for every model, and each run takes half a
    # minute. dcgan-cpu and the stress row (--often 20) are run by hand (bench/README.md).
    echo "== the window's cost (bench_window, $rounds rounds) =="
    gui build/bench/bench_window --preset cvae-cpu --rounds "$rounds" --often 0 \
        --markdown "$tmp/window.md"
    stage_done window
fi
minutes=$(( ($(date +%s) - start + 59) / 60 ))

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
flags=$(grep -o -w -E 'avx512f|avx512_bf16|avx2|amx_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ')
memory=$(free -g | awk '/^Mem:/ {print $2 " GiB"}')
torch=$(/usr/bin/python3 -c 'import torch; print(torch.__version__)')
blas=$(dpkg-query -W -f='${Package} ${Version}' libopenblas0-pthread 2>/dev/null || true)
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core app bench || echo "+changes")
{
    echo "# Benchmark results"
    echo
    echo "Written by \`bash bench/run.sh\` ($minutes min: $stages). Every figure is measured;"
    echo "nothing here is edited by hand. How each is measured: bench/README.md."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- commit: $commit"
    echo "- machine: $cpu, $(nproc) cores ($flags), $memory"
    echo "- LibTorch / python3-torch: $torch (Debian), BLAS: ${blas:-unknown}"
    echo
    echo "## Training: one step of every CPU preset, C++ against Python PyTorch"
    echo
    cat "$tmp/train.md"
    echo
    echo "## Sampling: images per second of every family, C++ against Python PyTorch"
    echo
    cat "$tmp/sample.md"
    echo
    echo "## Evaluation: features, FID, KID and precision/recall, 10,000 against 10,000 images"
    echo
    echo '```'
    sed -n '/^  stage/,$p' "$tmp/metrics.txt"
    echo '```'
    echo
    for part in grid:"Grid rendering: frames per second at 1600x1000" \
                window:"The window's cost: steps per second with the window open against the CLI"; do
        [ -f "$tmp/${part%%:*}.md" ] || continue
        echo "## ${part#*:}"
        echo
        cat "$tmp/${part%%:*}.md"
        echo
    done
    if [ -f bench/PRESETS.md ]; then
        echo "## Sample quality per CPU preset (from bench/PRESETS.md)"
        echo
        sed 1,2d bench/PRESETS.md  # its own heading
    fi
    # The window's soak (bench/soak.sh, 30 minutes) with its own date and commit; its heading
    # is the section's.
    if [ -f bench/SOAK.md ]; then
        echo
        cat bench/SOAK.md
    fi
    if [ -f bench/PARALLEL.md ]; then
        echo
        cat bench/PARALLEL.md
    fi
    # The GPU's figures (bench/gpu.sh, on a machine with an NVIDIA GPU), as that run wrote them.
    if [ -f bench/GPU.md ]; then
        echo
        cat bench/GPU.md
    fi
} >"$results"
echo "wrote $results"
