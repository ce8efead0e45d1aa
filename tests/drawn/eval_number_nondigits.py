#!/usr/bin/env python3
"""eval_number_nondigits.py - how often a non-digit drawn beside a number is read as one more digit.

Draws --count numbers of 2-3 digits with strokes.py (dark on light), and to
the right of each, 0.15-0.4 digit heights away, a drawn letter, shape or
scribble of nondigits.py scaled to the digits' median height (0.9-1.1
times; at most 1.3 heights wide), with a pen 0.06-0.14 of it; runs
dn-predict --json on all of them (the model's own not-a-digit threshold)
and counts the pictures read with more digits than the number has (the
non-digit taken for a digit) and those read exactly as the number. Run by
hand (docs/results.md, "Reading numbers"):

  /usr/bin/python3 tests/drawn/eval_number_nondigits.py --predict build/cli/dn-predict \\
      --model /work/models/current/cnn.safetensors [--seed 7] [--count 300] [--keep DIR]
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


def picture(seed, i, pool):
    """Number i: (uint8 image, its digits, the non-digit's kind and name)."""
    r = np.random.default_rng([seed, i])
    text = "".join(str(int(r.integers(10))) for _ in range(int(r.integers(2, 4))))
    cov, boxes, _styles, _gaps = strokes.render_number(text, r, 280, 280, polarity="dark", coverage=True)
    kind, what, make = pool[int(r.integers(len(pool)))]
    shape = make() if kind == "letter" else make(r)
    h = float(np.median([b[3] for b in boxes]))
    pen = max(1.5, h * r.uniform(0.06, 0.14))
    pts = np.vstack([np.asarray(s, float) for s in shape])
    lo, hi = pts.min(0), pts.max(0)
    scale = h / max(1e-6, (hi - lo)[1]) * r.uniform(0.9, 1.1)
    if (hi - lo)[0] * scale > 1.3 * h:
        scale = 1.3 * h / (hi - lo)[0]
    placed = [(np.asarray(s, float) - lo) * scale for s in shape]
    x0 = max(b[0] + b[2] for b in boxes) + r.uniform(0.15, 0.4) * h + pen
    y0 = float(np.median([b[1] for b in boxes])) + pen
    width = int(max(280, x0 + (hi - lo)[0] * scale + pen + 4))
    canvas = np.zeros((280, width), np.float32)
    canvas[:, :280] = cov
    extra = strokes.draw_strokes([p + np.array([x0, y0]) for p in placed], pen, width, 280)
    canvas = np.maximum(canvas, extra)
    return (255 - np.clip(canvas, 0, 1) * 255).astype(np.uint8), text, kind, what


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--predict", default="build/cli/dn-predict")
    ap.add_argument("--model", default="/work/models/current/cnn.safetensors")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, default=300)
    ap.add_argument("--keep", help="write the images here (default: a temporary folder)")
    a = ap.parse_args()
    folder = a.keep or tempfile.mkdtemp(prefix="dn-number-nondigits-")
    os.makedirs(folder, exist_ok=True)
    pool = ([("letter", k, f) for k, f in sorted(nondigits.DRAWN_LETTERS.items())] +
            [("shape", k, f) for k, f in sorted(nondigits.SHAPES.items())] +
            [("scribble", k, f) for k, f in sorted(nondigits.SCRIBBLES.items())])
    samples = []
    for i in range(a.count):
        img, text, kind, what = picture(a.seed, i, pool)
        path = os.path.join(folder, "%05d.pgm" % i)
        Image.fromarray(img).save(path)
        samples.append((path, text, kind, what))
    out = subprocess.run([a.predict, "--json", "--threads", "1", "--model", a.model] + [s[0] for s in samples],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("dn-predict failed: " + out.stderr)
    answers = {}
    for line in out.stdout.splitlines():
        j = json.loads(line)
        answers[j["file"]] = j
    taken, total = collections.Counter(), collections.Counter()
    exact = 0
    for path, text, kind, _what in samples:
        j = answers[path]
        got = j["number"] if "number" in j else ("" if j["digit"] is None else str(j["digit"]))
        total[kind] += 1
        taken[kind] += len(got) > len(text)
        exact += got == text
    n = len(samples)
    print("non-digit beside a number read as one more digit: %d / %d = %.1f%% (%s); numbers read exactly: %d"
          % (sum(taken.values()), n, 100.0 * sum(taken.values()) / n,
             ", ".join("%s %d/%d" % (k, taken[k], total[k]) for k in sorted(total)), exact))


if __name__ == "__main__":
    main()
