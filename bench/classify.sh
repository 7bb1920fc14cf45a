#!/usr/bin/env bash
# The diffusion classifier's speed and accuracy (Li et al. 2023) on Fashion-MNIST's test split:
# a latent-ddpm-cpu and a ddpm-cpu run, each classified unpruned and with adaptive pruning, as
# `latentlab-cli classify` does it. Prints accuracy, network evaluations per image and images/s
# of both, the clean classifier beside them, and checks the targets: at least 5 images/s with
# latent-ddpm and 1 image/s with ddpm-cpu (pruned), the pruned accuracy within 1 point of the
# unpruned one.
#
#   bash bench/classify.sh [LATENT_RUN [DDPM_RUN]]   (default: trains both with their presets)
#
# Needs a build (scripts/build.sh). Time it on a quiet machine: every other process on the
# 2 cores slows it down. Output goes to $OUT (default /tmp/ll-bench-classify). $LIMIT_LATENT
# and $LIMIT_DDPM set how many test images each classifies (default 2000 and 300); $ONLY
# (latent-ddpm or ddpm) runs one of the two.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=build/app/latentlab-cli
out=${OUT:-/tmp/ll-bench-classify}
[ -x "$cli" ] || { echo "classify.sh: build first ($cli is missing)" >&2; exit 1; }
mkdir -p "$out"

trained() {  # RUN PRESET: trains RUN with PRESET unless it has a checkpoint
    if [ ! -f "$1/checkpoints/latest.json" ]; then
        echo "training $1 ($2)"
        local start=$(date +%s)
        "$cli" train --dataset fashion-mnist --preset "$2" --sample-every 100000 --out "$1" >/dev/null
        echo "  trained in $(($(date +%s) - start)) s"
    fi
}

field() {  # FILE KEY: a number of result.json
    /usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j.get(sys.argv[2], 'nan'))" "$1" "$2"
}

bench() {  # NAME RUN LIMIT TARGET_IMAGES_PER_S OPTIONS...
    local name=$1 run=$2 limit=$3 target=$4
    shift 4
    local dir=$out/$name
    rm -rf "$dir"
    echo
    echo "== $name: $run, $limit test images, $*"
    "$cli" classify --run "$run" --dataset fashion-mnist --split test --limit "$limit" "$@" \
        --out "$dir" 2>/dev/null | tail -n +12
    local r=$dir/result.json
    /usr/bin/python3 - "$r" "$target" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
target = float(sys.argv[2])
pruned, unpruned = j["accuracy"], j.get("unpruned_accuracy", j["accuracy"])
speed = j["images_per_second"]
print(f"pruned {pruned:.4f} at {j['evaluations_per_image']:.0f} evaluations/image, "
      f"{speed:.2f} images/s (target {target:g}: {'met' if speed >= target else 'MISSED'})")
print(f"unpruned {unpruned:.4f} at {j.get('unpruned_evaluations_per_image', 0):.0f} "
      f"evaluations/image, {j.get('unpruned_images_per_second', 0):.2f} images/s; pruning costs "
      f"{100 * (unpruned - pruned):+.1f} points ({'within' if unpruned - pruned <= 0.01 else 'MORE than'} 1)")
print(f"clean classifier {j.get('baseline', {}).get('accuracy', float('nan')):.4f}")
print("curve: " + ", ".join(f"{p['evaluations']:.0f}:{p['accuracy']:.3f}" for p in j.get("budget", [])
                            if not p["pruned"]))
EOF
}

latent=${1:-$out/latent-ddpm}
ddpm=${2:-$out/ddpm}
if [ "${ONLY:-}" != ddpm ]; then
    trained "$latent" latent-ddpm-cpu
    bench latent-ddpm "$latent" "${LIMIT_LATENT:-2000}" 5 --timesteps 100 --stages 20,50 --keep 5,2
fi
if [ "${ONLY:-}" != latent-ddpm ]; then
    trained "$ddpm" ddpm-cpu
    bench ddpm "$ddpm" "${LIMIT_DDPM:-300}" 1 --timesteps 50 --stages 10,25 --keep 5,2
fi
