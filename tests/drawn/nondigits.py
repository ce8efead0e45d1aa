#!/usr/bin/env python3
"""nondigits.py - drawings that are not digits, for measuring how well a
model says "not a digit" (docs/results.md, "Not a digit").

Made independently of the library's own generator (lib/image/synth.c, which
makes the non-digits the models are trained with): other code, other shapes,
printed glyphs from real fonts, other randomisation. Six kinds, in turn:

  drawn-letter   letters that look like no digit, drawn with pen strokes
  printed-letter the same letters and more, typeset in DejaVu and Liberation
                 fonts (regular, bold, italic, condensed), slightly rotated
  symbol         printed symbols: + = # * % & @ ? ! $ and signs like a heart,
                 a star, an arrow, a check mark, infinity, pi, sigma
  shape          drawn stars, triangles, squares, hearts, arrows, crosses,
                 moons, lightning, clouds, suns, houses, trees, smileys, spirals
  scribble       tangles, zigzags, hatching, loops, random strokes
  dot            a tap, several taps, a short dash, a filled blob

each at a random size (15% to 90% of the canvas) and position, in either
polarity, on a 280x280 canvas like the demo's. Deterministic: sample i draws
from numpy.random.default_rng([seed, i]).

  nondigits.py [--seed S] [--count N] (--out DIR | --npz FILE.npz)

--out writes DIR/00000.pgm ... and DIR/labels.csv (file,kind,what).
Needs Debian's python3-numpy, python3-pil and fonts-dejavu-core (Liberation
fonts are used when present).
"""
import argparse
import csv
import glob
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import strokes  # noqa: E402  (the digit generator's pen and polarity)

SIDE = 280
KINDS = ("drawn-letter", "printed-letter", "symbol", "shape", "scribble", "dot")

# Letters a person would not take for a digit (no O, I, l, Z, S, B, G, b, g, q).
LETTERS = "ACEFHKLMNPRTUVWXYacefhkmnrtuvwxy"
SYMBOLS = "+=#*%&@?!$€£¥§¶©®♥★☺✓✗→←↑↓∞πΣΩλ√♪☀☂✿"

FONT_GLOBS = ("/usr/share/fonts/truetype/dejavu/*.ttf", "/usr/share/fonts/truetype/liberation/*.ttf")


def fonts():
    found = sorted(p for g in FONT_GLOBS for p in glob.glob(g) if "MathTeX" not in p)
    if not found:
        sys.exit("nondigits.py: no fonts found (apt-get install fonts-dejavu-core)")
    return found


# ---- pen strokes in a unit box (x, y in [0,1], y down) -----------------------

def P(*pts):
    return np.array(pts, dtype=float)


def ring(cx, cy, rx, ry, a0=0, a1=360, n=60):
    t = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


