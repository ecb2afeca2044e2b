#!/usr/bin/python3
"""Decodes images as libfacedetection's examples do, with OpenCV's cv2.imread
(8-bit BGR, alpha dropped), and writes each as a binary PPM (P6, RGB as the
format defines) named after it, for the YuNet tests: GStreamer's decoders can
differ from OpenCV's by a level here and there.

    decode-cv2.py OUTDIR IMAGE...   -> OUTDIR/<basename of IMAGE>.ppm

Exits 77 (a missing dependency, as the C tests do) without Debian's
python3-opencv.
"""
import os
import sys

try:
    import cv2
except ImportError:
    print("python3-opencv is not installed", file=sys.stderr)
    sys.exit(77)

outdir = sys.argv[1]
for path in sys.argv[2:]:
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    if img is None:
        sys.exit("decode-cv2.py: cannot read %s" % path)
    h, w = img.shape[:2]
    with open(os.path.join(outdir, os.path.basename(path) + ".ppm"), "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(img[:, :, ::-1].tobytes())
