#!/usr/bin/env python3
"""strokes.py - digits and numbers drawn with strokes the way people draw them.

Every digit 0-9 is a set of pen strokes (polylines and curves) in one of
several named writing styles (a 1 plain, with a flag, with flag and base; a 7
plain or with a bar; a 4 open or closed; ...). Each drawing gets a random
affine transform (slant, rotation, scale, aspect), wobble along the strokes,
a small displacement of each stroke against the others, a pen width, and is
rendered anti-aliased (4x supersampled) onto a canvas in either polarity.
Everything is deterministic given the seed: sample i of a run draws from
numpy.random.default_rng([seed, i]), so any subset can be regenerated alone.

Command line (Debian's python3 with python3-numpy and python3-pil):

  strokes.py [--seed S] [--count N] [--width W] [--height H]
             [--polarity dark|light|random] [--digits 0123...] [--styles a,b]
             [--number [--min-len 2] [--max-len 5]]
             (--out DIR | --npz FILE.npz)

  single digits (default): each sample is one digit placed anywhere on the
      canvas at a random size (35% to 90% of the canvas height); digits cycle
      0..9 and the style is drawn uniformly among that digit's styles.
  --number: each sample is a number of --min-len to --max-len digits (2-5 by
      default) side by side, with varied size, baseline and spacing: the
      horizontal ink gap to the left neighbour is one of "apart" (0.12-0.45
      of the digit height), "close" (0.02-0.12), "touching" (the inks just
      meet) or "overlap" (the inks cross by 2-6% of the height), with
      probabilities 35%, 35%, 20% and 10%.
  --out DIR: DIR/00000.pgm ... (8-bit binary PGM) and DIR/labels.csv. Single
      digits: header "file,label,style,x,y,w,h"; numbers: header
      "file,label,style,gaps,boxes" then one row per sample
          file,label,style,gaps,x,y,w,h,x,y,w,h,...
      with label the digits as text ("0427"), style the digits' style names
      joined by '+', gaps the spacing kind before each digit after the first
      joined by '+', and one box per digit (x, y, width, height of its ink,
      coverage >= 0.25, in canvas pixels), left to right.
  --npz FILE: images (N,H,W) uint8, labels (N,) str, styles (N,) str,
      gaps (N,) str, boxes (N,max_len,4) int32 (x,y,w,h; -1 past the end).

Polarity "dark" is dark ink (17) on white paper (255) like the demo's
canvas; "light" is white ink on black like MNIST; "random" picks per sample.

As a module (tests/drawn on sys.path):
    import strokes, numpy as np
    rng = np.random.default_rng(1)
    img, box = strokes.render_digit(7, "bar", rng)               # uint8 HxW
    img, boxes, styles, gaps = strokes.render_number("2026", rng)
    strokes.STYLES[1]  ->  ['plain', 'flag', 'flag_base']
"""
import argparse
import csv
import os
import sys

import numpy as np
from PIL import Image, ImageDraw

SUPERSAMPLE = 4

# ---- stroke primitives -------------------------------------------------------
# Template coordinates: x in about [0, 0.65], y in [0, 1], y pointing down (the
# top of the digit at 0, its baseline at 1). Angles in degrees, 0 = right,
# 90 = down, so increasing angles run clockwise on the screen.


def arc(cx, cy, rx, ry, a0, a1, n=48):
    t = np.radians(np.linspace(a0, a1, n))
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1)


def poly(*pts):
    return np.array(pts, dtype=float)


def spline(*pts, n=12):
    """Catmull-Rom curve through the points, n samples per span."""
    p = np.array(pts, dtype=float)
    ext = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])
    out = []
    t = np.linspace(0, 1, n, endpoint=False)[:, None]
    for i in range(1, len(ext) - 2):
        p0, p1, p2, p3 = ext[i - 1], ext[i], ext[i + 1], ext[i + 2]
        out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    out.append(p[-1:])
    return np.vstack(out)


def join(*parts):
    return np.vstack(parts)


# ---- the templates -------------------------------------------------------------
# Each template is a function of a generator (for small variations of its own
# shape) returning a list of strokes, each an (n,2) array in template units.


def u(rng, a, b):
    return float(rng.uniform(a, b))


def zero_oval(r):
    a0 = u(r, -120, -60)
    return [arc(0.3, 0.5, 0.29, 0.5, a0, a0 - u(r, 365, 385), 72)]


