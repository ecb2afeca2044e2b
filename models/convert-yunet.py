#!/usr/bin/env python3
"""Converts libfacedetection's YuNet weights to our safetensors file.

    models/convert-yunet.py [--commit HASH] SRC/facedetectcnn-data.cpp OUT.safetensors

SRC is upstream's src/facedetectcnn-data.cpp (ShiqiYu/libfacedetection, BSD-3-Clause):
106 C float arrays and the 53-entry layer table param_pConvInfo. Every literal is
parsed as a Python float and packed as float32, which gives exactly the bits g++
compiles from it. The layer table, every array's declared and actual length and the
stem's zero padding are checked against the network docs/yunet.md describes; any
difference stops the conversion.

What the file holds (docs/yunet.md, "Our weights file"): PyTorch-like names and
shapes, F32 little-endian, in upstream's layer order, weight then bias:
  backbone.model0.conv.weight [16, 3, 3, 3]   the stem, [out][colour B,G,R][ky][kx]
  *.pw.weight [out, in, 1, 1]                 1x1 convolutions
  *.dw.weight [C, 1, 3, 3]                    depthwise 3x3, channel-major
                                              (upstream stores them tap-major)
  *.bias [out]
Metadata: femo.arch, femo.format and where the weights came from (femo.source.*).
The output is a function of the input bytes alone: converting twice gives the same
file. Standard library only.
"""

import argparse
import hashlib
import json
import re
import struct
import sys

# The commit whose facedetectcnn-data.cpp has this sha256; another file needs --commit.
KNOWN_COMMIT = "acf7b254121927e7dced30e233a2e03119f28ea2"
KNOWN_SHA256 = "cf019963f413528540d6de741e72eea4f2f0b572ca85b22dd4baa8fc71b42bb6"
REPO = "https://github.com/ShiqiYu/libfacedetection"
SRC_PATH = "src/facedetectcnn-data.cpp"

# The 53 layers in upstream's table order: (module, kind, in, out, BN folded + ReLU).
# kind: "stem" = the 3x3 stride-2 conv in im2col form, "pw" = 1x1, "dw" = 3x3 depthwise.
def expected_layers():
    layers = [("backbone__model0", "stem", 32, 16, True)]

    def dp(module, cin, cout, relu):
        layers.append((module, "pw", cin, cout, False))
        layers.append((module, "dw", cout, cout, relu))

    dp("backbone__model0_dp", 16, 16, True)
    for n, (cin, cmid, cout) in enumerate([(16, 16, 32), (32, 32, 64), (64, 64, 64),
                                          (64, 64, 64), (64, 64, 64)], start=1):
        dp("backbone__model%d_dp1" % n, cin, cmid, True)
        dp("backbone__model%d_dp2" % n, cmid, cout, True)
    for level in range(3):
        dp("neck__lateral_convs__%d" % level, 64, 64, True)
    for head, n in [("cls", 1), ("bbox", 4), ("obj", 1), ("kps", 10)]:
        for level in range(3):
            dp("bbox_head__multi_level_%s__%d" % (head, level), 64, n, False)
    assert len(layers) == 53
    return layers


ARRAY_RE = re.compile(r"^float (\w+)\[(\d+(?:\*\d+)*)\] = \{(.*)\};$")
LITERAL_RE = re.compile(r"^-?(?:\d+\.\d*|\.\d+|\d+)(?:e[-+]?\d+)?f$")
TABLE_ROW_RE = re.compile(r"^\{(\d+), (\d+), (true|false), (true|false), (true|false), "
                          r"(\w+), (\w+)\},?$")


def fail(message):
    sys.exit("convert-yunet: " + message)


def parse_source(text):
    """-> (copyright line, {array name: [float]}, [table rows])"""
    arrays = {}
    table = None
    copyright_line = None
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line.startswith("// Copyright"):
            copyright_line = line[3:]
        m = ARRAY_RE.match(line)
        if m:
            name, dims, body = m.groups()
            declared = 1
            for d in dims.split("*"):
                declared *= int(d)
            values = []
            for lit in body.split(","):
                if not LITERAL_RE.match(lit):
                    fail("line %d: %s: '%s' is not a float literal" % (number, name, lit))
                values.append(float(lit[:-1]))
            if len(values) != declared:
                fail("line %d: %s declares %d values but has %d"
                     % (number, name, declared, len(values)))
            if name in arrays:
                fail("line %d: %s defined twice" % (number, name))
            arrays[name] = values
        elif line.startswith("ConvInfoStruct param_pConvInfo[53]"):
            table = []
        elif table is not None and line.startswith("{"):
            m = TABLE_ROW_RE.match(line)
            if not m:
                fail("line %d: unreadable layer table row" % number)
            table.append(m.groups())
    if copyright_line is None:
        fail("no copyright line")
    if table is None:
        fail("no layer table param_pConvInfo[53]")
    return copyright_line, arrays, table


