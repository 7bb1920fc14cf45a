#!/usr/bin/env bash
# Builds everything and runs the whole test suite through ctest. GUI and Vulkan tests start
# their own Xvfb (xvfb-run) and render with Mesa's lavapipe, so no display is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$(mktemp -d)}"
chmod 700 "$XDG_RUNTIME_DIR"
cd build
ctest --output-on-failure --timeout 1500 "$@"
