#!/usr/bin/env bash
# gst-femo: the whole test suite under AddressSanitizer, LeakSanitizer and
# UndefinedBehaviorSanitizer (gcc), in ./build-asan.
#
#   tests/run-sanitizers.sh [meson test arguments...]
#
# Any sanitizer report fails the test that caused it: UBSan halts on the
# first error, LSan reports leaks at exit. tests/lsan.supp lists only the
# one-time allocations of GLib's type system and GStreamer's registry that
# live until exit. Environment: JOBS (ninja -j, default nproc).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dc_args='-fno-omit-frame-pointer' >/dev/null
fi
echo "== building build-asan"
ninja -C build-asan -j "${JOBS:-$(nproc)}" >/dev/null

# GLib and GStreamer are built without frame pointers: ASan's fast unwinder
# stops at g_malloc, which makes leak reports useless and suppressions
# impossible, so allocation stacks are unwound the slow way (16 frames).
export ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0:malloc_context_size=16
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# GLib's slice allocator hides frees from ASan; scan the plugin in-process
# (gst-plugin-scanner is not built with ASan and cannot load the plugin).
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
export GST_REGISTRY_FORK=no
# The suite's own registry, brought up to date once before the tests with
# leak detection off: a registry scan in a test process would load every
# plugin of the system there, with their one-time allocations.
export GST_REGISTRY="$PWD/build-asan/gst-registry.bin"
LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS=detect_leaks=0 \
  GST_PLUGIN_PATH="$PWD/build-asan/src/gst" gst-inspect-1.0 femodetect \
  >/dev/null || echo "warning: could not scan the GStreamer registry up front"
# gst-check's per-test timeout (20 s) is too short for instrumented code.
export CK_DEFAULT_TIMEOUT=600
meson test -C build-asan --print-errorlogs --num-processes "${JOBS:-$(nproc)}" \
  --timeout-multiplier 4 "$@"
