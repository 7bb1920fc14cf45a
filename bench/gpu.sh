#!/bin/bash
# The GPU part of the benchmarks in one command, for a machine with an NVIDIA GPU whose python3
# has PyTorch with CUDA. It builds the GPU-server configuration (core, latentlab-cli and the
# benchmarks; no Qt, no OpenCV) into build-gpu/ against that PyTorch's own LibTorch, then, in
# order, until --deadline seconds have passed:
#   1. bench_train --device cuda: the training step of the *-gpu presets against the same model
#      in that PyTorch (defaults; tuned = cuDNN's algorithm search, as LatentLab does on a GPU);
#   2. bench_sample --device cuda: images/s of the sampling rows with their *-gpu presets;
#   3. latentlab-cli train: every *-gpu preset briefly (steps/s as the app trains it);
#   4. the presets and rows that the first two stages left for later.
# Everything goes to --out: gpu.md (the machine, the tables: a section for bench/RESULTS.md,
# `bash bench/put-section.sh "## GPU:" gpu.md bench/RESULTS.md`), build.log and bench.log.
# LATENTLAB_COMMIT names the commit where the tree travels without its .git.
#
# usage: bash bench/gpu.sh [--out DIR] [--deps DIR] [--deadline SECONDS] [--rounds N] [--no-build]
#                          [--presets "P ..."] [--rows "R ..."] [--no-cli]
#   --deps DIR   a prefix for what the machine lacks: header-only libraries (DIR/include:
#                nlohmann/, tl/expected.hpp, CLI/, zlib.h and zconf.h; DIR/share/cmake/
#                nlohmann_json) and Fashion-MNIST's IDX files (DIR/fashion-mnist)
#   --no-build   the benchmarks again with build-gpu/ as it is
#   --presets    only these bench_train presets, in this order (stage 1; stage 4 trains none);
#                none: no training rows
#   --rows       only these bench_sample rows, likewise (stage 2); none: no sampling rows
#   --no-cli     skip stage 3
# For a follow-up on what an earlier run left out, see bench/README.md.
set -uo pipefail
cd "$(dirname "$0")/.."

out=bench/gpu-results
deps=
deadline=540
rounds=1
build=1
presets=
rows=
cli_stage=1
while [ $# -gt 0 ]; do
    case "$1" in
    --out) out=$2; shift 2 ;;
    --deps) deps=$(realpath "$2"); shift 2 ;;
    --deadline) deadline=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --presets) presets=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --no-cli) cli_stage=0; shift ;;
    *) echo "usage: bash bench/gpu.sh [--out DIR] [--deps DIR] [--deadline S] [--rounds N]" \
            "[--no-build] [--presets \"P ...\"] [--rows \"R ...\"] [--no-cli]" >&2
       exit 2 ;;
    esac
done
mkdir -p "$out"
out=$(realpath "$out")
report=$out/gpu.md
log=$out/bench.log
: >"$log"
left() { echo $((deadline - SECONDS)); }
say() { echo "$*" | tee -a "$log"; }

python=$(command -v python3)
if ! "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    echo "gpu.sh: $python has no PyTorch that sees a GPU" >&2
    exit 1
fi
if [ -n "$deps" ] && [ -d "$deps/fashion-mnist" ]; then
    export LATENTLAB_FASHION_MNIST_DIR=$deps/fashion-mnist
fi
[ -d /usr/local/cuda/bin ] && export PATH=$PATH:/usr/local/cuda/bin
# Where LibTorch's CMake files look for the CUDA toolkit: where PyTorch found it.
cuda_home=$("$python" -c 'from torch.utils.cpp_extension import CUDA_HOME
print(CUDA_HOME or "")' 2>/dev/null)
if [ -n "$cuda_home" ]; then
    export CUDA_HOME=$cuda_home CUDAToolkit_ROOT=$cuda_home
    [ -x "$cuda_home/bin/nvcc" ] && export CUDACXX=$cuda_home/bin/nvcc
fi
export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-9.0}

{
    commit=${LATENTLAB_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo '?')}
    gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
    echo "## GPU: ${gpu:-unknown}, $(date -u '+%Y-%m-%d %H:%M UTC'), commit $commit"
    echo
    echo "Written by \`bash bench/gpu.sh\` (bench/README.md); every figure measured on this GPU."
    echo
    echo '```'
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
    "$python" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda,
"cuDNN", torch.backends.cudnn.version(), "|", torch.cuda.get_device_name())'
    echo "CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
    echo '```'
} >"$report"
cat "$report"

# --- the build ---------------------------------------------------------------------------------
torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
torch_include=$("$python" -c 'import os, torch
print(os.path.join(os.path.dirname(torch.__file__), "include"))')
flags=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DLATENTLAB_BUILD_GUI=OFF -DLATENTLAB_WITH_OPENCV=OFF
       -DLATENTLAB_BUILD_TESTS=OFF "-DCMAKE_PREFIX_PATH=$torch_prefix${deps:+;$deps}")
if [ -f "$torch_include/gloo/context.h" ] || [ -f /usr/include/gloo/context.h ]; then
    gloo=ON
else
    gloo=OFF  # this LibTorch ships no Gloo headers: no data-parallel training in this build
    flags+=(-DLATENTLAB_WITH_GLOO=OFF)
fi
if ! ls /usr/lib/x86_64-linux-gnu/libz.so /usr/lib64/libz.so >/dev/null 2>&1; then
    libz=$(ldconfig -p | awk '/libz\.so\.1 /{print $NF; exit}')
    [ -n "$libz" ] && flags+=("-DZLIB_LIBRARY=$libz")
