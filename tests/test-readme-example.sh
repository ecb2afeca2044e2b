#!/bin/sh
# A C example of README.md (the ```c block after the line that starts with
# HEADING), compiled with pkg-config's PACKAGES and gst-femo uninstalled
# (build/meson-uninstalled) and installed (meson install into a DESTDIR, the
# .pc's prefix rewritten to it), each run on a picture through femodetect:
# it must print the picture's one face, with a label.
# usage: test-readme-example.sh SOURCE_ROOT BUILD_ROOT MESON PKG_CONFIG
#        HEADING PACKAGES CC...
set -eu
src=$1 build=$2 meson=$3 pkg_config=$4 heading=$5 packages=$6
shift 6
picture=$FEMO_SHARED_DIR/media/facedetect_grace_hopper_512x512.jpg
if [ ! -r "$picture" ]; then
  echo "missing $picture"
  [ "${CI:-}" = true ] && exit 1
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the ```c block that follows the heading
awk -v heading="$heading" 'index($0, heading) == 1 { found = 1 }
  found && /^```c$/ { copy = 1; next }
  copy && /^```$/ { exit }
  copy' "$src/README.md" > "$tmp/faces.c"
grep -q '^main (int argc' "$tmp/faces.c"

# $1: how it was built; compiles with the pkg-config path $2, runs
run_example () {
  # shellcheck disable=SC2046 # the flags are words
  "$@" -Wall -Werror -o "$tmp/faces" "$tmp/faces.c" \
    $(PKG_CONFIG_PATH=$PC_DIR${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} \
      "$pkg_config" --cflags --libs $packages)
  "$tmp/faces" "$picture" > "$tmp/out"
  cat "$tmp/out"
  labelled='^face [0-9]+,[0-9]+ [0-9]+x[0-9]+ track [0-9]+: '
  labelled=$labelled'(angry|disgust|fear|happy|sad|surprise|neutral) '
  labelled=$labelled'[01]\.[0-9][0-9] \(happy [01]\.[0-9][0-9]\)$'
  if [ "$(grep -cE "$labelled" "$tmp/out")" != 1 ] ||
    [ "$(wc -l < "$tmp/out")" != 1 ]; then
    echo "$WHAT: expected one face with a label"
    exit 1
  fi
}

# a GStreamer of another prefix stays on the paths (tests/run-gst-1.28.sh)
libs=${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
WHAT=uninstalled PC_DIR=$build/meson-uninstalled \
  LD_LIBRARY_PATH=$build/src/gst$libs run_example "$@"

"$meson" install -C "$build" --no-rebuild --quiet --destdir "$tmp/root" \
  > "$tmp/install.log"
pc=$(find "$tmp/root" -name gstreamer-femo-1.0.pc)
prefix=$(sed -n 's/^prefix=//p' "$pc")
mkdir "$tmp/pc"
sed "s|^prefix=.*|prefix=$tmp/root$prefix|" "$pc" > "$tmp/pc/${pc##*/}"
lib=$(find "$tmp/root" -name 'libgstfemo-1.0.so.0')
plugin=$(find "$tmp/root" -name 'libgstfemo.so')
WHAT=installed PC_DIR=$tmp/pc LD_LIBRARY_PATH=${lib%/*}$libs \
  GST_PLUGIN_PATH=${plugin%/*} GST_REGISTRY=$tmp/registry.bin \
  run_example "$@"
