#!/usr/bin/env bash
# Quick start, command 2: set up, build, and run the whole test suite.
# Needs ../shared beside the checkout (reference media and FER2013 rows).
set -euo pipefail
cd "$(dirname "$0")/.."
gst-femo/setup.sh --tests
meson test -C build --print-errorlogs --num-processes 2 "$@"
