#!/usr/bin/env python3
"""eval_photos.py - accuracy on synthetic phone photos of digits on paper
against the same digits as clean drawings, through dn-predict as a user's
files would go.

Makes --count samples with photos.py (photo as JPEG, clean drawing as PNG;
half stroke-drawn digits, half MNIST test digits, unless --source says
otherwise), runs dn-predict --json --single on both for each model and
prints the accuracy on each (the most probable class; refusals counted
apart), the difference, and the photos' accuracy by paper lines, shadow,
JPEG quality and source. With --number, numbers of 2-5 digits drawn with
strokes instead, read by dn-predict as numbers (exactly right or not).
Run by hand; docs/results.md ("Photos of paper") records its output.

  /usr/bin/python3 tests/drawn/eval_photos.py [--predict build/cli/dn-predict]
      [--count 1000] [--seed 7] [--source mixed|strokes|mnist] [--number] [--desk]
      [--keep DIR] [--failures] MODEL.safetensors...
"""
import argparse
import collections
import csv
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import photos  # noqa: E402


def predict(tool, model, files, single):
    out = subprocess.run([tool, "--json"] + (["--single"] if single else []) + ["--model", model] + files,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("dn-predict failed: " + out.stderr)
    answers = {}
    for line in out.stdout.splitlines():
        j = json.loads(line)
        if single:
            answers[j["file"]] = (str(j["best"]) if j.get("best") is not None else "", j["digit"] is None)
        elif "number" in j:
            answers[j["file"]] = (j["number"], False)
        else:
            answers[j["file"]] = ("" if j["digit"] is None else str(j["digit"]), j["digit"] is None)
    return answers


def pct(v):
    return 100.0 * sum(v) / max(1, len(v))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--predict", default="build/cli/dn-predict")
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--source", choices=("mixed", "strokes", "mnist"), default="mixed")
    ap.add_argument("--number", action="store_true")
    ap.add_argument("--desk", action="store_true", help="a desk shows around the sheet (photos.py --desk)")
    ap.add_argument("--keep", help="write the images here (default: a temporary folder)")
    ap.add_argument("--failures", action="store_true", help="list the photos read wrong but drawn right")
    ap.add_argument("--existing", help="a folder photos.py (or --keep) already filled: read it again")
    a = ap.parse_args()
    folder = a.existing or a.keep or tempfile.mkdtemp(prefix="dn-photos-")
    if not a.existing:
        args = ["--out", folder, "--count", str(a.count), "--seed", str(a.seed), "--source", a.source]
        photos.main(args + (["--number"] if a.number else []) + (["--desk"] if a.desk else []))
    with open(os.path.join(folder, "labels.csv")) as f:
        rows = list(csv.DictReader(f))
    photo_files = [os.path.join(folder, "photo", r["name"] + ".jpg") for r in rows]
    clean_files = [os.path.join(folder, "clean", r["name"] + ".png") for r in rows]
    what = "numbers of 2-5 digits (exactly right)" if a.number else "digits"
    for model in a.models:
        single = not a.number
        ph = predict(a.predict, model, photo_files, single)
        cl = predict(a.predict, model, clean_files, single)
        p_ok = [ph[f][0] == r["label"] for f, r in zip(photo_files, rows)]
        c_ok = [cl[f][0] == r["label"] for f, r in zip(clean_files, rows)]
        p_ref = [ph[f][1] for f in photo_files]
        c_ref = [cl[f][1] for f in clean_files]
        print("\n%s: %d %s, seed %d" % (model, len(rows), what, a.seed))
        print("  photos %.2f%%   clean drawings %.2f%%   difference %+.2f points" %
              (pct(p_ok), pct(c_ok), pct(p_ok) - pct(c_ok)))
        if single:
            print("  refused as not a digit: photos %.2f%%, clean %.2f%%" % (pct(p_ref), pct(c_ref)))
        print("  only the photo wrong: %d, only the drawing wrong: %d" %
              (sum(c and not p for p, c in zip(p_ok, c_ok)), sum(p and not c for p, c in zip(p_ok, c_ok))))
        groups = collections.OrderedDict()
        for key, of in (("source", lambda r: r["source"]), ("lines", lambda r: r["lines"]),
                        ("shadow", lambda r: "shadow" if float(r["shadow"]) > 0 else "no shadow"),
                        ("jpeg quality", lambda r: "q<50" if int(r["quality"]) < 50 else
                         "q50-74" if int(r["quality"]) < 75 else "q>=75")):
            g = collections.defaultdict(lambda: ([], []))
            for r, p, c in zip(rows, p_ok, c_ok):
                g[of(r)][0].append(p)
                g[of(r)][1].append(c)
            groups[key] = g
        for key, g in groups.items():
            print("  by %s: " % key + ", ".join("%s %.1f%% vs %.1f%% (%d)" % (k, pct(v[0]), pct(v[1]), len(v[0]))
                                               for k, v in sorted(g.items())))
        if a.failures:
            for f, r, p, c in zip(photo_files, rows, p_ok, c_ok):
                if c and not p:
                    print("  %s: %s read as %s (%s, %s, shadow %s, blur %s, noise %s, q %s)" %
                          (f, r["label"], ph[f][0] or "-", r["paper"], r["lines"], r["shadow"], r["blur"],
                           r["noise"], r["quality"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