def zero_narrow(r):
    a0 = u(r, -110, -70)
    return [arc(0.22, 0.5, 0.2, 0.5, a0, a0 - u(r, 360, 380), 72)]


def one_plain(r):
    return [poly((0.3 + u(r, -0.03, 0.03), 0.0), (0.3, 1.0))]


def one_flag(r):
    return [poly((0.3 - u(r, 0.15, 0.25), u(r, 0.18, 0.3)), (0.32, 0.0), (0.32, 1.0))]


def one_flag_base(r):
    w = u(r, 0.18, 0.28)
    return [poly((0.32 - u(r, 0.15, 0.25), u(r, 0.18, 0.3)), (0.32, 0.0), (0.32, 1.0)),
            poly((0.32 - w, 1.0), (0.32 + w, 0.99))]


def two_plain(r):
    return [join(spline((0.04, 0.24), (0.14, 0.05), (0.32, 0.0), (0.52, 0.07), (0.57, 0.27),
                        (0.44, 0.5), (0.2, 0.77), (0.02, 1.0)),
                 poly((0.02, 1.0), (u(r, 0.55, 0.66), 0.98)))]


def two_loop(r):
    return [spline((0.04, 0.24), (0.14, 0.05), (0.32, 0.0), (0.52, 0.07), (0.57, 0.27),
                   (0.44, 0.5), (0.22, 0.74), (0.07, 0.9), (0.04, 0.98), (0.12, 1.0),
                   (0.2, 0.93), (0.14, 0.86), (0.08, 0.92), (0.16, 0.99), (0.38, 0.98),
                   (u(r, 0.55, 0.65), 0.96))]


def three_round(r):
    m = u(r, 0.42, 0.5)
    return [spline((0.04, 0.12), (0.28, 0.0), (0.52, 0.1), (0.52, 0.3), (0.24, m),
                   (0.54, m + 0.1), (0.6, 0.78), (0.42, 0.98), (0.16, 0.99), (0.02, 0.86))]


def three_flat(r):
    return [join(poly((0.04, 0.0), (0.58, 0.0), (0.26, 0.4)),
                 spline((0.26, 0.4), (0.5, 0.47), (0.6, 0.72), (0.44, 0.97), (0.18, 1.0), (0.02, 0.86)))]


def four_closed(r):
    y = u(r, 0.6, 0.7)
    return [poly((0.44, 0.0), (0.01, y), (0.64, y)),
            poly((0.46, u(r, 0.0, 0.1)), (0.46, 1.0))]


def four_open(r):
    y = u(r, 0.52, 0.64)
    return [poly((0.06, 0.0), (0.03, y), (0.64, y)),
            poly((0.47, u(r, 0.0, 0.12)), (0.46, 1.0))]


def four_one_stroke(r):
    y = u(r, 0.6, 0.68)
    return [poly((0.44, 0.0), (0.01, y), (0.64, y), (0.46, y), (0.46, 1.0))]


def _five_body(r):
    return spline((0.06, 0.45), (0.3, 0.37), (0.54, 0.47), (0.6, 0.72), (0.45, 0.95),
                  (0.2, 1.0), (0.02, 0.87))


def five_detached(r):
    gap = u(r, 0.06, 0.14)
    return [join(poly((0.1, 0.03), (0.06, 0.45)), _five_body(r)),
            poly((0.1 + gap, u(r, -0.03, 0.01)), (0.6, u(r, -0.04, 0.0)))]


def five_two_stroke(r):
    return [join(poly((0.1, 0.01), (0.06, 0.45)), _five_body(r)),
            poly((0.1, 0.01), (0.6, u(r, -0.03, 0.02)))]


def five_joined(r):
    return [join(poly((0.6, 0.0), (0.1, 0.02), (0.06, 0.45)), _five_body(r))]


def six_one_stroke(r):
    return [spline((0.52, 0.02), (0.26, 0.2), (0.07, 0.55), (0.08, 0.84), (0.3, 1.0),
                   (0.53, 0.87), (0.55, 0.66), (0.34, 0.52), (0.13, 0.6), (0.08, 0.72))]


def six_two_stroke(r):
    return [spline((0.52, 0.02), (0.26, 0.2), (0.08, 0.55), (0.07, 0.78)),
            arc(0.31, 0.76, 0.25, 0.24, 180, 180 + u(r, 360, 380), 64)]


