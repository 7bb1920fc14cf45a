#!/usr/bin/env bash
# Builds LatentLab and opens it on Fashion-MNIST. Arguments go to the app
# (for example --train to start the first preset at once).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh latentlab latentlab-cli
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "app: no display. On a headless machine run: bash scripts/xvfb.sh bash scripts/app.sh" >&2
  exit 1
fi
exec ./build/app/latentlab --dataset fashion-mnist "$@"
