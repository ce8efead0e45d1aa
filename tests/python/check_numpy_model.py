#!/usr/bin/env python3
"""check_numpy_model.py - keeps docs/model-file.md true: models made by
dn-train in this build, read and run by numpy_model.py (numpy alone), must
give dn-predict's answers.

Needs no MNIST: it writes a small IDX set of ten synthetic classes, trains
the mlp, cnn and cnn-bn presets on it for one epoch (the cnns on 2/5
of it), and for each model
  - checks the file's layout (header padded to 8 bytes, F32 tensors tiling
    the data in order), its metadata keys and that its tensor names are the
    ones forward() derives from the "arch" spec;
  - compares numpy's probabilities for a few images with
    `dn-predict --json --raw` and numpy's logits with `test_model --logits`;
  - checks the checkpoint's optimizer tensors and metadata.
Then it writes the MLP's tensors as another program might (F64, F16 and
BF16, no metadata) and checks dn-predict reads them as the mlp preset with
MNIST's normalisation. Exits 77 (skipped) without numpy.

usage: check_numpy_model.py DN_TRAIN DN_PREDICT TEST_MODEL
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("numpy is not installed (apt-get install python3-numpy): skipped")
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy_model  # noqa: E402

PROB_TOLERANCE = 2e-6   # dn-predict prints 6 decimals
LOGIT_TOLERANCE = 1e-4
MODEL_KEYS = {"arch", "producer", "input_mean", "input_std", "epochs", "seed", "test_accuracy",
              "epochs_planned", "train_images", "answer_threshold"}
CHECKPOINT_KEYS = {"optimizer", "optimizer_steps", "epoch", "lr", "momentum", "weight_decay", "beta1",
                   "beta2", "eps", "nesterov"}

failures = []


def check(ok, what):
    print("%s: %s" % ("ok" if ok else "FAIL", what))
    if not ok:
        failures.append(what)


def synthetic_set(count, rng):
    """Ten classes of 28x28 light-on-black images: a bar whose place and
    direction say the class, jittered, with noise."""
    labels = rng.integers(0, 10, count).astype(np.uint8)
    images = rng.integers(0, 40, (count, 28, 28)).astype(np.float64)
    for i, k in enumerate(labels):
        at = 4 + 4 * (k % 5) + rng.integers(-1, 2)
        lo, hi = (4, 24) if k < 5 else (2 + rng.integers(0, 3), 14)
        if k < 5:
            images[i, at:at + 3, lo:hi] = 255
        else:
            images[i, lo:hi, at:at + 3] = 255
    return np.clip(images, 0, 255).astype(np.uint8), labels


def write_idx(folder, prefix, images, labels):
    with open(os.path.join(folder, prefix + "-images-idx3-ubyte"), "wb") as f:
        f.write(struct.pack(">iiii", 0x803, len(images), 28, 28) + images.tobytes())
    with open(os.path.join(folder, prefix + "-labels-idx1-ubyte"), "wb") as f:
        f.write(struct.pack(">ii", 0x801, len(labels)) + labels.tobytes())


def write_pgm(path, image):
    with open(path, "wb") as f:
        f.write(b"P5\n28 28\n255\n" + image.tobytes())


def raw_header(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    return n, json.loads(data[8:8 + n]), len(data)


def check_layout(path, kind):
    n, header, size = raw_header(path)
    check((8 + n) % 8 == 0, "%s: data starts at a multiple of 8 (header %d bytes)" % (kind, n))
    check(list(header)[0] == "__metadata__", "%s: __metadata__ comes first" % kind)
    offset, tiled = 0, True
    for name, entry in list(header.items())[1:]:
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        tiled &= entry["dtype"] == "F32" and entry["data_offsets"] == [offset, offset + 4 * count]
        offset += 4 * count
    check(tiled and 8 + n + offset == size, "%s: F32 tensors tile the data section in header order" % kind)
    return header


def trace_names(spec, tensors):
    """The tensor names forward() reads for spec."""
    used = []

    class Recorder(dict):
        def __getitem__(self, name):
            used.append(name)
            return tensors[name]

    numpy_model.forward(spec, Recorder(), np.zeros((1, 784)))
    return used


def predict_json(dn_predict, model, images):
    out = subprocess.run([dn_predict, "--model", model, "--json", "--raw"] + images, check=True,
                         capture_output=True, text=True).stdout
    return np.array([json.loads(line)["probs"] for line in out.splitlines()])


def check_model(tools, work, kind, test_images, test_labels):
    dn_train, dn_predict, test_model = tools
    model = os.path.join(work, kind + ".safetensors")
    limit = ["--limit", "1280"] if kind != "mlp" else []  # the convolutions are slow under the sanitizers
    subprocess.run([dn_train, "--model", kind, "--epochs", "1", "--data", work, "--out", model, "--quiet",
                    "--threads", "2"] + limit, check=True, stdout=subprocess.DEVNULL)
    header = check_layout(model, kind)
    tensors, meta = numpy_model.load(model)
    check(set(meta) == MODEL_KEYS, "%s: metadata keys %s" % (kind, sorted(meta)))
    names = trace_names(meta["arch"], tensors)
    trained = [n for n in header if n != "__metadata__" and not n.endswith(("running_mean", "running_var",
                                                                              "num_batches_tracked"))]
    state = [n for n in header if n.endswith("num_batches_tracked")]
    check(sorted(names + state) == sorted(n for n in header if n != "__metadata__"),
          "%s: tensor names follow the arch %r: %s" % (kind, meta["arch"], " ".join(n for n in header if n != "__metadata__")))

    pgms = []
    for i, image in enumerate(test_images):
        pgms.append(os.path.join(work, "%s-%d.pgm" % (kind, i)))
        write_pgm(pgms[-1], image)
    x = np.stack([numpy_model.normalise(numpy_model.read_pgm(p).reshape(-1), meta) for p in pgms])
    x = x.astype(np.float32).astype(np.float64)  # what digitnet computes with
    logits = numpy_model.forward(meta["arch"], tensors, x)
    if kind == "mlp":
        err = np.abs(numpy_model.mlp_forward(tensors, x) - logits).max()
        check(err < 1e-9, "mlp_forward() is forward() for the mlp (%.3g)" % err)
    want = predict_json(dn_predict, model, pgms)
    err = np.abs(numpy_model.softmax(logits) - want).max()
    check(err <= PROB_TOLERANCE, "%s: numpy's probabilities against dn-predict --json: max difference %.2g "
          "(answers %s for %s, top probabilities %s)" % (kind, err, "".join(str(d) for d in want.argmax(axis=1)),
                                                         "".join(str(k) if k >= 0 else "?" for k in test_labels),
                                                         " ".join("%.2f" % p for p in want.max(axis=1))))
    inputs = os.path.join(work, kind + "-inputs.txt")
    three = [0, 10, 11]  # a class and two blends
    np.savetxt(inputs, x[three].reshape(-1), fmt="%.9g")
    out = subprocess.run([test_model, "--logits", model, inputs], check=True, capture_output=True, text=True)
    got = np.array([float(v) for v in out.stdout.split()]).reshape(3, -1)
    err = np.abs(logits[three] - got).max()
    check(err <= LOGIT_TOLERANCE, "%s: numpy's logits against digitnet's: max difference %.2g" % (kind, err))

    ckpt_tensors, ckpt_meta = numpy_model.load(os.path.join(work, kind + ".ckpt.safetensors"))
    count = sum(tensors[n].size for n in trained)
    optimizer = {n: t.shape for n, t in ckpt_tensors.items() if n.startswith("optimizer.")}
    check(optimizer == {"optimizer.exp_avg": (count,), "optimizer.exp_avg_sq": (count,)},
          "%s checkpoint: Adam's state, one flat tensor per buffer of %d floats" % (kind, count))
    check(set(ckpt_meta) == MODEL_KEYS | CHECKPOINT_KEYS and ckpt_meta["optimizer"] == "adam",
          "%s checkpoint: metadata keys" % kind)
    check(all(np.array_equal(ckpt_tensors[n], tensors[n]) for n in tensors),
          "%s checkpoint: holds the model's tensors" % kind)
    return tensors, pgms


def write_foreign(path, tensors):
    """The MLP as another program might write it: F64, F16 and BF16
    tensors, in another order, no metadata. Returns the values it holds."""
    held, entries, blobs, offset = {}, {}, [], 0
    for i, name in enumerate(sorted(tensors, reverse=True)):
        value = tensors[name]
        if i % 3 == 0:
            dtype, data = "F64", value.astype("<f8")
        elif i % 3 == 1:
            dtype, data = "F16", value.astype("<f2")
        else:
            dtype, data = "BF16", (value.astype("<f4").view(np.uint32) >> 16).astype("<u2")
        blob = data.tobytes()
        entries[name] = {"dtype": dtype, "shape": list(value.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header = json.dumps(entries).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + b"".join(blobs))
    held, _ = numpy_model.load(path)
    return held


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    tools = sys.argv[1:4]
    rng = np.random.default_rng(13)
    with tempfile.TemporaryDirectory() as work:
        train_images, train_labels = synthetic_set(3200, rng)
        test_images, test_labels = synthetic_set(200, rng)
        write_idx(work, "train", train_images, train_labels)
        write_idx(work, "t10k", test_images, test_labels)
        mlp = None
        # one image of each class, and five halfway between two classes,
        # where the probabilities are neither 0 nor 1
        first = [int(np.argmax(test_labels == k)) for k in range(10)]
        blends = [(test_images[first[k]].astype(np.uint16) + test_images[first[k + 5]]) // 2 for k in range(5)]
        images = np.concatenate([test_images[first], np.stack(blends).astype(np.uint8)])
        labels = np.concatenate([test_labels[first], np.full(5, -1)])
        for kind in ("mlp", "cnn", "cnn-bn"):
            tensors, pgms = check_model(tools, work, kind, images, labels)
            mlp = mlp or (tensors, pgms)
        foreign = os.path.join(work, "foreign.safetensors")
        held = write_foreign(foreign, mlp[0])
        x = np.stack([numpy_model.normalise(numpy_model.read_pgm(p).reshape(-1), {}) for p in mlp[1]])
        want = numpy_model.softmax(numpy_model.mlp_forward(held, x.astype(np.float32).astype(np.float64)))
        err = np.abs(predict_json(tools[1], foreign, mlp[1]) - want).max()
        check(err <= PROB_TOLERANCE, "F64/F16/BF16 tensors without metadata load as the mlp preset with "
              "MNIST's normalisation: max difference %.2g" % err)
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
