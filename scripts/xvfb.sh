#!/usr/bin/env bash
# Runs a command on a fresh Xvfb (xvfb-run): a 1600x1000 screen, Qt on xcb, a private runtime
# folder when none is set, and glibc's allocator in Xvfb kept off mmap for large requests.
#
#   bash scripts/xvfb.sh COMMAND [ARGS...]      e.g. bash scripts/xvfb.sh bash scripts/app.sh
#
# Why the allocator: Mesa's lavapipe presents each Vulkan frame to an X server without DRI3
# (Xvfb has none) as one XPutImage of the whole window, 6.4 MB at 1600x1000. Xvfb reads each
# such request into a buffer it grows and then shrinks again, and glibc hands that buffer out
# as a fresh mmap every time: every frame page-faults 1,600 new pages in (perf of Xvfb: 28 %
# of its time in page faults, 36 % in the socket copy into those pages), and the grid view
# presented the view's own frame at 33 frames/s. With the buffer kept on the heap (mmap
# threshold 32 MiB, trim threshold 1 GiB, as LatentLab's own processes set with mallopt),
# 120 frames/s (bench/README.md, bench_grid). The command inherits the same settings; the
# app and the CLI set them for themselves anyway (common/cpu.cpp).
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: bash scripts/xvfb.sh COMMAND [ARGS...]" >&2; exit 2; }
command -v xvfb-run >/dev/null || { echo "xvfb.sh: xvfb-run is missing (apt-get install xvfb)" >&2; exit 1; }
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
    XDG_RUNTIME_DIR=$(mktemp -d)  # mktemp's folder is 0700, as Qt wants
    trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT
    export XDG_RUNTIME_DIR
fi
export MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_MMAP_MAX_=0
xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb "$@"
