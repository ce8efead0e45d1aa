#!/usr/bin/env python3
"""eval_numbers.py - how many stroke-drawn numbers dn-predict reads exactly right.

Draws --count numbers of 2-5 digits with strokes.py (fixed seed: styles,
sizes, slants and spacing varied), writes them as PGM files, runs dn-predict
--json on all of them and compares. Run by hand (docs/results.md, "Reading
numbers"):

  /usr/bin/python3 tests/drawn/eval_numbers.py --predict build/cli/dn-predict \\
      --model /work/models/cnn.safetensors [--seed 2026] [--count 600] \\
      [--polarity random] [--keep DIR] [--failures] [--mnist-pairs DIR] [--threshold T]

--mnist-pairs DIR: instead of stroke-drawn numbers, pairs of MNIST training
digits (DIR holds train-images-idx3-ubyte and train-labels-idx1-ubyte),
each enlarged 3-5x (nearest pixel), drawn dark on light on a 400x240
canvas, the second's 28x28 square from 2 source pixels into the first's to
6 to the right of it (apart, close, now and then touching): real
handwriting, often wider than the strokes; this measures how often
separate digits are wrongly cut.

A number is right when its text equals the label. A wrong number is
refused when the parts read as digits or marked unsure (the model's "not a
digit", --threshold) pair up one to one with the drawn digits but one is
unsure; a segmentation error when the parts read as digits do not pair up
one to one, in order, with the drawn digits (too few or too many, or as
many but a part's box covers less than half of its digit's box or of
itself); and a classification error otherwise (every digit found, one read
wrongly). Also prints dn-predict's CPU time per number (one thread).
Prints the share read right, the breakdown, and the share right by length, by spacing kind (the
gap before a digit) and by style (of the digits in wrong numbers)."""
import argparse
import collections
import json
import os
import resource
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import strokes  # noqa: E402


