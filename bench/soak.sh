#!/usr/bin/env bash
# The window's soak (bench_soak): $MINUTES (30) of cgan-cpu training in the MainWindow, its
# sample grid refreshing and the Steer mode redrawing every few seconds; RSS, open files and
# threads every minute, and the RSS growth after the warm-up against the issue's 5 %. Writes
# the table and its summary, with the date, commit and load, to bench/SOAK.md and puts that
# into bench/RESULTS.md as its "## Soak:" section (replacing the last one); bench/run.sh
# carries SOAK.md into the RESULTS.md it writes, as it does PRESETS.md. Under xvfb-run when
# there is no display. Run it alone: a build beside it slows the training, not the leaks.
#
#   bash bench/soak.sh [bench_soak options]       (MINUTES=30, WARMUP=5 minutes)
#   MINUTES=2 WARMUP=0.5 SOAK=/tmp/soak.md RESULTS=/tmp/results.md bash bench/soak.sh
#                                                 (a quick check that leaves bench/ alone)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/bench/bench_soak
minutes=${MINUTES:-30}
warmup=${WARMUP:-5}
soak=${SOAK:-bench/SOAK.md}
results=${RESULTS:-bench/RESULTS.md}
[ -x "$bin" ] || { echo "soak.sh: build first (cmake --build build --target bench_soak)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
load=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core widgets app bench || echo "+changes")
args=(--minutes "$minutes" --warmup-min "$warmup" --markdown "$tmp/soak.md" "$@")
if [ -n "${DISPLAY:-}" ]; then
    "$bin" "${args[@]}"
else
    bash scripts/xvfb.sh "$bin" "${args[@]}"
fi || { echo "soak.sh: bench_soak failed; $results left as it was" >&2; exit 1; }

{
    echo "## Soak: the window over $minutes minutes of training"
    echo
    echo "Written by \`bash bench/soak.sh\` at $commit, $(date -u '+%Y-%m-%d %H:%M UTC'), on"
    echo "$(nproc) cores (load average before: $load); how it is measured: bench/README.md."
    echo
    cat "$tmp/soak.md"
} >"$soak"

# RESULTS.md: the soak section in place of the last one, else before "Not in this file yet",
# else at the end; every other line as it was.
bash bench/put-section.sh "## Soak:" "$soak" "$results"
echo "wrote $soak and its section of $results"
