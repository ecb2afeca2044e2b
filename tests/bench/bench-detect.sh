#!/bin/sh
# gst-femo benchmark: femodetect against gst-plugins-bad's facedetect
# (Debian gstreamer1.0-opencv) on the 300-frame 640x480 clip of the shared
# media set. Prints frames per second (median of $RUNS interleaved runs of
# the whole gst-launch-1.0, so start-up and cascade loading count for both)
# and the ratios femodetect/facedetect. It never passes or fails on time.
# Run it on an otherwise idle machine.
#
#   tests/bench/bench-detect.sh            (after ninja -C build)
#   RUNS=5 BUILD=/path/to/build tests/bench/bench-detect.sh
#
# The clip is decoded once to raw I420 and raw RGB files in $TMPDIR, so that
# decoding is not timed. facedetect only takes RGB: it gets the I420 through
# videoconvert, as in an application, and that conversion is part of its
# cost; femodetect reads the Y plane of the I420 directly, or converts the
# raw RGB file itself. Both elements use the same cascade file, given
# explicitly, and both post their per-frame message.
# femodetect also tells the emotion of every face (classify=true, the
# default: the columns femo-I420, femo-RGB, femo-LBP and +cls); the column
# -cls is femo-I420 with classify=false (detection only), so +cls/-cls is
# what classification costs. Goal: femodetect detecting and classifying
# at least 2x facedetect's fps at equal parameters.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
SHARED=${FEMO_SHARED_DIR:-$ROOT/../shared}
CLIP=$SHARED/media/video/obama_montage_640x480_300f.mp4
CASCADE_DIR=${FEMO_CASCADE_DIR:-/usr/share/opencv4}
HAAR=$CASCADE_DIR/haarcascades/haarcascade_frontalface_default.xml
LBP=$CASCADE_DIR/lbpcascades/lbpcascade_frontalface_improved.xml
MODEL=${FEMO_MODEL_DIR:-$ROOT/models}/fer2013-mini-xception.safetensors
RUNS=${RUNS:-3}
TMP=${TMPDIR:-/tmp}
WIDTH=640
HEIGHT=480
FRAMES=300
I420=$TMP/obama_640x480_i420_300f.yuv
RGB=$TMP/obama_640x480_rgb_300f.rgb
LOG=$TMP/femo-bench-detect.log

export GST_PLUGIN_PATH="$BUILD/src/gst"
export GST_REGISTRY="$TMP/femo-bench-registry.bin"

die () {
  echo "bench-detect: $*" >&2
  exit 1
}

for f in "$CLIP" "$HAAR" "$LBP" "$MODEL"; do
  [ -r "$f" ] || die "cannot read $f"
done
gst-inspect-1.0 femodetect >/dev/null 2>&1 \
  || die "no femodetect in $GST_PLUGIN_PATH (build first: ninja -C $BUILD)"
gst-inspect-1.0 facedetect >/dev/null 2>&1 \
  || die "no facedetect (apt-get install gstreamer1.0-opencv opencv-data)"

# decode FORMAT FILE BYTES: the clip as raw frames, once.
decode () {
  if [ "$(stat -c %s "$2" 2>/dev/null || echo 0)" != "$3" ]; then
    echo "decoding $CLIP to $2"
    gst-launch-1.0 -q filesrc location="$CLIP" ! qtdemux ! h264parse \
      ! avdec_h264 ! videoconvert ! video/x-raw,format="$1" \
      ! filesink location="$2"
  fi
  [ "$(stat -c %s "$2")" = "$3" ] || die "$2 is not $3 bytes"
}
decode I420 "$I420" $((WIDTH * HEIGHT * 3 * FRAMES / 2))
decode RGB "$RGB" $((WIDTH * HEIGHT * 3 * FRAMES))

# seconds FILE FORMAT ELEMENTS...: wall time of the raw FILE through ELEMENTS.
seconds () {
  file=$1
  format=$2
  shift 2
  start=$(date +%s.%N)
  gst-launch-1.0 -q filesrc location="$file" ! rawvideoparse width=$WIDTH \
    height=$HEIGHT format="$format" framerate=30/1 ! "$@" >"$LOG" 2>&1 \
    || { cat "$LOG" >&2; die "pipeline failed on $file: $*"; }
  end=$(date +%s.%N)
  echo "$start $end" | awk '{ printf "%.4f", $2 - $1 }'
}

# fps "TIMES": frames per second of the median of the times.
fps () {
  echo "$@" | tr ' ' '\n' | grep . | sort -n \
    | awk -v frames=$FRAMES '{ t[NR] = $1 }
        END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2;
              printf "%.1f", frames / m }'
}

ratio () {
  echo "$1 $2" | awk '{ printf "%.2f", $1 / $2 }'
}

echo "640x480, $FRAMES frames, median of $RUNS runs, $(nproc) CPU cores"
echo "cascades: $HAAR"
echo "          $LBP (femo-LBP)"
echo "model:    $MODEL"
printf '\n%-12s %10s %10s %10s %10s %10s | %7s %7s %7s %7s\n' params \
  facedetect femo-I420 femo-RGB femo-LBP -cls I420/fd RGB/fd LBP/fd +cls/-cls
