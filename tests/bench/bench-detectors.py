#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The two face detectors side by side on the shared media, and YuNet's
threshold swept: what README.md's detector table and the choice of
femodetect's defaults rest on.

For the photos, gst-femo image --json runs once per detector (YuNet at its
lowest threshold, 0.2) and every higher threshold is applied afterwards:
YuNet's threshold only removes candidates, and non-maximum suppression keeps a
box only against higher-scored ones, so filtering afterwards gives the faces of
a run at that threshold. Ground truth: the 23 boxes of the six dlib_2* photos
in reference.json, greedy one-to-one matching by IoU (highest first), a true
positive at IoU >= 0.5, as reference.json's own evaluation does. Videos: faces
per frame from gst-femo video --csv (every frame detects, so every row has its
detection confidence).

Usage: tests/bench/bench-detectors.py [--build DIR] [--shared DIR] [--no-video]
Prints figures; never fails on them.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
VIDEOS = ("obama_montage_640x480_300f.mp4",
          "obama_weekly_address_montage_1280x720.mp4",
          "short_hamilton_clip.mp4")


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / float(aw * ah + bw * bh - inter)


def true_positives(truth, found):
    pairs = sorted(((iou(g, d), i, j) for i, g in enumerate(truth)
                    for j, d in enumerate(found)), reverse=True)
    used_truth, used_found, tp = set(), set(), 0
    for v, i, j in pairs:
        if v < 0.5:
            break
        if i in used_truth or j in used_found:
            continue
        used_truth.add(i)
        used_found.add(j)
        tp += 1
    return tp


def run(cmd, env):
    start = time.monotonic()
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return time.monotonic() - start, out


def detector_args(name):
    # YuNet at its lowest threshold: higher ones are applied afterwards
    if name == "yunet":
        return ["--detector", "yunet", "--min-confidence", "0.2"]
    return ["--detector", "cascade"]


def photos(tool, env, media, tmp):
    ref = json.load(open(os.path.join(media, "reference.json")))["images"]
    files = sorted(f for f in os.listdir(media)
                   if f.lower().endswith((".jpg", ".jpeg", ".png")))
    truth = {f: ref[f]["ground_truth"] for f in files
             if "ground_truth" in ref.get(f, {})}
    n_truth = sum(len(v) for v in truth.values())
    print("photos: %d files; ground truth: %d faces on %d photos"
          % (len(files), n_truth, len(truth)))
    print("%-22s %7s %11s %7s %9s %6s %8s" % ("detector", "boxes", "gt found",
          "false", "recall", "prec", "time s"))
    for name in ("cascade", "yunet"):
        out = os.path.join(tmp, name + ".json")
        with open(out, "w") as f:
            start = time.monotonic()
            subprocess.run([tool, "image", "--json"] + detector_args(name)
                           + [os.path.join(media, x) for x in files],
                           env=env, check=True, stdout=f)
            took = time.monotonic() - start
        result = {os.path.basename(i["file"]): i["faces"]
                  for i in json.load(open(out))}
        for t in (THRESHOLDS if name == "yunet" else (0.0,)):
            boxes = tp = found = 0
            for f in files:
                faces = [(x["x"], x["y"], x["width"], x["height"])
                         for x in result[f] if x["detection_confidence"] >= t]
                boxes += len(faces)
                if f in truth:
                    found += len(faces)
                    tp += true_positives(truth[f], faces)
            label = name if name == "cascade" else "yunet >= %.1f" % t
            print("%-22s %7d %5d of %2d %7d %9.3f %6.3f %8s"
                  % (label, boxes, tp, n_truth, found - tp,
                     tp / float(n_truth), tp / float(max(found, 1)),
                     "%.1f" % took if t in (0.0, 0.2) else ""))


def videos(tool, env, media, tmp):
    print("\nvideos: faces per frame (one speaker in the two montages)")
    print("%-44s %-14s %7s %8s %8s" % ("clip", "detector", "frames",
          "faces/f", "time s"))
    for clip in VIDEOS:
        path = os.path.join(media, "video", clip)
        for name in ("cascade", "yunet"):
            out = os.path.join(tmp, name + "-" + clip + ".csv")
            took, summary = run([tool, "video", "--no-output-video", "--csv",
                                 out] + detector_args(name) + [path], env)
            rows = list(csv.DictReader(open(out)))
            # its first line: "N frames, M faces (...)"
            frames = int(summary.split(" frames", 1)[0])
            for t in (THRESHOLDS if name == "yunet" else (0.0,)):
                n = sum(1 for r in rows
                        if r["detection_confidence"] == ""
                        or float(r["detection_confidence"]) >= t)
                label = name if name == "cascade" else "yunet >= %.1f" % t
                print("%-44s %-14s %7d %8.3f %8s"
                      % (clip, label, frames, n / float(frames),
                         "%.1f" % took if t in (0.0, 0.2) else ""))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(root, "build"))
    ap.add_argument("--shared", default=os.path.join(root, "..", "shared"))
    ap.add_argument("--no-video", action="store_true")
    args = ap.parse_args()
    media = os.path.join(args.shared, "media")
    tool = os.path.join(args.build, "gst-femo", "gst-femo")
    env = dict(os.environ, GST_PLUGIN_PATH=os.path.join(args.build, "src",
               "gst"), FEMO_MODEL_DIR=os.path.join(root, "models"))
    env.setdefault("GST_REGISTRY", os.path.join(args.build, "bench-registry.bin"))
    if not os.path.isdir(media):
        sys.exit("no shared media at %s (--shared DIR)" % media)
    with tempfile.TemporaryDirectory() as tmp:
        photos(tool, env, media, tmp)
        if not args.no_video:
            videos(tool, env, media, tmp)


if __name__ == "__main__":
    main()
