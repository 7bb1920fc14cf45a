#!/usr/bin/env bash
# Installs every Debian package LatentLab needs to build, run, test and benchmark.
# Idempotent: packages already present are not touched, and apt is not consulted at all
# when nothing is missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config libgtest-dev
  # the readers' fuzz targets: clang's libFuzzer and sanitizers
  clang libclang-rt-14-dev
  # compute core
  libtorch-dev libopenblas0-pthread
  # data-parallel training: the Gloo headers that LibTorch's ProcessGroupGloo.hpp includes
  libgloo-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libopencv-videoio-dev
  nlohmann-json3-dev libcli11-dev libexpected-dev zlib1g-dev libbenchmark-dev
  # GUI
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev libqt6opengl6-dev libxkbcommon-dev libqt6svg6 qt6-svg-dev
  libvulkan-dev glslc mesa-vulkan-drivers vulkan-tools
  # headless display for GUI and Vulkan tests, screenshots
  xvfb xauth imagemagick libxkbcommon-x11-0 libxcb-cursor0 fonts-dejavu-core
  # data
  dataset-fashion-mnist python3-sklearn python3-imblearn
  # reading exports back in tests: PDF pages as pictures
  poppler-utils
  # references and benchmarks (Debian's python3 only)
  python3-torch python3-numpy python3-scipy
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
