#!/bin/sh
# gst-femo: the emotion CNN against PyTorch and ONNX Runtime, in one run, on
# the same weights. Prints figures and ratios; never fails on time.
#   tests/bench/bench-net-peers.sh [BUILD_DIR]   (default: build)
# Needs /usr/bin/python3 with Debian's python3-torch; ONNX Runtime comes from
# npm (onnxruntime-node, installed with --ignore-scripts into a temp dir) and
# runs under node. A missing peer is reported and skipped.
# SPDX-License-Identifier: LGPL-2.1-or-later
set -u

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-"$here/build"}
bench="$build/tests/bench/bench-net"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

[ -x "$bench" ] || { echo "no $bench: build first"; exit 1; }

# 1. PyTorch: a seeded default-width net (He-scaled weights, BN parameters
# and statistics randomised so that folding matters), its weights in our
# format, 64 crops, its logits, an ONNX export, and its speed.
/usr/bin/python3 - "$here/tests/data" "$tmp" <<'EOF' || { echo "PyTorch part failed"; exit 1; }
import os, sys, time, torch, torch.nn.functional as F
sys.path.insert(0, sys.argv[1])
import make_golden as mg
tmp = sys.argv[2]
torch.manual_seed(1)
ch, k = [8, 8, 16, 32, 64, 128], 7
model = mg.MiniXception(ch, k)
with torch.no_grad():
    for name, p in model.named_parameters():
        if p.dim() == 4:
            p.normal_(0.0, (2.0 / p[0].numel()) ** 0.5)
        elif name.endswith("weight"):
            p.uniform_(0.5, 1.5)
        else:
            p.uniform_(-0.5, 0.5)
    for name, b in model.named_buffers():
        if name.endswith("running_mean"):
            b.uniform_(-0.3, 0.3)
        elif name.endswith("running_var"):
            b.uniform_(0.5, 2.0)
meta = {"femo.arch": "mini-xception", "femo.format": "1",
        "femo.labels": "angry,disgust,fear,happy,sad,surprise,neutral",
        "femo.input": "48x48", "femo.normalize": "x/127.5-1",
        "femo.bn_eps": repr(mg.EPS), "femo.channels": ",".join(map(str, ch))}
mg.write_safetensors(os.path.join(tmp, "net.safetensors"), model.state_dict(),
                     mg.contract_order(model), meta)
crops = torch.randint(0, 256, (64, 1, 48, 48), generator=torch.Generator().manual_seed(3))
open(os.path.join(tmp, "crops.u8"), "wb").write(crops.to(torch.uint8).numpy().tobytes())
x = crops.float() / 127.5 - 1.0
model.eval()
with torch.no_grad():
    open(os.path.join(tmp, "torch.f32"), "wb").write(model(x).numpy().astype("<f4").tobytes())
torch.onnx.export(model, x[:1], os.path.join(tmp, "net.onnx"), input_names=["x"],
                  output_names=["logits"], dynamic_axes={"x": {0: "n"}, "logits": {0: "n"}},
                  opset_version=13)

def per_face(fn, n, seconds=2.0):
    fn()
    done, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        fn()
        done += n
    return (time.perf_counter() - t0) / done

torch.set_num_threads(1)
with torch.no_grad():
    for n in (1, 64):
        xb = x[:n]
        print("pytorch inference batch %2d, 1 thread: %.4f ms/face" %
              (n, 1e3 * per_face(lambda: model(xb), n)))
model.train()
labels = torch.randint(0, k, (64,))
def step():
    model.zero_grad()
    F.cross_entropy(model(x), labels).backward()
for threads in (1, 2):
    torch.set_num_threads(threads)
    c0 = time.process_time()
    s = per_face(step, 64, 3.0)
    print("pytorch training batch 64, %d thread%s: FER2013 epoch (28709 images) %.1f s "
          "(forward+backward only)" % (threads, "s" if threads > 1 else "", 28709 * s))
EOF

# 2. ONNX Runtime under node, CPU provider, 1 thread, all optimisations.
ort=ok
(cd "$tmp" && npm install --silent --no-audit --no-fund --ignore-scripts \
    onnxruntime-node >/dev/null 2>&1) || ort=
if [ -n "$ort" ]; then
  cat > "$tmp/ort.js" <<'EOF'
const ort = require('onnxruntime-node');
const fs = require('fs');
const dir = process.argv[2];
(async () => {
  const s = await ort.InferenceSession.create(dir + '/net.onnx', {
    executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionMode: 'sequential' });
  const crops = fs.readFileSync(dir + '/crops.u8');
  const x = Float32Array.from(crops, (p) => p / 127.5 - 1.0);
  const feed = (n) => ({ x: new ort.Tensor('float32', x.subarray(0, n * 2304), [n, 1, 48, 48]) });
  const all = await s.run(feed(64));
  fs.writeFileSync(dir + '/ort.f32', Buffer.from(all.logits.data.buffer));
  for (const n of [1, 64]) {
    const f = feed(n);
    await s.run(f);
    let done = 0;
    const t0 = process.hrtime.bigint();
    while (Number(process.hrtime.bigint() - t0) < 2e9) { await s.run(f); done += n; }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / done;
    console.log(`onnxruntime inference batch ${String(n).padStart(2)}, 1 thread: ${ms.toFixed(4)} ms/face`);
  }
})().catch((e) => { console.log('onnxruntime failed: ' + e.message); process.exit(1); });
EOF
  (cd "$tmp" && node ort.js "$tmp") > "$tmp/ort.txt" 2>&1 || ort=
  cat "$tmp/ort.txt"
else
  echo "onnxruntime-node not installable here: skipped"
fi

# 3. Ours, on the same weights and crops.
"$bench" --model "$tmp/net.safetensors" --crops "$tmp/crops.u8" \
    --logits-out "$tmp/femo.f32" --seconds 2 --threads 2 > "$tmp/femo.txt" 2>&1 \
    || { cat "$tmp/femo.txt"; echo "bench-net failed"; exit 1; }
cat "$tmp/femo.txt"

# 4. Ratios and agreement.
/usr/bin/python3 - "$tmp" <<'EOF'
import os, re, struct, sys
tmp = sys.argv[1]
def floats(name):
    p = os.path.join(tmp, name)
    if not os.path.exists(p):
        return None
    b = open(p, "rb").read()
    return struct.unpack("<%df" % (len(b) // 4), b)
def figures(name, pat):
    p = os.path.join(tmp, name)
    return {int(m.group(1)): float(m.group(2)) for m in re.finditer(pat, open(p).read())} \
        if os.path.exists(p) else {}
femo = figures("femo.txt", r"inference batch +(\d+), 1 thread: ([0-9.]+) ms/face")
ortf = figures("ort.txt", r"onnxruntime inference batch +(\d+), 1 thread: ([0-9.]+)")
for n in (1, 64):
    if n in femo and n in ortf:
        print("batch %2d: femo %.4f ms/face, onnxruntime %.4f: femo takes %.2fx ORT's time"
              % (n, femo[n], ortf[n], femo[n] / ortf[n]))
ours, ref, tor = floats("femo.f32"), floats("ort.f32"), floats("torch.f32")
for other, name in ((ref, "onnxruntime"), (tor, "pytorch")):
    if other:
        d = max(abs(a - b) for a, b in zip(ours, other))
        print("logits femo vs %s (64 crops, same weights): max abs diff %.3g, largest |logit| %.3g"
              % (name, d, max(abs(v) for v in other)))
EOF
exit 0
