#!/usr/bin/env python3
# gst-femo fuzzing: writes the synthetic seed corpora into tests/fuzz/corpus.
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Seeds are small on purpose (libFuzzer mutates them byte by byte):
#  cascade/      hand-made Haar and LBP cascades, and the first stages of
#                Debian opencv-data's haarcascade_frontalface_default.xml and
#                lbpcascade_frontalface_improved.xml with their licence text
#                and the features those stages use, renumbered;
#  safetensors/  tests/data/golden-net.safetensors, tiny containers, a
#                truncated copy and a header with bad offsets;
#  fer-csv/      a few synthetic FER2013 and FER+ rows (random pixels, never
#                dataset rows), CRLF, gzip, and malformed variants;
#  femodetect/   short streams (fuzz-femodetect.c describes the layout) over
#                a 48x48 picture of a face: Grace Hopper cropped (public domain,
#                ../shared/media, decoded and scaled by gst-launch-1.0) as
#                luma, Y of YUY2, RGB and BGRx, tracked with changing
#                settings and times, and boxes given past the frame, for the
#                cascade; for YuNet at 32x32 in colour (BGR, BGRx, I420,
#                YV12, Y42B, Y444, Y41B, NV12, NV21, NV16, NV24, YUY2, UYVY
#                and YVYU with their chroma) and gray, with landmarks,
#                align-faces and min-confidence changing. The files named by
#                their SHA-1 there come from fuzzing runs (tests/fuzz/README.md)
#                and are not regenerated.
# Usage: tests/fuzz/make-seeds.py  (from anywhere; overwrites the seeds)
import gzip
import json
import random
import re
import struct
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
OPENCV = Path("/usr/share/opencv4")


def write(kind, name, data):
    d = CORPUS / kind
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


# --- cascades -----------------------------------------------------------------
HAAR = """<?xml version="1.0"?>
<opencv_storage>
<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>
  <featureType>HAAR</featureType>
  <height>8</height>
  <width>8</width>
  <stageParams><maxWeakCount>2</maxWeakCount></stageParams>
  <featureParams><maxCatCount>0</maxCatCount></featureParams>
  <stageNum>2</stageNum>
  <stages>
    <_>
      <maxWeakCount>2</maxWeakCount>
      <stageThreshold>-1.5e+00</stageThreshold>
      <weakClassifiers>
        <_><internalNodes>0 -1 0 1.0e-02</internalNodes>
          <leafValues>1.0e+00 -1.0e+00</leafValues></_>
        <_><internalNodes>0 -1 1 -2.0e-02</internalNodes>
          <leafValues>-5.0e-01 5.0e-01</leafValues></_></weakClassifiers></_>
    <_>
      <maxWeakCount>1</maxWeakCount>
      <stageThreshold>-1.0e+00</stageThreshold>
      <weakClassifiers>
        <_><internalNodes>0 -1 2 0.0e+00</internalNodes>
          <leafValues>1.0e+00 -1.0e+00</leafValues></_></weakClassifiers></_></stages>
  <features>
    <_><rects><_>0 0 8 4 -1.</_><_>0 4 8 4 1.</_></rects></_>
    <_><rects><_>1 1 6 6 -1.</_><_>3 3 2 2 9.</_></rects></_>
    <_><rects><_>2 0 4 2 -1.</_><_>2 0 2 2 2.</_></rects>
      <tilted>1</tilted></_></features></cascade>
</opencv_storage>
"""

LBP = """<?xml version="1.0"?>
<opencv_storage>
<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>
  <featureType>LBP</featureType>
  <height>9</height>
  <width>9</width>
  <stageParams><maxWeakCount>1</maxWeakCount></stageParams>
  <featureParams><maxCatCount>256</maxCatCount><featSize>1</featSize></featureParams>
  <stageNum>1</stageNum>
  <stages>
    <_>
      <maxWeakCount>1</maxWeakCount>
      <stageThreshold>-5.0e-01</stageThreshold>
      <weakClassifiers>
        <_><internalNodes>0 -1 0 -1 -1 -17409 -1 -1 -1 -1 -1</internalNodes>
          <leafValues>-9.0e-01 4.0e-01</leafValues></_></weakClassifiers></_></stages>
  <features>
    <_><rect>0 0 3 3</rect></_></features></cascade>
</opencv_storage>
"""


