#!/usr/bin/env bash
# Quick start, command 1: set up, build, and run gst-femo video on the
# bundled public-domain clip. Outputs go to ./out/.
set -euo pipefail
cd "$(dirname "$0")/.."
gst-femo/setup.sh
mkdir -p out
export GST_PLUGIN_PATH="$PWD/build/src/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export FEMO_MODEL_DIR="${FEMO_MODEL_DIR:-$PWD/models}"
echo "== gst-femo video gst-femo/demo/wh_weekly_address_clip01.mp4"
build/gst-femo/gst-femo video gst-femo/demo/wh_weekly_address_clip01.mp4 \
  -o out/demo-faces.mp4 --csv out/demo-faces.csv --plot out/demo-faces.svg
echo "== done: in $PWD/out/"
echo "   demo-faces.mp4  the clip with each face boxed and labelled (sound kept)"
echo "   demo-faces.csv  one row per face per frame: box, emotion, probabilities"
echo "   demo-faces.svg  the emotions over time (open it in a web browser)"
