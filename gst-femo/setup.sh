#!/usr/bin/env bash
# Sets up a Debian 12 machine for gst-femo and builds it into ./build.
# Installs (apt-get, as root) only the packages that are missing.
#   gst-femo/setup.sh          runtime + build packages
#   gst-femo/setup.sh --tests  also what the test suite and benchmarks use
# More flags (any order): --valgrind (tests/run-valgrind.sh), --fuzz (clang
# and libFuzzer for tests/fuzz/run-fuzz.sh), --gst128 (what building
# GStreamer 1.28 for tests/run-gst-1.28.sh needs), --no-build (packages
# only).
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
build=yes
for arg in "$@"; do
  case $arg in
    # facedetect (the peer in the benchmark); the README's Python example
    # (test readme-samples); OpenCV's imread for the YuNet tests, which feed
    # the pixels upstream's example decodes (tests/decode-cv2.py)
    --tests) packages+=(gstreamer1.0-opencv python3-gst-1.0
      gir1.2-gst-plugins-base-1.0 python3-opencv) ;;
    --valgrind) packages+=(valgrind) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    # ../shared/third_party/gstreamer-1.28/build-gst.sh (analyticsoverlay
    # draws with pango and cairo)
    --gst128) packages+=(flex bison libpango1.0-dev libcairo2-dev python3) ;;
    --no-build) build=no ;;
    *) echo "setup.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  # root (as on a fresh Debian, where sudo may not be installed) installs
  # directly; anyone else through sudo
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "setup.sh: missing packages: ${missing[*]}" >&2
      echo "setup.sh: run this as root (or install sudo) to install them" >&2
      exit 1
    fi
    SUDO=sudo
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

[ $build = yes ] || exit 0
if [ ! -f build/build.ninja ]; then
  meson setup build --buildtype=release >/dev/null
fi
echo "== building"
ninja -C build >/dev/null
