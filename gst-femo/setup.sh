#!/usr/bin/env bash
# Sets up a Debian 12 machine for gst-femo and builds it into ./build.
# Installs (apt-get, as root) only the packages that are missing.
#   gst-femo/setup.sh          runtime + build packages
#   gst-femo/setup.sh --tests  also what the test suite and benchmarks use
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential pkg-config meson ninja-build
  libglib2.0-dev liborc-0.4-dev liborc-0.4-dev-bin
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
  opencv-data
)
if [ "${1:-}" = "--tests" ]; then
  # facedetect (the peer in the benchmark) and python3-opencv (reference tools)
  packages+=(gstreamer1.0-opencv)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >/dev/null
fi
echo "== building"
ninja -C build >/dev/null
