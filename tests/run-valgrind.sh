#!/usr/bin/env bash
# gst-femo: the element tests under valgrind memcheck (./build).
#
#   tests/run-valgrind.sh [test names...]   (default: the element tests)
#
# Fails on any memory error or definite leak. Suppressions: GLib's own
# (/usr/share/glib-2.0/valgrind/glib.supp) and tests/valgrind.supp (only
# GStreamer and GLib internals). valgrind cannot run AVX-512 code, so the
# CNN runs on its AVX2 kernels (FEMO_KERNELS, src/femo/femo-kernels.c).
set -euo pipefail
cd "$(dirname "$0")/.."

tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(femodetect femodetect-emotion femooverlay femodetect-track)
# valgrind itself (apt-get when missing), and ./build
bash gst-femo/setup.sh --tests --valgrind >/dev/null

supp=(--suppressions="$PWD/tests/valgrind.supp")
[ -f /usr/share/glib-2.0/valgrind/glib.supp ] &&
  supp+=(--suppressions=/usr/share/glib-2.0/valgrind/glib.supp)
# VALGRIND_ARGS adds options (--track-origins=yes to find where an
# uninitialised value came from: twice as slow).
wrapper="valgrind --tool=memcheck --error-exitcode=99 --leak-check=full
  --show-leak-kinds=definite --errors-for-leak-kinds=definite
  --num-callers=30 ${supp[*]} ${VALGRIND_ARGS:-}"

export FEMO_KERNELS=${FEMO_KERNELS:-avx2}
export G_SLICE=always-malloc
export GST_REGISTRY_FORK=no
export CK_DEFAULT_TIMEOUT=1200
meson test -C build --print-errorlogs --num-processes 1 \
  --timeout-multiplier 10 --wrapper "$wrapper" "${tests[@]}"
