#!/bin/sh
# meson install into a DESTDIR: every file lands under the prefix (the plugin
# in libdir/gstreamer-1.0, as GStreamer's own, not in the system's
# pluginsdir), the library, header and gstreamer-femo-1.0.pc where pkg-config
# finds them; a program compiled with the installed .pc uses the library and
# loads the installed plugin through GST_PLUGIN_PATH, as the README says.
# usage: test-install.sh BUILD_ROOT MESON PKG_CONFIG CC...
set -eu
build=$1 meson=$2 pkg_config=$3
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

fail () {
  echo "FAIL: $*"
  exit 1
}

"$meson" install -C "$build" --no-rebuild --quiet --destdir "$root" \
  > "$tmp/install.log"
"$meson" introspect "$build" --buildoptions > "$tmp/options.json"
option () {
  python3 -c 'import json, sys
print(next(o["value"] for o in json.load(open(sys.argv[1]))
           if o["name"] == sys.argv[2]))' "$tmp/options.json" "$1"
}
prefix=$(option prefix)
libdir=$prefix/$(option libdir)
includedir=$prefix/$(option includedir)
plugindir=$(option plugindir)
[ -n "$plugindir" ] || plugindir=$libdir/gstreamer-1.0
echo "prefix $prefix, plugins in $plugindir"

for f in "$plugindir/libgstfemo.so" "$libdir/libgstfemo-1.0.so.0" \
  "$libdir/libgstfemo-1.0.so" "$includedir/gstreamer-1.0/gst/femo/femo-meta.h" \
  "$libdir/pkgconfig/gstreamer-femo-1.0.pc" "$prefix/bin/gst-femo"; do
  [ -e "$root$f" ] || fail "$f not installed"
done
# the shipped weights, and YuNet's BSD-3 notice beside its weights
modeldir=$(option model-dir)
[ -n "$modeldir" ] || modeldir=$prefix/$(option datadir)/gst-femo/models
for f in fer2013-mini-xception.safetensors yunet.safetensors LICENSE-yunet; do
  [ -e "$root$modeldir/$f" ] || fail "$modeldir/$f not installed"
done
outside=$(find "$root" ! -type d | grep -v "^$root$prefix/" || true)
[ -z "$outside" ] || fail "installed outside the prefix $prefix: $outside"

# the plugin finds the library in a prefix the dynamic linker may not search
if [ "$prefix" != /usr ]; then
  for f in "$plugindir/libgstfemo.so" "$prefix/bin/gst-femo"; do
    readelf -d "$root$f" | grep -q "R.*PATH.*\[$libdir\]" ||
      fail "$f has no run path to $libdir"
  done
fi

cat > "$tmp/check.c" <<'C'
#include <gst/gst.h>
#include <gst/femo/femo-meta.h>

int
main (int argc, char **argv)
{
  GstElement *detect;
  GstBuffer *buf;
  FemoFaceInfo face;
  gpointer state = NULL;

  gst_init (&argc, &argv);
  buf = gst_buffer_new ();
  if (femo_buffer_iterate_faces (buf, &state, &face))
    return 1;
  gst_buffer_unref (buf);
  detect = gst_element_factory_make ("femodetect", NULL);
  if (detect == NULL) {
    g_printerr ("no femodetect\n");
    return 1;
  }
  g_print ("%s\n", gst_plugin_get_filename (GST_PLUGIN (gst_plugin_feature_get_plugin
              (GST_PLUGIN_FEATURE (gst_element_get_factory (detect))))));
  gst_object_unref (detect);
  return 0;
}
C
# the installed .pc with its prefix moved into the DESTDIR: its other
# paths must follow from ${prefix}
mkdir "$tmp/pc"
sed "s|^prefix=.*|prefix=$root$prefix|" \
  "$root$libdir/pkgconfig/gstreamer-femo-1.0.pc" > "$tmp/pc/gstreamer-femo-1.0.pc"
# shellcheck disable=SC2046 # the flags are words
"$@" -Wall -Werror -o "$tmp/check" "$tmp/check.c" \
  $(PKG_CONFIG_PATH=$tmp/pc${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} \
    "$pkg_config" --cflags --libs gstreamer-femo-1.0)
# a sanitizer build's library needs the ASan runtime loaded first in a
# program built without it (its leaks are the C tests' to find)
if readelf -d "$root$libdir/libgstfemo-1.0.so.0" | grep -q 'NEEDED.*libasan'; then
  LD_PRELOAD=$("$@" -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0
  export LD_PRELOAD ASAN_OPTIONS
fi
# only the installed copies: no build tree, no system plugin of ours (a
# GStreamer of another prefix stays on the path: tests/run-gst-1.28.sh)
LD_LIBRARY_PATH=$root$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
  GST_PLUGIN_PATH=$root$plugindir \
  GST_PLUGIN_SYSTEM_PATH_1_0=$(pkg-config --variable pluginsdir gstreamer-1.0) \
  GST_REGISTRY=$tmp/registry.bin "$tmp/check" > "$tmp/out"
[ "$(cat "$tmp/out")" = "$root$plugindir/libgstfemo.so" ] ||
  fail "femodetect came from $(cat "$tmp/out"), not $root$plugindir"
echo "ok: plugin, library, header, .pc and tool under $prefix"
