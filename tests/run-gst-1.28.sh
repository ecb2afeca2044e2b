#!/usr/bin/env bash
# gst-femo against GStreamer 1.28 (GStreamer's analytics metadata): builds
# GStreamer 1.28.6 from ../shared/third_party/gstreamer-1.28 into a prefix
# outside the clone (once: ${XDG_CACHE_HOME:-~/.cache}/gst-femo/gst-1.28, or
# GST128_PREFIX), then gst-femo against it in ./build-gst128 with the
# 'analytics' feature required, and runs the whole suite there, the
# analytics tests included. Debian's own GStreamer stays as it is; its 1.22
# decoders load into the 1.28 core for the tests.
#
#   tests/run-gst-1.28.sh [meson test arguments...]
#
# Under CI=true (set here when unset) a test that misses a file fails
# instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=${CI:-true}
sources=../shared/third_party/gstreamer-1.28
prefix=${GST128_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-femo/gst-1.28}
arch=$(gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH)

if [ ! -x "$sources/build-gst.sh" ]; then
  echo "run-gst-1.28.sh: missing $sources (GStreamer 1.28 sources)" >&2
  [ "$CI" = true ] && exit 1
  exit 77
fi
gst-femo/setup.sh --tests --gst128 --no-build

elapsed () { echo $((SECONDS - $1)); }
start=$SECONDS
echo "== GStreamer 1.28 in $prefix"
nice -n 5 "$sources/build-gst.sh" "$prefix"
prefix_s=$(elapsed $start)

export PATH="$prefix/bin:$PATH"
export LD_LIBRARY_PATH="$prefix/lib/$arch${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PKG_CONFIG_PATH="$prefix/lib/$arch/pkgconfig"
export GST_PLUGIN_SYSTEM_PATH="$prefix/lib/$arch/gstreamer-1.0:/usr/lib/$arch/gstreamer-1.0"

start=$SECONDS
# a build made against another prefix is made again
if [ "$(cat build-gst128/gst-prefix 2>/dev/null)" != "$prefix" ]; then
  rm -rf build-gst128
  meson setup build-gst128 --buildtype=release -Danalytics=enabled \
    -Dtest-plugin-path="/usr/lib/$arch/gstreamer-1.0" >/dev/null
  echo "$prefix" > build-gst128/gst-prefix
fi
echo "== building build-gst128"
nice -n 5 ninja -C build-gst128 >/dev/null
build_s=$(elapsed $start)
version=$(pkg-config --modversion gstreamer-analytics-1.0)
case $version in
  1.28.*) ;;
  *) echo "run-gst-1.28.sh: build-gst128 found GStreamer $version" >&2; exit 1 ;;
esac
# they exist only where the feature was found, and must run here
tests=$(meson test -C build-gst128 --list 2>/dev/null)
for t in analytics readme-analytics-example; do
  grep -qx "$t" <<< "$tests" ||
    { echo "run-gst-1.28.sh: no test '$t' in build-gst128" >&2; exit 1; }
done

start=$SECONDS
status=0
meson test -C build-gst128 --print-errorlogs --num-processes 2 "$@" || status=$?
echo "== GStreamer $version: prefix ${prefix_s} s, gst-femo build ${build_s} s," \
  "suite $(elapsed $start) s"
exit $status
