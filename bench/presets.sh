#!/usr/bin/env bash
# Trains the CPU generator presets on Fashion-MNIST with their defaults and prints, for each,
# what a user gets for the minutes: wall time, steps/s, FID beside its floor, precision and
# recall (2,000 samples, the shipped extractor, guidance 0), and for conditional generators the
# classifier agreement of 1,000 samples (diffusion at guidance 0, 1 and 3).
#
#   bash bench/presets.sh [PRESET...]        (default: every *-cpu generator preset)
#
# Environment: OUT (run folders, default /tmp/ll-presets), MARKDOWN (also write the table
# there), CLASSIFIER (the agreement classifier, default the test suite's fixture: ctest -R
# fixture_classifier). A run folder that already holds a finished run is evaluated again, not
# retrained. Time it on a quiet machine: every other process on the cores slows the rows down.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=build/app/latentlab-cli
classifier=${CLASSIFIER:-build/test-fixtures/classifier}
out=${OUT:-/tmp/ll-presets}
markdown=${MARKDOWN:-}
mkdir -p "$out"
[ -x "$cli" ] || { echo "presets.sh: build first ($cli is missing)" >&2; exit 1; }
[ -f "$classifier/config.json" ] || {
    echo "presets.sh: no classifier at $classifier (ctest -R fixture_classifier)" >&2; exit 1; }

presets=("$@")
if [ ${#presets[@]} -eq 0 ]; then
    mapfile -t presets < <("$cli" models | grep -o 'preset [a-z-]*-cpu' | cut -d' ' -f2 |
                           grep -v classifier)
fi

# The value column of one score in evaluate's table ("FID   12.3   4.7"), or "-".
score() { awk -v name="$2" '$0 ~ "^"name" " {print $(NF-1); found=1} END {if (!found) print "-"}' "$1"; }
fidFloor() { awk '/^FID / {print $NF}' "$1"; }

agreement() {  # run guidance -> agreement, or "-"
    "$cli" evaluate --run "$1" --extractor "$classifier" --count 1000 --seed 7 --metrics agreement \
        --guidance "$2" 2>/dev/null | awk '/classifier agreement/ {print $3}'
}

# Targets of issue 15: FID at most 10x its floor (30x for the VAE family), recall >= 0.30.
fidTarget() { case "$1" in vae-*|cvae-*|chaotic-vae-*) echo 30 ;; *) echo 10 ;; esac; }

header="| preset | steps | minutes | steps/s | FID (floor) | FID / floor (target) | precision | recall (target 0.30) | agreement (guidance) |"
rule="|---|---|---|---|---|---|---|---|---|"
table=("$header" "$rule")
echo "$header"
echo "$rule"
for preset in "${presets[@]}"; do
    run="$out/$preset"
    log="$out/$preset.log"
    if ! grep -q "\"status\": *\"completed\"" "$run/config.json" 2>/dev/null; then
        rm -rf "$run"
        start=$(date +%s.%N)
        "$cli" train --preset "$preset" --out "$run" >"$log" 2>&1 || {
            echo "$preset: training failed, see $log" >&2; continue; }
        end=$(date +%s.%N)
        echo "$start $end" >"$out/$preset.time"
    fi
    read -r start end <"$out/$preset.time"
    steps=$(grep -o '"step": *[0-9]*' "$run/checkpoints/latest.json" | grep -o '[0-9]*$')
    minutes=$(awk "BEGIN {printf \"%.1f\", ($end - $start) / 60}")
    rate=$(awk "BEGIN {printf \"%.2f\", $steps / ($end - $start)}")

    quality="$out/$preset.quality"
    "$cli" evaluate --run "$run" --count 2000 --seed 7 --metrics fid,precision,recall \
        >"$quality" 2>"$quality.err" || { echo "$preset: evaluate failed, see $quality.err" >&2; continue; }
    fid=$(score "$quality" FID)
    floor=$(fidFloor "$quality")
    ratio=$(awk "BEGIN {printf \"%.1fx\", $fid / $floor}")
    precision=$(score "$quality" precision)
    recall=$(score "$quality" recall)

    scores=""
    case "$preset" in
        cvae-*|cgan-*|acgan-*) scores="$(agreement "$run" 0) (0)" ;;
        ddpm-*|latent-ddpm-*)
            for g in 0 1 3; do scores+="$(agreement "$run" $g) ($g) "; done ;;
        *) scores="-" ;;
    esac
    row="| $preset | $steps | $minutes | $rate | $fid ($floor) | $ratio ($(fidTarget "$preset")x) | $precision | $recall | ${scores% } |"
    table+=("$row")
    echo "$row"
done

if [ -n "$markdown" ]; then
    {
        echo "## Sample quality per CPU preset"
        echo
        echo "Written by \`bash bench/presets.sh\` at $(git rev-parse --short HEAD), $(date -u '+%Y-%m-%d %H:%M UTC'):"
        echo "each preset trained once with its defaults (seed 1) on $(nproc) cores, then"
        echo "\`evaluate --count 2000 --seed 7\` with the shipped extractor at guidance 0; agreement"
        echo "from 1,000 samples and the test suite's classifier. Floors: the same scores of as many"
        echo "real training images against the test images."
        echo
        printf '%s\n' "${table[@]}"
    } >"$markdown"
fi
