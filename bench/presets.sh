#!/usr/bin/env bash
# Trains CPU presets on Fashion-MNIST with their defaults and prints, for each, the wall time,
# steps/s and (for conditional generators) the classifier agreement of 1,000 samples.
#
#   bash bench/presets.sh [PRESET...]        (default: every *-cpu preset)
#
# Needs a build (scripts/build.sh) and the test suite's classifier fixture
# (ctest -R fixture_classifier, or CLASSIFIER=RUN). Runs go to $OUT (default /tmp/ll-presets);
# a run folder that already holds a finished run is evaluated again, not retrained.
# Time it on a quiet machine: every other process on the 2 cores slows the rows down.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=build/app/latentlab-cli
classifier=${CLASSIFIER:-build/test-fixtures/classifier}
out=${OUT:-/tmp/ll-presets}
mkdir -p "$out"
[ -x "$cli" ] || { echo "presets.sh: build first ($cli is missing)" >&2; exit 1; }
[ -f "$classifier/config.json" ] || {
    echo "presets.sh: no classifier at $classifier (ctest -R fixture_classifier)" >&2; exit 1; }

presets=("$@")
if [ ${#presets[@]} -eq 0 ]; then
    mapfile -t presets < <("$cli" models | grep -o 'preset [a-z-]*-cpu' | cut -d' ' -f2)
fi

agreement() {  # run guidance -> agreement, or "-"
    "$cli" evaluate --run "$1" --extractor "$classifier" --count 1000 --seed 7 --metrics agreement \
        --guidance "$2" 2>/dev/null | awk '/classifier agreement/ {print $3}'
}

printf '%-22s %8s %9s %8s  %s\n' preset steps "wall" "steps/s" "agreement (guidance)"
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
    wall=$(awk "BEGIN {print $end - $start}")
    rate=$(awk "BEGIN {printf \"%.2f\", $steps / $wall}")
    scores=""
    case "$preset" in
        cvae-*|cgan-*|acgan-*) scores="$(agreement "$run" 0) (0)" ;;
        ddpm-*|latent-ddpm-*)
            for g in 0 1 3; do scores+="$(agreement "$run" $g) ($g)  "; done ;;
        *) scores="-" ;;
    esac
    printf '%-22s %8s %8.0fs %8s  %s\n' "$preset" "$steps" "$wall" "$rate" "$scores"
done