def overlap(a, b):
    """Area shared by boxes a and b (x, y, w, h)."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


def matches(found, truth):
    """True when the found boxes pair up in order with the true ones."""
    if len(found) != len(truth):
        return False
    for f, t in zip(found, truth):
        o = overlap(f, t)
        if o < 0.5 * t[2] * t[3] or o < 0.5 * f[2] * f[3]:
            return False
    return True


def mnist_pairs(a, folder):
    """Pairs of MNIST training digits as PGM files: (path, text, boxes, styles, gaps) each."""
    def idx(name, offset):
        with open(os.path.join(a.mnist_pairs, name), "rb") as f:
            return np.frombuffer(f.read(), np.uint8, offset=offset)
    images = idx("train-images-idx3-ubyte", 16).reshape(-1, 28, 28)
    labels = idx("train-labels-idx1-ubyte", 8)
    samples = []
    for i in range(a.count):
        rng = np.random.default_rng([a.seed, i])
        pick = rng.integers(0, len(labels), 2)
        s = int(rng.integers(3, 6))
        canvas = np.full((240, 400), 235, np.int32)
        gap = int(rng.integers(-2 * s, 6 * s))
        x = [int(rng.integers(0, 40))]
        x.append(min(x[0] + 28 * s + gap, 400 - 28 * s))
        boxes = []
        for k in range(2):
            tile = np.kron(images[pick[k]], np.ones((s, s), np.uint8)).astype(np.int32)
            y = int(rng.integers(0, 240 - 28 * s))
            region = canvas[y:y + 28 * s, x[k]:x[k] + 28 * s]
            np.minimum(region, 235 - tile * 215 // 255, out=region)
            ys, xs = np.nonzero(tile >= 64)
            boxes.append((x[k] + int(xs.min()), y + int(ys.min()), int(xs.max() - xs.min() + 1),
                          int(ys.max() - ys.min() + 1)))
        path = os.path.join(folder, "%05d.pgm" % i)
        Image.fromarray(canvas.astype(np.uint8)).save(path)
        samples.append((path, "%d%d" % (labels[pick[0]], labels[pick[1]]), boxes, ["mnist", "mnist"],
                        ["close" if gap < 0 else "apart"]))
    return samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--predict", default="build/cli/dn-predict")
    ap.add_argument("--model", default="/work/models/cnn.safetensors")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--count", type=int, default=600)
    ap.add_argument("--width", type=int, default=280)
    ap.add_argument("--height", type=int, default=280)
    ap.add_argument("--polarity", default="random", choices=("dark", "light", "random"))
    ap.add_argument("--keep", help="write the images here (default: a temporary folder)")
    ap.add_argument("--failures", action="store_true", help="list every wrong number")
    ap.add_argument("--mnist-pairs", metavar="DIR", help="pairs of MNIST training digits from DIR instead")
    ap.add_argument("--threshold", help="dn-predict's --threshold (default: the model's own)")
    a = ap.parse_args()

    folder = a.keep or tempfile.mkdtemp(prefix="dn-numbers-")
    os.makedirs(folder, exist_ok=True)
    samples = []
    if a.mnist_pairs:
        samples = mnist_pairs(a, folder)
    for i in range(0 if a.mnist_pairs else a.count):
        rng = np.random.default_rng([a.seed, i])
        n = int(rng.integers(2, 6))
        text = "".join(str(int(rng.integers(10))) for _ in range(n))
        img, boxes, styles, gaps = strokes.render_number(text, rng, a.width, a.height, polarity=a.polarity)
        path = os.path.join(folder, "%05d.pgm" % i)
        Image.fromarray(img).save(path)
        samples.append((path, text, boxes, styles, gaps))

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    extra = ["--threshold", a.threshold] if a.threshold else []
    out = subprocess.run([a.predict, "--json", "--threads", "1", "--model", a.model] + extra + [s[0] for s in samples],
                         capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if out.returncode != 0:
        sys.exit("dn-predict failed: " + out.stderr)
    answers = {}
    for line in out.stdout.splitlines():
        j = json.loads(line)
        answers[j["file"]] = j

    right = 0
    kinds = collections.Counter()
    by_len = collections.defaultdict(lambda: [0, 0])
    by_gap = collections.defaultdict(lambda: [0, 0])
    separate = [0, 0]  # numbers whose digits neither touch nor overlap
    style_wrong = collections.Counter()
    style_all = collections.Counter()
    failures = []
    for path, text, boxes, styles, gaps in samples:
        j = answers[path]
        readable = None  # the boxes of the parts read as digits or refused (unsure)
        if "number" in j:
            got = j["number"]
            found = [p["box"] for p in j["parts"] if p["kind"] == "digit"]
            if any(p["kind"] == "unsure" for p in j["parts"]):
                readable = [p["box"] for p in j["parts"] if p["kind"] in ("digit", "unsure")]
        else:  # one digit or none: dn-predict's single-digit answer
            got = "" if j["digit"] is None else str(j["digit"])
            found = [None] * len(got)
        ok = got == text
        right += ok
        by_len[len(text)][0] += ok
        by_len[len(text)][1] += 1
        for g in set(gaps):
            by_gap[g][0] += ok
            by_gap[g][1] += 1
        if not set(gaps) & {"touching", "overlap"}:
            separate[0] += ok
            separate[1] += 1
        for d, st in zip(text, styles):
            style_all[d + ":" + st] += 1
        if ok:
            continue
        seg = None in found or not matches(found, boxes)
        if seg and readable is not None and matches(readable, boxes):
            kinds["refused"] += 1  # cut right, but a digit refused as not a digit
            failures.append("%s: %s read as %s (refused; %s; %s)" % (os.path.basename(path), text, got or "-",
                                                                    "+".join(styles), "+".join(gaps)))
            continue
        kinds["segmentation" if seg else "classification"] += 1
        if seg:
            kinds["too few" if len(found) < len(text) else "too many" if len(found) > len(text) else "misplaced"] += 1
        if not seg:
            for d, g, st in zip(text, got, styles):
                if d != g:
                    style_wrong["%s:%s read as %s" % (d, st, g)] += 1
        failures.append("%s: %s read as %s (%s; %s; %s)" % (os.path.basename(path), text, got or "-",
                                                            "segmentation" if seg else "classification",
                                                            "+".join(styles), "+".join(gaps)))
    n = len(samples)
    if a.mnist_pairs:
        print("pairs of MNIST digits read exactly right: %d / %d = %.2f%% (seed %d, 400x240, dark on light)"
              % (right, n, 100.0 * right / n, a.seed))
    else:
        print("numbers of 2-5 digits read exactly right: %d / %d = %.2f%% (seed %d, %s polarity, %dx%d)"
              % (right, n, 100.0 * right / n, a.seed, a.polarity, a.width, a.height))
    print("dn-predict --threads 1: %.1f ms of CPU per number (loading the model included)"
          % (1000.0 * cpu / max(1, n)))
    print("wrong: %d segmentation (%d too few digits found, %d too many, %d as many but misplaced), "
          "%d refused (every digit's part found, one or more refused as not a digit), %d classification"
          % (kinds["segmentation"], kinds["too few"], kinds["too many"], kinds["misplaced"], kinds["refused"],
             kinds["classification"]))
    print("by length:  " + ", ".join("%d digits %.1f%% (%d)" % (k, 100.0 * v[0] / v[1], v[1])
                                      for k, v in sorted(by_len.items())))
    print("by spacing (numbers with at least one such gap):  " +
          ", ".join("%s %.1f%% (%d)" % (k, 100.0 * v[0] / v[1], v[1]) for k, v in sorted(by_gap.items())))
    print("numbers whose digits neither touch nor overlap: %.2f%% (%d); with touching or overlapping digits: "
          "%.2f%% (%d)" % (100.0 * separate[0] / max(1, separate[1]), separate[1],
                           100.0 * (right - separate[0]) / max(1, n - separate[1]), n - separate[1]))
    if style_wrong:
        print("classification errors by digit style: " +
              ", ".join("%s x%d" % kv for kv in style_wrong.most_common()))
    if a.failures:
        print("\n".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