def seven_plain(r):
    return [poly((0.02, u(r, 0.0, 0.04)), (0.62, 0.0), (u(r, 0.16, 0.28), 1.0))]


def seven_bar(r):
    x1 = u(r, 0.16, 0.28)
    y = u(r, 0.45, 0.58)
    xm = 0.62 + (x1 - 0.62) * y
    return [poly((0.02, u(r, 0.0, 0.04)), (0.62, 0.0), (x1, 1.0)),
            poly((xm - u(r, 0.16, 0.24), y), (xm + u(r, 0.14, 0.22), y - 0.01))]


def seven_serif(r):
    return [poly((0.02, u(r, 0.1, 0.18)), (0.03, 0.0), (0.62, 0.0), (u(r, 0.16, 0.28), 1.0))]


def eight_one_stroke(r):
    return [spline((0.52, 0.12), (0.3, 0.0), (0.08, 0.12), (0.12, 0.32), (0.3, 0.45),
                   (0.52, 0.6), (0.58, 0.82), (0.3, 1.0), (0.04, 0.82), (0.1, 0.6),
                   (0.3, 0.45), (0.48, 0.32), (0.53, 0.14), (0.42, 0.03))]


def eight_two_loops(r):
    m = u(r, 0.42, 0.5)
    a = u(r, -100, -80)
    return [arc(0.31, m / 2, 0.2, m / 2, a, a + 370, 56),
            arc(0.31, (1 + m) / 2, 0.27, (1 - m) / 2, a, a + 370, 64)]


def _nine_loop(r):
    a0 = u(r, -10, 10)
    return arc(0.3, 0.25, 0.27, 0.25, a0, a0 - 360, 56)


def nine_straight(r):
    return [join(_nine_loop(r), poly((0.57, 0.25), (u(r, 0.48, 0.57), 1.0)))]


def nine_curved(r):
    return [join(_nine_loop(r), spline((0.57, 0.25), (0.57, 0.6), (0.46, 0.9), (0.25, 1.0),
                                       (u(r, 0.06, 0.14), 0.94)))]


TEMPLATES = {
    0: {"oval": zero_oval, "narrow": zero_narrow},
    1: {"plain": one_plain, "flag": one_flag, "flag_base": one_flag_base},
    2: {"plain": two_plain, "loop": two_loop},
    3: {"round": three_round, "flat_top": three_flat},
    4: {"closed": four_closed, "open": four_open, "one_stroke": four_one_stroke},
    5: {"detached": five_detached, "two_stroke": five_two_stroke, "joined": five_joined},
    6: {"one_stroke": six_one_stroke, "two_stroke": six_two_stroke},
    7: {"plain": seven_plain, "bar": seven_bar, "serif": seven_serif},
    8: {"one_stroke": eight_one_stroke, "two_loops": eight_two_loops},
    9: {"straight": nine_straight, "curved": nine_curved},
}
STYLES = {d: list(t) for d, t in TEMPLATES.items()}


# ---- randomisation -----------------------------------------------------------------


def densify(p, step=0.01):
    """Points along the polyline p at most step apart."""
    out = [p[:1]]
    for a, b in zip(p[:-1], p[1:]):
        k = max(1, int(np.ceil(np.hypot(*(b - a)) / step)))
        t = np.arange(1, k + 1)[:, None] / k
        out.append(a + (b - a) * t)
    return np.vstack(out)


def wobble(p, rng, amount):
    """Smooth tremor across the stroke: a few sinusoids of the arc length."""
    if len(p) < 2 or amount <= 0:
        return p
    d = np.diff(p, axis=0)
    s = np.concatenate([[0], np.cumsum(np.hypot(d[:, 0], d[:, 1]))])
    tangent = np.gradient(p, axis=0)
    norm = np.hypot(tangent[:, 0], tangent[:, 1])
    norm[norm == 0] = 1
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1) / norm[:, None]
    off = np.zeros(len(p))
    for _ in range(3):
        freq = rng.uniform(0.7, 3)
        off += rng.normal(0, amount / 2) * np.sin(2 * np.pi * freq * s + rng.uniform(0, 2 * np.pi))
    return p + normal * off[:, None]