def trim_cascade(path, n_stages):
    """The first @n_stages stages of an OpenCV cascade, with only the
    features they use (renumbered) and the file's licence comment."""
    text = path.read_text()
    head, rest = text.split("<opencv_storage>", 1)
    stages_start = rest.index("<stages>")
    stages_end = rest.index("</stages>")
    stages = re.findall(r"\n    <_>\n.*?</weakClassifiers></_>",
                        rest[stages_start:stages_end], re.S)[:n_stages]
    feats_start = rest.index("<features>") + len("<features>")
    feats_end = rest.index("</features>")
    features = re.findall(r"\n    <_>.*?</_>(?=\n    <_>|$)",
                          rest[feats_start:feats_end], re.S)
    used = {}

    def renumber(m):
        nums = m.group(1).split()
        old = int(nums[2])
        nums[2] = str(used.setdefault(old, len(used)))
        return "<internalNodes>\n            " + " ".join(nums) + "</internalNodes>"

    stages = [re.sub(r"<internalNodes>\s*(.*?)</internalNodes>", renumber, s, flags=re.S)
              for s in stages]
    kept = [features[old] for old, _ in sorted(used.items(), key=lambda kv: kv[1])]
    top = re.sub(r"<stageNum>\d+</stageNum>", f"<stageNum>{n_stages}</stageNum>",
                 rest[:stages_start])
    return (head + "<opencv_storage>" + top + "<stages>" + "".join(stages)
            + "</stages>\n  <features>" + "".join(kept) + "</features></cascade>\n"
            "</opencv_storage>\n")


