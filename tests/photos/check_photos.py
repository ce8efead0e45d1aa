#!/usr/bin/env python3
"""check_photos.py - the preprocessing of synthetic photos of paper against
the same digits as clean drawings (tests/drawn/photos.py, fixed seed), no
model needed: every clean drawing must take the flat path and come out the
same as forcing it; every photo must take the paper path, and its 28x28
must look like the clean drawing's (correlation), far more than what the
flat path makes of the photo.

  check_photos.py PREPROCESS_DUMP [--count 40] [--seed 3]

Exits 0 when the bounds hold, 1 when not, 77 when numpy or PIL is missing.
"""
import argparse
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from PIL import Image  # noqa: F401 (photos.py needs it)
except ImportError as e:
    print("skipping: %s" % e)
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "drawn"))
import photos  # noqa: E402

# Bounds (measured: see docs/results.md, "Photos of paper"): generous, but
# far above what the flat path reaches on the same photos.
MEDIAN_MIN = 0.97
SHARE_MIN = 0.9   # of photos whose correlation is at least GOOD
GOOD = 0.85
FLAT_MARGIN = 0.1  # the paper path's median above the flat path's by this


def dump(tool, files, mode="auto"):
    out = subprocess.run([tool, "--mode", mode] + files, capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        f = line.split(" ")
        if f[0] != "OK":
            sys.exit("preprocess_dump failed: " + line)
        rows[f[1]] = (int(f[2]), int(f[3]), int(f[4]), np.array([float(v) for v in f[5:]]))
    return rows


def corr(a, b):
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tool")
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    mnist = os.path.join(HERE, "..", "..", "datasets", "mnist", "t10k-images-idx3-ubyte")
    source = "mixed" if os.path.exists(mnist) or os.path.exists(mnist + ".gz") else "strokes"
    with tempfile.TemporaryDirectory() as folder:
        photos.main(["--out", folder, "--count", str(a.count), "--seed", str(a.seed), "--source", source])
        names = sorted(os.listdir(os.path.join(folder, "photo")))
        ph = [os.path.join(folder, "photo", n) for n in names]
        cl = [os.path.join(folder, "clean", n[:-4] + ".png") for n in names]
        auto_ph, flat_ph = dump(a.tool, ph), dump(a.tool, ph, "flat")
        auto_cl, flat_cl = dump(a.tool, cl), dump(a.tool, cl, "flat")
    failed = False
    for f in cl:
        if auto_cl[f][0] != 0 or not np.array_equal(auto_cl[f][3], flat_cl[f][3]) or not auto_cl[f][2]:
            print("clean drawing %s: paper path %d, has ink %d, same as flat %s" % (
                os.path.basename(f), auto_cl[f][0], auto_cl[f][2], np.array_equal(auto_cl[f][3], flat_cl[f][3])))
            failed = True
    not_paper = [os.path.basename(f) for f in ph if auto_ph[f][0] != 1]
    if not_paper:
        print("photos that did not take the paper path: " + " ".join(not_paper))
        failed = True
    r = np.array([corr(auto_ph[p][3], auto_cl[c][3]) for p, c in zip(ph, cl)])
    rf = np.array([corr(flat_ph[p][3], auto_cl[c][3]) for p, c in zip(ph, cl)])
    print("%d photos against their clean drawings: correlation median %.3f, min %.3f, %.0f%% >= %.2f; "
          "the flat path on the same photos: median %.3f, %.0f%% >= %.2f" % (
              len(r), np.median(r), r.min(), 100 * np.mean(r >= GOOD), GOOD, np.median(rf),
              100 * np.mean(rf >= GOOD), GOOD))
    for p, v in zip(ph, r):
        if v < GOOD:
            print("  %s: %.3f" % (os.path.basename(p), v))
    if np.median(r) < MEDIAN_MIN or np.mean(r >= GOOD) < SHARE_MIN or np.median(r) < np.median(rf) + FLAT_MARGIN:
        print("FAILED: want median >= %.2f, share >= %.2f, and %.2f above the flat path" % (
            MEDIAN_MIN, SHARE_MIN, FLAT_MARGIN))
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
