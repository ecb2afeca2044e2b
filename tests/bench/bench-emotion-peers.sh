#!/bin/sh
# gst-femo: the shipped emotion model against two JavaScript peers on
# FER2013's 3,589 PublicTest rows, in one run: parameters, accuracy,
# macro-F1, recall per class, ms per face on one core and each peer's time
# as a multiple of ours. Prints figures; never fails on time or accuracy.
#   tests/bench/bench-emotion-peers.sh [BUILD_DIR]   (default: build)
#   SECONDS_PER_FIGURE=5 tests/bench/bench-emotion-peers.sh   (default 2)
# Peers, pinned, from npm (installed with --ignore-scripts into a temp dir)
# and run under node with tfjs's WASM backend on one thread (its cpu
# backend, said so in the output, where WASM fails):
#   @vladmandic/human 3.3.6: models/emotion.json (oarriaga's big_XCEPTION
#     lineage), fed as its src/gear/emotion.ts does;
#   @vladmandic/face-api 1.7.15: FaceExpressionNet through its own code.
# Each gets the 48x48 gray image as the face crop its face detector would
# hand it (gray in R, G and B). A peer that cannot be installed or run is
# reported and skipped. Needs /usr/bin/python3 (stdlib only) and, for the
# peers, node and npm; the data stays in ../shared ($FEMO_SHARED_DIR).
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-"$here/build"}
shared=${FEMO_SHARED_DIR:-"$here/../shared"}
csv="$shared/data/fer2013.csv.gz"
model="$here/models/fer2013-mini-xception.safetensors"
seconds=${SECONDS_PER_FIGURE:-2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for f in "$build/gst-femo/gst-femo" "$build/tests/bench/bench-net"; do
  [ -x "$f" ] || { echo "no $f: build first"; exit 1; }
done
[ -r "$csv" ] || { echo "no $csv: FER2013 is read from ../shared (or \$FEMO_SHARED_DIR)"; exit 1; }

# 1. Ours: accuracy from the CLI on one thread, speed from bench-net, timed
# before the peers and again after them (the machine's load drifts over
# the minutes the peers take; the ratios use the mean of the two).
"$build/gst-femo/gst-femo" eval --model "$model" --data "$csv" --json -j 1 \
    > "$tmp/femo.json" 2> "$tmp/femo.err" \
    || { cat "$tmp/femo.err"; echo "gst-femo eval failed"; exit 1; }
femo_speed () {
  "$build/tests/bench/bench-net" --model "$model" --no-training \
      --seconds "$seconds" > "$tmp/femo-speed-$1.txt" 2>&1 \
      || { cat "$tmp/femo-speed-$1.txt"; echo "bench-net failed"; exit 1; }
}
femo_speed before

# 2. The peers under node: tfjs first, then each peer on its own, so that
# one that cannot be installed does not take the other with it.
npm_install () {
  (cd "$tmp" && npm install --loglevel=error --no-audit --no-fund \
      --ignore-scripts "$@" > npm.log 2>&1) && return 0
  grep -m 2 . "$tmp/npm.log"
  echo "$*: not installable here, skipped"
  return 1
}
peers=
if npm_install @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0; then
  npm_install @vladmandic/human@3.3.6 && peers="$peers human"
  npm_install @vladmandic/face-api@1.7.15 && peers="$peers face-api"
fi
if [ -n "$peers" ]; then
  cat > "$tmp/peers.js" <<'EOF'
// node peers.js NPM_DIR CSV_GZ SECONDS PEER...: writes NPM_DIR/<peer>.json
const path = require('path');
const fs = require('fs');
const zlib = require('zlib');
const [dir, csvPath, secondsArg, ...peers] = process.argv.slice(2);
const need = (m) => require(path.join(dir, 'node_modules', m));
const tf = need('@tensorflow/tfjs');
const wasm = need('@tensorflow/tfjs-backend-wasm');
const seconds = Number(secondsArg);
const FER = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

function publicTest() {
  const lines = zlib.gunzipSync(fs.readFileSync(csvPath)).toString('latin1').split(/\r?\n/);
  const header = lines[0].split(',');
  const [ie, ip, iu] = ['emotion', 'pixels', 'Usage'].map((c) => header.indexOf(c));
  if (ie < 0 || ip < 0 || iu < 0) throw new Error(`${csvPath}: no emotion,pixels,Usage header`);
  const labels = [];
  const px = [];
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f[iu] !== 'PublicTest') continue;
    const p = f[ip].trim().split(' ').map(Number);
    if (p.length !== 2304) throw new Error(`${csvPath}: a PublicTest row with ${p.length} pixels`);
    labels.push(Number(f[ie]));
    px.push(...p);
  }
  return { labels, pixels: Uint8Array.from(px), n: labels.length };
}

// Wall and CPU time per face: a warm-up call, then as many calls as fit.
function perFace(fn, n) {
  fn();
  let done = 0;
  let t;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  do {
    fn();
    done += n;
    t = process.hrtime.bigint();
  } while (Number(t - t0) < seconds * 1e9);
  const c = process.cpuUsage(c0);
  return { wall: Number(t - t0) / 1e6 / done, cpu: (c.user + c.system) / 1e3 / done };
}