def warp(rng, amount):
    """A smooth random displacement of the template plane (a few long waves),
    so each drawing's proportions differ a little from the template's."""
    waves = [(rng.normal(0, amount, 2), rng.uniform(0.5, 1.5, 2), rng.uniform(0, 2 * np.pi, 2))
             for _ in range(2)]

    def f(p):
        out = p.copy()
        for amp, freq, phase in waves:
            out[:, 0] += amp[0] * np.sin(2 * np.pi * freq[0] * p[:, 1] + phase[0])
            out[:, 1] += amp[1] * np.sin(2 * np.pi * freq[1] * p[:, 0] + phase[1])
        return out
    return f


def digit_strokes(digit, style, rng, jitter=0.012, wobble_amount=0.008, warp_amount=0.025):
    """The strokes of one drawing in template units, with the template's own
    variation, a smooth warp of the whole digit, per-stroke jitter (strokes
    drawn separately do not land exactly where the template puts them) and
    wobble (tremor along each stroke)."""
    strokes = TEMPLATES[digit][style](rng)
    f = warp(rng, warp_amount)
    out = []
    for s in strokes:
        s = f(densify(s))
        if len(strokes) > 1:
            s = s + rng.normal(0, jitter, 2)
        out.append(wobble(s, rng, wobble_amount))
    return out


def affine(rng, height, slant=None, rotation=None, aspect=None):
    """A 2x2 matrix mapping template units to pixels: aspect, slant (shear of
    x by height above the middle), rotation, scaled so 1 unit = height px."""
    slant = rng.uniform(-0.15, 0.4) if slant is None else slant
    rotation = rng.uniform(-8, 8) if rotation is None else rotation
    aspect = rng.uniform(0.75, 1.3) if aspect is None else aspect
    a = np.radians(rotation)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    shear = np.array([[1, -slant], [0, 1]])
    scale = np.diag([aspect, 1.0])
    return height * rot @ shear @ scale


def draw_strokes(strokes, pen, width, height):
    """Anti-aliased ink coverage (float32, 0..1) of pixel-unit strokes drawn
    with a round pen of the given width (pixels), on a width x height canvas."""
    ss = SUPERSAMPLE
    img = Image.new("L", (width * ss, height * ss), 0)
    d = ImageDraw.Draw(img)
    rad = max(0.5, pen * ss / 2)
    for s in strokes:
        # Round pen: a disc every quarter pen width along the stroke (PIL's
        # wide lines leave seams where short segments meet).
        for x, y in densify(np.asarray(s, dtype=float) * ss, max(1.0, rad / 2)):
            d.ellipse([x - rad, y - rad, x + rad, y + rad], fill=255)
    a = np.asarray(img, dtype=np.float32).reshape(height, ss, width, ss).mean(axis=(1, 3))
    return a / 255.0


def ink_box(cov, threshold=0.25):
    """(x, y, w, h) of the pixels with coverage >= threshold, or None."""
    ys, xs = np.nonzero(cov >= threshold)
    if len(xs) == 0:
        return None
    return (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))


def to_gray(cov, polarity, rng):
    if polarity == "random":
        polarity = "dark" if rng.random() < 0.5 else "light"
    if polarity == "dark":
        return np.clip(np.rint(255 - cov * (255 - 17)), 0, 255).astype(np.uint8)
    return np.clip(np.rint(cov * 255), 0, 255).astype(np.uint8)


def pick_style(digit, rng, styles=None):
    names = [s for s in STYLES[digit] if not styles or s in styles] or STYLES[digit]
    return names[int(rng.integers(len(names)))]


def glyph(digit, style, rng, height, pen=None, **kw):
    """One digit drawn in pixel units with its top-left template corner at
    (0,0) before transformation; returns (strokes, pen). The template's
    baseline (y = 1) maps to y = height (before rotation)."""
    m = affine(rng, height, **kw)
    pen = pen if pen is not None else max(1.5, height * rng.uniform(0.06, 0.15))
    strokes = [s @ m.T for s in digit_strokes(digit, style, rng)]
    return strokes, pen


