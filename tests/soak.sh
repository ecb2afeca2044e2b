#!/usr/bin/env bash
# gst-femo: the long soak of femodetect ! femooverlay (tests/test-soak.c).
#
#   tests/soak.sh [FRAMES [CYCLES]]   (default 100000 frames, 500 cycles)
#
# Pushes FRAMES copies of a real face photo through femodetect ! femooverlay
# after a warm-up of a tenth as many, and fails when the resident memory
# grew by more than 1 MB after the warm-up; then CYCLES NULL->PLAYING->NULL
# state cycles (same limit), property changes from other threads during
# playback, caps renegotiation and 8 detectors sharing one model. Prints
# the RSS figures. Runs against ./build (gst-femo/setup.sh --tests).
set -euo pipefail
cd "$(dirname "$0")/.."
ninja -C build >/dev/null
FEMO_SOAK_FRAMES=${1:-100000} FEMO_SOAK_CYCLES=${2:-500} \
  meson test -C build soak --timeout-multiplier 0 --print-errorlogs
grep -E '^# (soak|state cycles):' build/meson-logs/testlog.txt