// Crops as the image tensor each peer's code gets from its face detector:
// NHWC RGB with the gray value in all three channels, times `scale`.
function rgbBatch(data, start, count, scale) {
  return tf.tidy(() => tf.tile(tf.mul(tf.tensor4d(
    data.pixels.subarray(start * 2304, (start + count) * 2304),
    [count, 48, 48, 1], 'float32'), scale), [1, 1, 1, 3]));
}

// probs(rgb) gives an [n, 7] tensor in FER2013's label order; the timed
// call includes the peer's preprocessing and reading the result back.
function measure(data, probs, scale) {
  const confusion = FER.map(() => FER.map(() => 0));
  for (let i = 0; i < data.n; i += 64) {
    const count = Math.min(64, data.n - i);
    const x = rgbBatch(data, i, count, scale);
    const pred = tf.tidy(() => tf.argMax(probs(x), 1)).dataSync();
    tf.dispose(x);
    for (let k = 0; k < count; k++) confusion[data.labels[i + k]][pred[k]]++;
  }
  const speed = {};
  for (const n of [1, 64]) {
    const x = rgbBatch(data, 0, n, scale);
    speed[n] = perFace(() => tf.tidy(() => probs(x).dataSync()), n);
    tf.dispose(x);
  }
  return { confusion, speed };
}

const floatCount = (tensors) => tensors.reduce((s, t) => s + (t.dtype === 'float32' ? t.size : 0), 0);

// human: its emotion GraphModel, fed as src/gear/emotion.ts does (resize to
// the model's input, its RGB-to-gray weights, (x - 0.5) * 2) from a face
// tensor in 0..1 (src/face/facemeshutil.ts divides the crop by 255).
async function human(data) {
  const mdir = path.join(dir, 'node_modules/@vladmandic/human/models');
  const json = JSON.parse(fs.readFileSync(path.join(mdir, 'emotion.json')));
  const specs = [];
  const bins = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    bins.push(...group.paths.map((p) => fs.readFileSync(path.join(mdir, p))));
  }
  const all = Buffer.concat(bins);
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
    format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy,
    userDefinedMetadata: json.userDefinedMetadata }));
  const shape = model.inputs[0].shape;
  // a 3-channel emotion model would be the AffectNet one, in another label order
  if (shape[3] !== 1) throw new Error(`emotion.json takes ${shape[3]} channels: not oarriaga's gray model`);
  const size = shape[2];
  const gray = tf.tensor1d([0.2989, 0.5870, 0.1140], 'float32'); // src/tfjs/constants.ts
  // its output is a softmax in oarriaga's order, which is FER2013's
  const probs = (image) => model.execute(tf.mul(tf.sub(tf.sum(tf.mul(
    tf.image.resizeBilinear(image, [size, size], false), gray), 3, true), 0.5), 2.0));
  const params = floatCount(Object.values(model.weights).flat()); // not the int32 axes constant
  return { params, input: `${size}x${size} gray`, ...measure(data, probs, 1 / 255) };
}

// face-api: its FaceExpressionNet on 0..255 RGB tensors; forwardInput does
// its own resize to 112x112 and mean-RGB normalisation.
async function faceapi(data) {
  const api = need('@vladmandic/face-api/dist/face-api.node-wasm.js');
  const net = api.nets.faceExpressionNet;
  await net.loadFromDisk(path.join(dir, 'node_modules/@vladmandic/face-api/model'));
  const names = { neutral: 'neutral', happy: 'happy', sad: 'sad', angry: 'angry',
    fearful: 'fear', disgusted: 'disgust', surprised: 'surprise' };
  const theirs = api.FACE_EXPRESSION_LABELS.map((l) => names[l]);
  const column = FER.map((l) => {
    if (!theirs.includes(l)) throw new Error(`face-api's labels ${api.FACE_EXPRESSION_LABELS} lack ${l}`);
    return theirs.indexOf(l);
  });
  const cols = tf.tensor1d(column, 'int32');
  const probs = (rgb) => tf.gather(net.forwardInput(new api.NetInput(tf.unstack(rgb))), cols, 1);
  const params = floatCount([...net.faceFeatureExtractor.getParamList(), ...net.getParamList()]
    .map((p) => p.tensor));
  return { params, input: '112x112 RGB', ...measure(data, probs, 1) };
}

(async () => {
  wasm.setThreadsCount(1);
  let backend;
  try {
    if (!(await tf.setBackend('wasm'))) throw new Error('not initialised');
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    backend = `wasm, ${simd ? 'SIMD' : 'no SIMD'}, ${wasm.getThreadsCount()} thread`;
  } catch (e) {
    console.log(`tfjs's WASM backend failed under node (${e.message}): the peers run on tfjs's cpu backend`);
    await tf.setBackend('cpu');
    await tf.ready();
    backend = 'cpu backend (WASM failed)';
  }
  const data = publicTest();
  const runs = { human, 'face-api': faceapi };
  for (const name of peers) {
    try {
      const r = await runs[name](data);
      r.backend = `tfjs ${tf.version.tfjs} ${backend}`;
      fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(r));
    } catch (e) {
      console.log(`${name} failed, skipped: ${e.message}`);
    }
  }
})();
EOF
  # $peers unquoted: one argument a peer
  (cd "$tmp" && node peers.js "$tmp" "$csv" "$seconds" $peers) 2>&1