def render_digit(digit, style=None, rng=None, width=280, height=280, size=None,
                 center=None, pen=None, polarity="dark", coverage=False, **kw):
    """One digit on a width x height canvas. size: the digit's height in pixels
    (default 35-90% of the canvas height); center: (x, y) of its ink box
    (default anywhere it fits). Returns (uint8 image, (x,y,w,h) ink box), or
    (float coverage, box) with coverage=True."""
    rng = rng if rng is not None else np.random.default_rng(0)
    style = style or pick_style(digit, rng)
    size = size if size is not None else height * rng.uniform(0.35, 0.9)
    strokes, pen = glyph(digit, style, rng, size, pen, **kw)
    allp = np.vstack(strokes)
    lo, hi = allp.min(0) - pen, allp.max(0) + pen
    ext = hi - lo
    if center is None:
        center = (rng.uniform(ext[0] / 2, max(ext[0] / 2, width - ext[0] / 2)),
                  rng.uniform(ext[1] / 2, max(ext[1] / 2, height - ext[1] / 2)))
    shift = np.array(center) - (lo + ext / 2)
    cov = draw_strokes([s + shift for s in strokes], pen, width, height)
    box = ink_box(cov)
    return (cov if coverage else to_gray(cov, polarity, rng)), box


GAP_KINDS = ("apart", "close", "touching", "overlap")
GAP_WEIGHTS = (0.35, 0.35, 0.2, 0.1)


def _profile_gap(left_cov, right_cov, threshold=0.25):
    """min over rows of (first ink column of right - last ink column of left
    - 1), for images of the same height; a large number when no row has both."""
    lm = left_cov >= threshold
    rm = right_cov >= threshold
    rows = lm.any(1) & rm.any(1)
    if not rows.any():
        return None
    last = lm.shape[1] - 1 - np.argmax(lm[:, ::-1], axis=1)
    first = np.argmax(rm, axis=1)
    return int((first[rows] - last[rows] - 1).min())


def render_number(text, rng=None, width=280, height=280, styles=None, polarity="dark",
                  gaps=None, size=None, coverage=False):
    """The digits of text side by side on a width x height canvas. styles: a
    style name per digit (default random); gaps: a kind (GAP_KINDS) before
    each digit after the first (default random). Returns (image, boxes,
    styles, gaps) with boxes the (x,y,w,h) ink box of each digit."""
    rng = rng if rng is not None else np.random.default_rng(0)
    digits = [int(c) for c in text]
    n = len(digits)
    styles = list(styles) if styles else [pick_style(d, rng) for d in digits]
    gaps = list(gaps) if gaps else [str(g) for g in rng.choice(GAP_KINDS, n - 1, p=GAP_WEIGHTS)]
    size = size if size is not None else height * rng.uniform(0.25, 0.6)
    for _attempt in range(12):
        glyphs = []
        slant = rng.uniform(-0.1, 0.35)  # one writer, one slant (varied a little)
        pen = max(1.5, size * rng.uniform(0.06, 0.14))
        for d, st in zip(digits, styles):
            h = size * rng.uniform(0.88, 1.12)
            strokes, p = glyph(d, st, rng, h, pen * rng.uniform(0.9, 1.1),
                               slant=slant + rng.normal(0, 0.05))
            base = h + rng.normal(0, 0.04 * size)  # the baseline, wandering
            strokes = [s + np.array([0, -base]) for s in strokes]
            glyphs.append((strokes, p))
        # Lay out on a tall strip, baseline at y = 0 -> strip row ty.
        top = min(min(s[:, 1].min() for s in g[0]) - g[1] for g in glyphs)
        bot = max(max(s[:, 1].max() for s in g[0]) + g[1] for g in glyphs)
        strip_h = int(np.ceil(bot - top)) + 4
        ty = -top + 2
        layers = []
        for i, (strokes, p) in enumerate(glyphs):
            xs = np.vstack(strokes)[:, 0]
            w = int(np.ceil(xs.max() - xs.min() + 2 * p)) + 4
            local = [s + np.array([-xs.min() + p + 2, ty]) for s in strokes]
            cov = draw_strokes(local, p, w, strip_h)
            if i == 0:
                pos = 0
            else:
                prev_cov, prev_pos = layers[-1]
                kind = gaps[i - 1]
                want = {"apart": rng.uniform(0.12, 0.45), "close": rng.uniform(0.02, 0.12),
                        "touching": 0.0, "overlap": -rng.uniform(0.02, 0.06)}[kind] * size
                if kind == "touching":
                    want = -1  # inks share a column: they meet
                # The gap with this digit's strip just right of prev's strip.
                pw = prev_cov.shape[1]
                wide = pw + cov.shape[1]
                a = np.zeros((strip_h, wide), np.float32)
                b = np.zeros((strip_h, wide), np.float32)
                a[:, :pw] = prev_cov
                b[:, pw:] = cov
                g = _profile_gap(a, b)
                if g is None:  # no shared row: fall back to box distance
                    pc = np.nonzero((prev_cov >= 0.25).any(0))[0]
                    cc = np.nonzero((cov >= 0.25).any(0))[0]
                    g = pw + cc.min() - pc.max() - 1
                pos = prev_pos + pw - (g - int(round(want)))
            layers.append((cov, pos))
        total = max(pos + cov.shape[1] for cov, pos in layers) - min(pos for _c, pos in layers)
        if total <= width - 4 and strip_h <= height - 4:
            break
        size *= 0.85 * min(1.0, (width - 4) / total)
    x0 = min(pos for _c, pos in layers)
    total = max(pos + c.shape[1] for c, pos in layers) - x0
    ox = int(rng.integers(0, max(1, width - total + 1)))
    oy = int(rng.integers(0, max(1, height - strip_h + 1)))
    canvas = np.zeros((height, width), np.float32)
    boxes = []
    for cov, pos in layers:
        full = np.zeros((height, width), np.float32)
        X, Y = ox + pos - x0, oy
        h = min(strip_h, height - Y)
        w = min(cov.shape[1], width - X)
        sx = max(0, -X)
        full[Y:Y + h, X + sx:X + w] = cov[:h, sx:w]
        boxes.append(ink_box(full))
        np.maximum(canvas, full, out=canvas)
    img = canvas if coverage else to_gray(canvas, polarity, rng)
    return img, boxes, styles, gaps


