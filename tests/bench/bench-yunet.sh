#!/bin/sh
# gst-femo benchmark: our YuNet (femo_yunet_detect, tests/bench/bench-yunet)
# against upstream's, libfacedetection's facedetect_cnn (the driver
# ../shared/third_party/libfacedetection/detect_ref), on the same frames:
# frame 100 of the shared 640x480 clip and of the shared 1280x720 clip,
# decoded by OpenCV. Prints the median ms per frame of each (one warm-up
# call, then $RUNS timed calls; $ROUNDS rounds alternating them, the
# median of the rounds' medians), one and two threads, and the ratio
# upstream/ours (above 1: ours is faster); and "detector", ours behind the
# face-detector interface as femodetect runs it (bench-yunet --detector:
# with the second scan of a shrunk copy on frames whose shorter side is
# above 480, so 1280x720 but not 640x480). It never passes or fails on
# time. Run it on an otherwise idle machine.
#
#   tests/bench/bench-yunet.sh            (after ninja -C build)
#   RUNS=50 ROUNDS=5 BUILD=/path/to/build tests/bench/bench-yunet.sh
#
# Upstream is built once with ../shared/third_party/libfacedetection/
# build-peer.sh into $FEMO_BENCH_CACHE (default ~/.cache/gst-femo), outside
# the checkout: the AVX-512 build where the CPU has AVX-512BW (its fastest),
# the AVX2 one otherwise. Needs g++ (build-peer.sh installs it) and
# Debian's python3-opencv (gst-femo/setup.sh --tests).
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
SHARED=${FEMO_SHARED_DIR:-$ROOT/../shared}
PEER_SRC=$SHARED/third_party/libfacedetection
CACHE=${FEMO_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-femo}
RUNS=${RUNS:-30}
ROUNDS=${ROUNDS:-3}
OURS=$BUILD/tests/bench/bench-yunet
export FEMO_MODEL_DIR=${FEMO_MODEL_DIR:-$ROOT/models}

die () {
  echo "bench-yunet: $*" >&2
  exit 1
}

[ -x "$OURS" ] || die "$OURS is missing: ninja -C $BUILD first"
[ -d "$PEER_SRC" ] || die "$PEER_SRC is missing (../shared beside the checkout)"
/usr/bin/python3 -c 'import cv2' 2>/dev/null ||
  die "needs Debian's python3-opencv (gst-femo/setup.sh --tests)"

if grep -qw avx512bw /proc/cpuinfo; then simd=avx512; else simd=avx2; fi
peer=$CACHE/libfacedetection-$simd/detect_ref
if [ ! -x "$peer" ] || [ -n "$(find "$PEER_SRC/src" "$PEER_SRC/detect_ref.cpp" \
    -newer "$peer" 2>/dev/null)" ]; then
  echo "building upstream ($simd) into $(dirname "$peer")"
  "$PEER_SRC/build-peer.sh" "$(dirname "$peer")" $simd >/dev/null
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$SHARED/media/video" "$tmp" <<'PY'
import sys, cv2
video, out = sys.argv[1:3]
for clip, size in [("obama_montage_640x480_300f.mp4", "640x480"),
                   ("obama_weekly_address_montage_1280x720.mp4", "1280x720")]:
    cap = cv2.VideoCapture("%s/%s" % (video, clip))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 100)
    ok, img = cap.read()
    if not ok or "%dx%d" % (img.shape[1], img.shape[0]) != size:
        sys.exit("cannot read frame 100 of %s at %s" % (clip, size))
    with open("%s/%s.ppm" % (out, size), "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (img.shape[1], img.shape[0]))
        f.write(img[:, :, ::-1].tobytes())
PY

median_ms () {
  sed -n 's/.*"median_ms": \([0-9.]*\).*/\1/p'
}

median_of () {
  tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 }
    END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "YuNet, ms per frame (median of $ROUNDS rounds of $RUNS calls), upstream $simd build"
printf '%-9s %7s %9s %9s %9s %15s\n' frame threads ours detector upstream \
  upstream/ours
for size in 640x480 1280x720; do
  for threads in 1 2; do
    o="" d="" u=""
    for round in $(seq "$ROUNDS"); do
      o="$o $("$OURS" --bench "$RUNS" --threads $threads "$tmp/$size.ppm" | median_ms)"
      d="$d $("$OURS" --bench "$RUNS" --threads $threads --detector "$tmp/$size.ppm" | median_ms)"
      u="$u $("$peer" --bench "$RUNS" --threads $threads "$tmp/$size.ppm" | median_ms)"
    done
    o=$(echo "$o" | median_of)
    d=$(echo "$d" | median_of)
    u=$(echo "$u" | median_of)
    printf '%-9s %7s %9.2f %9.2f %9.2f %15.2f\n' "$size" $threads "$o" "$d" \
      "$u" "$(echo "$u $o" | awk '{ print $1 / $2 }')"
  done
done