fi
[ -n "$deps" ] && [ -f "$deps/include/zlib.h" ] && [ ! -f /usr/include/zlib.h ] &&
    flags+=("-DZLIB_INCLUDE_DIR=$deps/include")
[ -n "$deps" ] && flags+=("-DCMAKE_CXX_FLAGS=-isystem $deps/include")

start=$SECONDS
if [ "$build" = 1 ]; then
    {
        for tool in cmake ninja g++ nvcc; do echo "$tool: $(command -v $tool)"; done
        g++ --version | head -1
        cmake --version | head -1
        echo "CUDA_HOME=${CUDA_HOME:-} cmake ${flags[*]}"
    } >"$out/build.log" 2>&1
    if ! cmake -S . -B build-gpu "${flags[@]}" >>"$out/build.log" 2>&1 ||
        ! ninja -C build-gpu -k 0 latentlab-cli bench_train bench_sample >>"$out/build.log" 2>&1
    then
        say "gpu.sh: the build failed after $((SECONDS - start)) s; its errors:"
        grep -E "error:|Error|FATAL" "$out/build.log" | head -80 | tee -a "$log"
        exit 1
    fi
    built="Built in $((SECONDS - start)) s on $(nproc) cores (core, latentlab-cli, bench_train,
bench_sample; Gloo $gloo)."
else
    built="The build of an earlier run (--no-build)."
fi
echo -e "\n$built" | tee -a "$report"

run() {  # run SECONDS-NEEDED COMMAND...: skipped when less time is left
    local need=$1
    shift
    if [ "$(left)" -lt "$need" ]; then
        say "skipped (only $(left) s left): $*"
        return 1
    fi
    say "+ $* ($(left) s left)"
    timeout "$(left)" "$@" 2>&1 | tee -a "$log"
}

cli=build-gpu/app/latentlab-cli
first_presets=(ddpm-gpu dcgan-gpu vae-gpu)
first_rows=(ddpm-ddim ddpm-ddim-cfg dcgan vae)
rest_rows=(cvae cgan latent-ddpm-cfg ddpm-ddim-classifier ddpm-ancestral)
if [ -n "$presets" ]; then
    read -r -a first_presets <<<"${presets/#none/}"
fi
if [ -n "$rows" ]; then
    read -r -a first_rows <<<"${rows/#none/}"
    rest_rows=()
fi
bench_train() {
    local args=() p
    for p in "$@"; do args+=(--preset "$p"); done
    run 60 build-gpu/bench/bench_train --device cuda --python "$python" --rounds "$rounds" \
        --warmup 5 --steps 30 --max-seconds 3 --markdown "$out/train-$1.md" "${args[@]}" &&
        cat "$out/train-$1.md" >>"$report"
}
bench_sample() {
    local args=() r
    for r in "$@"; do args+=(--row "$r"); done
    run 60 build-gpu/bench/bench_sample --device cuda --python "$python" --rounds "$rounds" \
        --min-seconds 1 --markdown "$out/sample-$1.md" "${args[@]}" &&
        cat "$out/sample-$1.md" >>"$report"
}

if [ ${#first_presets[@]} -gt 0 ]; then
    echo -e "\n### Training step, C++ against Python on the GPU\n" >>"$report"
    bench_train "${first_presets[@]}"
fi
if [ ${#first_rows[@]} -gt 0 ]; then
    echo -e "\n### Sampling, C++ against Python on the GPU\n" >>"$report"
    bench_sample "${first_rows[@]}"
fi

cli_table() {  # stage 3: every *-gpu preset through latentlab-cli train
    echo -e "\n### The *-gpu presets through latentlab-cli train (200 steps each)\n" >>"$report"
    echo "| preset | steps/s (last log line) | wall s |" >>"$report"
    echo "|---|---|---|" >>"$report"
    local p t status rate why
    for p in $("$cli" models 2>/dev/null | grep -o '[a-z-]*-gpu' | sort -u); do
        t=$SECONDS
        rm -rf "/tmp/gpu-run-$p"
        run 20 "$cli" train --preset "$p" --steps 200 --log-every 50 --sample-every 100000 \
            --checkpoint-every 100000 --out "/tmp/gpu-run-$p" >"$out/cli-$p.txt"
        status=$?
        rate=$(grep -o '[0-9.]* steps/s' "$out/cli-$p.txt" | tail -1)
        if [ "$status" = 0 ]; then
            echo "| $p | ${rate:--} | $((SECONDS - t)) |" >>"$report"
        elif [ -s "$out/cli-$p.txt" ]; then  # run prints nothing when it skips
            why=$(tail -1 "$out/cli-$p.txt" | tr '|' '/')
            echo "| $p | failed (exit $status): $why | $((SECONDS - t)) |" >>"$report"
        fi
        rm -f "$out/cli-$p.txt"
    done
}
[ "$cli_stage" = 1 ] && cli_table

rest=()
if [ -z "$presets" ]; then
    for p in $("$cli" models 2>/dev/null | grep -o '[a-z-]*-gpu' | sort -u); do
        [[ " ${first_presets[*]} " == *" $p "* ]] || rest+=("$p")
    done
fi
if [ ${#rest[@]} -gt 0 ] || [ ${#rest_rows[@]} -gt 0 ]; then
    echo -e "\n### The other presets and rows\n" >>"$report"
    [ ${#rest[@]} -gt 0 ] && bench_train "${rest[@]}"
    [ ${#rest_rows[@]} -gt 0 ] && bench_sample "${rest_rows[@]}"
fi
say "gpu.sh: done after $SECONDS s"
