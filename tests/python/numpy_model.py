#!/usr/bin/env python3
"""numpy_model.py - a digitnet model file read and run with numpy alone: no
safetensors package, no PyTorch (docs/model-file.md explains the format).

    python3 numpy_model.py MODEL.safetensors IMAGE.pgm...

prints the ten probabilities of each 28x28 binary PGM (P5, maxval 255),
taken as it is: a light digit on black, like MNIST, the way
`dn-predict --raw` takes it. load() reads any safetensors file; mlp_forward()
is the MLP preset written out; forward() runs any spec digitnet writes in
the file's "arch" metadata.
"""
import json
import re
import struct
import sys

import numpy as np

# safetensors dtype -> numpy dtype (little-endian); BF16 has none in numpy.
DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4", "BF16": "<u2"}


def load(path):
    """The tensors of a safetensors file as float32 arrays, and its metadata.

    The file: 8 bytes of little-endian header length N, N bytes of JSON
    {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__":
    {key: value}}, then the data; offsets count from the first byte after
    the header."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        begin, end = entry["data_offsets"]
        values = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=DTYPES[entry["dtype"]])
        if entry["dtype"] == "BF16":  # the top half of a float32
            values = (values.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = values.astype(np.float32).reshape(entry["shape"])
    return tensors, metadata


def normalise(pixels, metadata):
    """Pixels in [0, 1] (light ink on black) as the network's input."""
    mean = float(metadata.get("input_mean", 0.1307))
    std = float(metadata.get("input_std", 0.3081))
    return (pixels - mean) / std


def mlp_forward(t, x):
    """The mlp preset: x is (n, 784), returns the logits (n, 10). Linear
    weights are [out, in], as in PyTorch: y = x W^T + b."""
    h = np.maximum(x @ t["fc1.weight"].T + t["fc1.bias"], 0)
    h = np.maximum(h @ t["fc2.weight"].T + t["fc2.bias"], 0)
    return h @ t["fc3.weight"].T + t["fc3.bias"]


def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def conv2d(x, w, b, stride, pad):
    """x (n, c, h, w), weights OIHW; zero padding, as PyTorch's Conv2d."""
    x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kh, kw = w.shape[2:]
    oh = (x.shape[2] - kh) // stride + 1
    ow = (x.shape[3] - kw) // stride + 1
    out = np.zeros((x.shape[0], w.shape[0], oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out + b[None, :, None, None]


def maxpool(x, k, stride):
    oh = (x.shape[2] - k) // stride + 1
    ow = (x.shape[3] - k) // stride + 1
    out = np.full((x.shape[0], x.shape[1], oh, ow), -np.inf, dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            out = np.maximum(out, x[:, :, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride])
    return out


def forward(spec, t, x):
    """Any spec of the file's "arch" metadata ("input 1x28x28; conv 32 3;
    relu; ..."), in evaluation mode: x is (n, C*H*W), returns the logits.
    Layers with tensors are named per kind in order: conv1, conv2, ...,
    fc1, fc2, ..., bn1, bn2, ..."""
    count = {"conv": 0, "fc": 0, "bn": 0}

    def tensors(kind):
        count[kind] += 1
        return lambda suffix: t["%s%d.%s" % (kind, count[kind], suffix)]

    for statement in spec.replace("\n", ";").split(";"):
        words = statement.split()
        if not words:
            continue
        kind, args = words[0], words[1:]
        opts = dict(a.split("=") for a in args if "=" in a)
        if kind == "input":
            x = x.reshape([x.shape[0]] + [int(d) for d in args[0].split("x")])
        elif kind == "conv":
            p = tensors("conv")
            x = conv2d(x, p("weight"), p("bias"), int(opts.get("stride", 1)), int(opts.get("pad", 0)))
        elif kind == "maxpool":
            x = maxpool(x, int(args[0]), int(opts.get("stride", args[0])))
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)  # C, H, W order
        elif kind == "linear":
            p = tensors("fc")
            x = x @ p("weight").T + p("bias")
        elif kind == "batchnorm":  # the running statistics, as in evaluation
            p = tensors("bn")
            shape = (1, -1) + (1,) * (x.ndim - 2)
            scale = p("weight") / np.sqrt(p("running_var") + float(opts.get("eps", 1e-5)))
            x = (x - p("running_mean").reshape(shape)) * scale.reshape(shape) + p("bias").reshape(shape)
        elif kind != "dropout":  # dropout does nothing in evaluation
            raise ValueError("unknown layer %r" % kind)
    return x


def read_pgm(path):
    """A binary PGM (P5, maxval 255, no comments) as floats in [0, 1]."""
    with open(path, "rb") as f:
        data = f.read()
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+255\s", data)  # one whitespace byte, then the raster
    if not header:
        raise ValueError("%s: not an 8-bit P5 PGM" % path)
    w, h = int(header[1]), int(header[2])
    return np.frombuffer(data[header.end():header.end() + w * h], dtype=np.uint8).reshape(h, w) / 255.0


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    tensors, metadata = load(sys.argv[1])
    print("arch: %s" % metadata.get("arch", "(none)"))
    for path in sys.argv[2:]:
        x = normalise(read_pgm(path).reshape(1, -1), metadata)
        probs = softmax(forward(metadata["arch"], tensors, x) if "arch" in metadata else mlp_forward(tensors, x))[0]
        print("%s: %d  %s" % (path, probs.argmax(), " ".join("%.4f" % p for p in probs)))


if __name__ == "__main__":
    main()
