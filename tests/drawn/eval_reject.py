#!/usr/bin/env python3
"""eval_reject.py - how well models say "not a digit": digits drawn with pen
strokes the way people draw them (strokes.py, every style) against drawings
that are not digits (nondigits.py), all on 280x280 canvases in either
polarity, through dn-predict exactly as a user's files would go.

  eval_reject.py [--build build] [--count 1200] [--seed 7] MODEL.safetensors...

For each model: the AUROC of the score (the top probability: how often a
digit scores above a non-digit), and at the default threshold (and at any
--threshold given) the share of digits answered, of digits answered right,
and of non-digits refused, overall and per kind of non-digit. Run by hand;
docs/results.md ("Not a digit") records its output.
"""
import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nondigits  # noqa: E402
import strokes  # noqa: E402


def auroc(pos, neg):
    """P(a positive scores above a negative), ties counting half."""
    pos, neg = np.sort(np.asarray(pos)), np.sort(np.asarray(neg))
    below = np.searchsorted(neg, pos, side="left")
    equal = np.searchsorted(neg, pos, side="right") - below
    return float((below + 0.5 * equal).sum() / (len(pos) * len(neg)))


def make_sets(folder, count, seed):
    digits, others = [], []
    for i in range(count):
        r = np.random.default_rng([seed, i])
        d = i % 10
        img, _ = strokes.render_digit(d, None, r, polarity="random")
        path = os.path.join(folder, f"digit-{i:05d}.pgm")
        Image.fromarray(img).save(path)
        digits.append((path, d))
    fonts = nondigits.fonts()
    for i in range(count):
        img, kind, what = nondigits.sample(i, seed, fonts)
        path = os.path.join(folder, f"other-{i:05d}.pgm")
        Image.fromarray(img).save(path)
        others.append((path, kind, what))
    return digits, others


def scores(predict, model, paths):
    out = subprocess.run([predict, "--json", "--threshold", "0", "--model", model, *paths],
                         capture_output=True, text=True, check=True).stdout
    result = {}
    for line in out.splitlines():
        o = json.loads(line)
        result[o["file"]] = (o["score"], o["best"])
    return result


def report(name, digits, others, s, thresholds):
    ds = np.array([s[p][0] for p, _ in digits])
    right = np.array([s[p][1] == d for p, d in digits])
    os_ = np.array([s[p][0] for p, _, _ in others])
    print(f"\n{name}: AUROC {auroc(ds, os_):.4f} ({len(ds)} drawn digits, {len(os_)} non-digits); "
          f"drawn digits right (best class) {100 * right.mean():.2f}%")
    for t in thresholds:
        answered = ds >= t
        refused = os_ < t
        print(f"  threshold {t:.2f}: digits answered {100 * answered.mean():.2f}% "
              f"(answered and right {100 * (answered & right).mean():.2f}%), "
              f"non-digits refused {100 * refused.mean():.2f}%")
        by_kind = collections.defaultdict(list)
        for (p, kind, what), ref in zip(others, refused):
            by_kind[kind].append(ref)
        print("    refused by kind: " + ", ".join(f"{k} {100 * np.mean(v):.1f}%" for k, v in sorted(by_kind.items())))
        missed = collections.Counter(what for (p, kind, what), ref in zip(others, refused) if not ref)
        if missed:
            print("    most often answered as a digit: " + ", ".join(f"{w} x{c}" for w, c in missed.most_common(8)))
        lost = collections.Counter(d for (p, d), a in zip(digits, answered) if not a)
        if lost:
            print("    digits refused: " + ", ".join(f"{d} x{c}" for d, c in sorted(lost.items())))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--build", default="build")
    ap.add_argument("--count", type=int, default=1200, help="digits, and as many non-digits")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threshold", type=float, action="append", default=[])
    a = ap.parse_args()
    predict = os.path.join(a.build, "cli", "dn-predict")
    thresholds = [0.5] + a.threshold
    with tempfile.TemporaryDirectory() as folder:
        digits, others = make_sets(folder, a.count, a.seed)
        paths = [p for p, _ in digits] + [p for p, _, _ in others]
        for model in a.models:
            report(model, digits, others, scores(predict, model, paths), thresholds)


if __name__ == "__main__":
    main()