def check_and_convert(arrays, table):
    """-> [(name, shape, [float])] in table order; 53,104 parameters"""
    layers = expected_layers()
    if len(table) != len(layers):
        fail("the layer table has %d entries, expected %d" % (len(table), len(layers)))
    tensors = []
    used = set()
    for i, ((module, kind, cin, cout, relu), row) in enumerate(zip(layers, table)):
        suffix = "dw" if kind == "dw" else "pw"
        w_name = "%s_%s_weight" % (module, suffix)
        b_name = "%s_%s_bias" % (module, suffix)
        want = (str(cin), str(cout), "true" if kind == "dw" else "false",
                "false" if kind == "dw" else "true", "true" if relu else "false",
                w_name, b_name)
        if tuple(row) != want:
            fail("layer %d is {%s}, expected {%s}" % (i, ", ".join(row), ", ".join(want)))
        for name in (w_name, b_name):
            if name not in arrays:
                fail("layer %d: array %s is missing" % (i, name))
            used.add(name)
        w, b = arrays[w_name], arrays[b_name]
        n_w = cout * (9 if kind == "dw" else cin)
        if len(w) != n_w or len(b) != cout:
            fail("layer %d: %s has %d values and %s %d, expected %d and %d"
                 % (i, w_name, len(w), b_name, len(b), n_w, cout))

        ours = module.replace("__", ".").replace("_dp", ".dp")
        if kind == "stem":
            # upstream row o: [3 * (3 * ky + kx) + colour] for 27 taps, then 5 zeros
            shaped = []
            for o in range(cout):
                row_w = w[o * cin:(o + 1) * cin]
                if any(v != 0.0 for v in row_w[27:]):
                    fail("layer 0: output %d has non-zero padding at 27..31" % o)
                for colour in range(3):
                    for t in range(9):
                        shaped.append(row_w[3 * t + colour])
            tensors.append((ours + ".conv.weight", [cout, 3, 3, 3], shaped))
            tensors.append((ours + ".conv.bias", [cout], b))
        elif kind == "pw":
            tensors.append((ours + ".pw.weight", [cout, cin, 1, 1], w))
            tensors.append((ours + ".pw.bias", [cout], b))
        else:
            # upstream [9][C] (tap-major) -> [C][9]
            shaped = [w[t * cout + c] for c in range(cout) for t in range(9)]
            tensors.append((ours + ".dw.weight", [cout, 1, 3, 3], shaped))
            tensors.append((ours + ".dw.bias", [cout], b))
    extra = sorted(set(arrays) - used)
    if extra:
        fail("arrays not in the layer table: %s" % ", ".join(extra))
    n_params = sum(len(v) for _, _, v in tensors)
    if n_params != 53104:
        fail("%d parameters, expected 53,104" % n_params)
    return tensors


def json_string(s):
    # as femo_safetensors_write escapes: '"' and '\' with a backslash, bytes below
    # 0x20 as \u00xx, everything else as it is
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def safetensors_bytes(tensors, metadata):
    """Our writer's layout: compact JSON, __metadata__ first with its keys sorted,
    tensors in the given order with their data back to back, the header padded
    with spaces to a multiple of 8."""
    parts = ["{", json_string("__metadata__"), ":{"]
    parts.append(",".join(json_string(k) + ":" + json_string(metadata[k])
                          for k in sorted(metadata)))
    parts.append("}")
    data = []
    pos = 0
    for name, shape, values in tensors:
        packed = struct.pack("<%df" % len(values), *values)
        parts.append(",%s:{\"dtype\":\"F32\",\"shape\":[%s],\"data_offsets\":[%d,%d]}"
                     % (json_string(name), ",".join(str(d) for d in shape), pos,
                        pos + len(packed)))
        pos += len(packed)
        data.append(packed)
    parts.append("}")
    header = "".join(parts).encode("utf-8")
    header += b" " * (-len(header) % 8)
    return struct.pack("<Q", len(header)) + header + b"".join(data)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="upstream's src/facedetectcnn-data.cpp")
    parser.add_argument("output", help="the .safetensors file to write")
    parser.add_argument("--commit", help="upstream commit of SOURCE (needed when its "
                        "sha256 is not that of commit %s's file)" % KNOWN_COMMIT[:8])
    args = parser.parse_args()

    with open(args.source, "rb") as f:
        raw = f.read()
    sha256 = hashlib.sha256(raw).hexdigest()
    commit = args.commit
    if commit is None:
        if sha256 != KNOWN_SHA256:
            fail("%s is not commit %s's file (sha256 %s): say which commit with --commit"
                 % (args.source, KNOWN_COMMIT[:8], sha256))
        commit = KNOWN_COMMIT
    copyright_line, arrays, table = parse_source(raw.decode("ascii"))
    tensors = check_and_convert(arrays, table)
    metadata = {
        "femo.arch": "yunet",
        "femo.format": "1",
        "femo.convert.tool": "models/convert-yunet.py",
        "femo.source.repo": REPO,
        "femo.source.commit": commit,
        "femo.source.file": SRC_PATH,
        "femo.source.file_sha256": sha256,
        "femo.source.license": "BSD-3-Clause",
        "femo.source.copyright": copyright_line,
    }
    out = safetensors_bytes(tensors, metadata)
    # the header must be what a strict JSON reader accepts
    json.loads(out[8:8 + struct.unpack("<Q", out[:8])[0]])
    with open(args.output, "wb") as f:
        f.write(out)
    print("%s: %d tensors, %d parameters, %d bytes, sha256 %s"
          % (args.output, len(tensors), sum(len(v) for _, _, v in tensors), len(out),
             hashlib.sha256(out).hexdigest()))


if __name__ == "__main__":
    main()
