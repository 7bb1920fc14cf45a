#!/usr/bin/env bash
# Installs what is missing, configures and builds LatentLab (Release, Ninja, ccache when
# present) into build/. Extra arguments are build targets (default: everything).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
# Two cores and LibTorch's heavy headers: more parallel jobs only add memory pressure.
jobs=$(nproc)
cmake --build build --parallel "$jobs" ${1:+--target "$@"}