printf '%-12s %10s %10s %10s %10s %10s | %7s %7s %7s %7s\n' "" fps fps fps \
  fps fps ratio ratio ratio ratio

for p in 1.1/3 1.2/5 1.25/3; do
  sf=${p%/*}
  mn=${p#*/}
  # Runs interleaved, so that a change of machine load hits all four alike.
  t_fd=""
  t_fy=""
  t_fr=""
  t_fl=""
  t_fn=""
  i=0
  while [ $i -lt "$RUNS" ]; do
    t_fd="$t_fd $(seconds "$I420" i420 videoconvert ! facedetect \
      display=false profile="$HAAR" min-size-width=30 min-size-height=30 \
      scale-factor="$sf" min-neighbors="$mn" ! fakesink)"
    t_fy="$t_fy $(seconds "$I420" i420 femodetect detector=cascade cascade-file="$HAAR" \
      min-size=30 scale-factor="$sf" min-neighbors="$mn" \
      model-file="$MODEL" ! fakesink)"
    t_fr="$t_fr $(seconds "$RGB" rgb femodetect detector=cascade cascade-file="$HAAR" \
      min-size=30 scale-factor="$sf" min-neighbors="$mn" \
      model-file="$MODEL" ! fakesink)"
    t_fl="$t_fl $(seconds "$I420" i420 femodetect detector=cascade cascade-file="$LBP" \
      min-size=30 scale-factor="$sf" min-neighbors="$mn" \
      model-file="$MODEL" ! fakesink)"
    t_fn="$t_fn $(seconds "$I420" i420 femodetect detector=cascade cascade-file="$HAAR" \
      min-size=30 scale-factor="$sf" min-neighbors="$mn" classify=false \
      ! fakesink)"
    i=$((i + 1))
  done
  fd=$(fps "$t_fd")
  fy=$(fps "$t_fy")
  fr=$(fps "$t_fr")
  fl=$(fps "$t_fl")
  fn=$(fps "$t_fn")
  printf '%-12s %10s %10s %10s %10s %10s | %7s %7s %7s %7s\n' \
    "sf$sf/mn$mn" "$fd" "$fy" "$fr" "$fl" "$fn" "$(ratio "$fy" "$fd")" \
    "$(ratio "$fr" "$fd")" "$(ratio "$fl" "$fd")" "$(ratio "$fy" "$fn")"
done
echo
echo "sf1.25/mn3 are facedetect's defaults. Ratio > 1: femodetect is faster."
echo "femo columns classify every face, except -cls (classify=false)."

# Tracking: the cascade on every frame against every third frame (the
# others carry the tracked faces), femodetect's defaults otherwise, I420,
# classifying. Goal: detect-interval=3 at least 2.5x the fps of 1.
t_d1=""
t_d3=""
i=0
while [ $i -lt "$RUNS" ]; do
  t_d1="$t_d1 $(seconds "$I420" i420 femodetect detector=cascade cascade-file="$HAAR" \
    model-file="$MODEL" detect-interval=1 ! fakesink)"
  t_d3="$t_d3 $(seconds "$I420" i420 femodetect detector=cascade cascade-file="$HAAR" \
    model-file="$MODEL" detect-interval=3 ! fakesink)"
  i=$((i + 1))
done
d1=$(fps "$t_d1")
d3=$(fps "$t_d3")
printf '\n%-24s %10s %10s | %7s\n' tracking detect-1 detect-3 3/1
printf '%-24s %10s %10s | %7s\n' "femodetect defaults" "$d1" "$d3" \
  "$(ratio "$d3" "$d1")"

# label-changes SETTINGS...: "changes track-seconds" of the shown labels
# over the clip, from femodetect's track messages.
label_changes () {
  gst-launch-1.0 -m filesrc location="$I420" ! rawvideoparse width=$WIDTH \
    height=$HEIGHT format=i420 framerate=30/1 ! femodetect \
    cascade-file="$HAAR" model-file="$MODEL" "$@" ! fakesink 2>&1 \
    | awk '/femodetect-label-changed/ { n++ }
        /femodetect-track-ended/ { match ($0, /duration=\(guint64\)[0-9]+/);
          d += substr ($0, RSTART + 18, RLENGTH - 18) / 1e9 }
        END { printf "%d %.2f", n, d }'
}
raw=$(label_changes smoothing=0 label-hysteresis=0)
shown=$(label_changes)
echo "$raw $shown" | awk '{
  printf "\nlabel changes per track-second over the clip (all tracks, %.1f s):\n", $2
  printf "  raw (smoothing=0 label-hysteresis=0): %d, %.2f/s\n", $1, ($2 > 0 ? $1 / $2 : 0)
  printf "  shown (defaults: smoothing=0.5 label-hysteresis=0.15): %d, %.2f/s\n", $3, ($4 > 0 ? $3 / $4 : 0) }'
echo "(per video: $BUILD/tests/bench/bench-tracker --model $MODEL VIDEO...)"
