#!/usr/bin/python3
"""Golden numbers for test-net, computed independently with PyTorch.

Builds mini-Xception exactly as docs/mini-xception.md (a width variant, so
the file stays small and femo.channels is exercised), fills it with seeded
synthetic weights and batch-norm statistics, writes the weights as a
safetensors file by hand (Debian has no safetensors package) including
PyTorch's num_batches_tracked scalars, and records for a few synthetic
8-bit crops:
  - the inference logits (eval mode, running statistics),
  - one train-mode step: loss with label smoothing, some gradients and the
    running statistics after the update (momentum 0.1).

  /usr/bin/python3 tests/data/make_golden.py   # Debian python3-torch;
  # writes golden-net.safetensors and golden-net.json
"""
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

CHANNELS = [4, 6, 8, 12, 16, 24]
LABELS = ["angry", "happy", "sad", "surprise", "neutral"]
EPS = 1e-3
SMOOTHING = 0.1
HERE = os.path.dirname(os.path.abspath(__file__))


class SeparableConv(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x):
        return self.pointwise(self.depthwise(x))


class Block(nn.Module):
    def __init__(self, cin, c):
        super().__init__()
        self.shortcut = nn.Conv2d(cin, c, 1, stride=2, bias=False)
        self.shortcut_bn = nn.BatchNorm2d(c, eps=EPS)
        self.sep1 = SeparableConv(cin, c)
        self.bn1 = nn.BatchNorm2d(c, eps=EPS)
        self.sep2 = SeparableConv(c, c)
        self.bn2 = nn.BatchNorm2d(c, eps=EPS)

    def forward(self, x):
        s = self.shortcut_bn(self.shortcut(x))
        m = F.relu(self.bn1(self.sep1(x)))
        m = self.bn2(self.sep2(m))
        m = F.max_pool2d(m, 3, stride=2, padding=1)
        return m + s


class Stem(nn.Module):
    def __init__(self, c0, c1):
        super().__init__()
        self.conv1 = nn.Conv2d(1, c0, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(c0, eps=EPS)
        self.conv2 = nn.Conv2d(c0, c1, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(c1, eps=EPS)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(x)))


class MiniXception(nn.Module):
    def __init__(self, ch, k):
        super().__init__()
        self.stem = Stem(ch[0], ch[1])
        cin = ch[1]
        for i in range(4):
            setattr(self, "block%d" % (i + 1), Block(cin, ch[2 + i]))
            cin = ch[2 + i]
        self.head = nn.Conv2d(cin, k, 3, padding=1, bias=True)

    def forward(self, x):
        x = self.stem(x)
        for i in range(4):
            x = getattr(self, "block%d" % (i + 1))(x)
        return self.head(x).mean(dim=(2, 3))


def contract_order(model):
    """Tensor names in the contract's order (PyTorch's registration order
    differs for the blocks: shortcut comes first in the contract)."""
    names = ["stem.conv1.weight"] + ["stem.bn1." + s for s in
                                     ("weight", "bias", "running_mean", "running_var")]
    names += ["stem.conv2.weight"] + ["stem.bn2." + s for s in
                                      ("weight", "bias", "running_mean", "running_var")]
    bn = ("weight", "bias", "running_mean", "running_var")
    for b in range(1, 5):
        p = "block%d." % b
        names += [p + "shortcut.weight"] + [p + "shortcut_bn." + s for s in bn]
        names += [p + "sep1.depthwise.weight", p + "sep1.pointwise.weight"]
        names += [p + "bn1." + s for s in bn]
        names += [p + "sep2.depthwise.weight", p + "sep2.pointwise.weight"]
        names += [p + "bn2." + s for s in bn]
    names += ["head.weight", "head.bias"]
    return names


def write_safetensors(path, state, names, metadata):
    header = {"__metadata__": metadata}
    blobs = []
    pos = 0
    for name in names:
        t = state[name].detach().contiguous().float()
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape),
                        "data_offsets": [pos, pos + len(raw)]}
        blobs.append(raw)
        pos += len(raw)
    # PyTorch's extra scalars, which the reader must skip
    for name in names:
        if name.endswith(".running_var"):
            extra = name[:-len("running_var")] + "num_batches_tracked"
            header[extra] = {"dtype": "I64", "shape": [],
                             "data_offsets": [pos, pos + 8]}
            blobs.append(struct.pack("<q", 3))
            pos += 8
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    torch.manual_seed(20240601)
    model = MiniXception(CHANNELS, len(LABELS))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bn.weight") or ".bn" in name and name.endswith("weight"):
                p.uniform_(0.5, 1.5)
            elif "bn" in name and name.endswith("bias"):
                p.uniform_(-0.5, 0.5)
            else:
                p.normal_(0.0, 0.4)
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.uniform_(-0.3, 0.3)
            elif name.endswith("running_var"):
                b.uniform_(0.5, 2.0)
    names = contract_order(model)
    state = model.state_dict()
    assert sorted(names) == sorted(k for k in state if not k.endswith("num_batches_tracked"))
    metadata = {
        "femo.arch": "mini-xception",
        "femo.format": "1",
        "femo.labels": ",".join(LABELS),
        "femo.input": "48x48",
        "femo.normalize": "x/127.5-1",
        "femo.bn_eps": "0.001",
        "femo.channels": ",".join(str(c) for c in CHANNELS),
        "golden.made_by": "tests/data/make_golden.py (PyTorch %s)" % torch.__version__,
    }
    write_safetensors(os.path.join(HERE, "golden-net.safetensors"), state, names, metadata)

    g = torch.Generator().manual_seed(7)
    crops = torch.randint(0, 256, (4, 1, 48, 48), generator=g, dtype=torch.int64)
    labels = [0, 3, 4, 1]
    x = crops.float() / 127.5 - 1.0

    model.eval()
    with torch.no_grad():
        logits = model(x)

    model.train()
    model.zero_grad()
    out = model(x)
    loss = F.cross_entropy(out, torch.tensor(labels), label_smoothing=SMOOTHING)
    loss.backward()
    p = dict(model.named_parameters())
    golden = {
        "channels": CHANNELS,
        "labels": LABELS,
        "crops": crops.reshape(4, -1).tolist(),
        "eval_logits": logits.tolist(),
        "train_labels": labels,
        "train_smoothing": SMOOTHING,
        "train_loss": loss.item(),
        "train_grads": {n: p[n].grad.reshape(-1).tolist() for n in
                        ("stem.conv1.weight", "stem.bn1.weight", "block2.sep1.pointwise.weight",
                         "block4.shortcut_bn.bias", "head.weight", "head.bias")},
        "train_running": {n: state[n].reshape(-1).tolist() for n in
                          ("stem.bn1.running_mean", "stem.bn1.running_var",
                           "block3.bn2.running_var")},
    }
    with open(os.path.join(HERE, "golden-net.json"), "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