# ---- command line --------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--width", type=int, default=280)
    ap.add_argument("--height", type=int, default=280)
    ap.add_argument("--polarity", choices=("dark", "light", "random"), default="dark")
    ap.add_argument("--digits", default="0123456789")
    ap.add_argument("--styles", default="", help="comma-separated style names to keep")
    ap.add_argument("--number", action="store_true")
    ap.add_argument("--min-len", type=int, default=2)
    ap.add_argument("--max-len", type=int, default=5)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--out")
    g.add_argument("--npz")
    a = ap.parse_args(argv)
    digits = [int(c) for c in a.digits]
    keep = set(filter(None, a.styles.split(",")))
    if not 1 <= a.min_len <= a.max_len:
        ap.error("need 1 <= --min-len <= --max-len")
    rows, images = [], []
    for i in range(a.count):
        rng = np.random.default_rng([a.seed, i])
        if a.number:
            n = int(rng.integers(a.min_len, a.max_len + 1))
            text = "".join(str(digits[int(rng.integers(len(digits)))]) for _ in range(n))
            sts = [pick_style(int(c), rng, keep) for c in text]
            img, boxes, sts, gps = render_number(text, rng, a.width, a.height, sts, a.polarity)
            rows.append((text, "+".join(sts), "+".join(gps), boxes))
        else:
            d = digits[i % len(digits)]
            st = pick_style(d, rng, keep)
            img, box = render_digit(d, st, rng, a.width, a.height, polarity=a.polarity)
            rows.append((str(d), st, "", [box]))
        images.append(img)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "labels.csv"), "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["file", "label", "style", "gaps", "boxes"] if a.number else
                       ["file", "label", "style", "x", "y", "w", "h"])
            for i, (img, (label, st, gps, boxes)) in enumerate(zip(images, rows)):
                name = "%05d.pgm" % i
                Image.fromarray(img).save(os.path.join(a.out, name))
                flat = [v for b in boxes for v in (b or (-1, -1, -1, -1))]
                w.writerow([name, label, st] + ([gps] if a.number else []) + flat)
    else:
        m = max(len(r[3]) for r in rows)
        boxes = np.full((len(rows), m, 4), -1, np.int32)
        for i, r in enumerate(rows):
            for j, b in enumerate(r[3]):
                if b:
                    boxes[i, j] = b
        np.savez_compressed(a.npz, images=np.stack(images), labels=np.array([r[0] for r in rows]),
                            styles=np.array([r[1] for r in rows]), gaps=np.array([r[2] for r in rows]),
                            boxes=boxes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