fi
femo_speed after

# 3. The table.
/usr/bin/python3 - "$tmp" "$model" <<'EOF'
import json, os, re, struct, sys
tmp, model = sys.argv[1], sys.argv[2]
FER = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]

def metrics(c):
    """Accuracy, macro-F1 and recall per class from a confusion matrix
    (rows true, columns predicted), as gst-femo eval computes them."""
    k = len(c)
    tp = [c[i][i] for i in range(k)]
    recall = [tp[i] / max(1, sum(c[i])) for i in range(k)]
    precision = [tp[i] / max(1, sum(c[j][i] for j in range(k))) for i in range(k)]
    f1 = [2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(precision, recall)]
    return sum(tp) / sum(map(sum, c)), sum(f1) / k, recall

def trainable(path):
    """Parameters in our safetensors file: every tensor but batch norm's
    running statistics (buffers, not parameters; the peers' files fold
    them into their convolutions)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    total = 0
    for name, t in header.items():
        if name != "__metadata__" and not name.endswith(("running_mean", "running_var")):
            size = 1
            for d in t["shape"]:
                size *= d
            total += size
    return total

rows = []
femo = json.load(open(os.path.join(tmp, "femo.json")))
def bench_net(when):
    text = open(os.path.join(tmp, "femo-speed-%s.txt" % when)).read()
    return text, {int(m.group(1)): {"wall": float(m.group(2)), "cpu": float(m.group(3))}
                  for m in re.finditer(r"inference batch +(\d+), 1 thread: ([0-9.]+) ms/face wall"
                                       r".* ([0-9.]+) ms/face of CPU time", text)}
text, before = bench_net("before")
_, after = bench_net("after")
femo_speed = {n: {k: (before[n][k] + after[n][k]) / 2 for k in ("wall", "cpu")} for n in (1, 64)}
kernels = re.search(r"kernels: (\S+)", text)
rows.append(("femo (ours)", trainable(model), femo["confusion"], femo_speed,
             "gst-femo, 48x48 gray, %s kernels; CPU before / after the peers %.3f / %.3f "
             "(batch 1), %.3f / %.3f (batch 64), mean used"
             % (kernels.group(1) if kernels else "?", before[1]["cpu"], after[1]["cpu"],
                before[64]["cpu"], after[64]["cpu"])))
a, f1, _ = metrics(femo["confusion"])
# the same formulas as the CLI's, or the peers' figures would not compare
assert abs(a - femo["accuracy"]) < 1e-5 and abs(f1 - femo["macro_f1"]) < 1e-5, "metrics disagree with gst-femo eval"
for name, label in (("human", "@vladmandic/human 3.3.6 emotion"),
                    ("face-api", "@vladmandic/face-api 1.7.15 expression")):
    p = os.path.join(tmp, name + ".json")
    if not os.path.exists(p):
        print("%s: no figures (skipped)" % label)
        continue
    r = json.load(open(p))
    rows.append((label, r["params"], r["confusion"], {int(n): s for n, s in r["speed"].items()},
                 "%s input, %s" % (r["input"], r["backend"])))

print("\nFER2013 PublicTest, %d rows. ms per face: CPU time on one thread, the model's own\n"
      "preprocessing included, at batch 1 and 64; x ours: that time over ours (batch 1/64)"
      % sum(map(sum, femo["confusion"])))
print("%-40s %9s %7s %8s %8s %8s %8s %8s %9s" % (
    "model", "params", "acc", "macro-F1", "disgust", "fear", "ms b1", "ms b64", "x ours"))
ours = rows[0][3]
for label, params, c, ms, _ in rows:
    acc, mf1, rec = metrics(c)
    ratio = "/".join("%.*f" % (0 if x >= 10 else 1, x)
                     for x in (ms[n]["cpu"] / ours[n]["cpu"] for n in (1, 64)))
    print("%-40s %9d %7.4f %8.3f %4d/%-3d %4d/%-3d %8.3f %8.3f %9s" % (
        label, params, acc, mf1, c[1][1], sum(c[1]), c[2][2], sum(c[2]),
        ms[1]["cpu"], ms[64]["cpu"], ratio))
print("\nrecall per class (%s):" % ", ".join(FER))
for label, params, c, ms, how in rows:
    print("  %-40s %s" % (label, " ".join("%.3f" % r for r in metrics(c)[2])))
print("\nhow each ran (wall ms per face at batch 1 / 64, on a shared machine):")
for label, params, c, ms, how in rows:
    print("  %-40s %s; wall %.3f / %.3f" % (label, how, ms[1]["wall"], ms[64]["wall"]))
EOF
exit 0