DRAWN_LETTERS = {
    "A": lambda: [P((0, 1), (0.5, 0), (1, 1)), P((0.22, 0.6), (0.78, 0.6))],
    "E": lambda: [P((0.9, 0), (0.1, 0), (0.1, 1), (0.9, 1)), P((0.1, 0.5), (0.7, 0.5))],
    "F": lambda: [P((0.9, 0), (0.1, 0), (0.1, 1)), P((0.1, 0.48), (0.7, 0.48))],
    "H": lambda: [P((0.1, 0), (0.1, 1)), P((0.9, 0), (0.9, 1)), P((0.1, 0.5), (0.9, 0.5))],
    "K": lambda: [P((0.15, 0), (0.15, 1)), P((0.85, 0), (0.15, 0.6), (0.9, 1))],
    "M": lambda: [P((0.05, 1), (0.1, 0), (0.5, 0.65), (0.9, 0), (0.95, 1))],
    "N": lambda: [P((0.1, 1), (0.1, 0), (0.9, 1), (0.9, 0))],
    "R": lambda: [P((0.15, 1), (0.15, 0), (0.55, 0)), ring(0.55, 0.25, 0.3, 0.25, -90, 90, 20),
                  P((0.55, 0.5), (0.15, 0.5)), P((0.45, 0.5), (0.9, 1))],
    "T": lambda: [P((0, 0), (1, 0)), P((0.5, 0), (0.5, 1))],
    "V": lambda: [P((0, 0), (0.5, 1), (1, 0))],
    "W": lambda: [P((0, 0), (0.22, 1), (0.5, 0.35), (0.78, 1), (1, 0))],
    "X": lambda: [P((0.05, 0), (0.95, 1)), P((0.95, 0), (0.05, 1))],
    "Y": lambda: [P((0, 0), (0.5, 0.5), (1, 0)), P((0.5, 0.5), (0.5, 1))],
    "k": lambda: [P((0.15, 0), (0.15, 1)), P((0.8, 0.4), (0.15, 0.75)), P((0.4, 0.62), (0.85, 1))],
    "m": lambda: [P((0.05, 0.4), (0.05, 1)), ring(0.27, 0.6, 0.22, 0.2, 180, 360, 16), P((0.49, 0.6), (0.49, 1)),
                  ring(0.71, 0.6, 0.22, 0.2, 180, 360, 16), P((0.93, 0.6), (0.93, 1))],
    "n": lambda: [P((0.15, 0.4), (0.15, 1)), ring(0.5, 0.62, 0.35, 0.22, 180, 360, 20), P((0.85, 0.62), (0.85, 1))],
    "r": lambda: [P((0.2, 0.4), (0.2, 1)), ring(0.55, 0.62, 0.35, 0.2, 180, 300, 14)],
    "t": lambda: [P((0.45, 0), (0.45, 0.85)), ring(0.65, 0.85, 0.2, 0.15, 180, 60, 12), P((0.1, 0.35), (0.85, 0.35))],
    "v": lambda: [P((0.05, 0.4), (0.5, 1), (0.95, 0.4))],
    "w": lambda: [P((0, 0.4), (0.22, 1), (0.5, 0.55), (0.78, 1), (1, 0.4))],
    "x": lambda: [P((0.1, 0.4), (0.9, 1)), P((0.9, 0.4), (0.1, 1))],
    "e": lambda: [np.vstack([P((0.1, 0.7), (0.9, 0.7)), ring(0.5, 0.7, 0.4, 0.3, 0, -310, 40)])],
    "h": lambda: [P((0.15, 0), (0.15, 1)), ring(0.5, 0.65, 0.35, 0.22, 180, 360, 20), P((0.85, 0.65), (0.85, 1))],
    "u": lambda: [np.vstack([P((0.15, 0.4), (0.15, 0.75)), ring(0.5, 0.75, 0.35, 0.25, 180, 0, 20)[::-1][::-1]]),
                  P((0.85, 0.4), (0.85, 1))],
}


def star(r):
    n = int(r.integers(5, 8))
    inner = r.uniform(0.3, 0.55)
    a = np.linspace(0, 2 * np.pi, 2 * n + 1) - np.pi / 2 + r.uniform(0, 0.6)
    rad = np.where(np.arange(2 * n + 1) % 2 == 0, 0.5, 0.5 * inner)
    return [np.stack([0.5 + rad * np.cos(a), 0.5 + rad * np.sin(a)], 1)]


def pentagram(r):
    a = np.pi * 4 * np.arange(6) / 5 - np.pi / 2
    return [np.stack([0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)], 1)]


def polygon(r):
    n = int(r.choice([3, 4, 4]))
    a = np.linspace(0, 2 * np.pi, n + 1) + r.uniform(0, np.pi)
    return [np.stack([0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a)], 1)]


def rectangle(r):
    w = r.uniform(0.5, 1.0)
    return [P((0.5 - w / 2, 0.1), (0.5 + w / 2, 0.1), (0.5 + w / 2, 0.9), (0.5 - w / 2, 0.9), (0.5 - w / 2, 0.1))]


def heart(r):
    t = np.linspace(0, 2 * np.pi, 80)
    x = 16 * np.sin(t) ** 3
    y = -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))
    return [np.stack([0.5 + x / 34, 0.45 + y / 34], 1)]


def arrow(r):
    return [P((0, 0.5), (1, 0.5)), P((0.7, 0.25), (1, 0.5), (0.7, 0.75))]


def cross(r):
    return [P((0.5, 0), (0.5, 1)), P((0, 0.5), (1, 0.5))] if r.random() < 0.5 else \
        [P((0.35, 0), (0.65, 0), (0.65, 0.35), (1, 0.35), (1, 0.65), (0.65, 0.65), (0.65, 1), (0.35, 1),
           (0.35, 0.65), (0, 0.65), (0, 0.35), (0.35, 0.35), (0.35, 0))]


def moon(r):
    return [np.vstack([ring(0.5, 0.5, 0.5, 0.5, 60, 300, 40), ring(0.75, 0.5, 0.4, 0.43, 240, 120, 30)])]


def lightning(r):
    return [P((0.6, 0), (0.2, 0.55), (0.55, 0.5), (0.3, 1), (0.85, 0.4), (0.5, 0.45), (0.75, 0))]


