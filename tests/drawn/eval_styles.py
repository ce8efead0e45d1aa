#!/usr/bin/env python3
"""eval_styles.py - accuracy on digits drawn with pen strokes in every style
strokes.py knows (a 1 with a flag, a 7 with a bar, an open 4, ...), per
digit and per style, through dn-predict as a user's files would go. None of
these drawings is trained on: strokes.py is separate code from the
library's own generator (lib/image/synth.c).

  eval_styles.py [--build build] [--per-style 100] [--seed 11] MODEL.safetensors...

Prints, for each model, the overall accuracy (the most probable class, so a
refusal does not count against it; refusals are counted apart), each
digit's, and each style's with what its errors were read as. Run by hand;
docs/results.md ("Digits in every style") records its output.
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
import strokes  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--build", default="build")
    ap.add_argument("--per-style", type=int, default=100)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    predict = os.path.join(a.build, "cli", "dn-predict")
    with tempfile.TemporaryDirectory() as folder:
        samples = []
        i = 0
        for digit in range(10):
            for style in strokes.STYLES[digit]:
                for _ in range(a.per_style):
                    r = np.random.default_rng([a.seed, i])
                    img, _ = strokes.render_digit(digit, style, r, polarity="random")
                    path = os.path.join(folder, f"{i:05d}.pgm")
                    Image.fromarray(img).save(path)
                    samples.append((path, digit, style))
                    i += 1
        for model in a.models:
            out = subprocess.run([predict, "--json", "--model", model, *[p for p, _, _ in samples]],
                                 capture_output=True, text=True, check=True).stdout
            answers = {}
            for line in out.splitlines():
                o = json.loads(line)
                answers[o["file"]] = (o["best"], o["digit"] is None)
            right = [answers[p][0] == d for p, d, _ in samples]
            refused = [answers[p][1] for p, _, _ in samples]
            print(f"\n{model}: {100 * np.mean(right):.2f}% right of {len(samples)} drawn digits "
                  f"({100 * np.mean(refused):.2f}% refused as not a digit at the model's threshold)")
            per_digit = collections.defaultdict(list)
            per_style = collections.defaultdict(list)
            read_as = collections.defaultdict(collections.Counter)
            for (p, d, s), ok in zip(samples, right):
                per_digit[d].append(ok)
                per_style[(d, s)].append(ok)
                if not ok:
                    read_as[(d, s)][answers[p][0]] += 1
            print("  per digit: " + ", ".join(f"{d} {100 * np.mean(v):.1f}%" for d, v in sorted(per_digit.items())))
            for (d, s), v in sorted(per_style.items()):
                wrong = ", ".join(f"{w} x{c}" for w, c in read_as[(d, s)].most_common())
                print(f"  {d} {s:<14} {100 * np.mean(v):6.1f}%" + (f"   read as {wrong}" if wrong else ""))


if __name__ == "__main__":
    main()