def cascades():
    write("cascade", "haar-tiny.xml", HAAR)
    write("cascade", "lbp-tiny.xml", LBP)
    write("cascade", "haar-truncated.xml", HAAR[:len(HAAR) // 2])
    write("cascade", "haar-bad-rect.xml", HAAR.replace("3 3 2 2 9.", "7 7 2 2 9."))
    write("cascade", "haar-bad-feature-index.xml",
          HAAR.replace("0 -1 2 0.0e+00", "0 -1 7 0.0e+00"))
    write("cascade", "lbp-bad-rect.xml", LBP.replace("0 0 3 3", "2 2 3 3"))
    write("cascade", "empty-stages.xml",
          re.sub(r"<stages>.*</stages>", "<stages></stages>", HAAR, flags=re.S))
    haar = OPENCV / "haarcascades" / "haarcascade_frontalface_default.xml"
    lbp = OPENCV / "lbpcascades" / "lbpcascade_frontalface_improved.xml"
    if haar.exists():
        write("cascade", "opencv-haar-frontalface-2-stages.xml", trim_cascade(haar, 2))
    if lbp.exists():
        write("cascade", "opencv-lbp-frontalface-improved-2-stages.xml",
              trim_cascade(lbp, 2))


# --- safetensors --------------------------------------------------------------
def container(tensors, metadata=None, pad=b""):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode() + pad
    return struct.pack("<Q", len(h)) + h + data


def safetensors():
    golden = (HERE.parent / "data" / "golden-net.safetensors").read_bytes()
    write("safetensors", "golden-net.safetensors", golden)
    (hlen,) = struct.unpack("<Q", golden[:8])
    write("safetensors", "golden-net-truncated.safetensors", golden[:8 + hlen + 64])
    write("safetensors", "golden-net-header-only.safetensors", golden[:8 + hlen])
    f = struct.pack("<4f", 1.0, -2.0, 0.5, 3.0)
    write("safetensors", "one-f32.safetensors",
          container([("w", "F32", [2, 2], f)], {"a": "b"}, b"   "))
    write("safetensors", "two-dtypes.safetensors",
          container([("a", "F16", [2], b"\0\x3c\0\x40"), ("b", "I64", [1], b"\1" + b"\0" * 7)]))
    write("safetensors", "scalar-and-empty.safetensors",
          container([("s", "F32", [], f[:4]), ("e", "F32", [0], b"")]))
    write("safetensors", "femo-metadata.safetensors",
          container([("x", "F32", [1], f[:4])],
                    {"femo.arch": "mini-xception", "femo.format": "1",
                     "femo.labels": "a,b", "femo.channels": "1,1,1,1,1"}))
    bad = container([("w", "F32", [2, 2], f)])
    write("safetensors", "bad-offsets.safetensors",
          bad.replace(b"[0,16]", b"[0,99]"))
    write("safetensors", "empty-header.safetensors", struct.pack("<Q", 2) + b"{}")


# --- FER2013 / FER+ CSV -------------------------------------------------------
def fer_row(rng, label, usage, n=48 * 48):
    return f"{label}," + " ".join(str(rng.randrange(256)) for _ in range(n)) + f",{usage}"


def fer_csv():
    rng = random.Random(1)
    good = "\n".join(["emotion,pixels,Usage",
                      fer_row(rng, 3, "Training"), fer_row(rng, 0, "PublicTest"),
                      fer_row(rng, 6, "PrivateTest")]) + "\n"
    write("fer-csv", "three-rows.csv", good)
    write("fer-csv", "three-rows-crlf.csv", good.replace("\n", "\r\n"))
    write("fer-csv", "three-rows.csv.gz", gzip.compress(good.encode(), mtime=0))
    lines = good.split("\n")
    write("fer-csv", "short-row.csv", "\n".join([lines[0], fer_row(rng, 1, "Training", 100)]) + "\n")
    write("fer-csv", "bad-label.csv", "\n".join([lines[0], fer_row(rng, 9, "Training")]) + "\n")
    write("fer-csv", "bad-pixel.csv", "\n".join([lines[0], lines[1].replace(" ", " x", 1)]) + "\n")
    write("fer-csv", "no-usage-column.csv",
          "emotion,pixels\n" + ",".join(lines[1].split(",")[:2]) + "\n")
    write("fer-csv", "header-only.csv", "emotion,pixels,Usage\n")
    write("fer-csv", "ferplus.csv",
          "Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,"
          "contempt,unknown,NF\n"
          "Training,fer0000000.png,4,0,0,1,3,2,0,0,0,0\n"
          "PublicTest,,10,0,0,0,0,0,0,0,0,0\n"
          "PrivateTest,fer0000002.png,0,0,0,0,0,0,0,0,0,10\n")


# --- femodetect streams -------------------------------------------------------
FACE = HERE.parent.parent.parent / "shared" / "media" / "facedetect_grace_hopper_512x512.jpg"
SIDE = 48
YUNET_SIDE = 32  # fuzz-femodetect's MAX_SIDE_YUNET
YUNET_CROP = 260  # YuNet's score on the face at 32: 0.8 (0.6 at 280)
FACE_BOX = (153, 85, 228)  # x, y, side in the 512x512 picture
CROP = 280


def face_pixels(fmt, colorimetry=None, side=SIDE, crop=CROP):
    """The face picture, @side x @side, rows packed, in GStreamer format
    @fmt (YUV in @colorimetry, a caps string): the @crop x @crop square
    around the face (FACE_BOX, where OpenCV finds it), so that the face
    stays above min-size 30 at SIDE. At these sizes GStreamer's planes are unpadded, one
    after the other, as fuzz-femodetect reads them from the pool."""
    caps = f"video/x-raw,format={fmt},width={side},height={side}"
    if colorimetry:
        caps += f",colorimetry={colorimetry}"
    x, y, size = FACE_BOX
    left, top = x + (size - crop) // 2, y + (size - crop) // 2
    with tempfile.NamedTemporaryFile() as out:
        subprocess.run(["gst-launch-1.0", "-q", "filesrc", f"location={FACE}", "!",
                        "jpegdec", "!", "videocrop", f"left={left}", f"top={top}",
                        f"right={512 - left - crop}", f"bottom={512 - top - crop}", "!",
                        "videoconvert", "!", "videoscale", "!", caps, "!",
                        "filesink", f"location={out.name}"], check=True)
        return Path(out.name).read_bytes()


def small(v):
    """A value fuzz-femodetect's take_biased() reads as @v (v <= its small)."""
    return struct.pack("<I", v)


def large(v):
    """A value take_biased() reads as @v (any v below its max)."""
    return struct.pack("<I", 0x80000000 | v)


def scale_bytes(factor):
    """The 2 bytes take_scale_factor() reads as @factor: 1.01..10 in 65535
    steps, shifted so that 0 reads as 1.1."""
    def units(f):
        return round((f - 1.01) / (10 - 1.01) * 65535)
    return struct.pack("<H", (units(factor) - units(1.1)) % 65536)


def min_confidence(v):
    """The 2 bytes take_min_confidence() reads as @v (-1..1 in steps of
    1/32767; None: the bytes 0, the detector's default)."""
    return 0 if v is None else round(v * 32767) + 32768


# the chroma byte (fuzz-femodetect.c's CHROMA_*): layout, then subsampling
# (I420/NV12, Y42B/NV16, Y444/NV24, Y41B), U/V swapped, matrix (BT.601,
# BT.709, BT.2020), full range
NO_CHROMA, PLANAR, SEMI_PLANAR, PACKED = 0, 1, 2, 1
SUB_420, SUB_422, SUB_444, SUB_411 = range(4)
BT601, BT709, BT2020 = range(3)


def chroma(layout, sub=SUB_420, swap=0, matrix=BT601, full_range=0):
    return layout | sub << 2 | swap << 4 | matrix << 5 | full_range << 7


# fuzz-femodetect.c's format byte: 0 luma plane, 1 packed YUV (its Y),
# 2 + 3 * layout code packed RGB (14: B, G, R; 17: B, G, R, x)
LUMA, PACKED_YUV, RGB, BGR, BGRX = 0, 1, 2, 14, 17


def frame(detect=1, classify=1, tracking=1, late=0, reset=0, time_mode=1,
          scale=1.1, neighbors=small(3), min_size=small(30), max_size=small(0),
          max_faces=small(0), process_width=small(0), detect_interval=small(0),
          classify_interval=small(0), margin=19895, timeout=small(15),
          smoothing=3397, hysteresis=9830, merge=39321, flip=0, width=SIDE,
          height=SIDE, fmt=LUMA, pad=0, par=(1, 1), time=0, duration=400,
          offset=0, boxes=(), confidence=None, align=0, colour=NO_CHROMA):
    """One frame block: defaults are femodetect's (scale 1.1, margin 0.025,
    smoothing 0.5, hysteresis 0.15, merge-overlaps 0.6, min-confidence -1,
    align-faces off; intervals are 1 + the value)."""
    flags = (detect | classify << 1 | tracking << 2 | late << 3 | reset << 4
             | time_mode << 5 | flip << 7)
    b = struct.pack("<B", flags) + scale_bytes(scale) + neighbors + min_size
    b += max_size
    b += max_faces + process_width + detect_interval + classify_interval
    b += struct.pack("<H", margin) + timeout
    b += struct.pack("<HHH", smoothing, hysteresis, merge)
    b += struct.pack("<BBBBHHIHH", (width - 1) % SIDE, (height - 1) % SIDE, fmt,
                     pad, par[0], par[1], time, duration, offset)
    given = list(boxes) + [(0, 0, 0, 0)] * (4 - len(boxes))
    for x, y, w, h in given:
        b += struct.pack("<iiii", x, y, w, h)
    b += struct.pack("<B", len(boxes))
    return b + struct.pack("<HBB", min_confidence(confidence), align, colour)


def stream(name, frames, pool, yunet=False):
    """An input: the header (frame count, YuNet bit), frames, pixel pool."""
    header = len(frames) - 1 | (0x80 if yunet else 0)
    write("femodetect", name, struct.pack("<B", header) + b"".join(frames) + pool)


def femodetect():
    if not FACE.exists():
        return
    gray, yuy2 = face_pixels("GRAY8"), face_pixels("YUY2")
    rgb, bgrx = face_pixels("RGB"), face_pixels("BGRx")
    ms = 1000  # take() units of time are microseconds
    # tracked luma: moving by a pixel a frame, a late frame carried, then
    # detect and classify intervals of 2
    stream("gray-tracked.bin",
           [frame(time=0, offset=0), frame(time=40 * ms, offset=1),
            frame(time=80 * ms, offset=2, late=1),
            frame(time=120 * ms, offset=3, detect_interval=small(1),
                  classify_interval=small(1))], gray)
    # the Y of YUY2 (format 1, offset even) and UYVY (offset odd)
    stream("yuy2-uyvy.bin", [frame(fmt=PACKED_YUV, offset=0),
                             frame(fmt=PACKED_YUV, offset=1, time=40 * ms)],
           yuy2)
    # packed RGB (format 2 + 3 * layout code; code 0: R, G, B in 3 bytes;
    # code 5: 4 bytes, then the swaps 2, 0, 0 giving B, G, R), untracked,
    # anamorphic
    stream("rgb-bgrx.bin", [frame(fmt=RGB, tracking=0),
                            frame(fmt=BGRX, tracking=0, par=(16, 11))],
           rgb)
    stream("bgrx.bin", [frame(fmt=BGRX, time_mode=0)], bgrx)
    # detection off: boxes from upstream, inside, past the edge, huge
    stream("given-boxes.bin",
           [frame(detect=0, boxes=[(20, 10, 50, 60), (80, 80, 60000, 60000),
                                   (-5, -5, 2147483647, 3), (100, 100, 10, 10)]),
            frame(detect=0, boxes=[(-2147483648, 0, 2147483647, 96)], margin=65535)],
           gray)
    # times: none, then going backwards, a flush, changed settings
    stream("times-settings.bin",
           [frame(time_mode=0), frame(time_mode=1, time=1000 * ms),
            frame(time_mode=2, time=500 * ms, process_width=small(48)),
            frame(reset=1, time_mode=3, max_faces=small(1), timeout=small(0)),
            frame(min_size=large(2147483647), max_size=small(20))], gray)
    # every raw window (min-neighbors 0, fine scale step) tracked
    stream("raw-windows.bin",
           [frame(neighbors=small(0), scale=1.01, merge=0),
            frame(neighbors=small(0), scale=1.01, merge=0, time=40 * ms)], gray)
    # merge-overlaps at its extremes, flip averaging
    stream("merge-flip.bin",
           [frame(neighbors=small(0), merge=65535, flip=1, tracking=0),
            frame(neighbors=small(1), merge=1, flip=1, time=40 * ms)], gray)
    # the cascade's own min-confidence (its neighbours), a planar frame
    # whose chroma it does not read
    i420 = face_pixels("I420", "1:4:0:0")
    stream("cascade-min-confidence.bin",
           [frame(confidence=0.3, colour=chroma(PLANAR, full_range=1)),
            frame(confidence=0.9, time=40 * ms, colour=chroma(PLANAR, full_range=1))],
           i420)
    yunet(ms)


def yunet(ms):
    """YuNet's streams, at YUNET_SIDE: its landmarks carried and aligned
    on, colour in every chroma layout and colorimetry, min-confidence at
    its ends."""
    def yframe(**kw):
        # the face is some 26 pixels high at YUNET_SIDE
        return frame(**{"width": YUNET_SIDE, "height": YUNET_SIDE,
                        "min_size": small(16), **kw})

    def pixels(fmt, colorimetry=None):
        return face_pixels(fmt, colorimetry, YUNET_SIDE, YUNET_CROP)

    # tracked BGR: detected, aligned, carried with its landmarks
    # (detect-interval 2), a lower min-confidence
    bgr = pixels("BGR")
    stream("yunet-bgr-tracked.bin",
           [yframe(fmt=BGR), yframe(fmt=BGR, time=40 * ms, offset=3, align=1),
            yframe(fmt=BGR, time=80 * ms, detect_interval=small(1), align=1),
            yframe(fmt=BGR, time=120 * ms, confidence=0.3, align=1, flip=1)],
           bgr, yunet=True)
    stream("yunet-bgrx-process-width.bin",
           [yframe(fmt=BGRX, process_width=small(28), align=1),
            yframe(fmt=BGRX, process_width=small(20), tracking=0, par=(4, 3),
                   confidence=0.2)],
           pixels("BGRx"), yunet=True)
    # planar and semi-planar YUV; every candidate (min-confidence 0), none
    # but certain ones (1), the default again (negative)
    i420 = dict(colour=chroma(PLANAR, full_range=1))
    stream("yunet-i420.bin",
           [yframe(align=1, **i420),
            yframe(time=40 * ms, confidence=0.0, classify=0, **i420),
            yframe(time=80 * ms, confidence=1.0, **i420),
            yframe(time=120 * ms, confidence=-0.5, process_width=small(28),
                   **i420)],
           pixels("I420", "1:4:0:0"), yunet=True)
    for fmt, layout, sub, swap, matrix, colorimetry in [
            ("NV12", SEMI_PLANAR, SUB_420, 0, BT709, "bt709"),
            ("NV21", SEMI_PLANAR, SUB_420, 1, BT601, "bt601"),
            ("NV16", SEMI_PLANAR, SUB_422, 0, BT2020, "bt2020"),
            ("NV24", SEMI_PLANAR, SUB_444, 0, BT709, "bt709"),
            ("YV12", PLANAR, SUB_420, 1, BT601, "bt601"),
            ("Y42B", PLANAR, SUB_422, 0, BT709, "bt709"),
            ("Y444", PLANAR, SUB_444, 0, BT2020, "bt2020"),
            ("Y41B", PLANAR, SUB_411, 0, BT601, "bt601")]:
        colour = chroma(layout, sub, swap, matrix)
        stream(f"yunet-{fmt.lower()}.bin",
               [yframe(colour=colour, align=1),
                yframe(colour=colour, time=40 * ms, process_width=small(28))],
               pixels(fmt, colorimetry), yunet=True)
    # packed YUV with its chroma: YUY2 (Y at even bytes), UYVY (odd: the
    # pool shifted by one), YVYU (U and V swapped) at an odd width
    stream("yunet-yuy2-uyvy.bin",
           [yframe(fmt=PACKED_YUV, colour=chroma(PACKED, matrix=BT709), align=1),
            yframe(fmt=PACKED_YUV, offset=1, time=40 * ms,
                   colour=chroma(PACKED, matrix=BT709)),
            yframe(fmt=PACKED_YUV, width=YUNET_SIDE - 1, time=80 * ms,
                   colour=chroma(PACKED, swap=1, matrix=BT709), confidence=0.3)],
           pixels("YUY2", "bt709"), yunet=True)
    # no chroma: GRAY8 and the Y of YUY2; boxes given (no landmarks)
    stream("yunet-gray.bin",
           [yframe(confidence=0.4),
            yframe(time=40 * ms, align=1, min_size=small(0), confidence=0.3),
            yframe(detect=0, align=1, boxes=[(4, 4, 24, 24), (-10, 20, 20, 20)]),
            yframe(fmt=PACKED_YUV, reset=1, tracking=0)],
           pixels("GRAY8"), yunet=True)


if __name__ == "__main__":
    cascades()
    safetensors()
    fer_csv()
    femodetect()