def cloud(r):
    bumps = [ring(0.2 + 0.2 * i, 0.45 - 0.1 * (i % 2), 0.16, 0.18, 180, 360, 16) for i in range(4)]
    return [np.vstack(bumps + [P((0.86, 0.45), (0.9, 0.7), (0.1, 0.7), (0.04, 0.45))])]


def sun(r):
    out = [ring(0.5, 0.5, 0.22, 0.22)]
    for a in np.linspace(0, 2 * np.pi, 9)[:-1]:
        out.append(P((0.5 + 0.3 * np.cos(a), 0.5 + 0.3 * np.sin(a)), (0.5 + 0.5 * np.cos(a), 0.5 + 0.5 * np.sin(a))))
    return out


def house(r):
    return [P((0.1, 1), (0.1, 0.45), (0.5, 0.05), (0.9, 0.45), (0.9, 1), (0.1, 1)), P((0.4, 1), (0.4, 0.7), (0.6, 0.7),
                                                                                       (0.6, 1))]


def tree(r):
    return [P((0.5, 0), (0.1, 0.7), (0.9, 0.7), (0.5, 0)), P((0.45, 0.7), (0.45, 1)), P((0.55, 0.7), (0.55, 1))]


def smiley(r):
    return [ring(0.5, 0.5, 0.5, 0.5), ring(0.33, 0.38, 0.04, 0.05, n=10), ring(0.67, 0.38, 0.04, 0.05, n=10),
            ring(0.5, 0.55, 0.28, 0.2, 20, 160, 20)]


def spiral(r):
    t = np.linspace(0, 2 * np.pi * r.uniform(2, 4), 200)
    rad = 0.5 * t / t[-1]
    return [np.stack([0.5 + rad * np.cos(t), 0.5 + rad * np.sin(t)], 1)]


def check_mark(r):
    return [P((0, 0.55), (0.35, 1), (1, 0))]


SHAPES = {f.__name__: f for f in (star, pentagram, polygon, rectangle, heart, arrow, cross, moon, lightning, cloud,
                                   sun, house, tree, smiley, spiral, check_mark)}


def tangle(r):
    pts = r.uniform(0, 1, (int(r.integers(5, 15)), 2))
    return [strokes.spline(*pts, n=10)]


def zigzag(r):
    n = int(r.integers(4, 10))
    x = np.linspace(0, 1, n)
    y = np.where(np.arange(n) % 2 == 0, 0.2, 0.8) + r.uniform(-0.1, 0.1, n)
    return [np.stack([x, y], 1)]


def hatching(r):
    n = int(r.integers(3, 9))
    a = r.uniform(0, np.pi)
    d = np.array([np.cos(a), np.sin(a)])
    nrm = np.array([-d[1], d[0]])
    return [np.stack([0.5 + nrm * o - d * 0.5, 0.5 + nrm * o + d * 0.5]) for o in np.linspace(-0.45, 0.45, n)]


def loops(r):
    t = np.linspace(0, 2 * np.pi * int(r.integers(3, 7)), 300)
    return [np.stack([0.05 + 0.9 * t / t[-1] + 0.08 * np.cos(t), 0.5 + 0.35 * np.sin(t)], 1)]


def scratches(r):
    return [P(*r.uniform(0, 1, (2, 2))) for _ in range(int(r.integers(3, 7)))]


SCRIBBLES = {f.__name__: f for f in (tangle, zigzag, hatching, loops, scratches)}


# ---- rendering ------------------------------------------------------------------

def place(shape_strokes, r, wobble=0.01):
    """Unit-box strokes -> pixel strokes, size, pen: random size, aspect,
    rotation and position on the canvas, with a little tremor."""
    size = SIDE * r.uniform(0.15, 0.9)
    aspect = r.uniform(0.7, 1.3)
    a = np.radians(r.uniform(-15, 15))
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    out = []
    for s in shape_strokes:
        s = strokes.wobble(strokes.densify(np.asarray(s, float)), r, wobble)
        s = (s - 0.5) * np.array([aspect, 1.0]) @ rot.T * size
        out.append(s)
    pen = max(1.5, size * r.uniform(0.03, 0.14))
    allp = np.vstack(out)
    lo, hi = allp.min(0) - pen, allp.max(0) + pen
    centre = np.array([r.uniform(min(SIDE / 2, (hi - lo)[0] / 2), max(SIDE / 2, SIDE - (hi - lo)[0] / 2)),
                       r.uniform(min(SIDE / 2, (hi - lo)[1] / 2), max(SIDE / 2, SIDE - (hi - lo)[1] / 2))])
    shift = centre - (lo + hi) / 2
    return [s + shift for s in out], pen


def drawn(shape_strokes, r, wobble=0.01):
    px, pen = place(shape_strokes, r, wobble)
    return strokes.draw_strokes(px, pen, SIDE, SIDE)


def printed(text, r, font_paths):
    """Coverage of text typeset in a random font, size and place."""
    path = font_paths[int(r.integers(len(font_paths)))]
    size = int(SIDE * r.uniform(0.15, 0.85))
    font = ImageFont.truetype(path, size)
    img = Image.new("L", (SIDE * 2, SIDE * 2), 0)
    ImageDraw.Draw(img).text((SIDE // 2, SIDE // 2), text, font=font, fill=255)
    img = img.rotate(r.uniform(-12, 12), resample=Image.BILINEAR)
    box = img.getbbox()
    if box is None:
        return None
    glyph = img.crop(box)
    if glyph.width > SIDE or glyph.height > SIDE:
        glyph.thumbnail((SIDE, SIDE))
    canvas = Image.new("L", (SIDE, SIDE), 0)
    canvas.paste(glyph, (int(r.integers(0, SIDE - glyph.width + 1)), int(r.integers(0, SIDE - glyph.height + 1))))
    return np.asarray(canvas, np.float32) / 255.0


def dot(r):
    what = ["tap", "taps", "dash", "blob"][int(r.integers(4))]
    img = Image.new("L", (SIDE, SIDE), 0)
    d = ImageDraw.Draw(img)
    if what in ("tap", "taps"):
        for _ in range(1 if what == "tap" else int(r.integers(2, 6))):
            x, y, rad = r.uniform(15, SIDE - 15), r.uniform(15, SIDE - 15), r.uniform(2, 14)
            d.ellipse([x - rad, y - rad, x + rad, y + rad], fill=255)
    elif what == "dash":
        x, y, length = r.uniform(20, SIDE - 80), r.uniform(20, SIDE - 20), r.uniform(15, 60)
        d.line([(x, y), (x + length, y + r.uniform(-5, 5))], fill=255, width=int(r.integers(4, 16)))
    else:
        pts = r.uniform(0, 1, (8, 2)) * r.uniform(30, 120) + r.uniform(20, 140, 2)
        d.polygon([tuple(p) for p in strokes.spline(*pts, n=6)], fill=255)
    return np.asarray(img, np.float32) / 255.0, what


def sample(i, seed, font_paths):
    r = np.random.default_rng([seed, i])
    kind = KINDS[i % len(KINDS)]
    cov = None
    while cov is None:
        if kind == "drawn-letter":
            what = sorted(DRAWN_LETTERS)[int(r.integers(len(DRAWN_LETTERS)))]
            cov = drawn(DRAWN_LETTERS[what](), r)
        elif kind == "printed-letter":
            what = LETTERS[int(r.integers(len(LETTERS)))]
            cov = printed(what, r, font_paths)
        elif kind == "symbol":
            what = SYMBOLS[int(r.integers(len(SYMBOLS)))]
            cov = printed(what, r, font_paths)
        elif kind == "shape":
            what = sorted(SHAPES)[int(r.integers(len(SHAPES)))]
            cov = drawn(SHAPES[what](r), r)
        elif kind == "scribble":
            what = sorted(SCRIBBLES)[int(r.integers(len(SCRIBBLES)))]
            cov = drawn(SCRIBBLES[what](r), r, wobble=0.005)
        else:
            cov, what = dot(r)
    return strokes.to_gray(cov, "random", r), kind, what


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=600)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--out")
    g.add_argument("--npz")
    a = ap.parse_args(argv)
    font_paths = fonts()
    rows, images = [], []
    if a.out:
        os.makedirs(a.out, exist_ok=True)
    for i in range(a.count):
        img, kind, what = sample(i, a.seed, font_paths)
        name = f"{i:05d}.pgm"
        if a.out:
            Image.fromarray(img).save(os.path.join(a.out, name))
        else:
            images.append(img)
        rows.append((name, kind, what))
    if a.out:
        with open(os.path.join(a.out, "labels.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(("file", "kind", "what"))
            w.writerows(rows)
    else:
        np.savez_compressed(a.npz, images=np.stack(images), kinds=np.array([k for _, k, _ in rows]),
                            whats=np.array([w for _, _, w in rows]))


if __name__ == "__main__":
    main()
