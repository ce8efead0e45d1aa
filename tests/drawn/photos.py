#!/usr/bin/env python3
"""photos.py - synthetic phone photos of digits written in pen on paper, each
with the same digit as a clean drawing beside it.

A sample is one digit (or, with --number, a number of 2-5 digits): either
drawn with pen strokes by strokes.py (an independent stroke generator, every
style it knows) or an MNIST test digit enlarged, as ink coverage on a page
400 to 1600 pixels on its long side, the digit 15-45% of the short side
tall, never filling the frame. The photo is then made the way a phone
makes one:
  - paper: a light tint that is not white (cream, grey, bluish, recycled);
    sometimes ruled (horizontal lines, light blue or grey) or squared;
  - ink: a blue or black pen, not quite opaque, its width varied (strokes);
  - the page turned a little (up to 4 degrees) and seen in slight
    perspective (corners moved by up to 3% of the size);
  - light: an overall level, a gradient across the page, vignetting, often
    a soft shadow (a hand or a phone) with a blurred edge, a colour cast;
  - camera: a little Gaussian blur, sensor noise per channel, then JPEG at
    quality 35-92 (colour with 4:2:0 chroma, one in ten grayscale).
The clean drawing is the same ink coverage, after the same turn and
perspective, as dark ink (17) on a white canvas (255): the demo's canvas,
saved as an 8-bit gray PNG. So the only difference between the two is the
paper, the light and the camera.

Everything is deterministic given the seed: sample i draws from
numpy.random.default_rng([seed, i]).

  /usr/bin/python3 tests/drawn/photos.py --out DIR [--count 1000] [--seed 7]
      [--source mixed|strokes|mnist] [--mnist datasets/mnist] [--number]
      [--lines mixed|none|ruled|squared] [--desk]

writes DIR/photo/NNNNN.jpg, DIR/clean/NNNNN.png and DIR/labels.csv with
header "name,label,source,style,paper,lines,shadow,blur,noise,quality,width,height".
--source mixed (default) alternates strokes and MNIST (MNIST needs
t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte in --mnist; the i-th
MNIST sample is test digit number (seed * 7919 + i) mod 10000). --desk: the
sheet does not fill the frame; its edges lie 4-15% of the frame inside, with
a desk (dark wood, grey, light or black, grained) around it, under the same
light (the "paper" column then ends in "/" and the desk).

As a module (tests/drawn on sys.path):
    import photos, numpy as np
    s = photos.make_sample(rng, digit=3, source="strokes")
    s.photo (RGB or L uint8 array, before JPEG), s.clean (uint8), s.label, s.info
"""
import argparse
import csv
import io
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import strokes  # noqa: E402

PAPERS = {  # reflectance of the paper, RGB
    "white-ish": (0.93, 0.93, 0.92),
    "cream": (0.95, 0.91, 0.78),
    "grey": (0.82, 0.82, 0.80),
    "bluish": (0.86, 0.89, 0.95),
    "recycled": (0.85, 0.82, 0.74),
    "yellow pad": (0.97, 0.94, 0.66),
}
INKS = {  # reflectance of the ink where it fully covers the paper
    "blue pen": (0.16, 0.22, 0.55),
    "black pen": (0.10, 0.10, 0.12),
    "dark blue": (0.10, 0.12, 0.35),
    "pencil-dark": (0.30, 0.30, 0.32),
}
DESKS = {  # reflectance of what is around the sheet with --desk, RGB
    "dark wood": (0.36, 0.23, 0.13),
    "grey desk": (0.45, 0.45, 0.46),
    "light desk": (0.78, 0.76, 0.72),
    "black desk": (0.08, 0.08, 0.09),
}
LINE_COLOURS = {"light blue": (0.55, 0.70, 0.92), "grey": (0.62, 0.62, 0.62), "dark grey": (0.45, 0.45, 0.47)}


class Sample:
    def __init__(self, label, photo, clean, info):
        self.label, self.photo, self.clean, self.info = label, photo, clean, info


# ---- digits as ink coverage ------------------------------------------------------

_mnist_cache = {}


def mnist_digits(folder):
    """(images (N,28,28) uint8, labels (N,)) of the MNIST test set."""
    if folder not in _mnist_cache:
        def read(name, header):
            path = os.path.join(folder, name)
            if not os.path.exists(path) and os.path.exists(path + ".gz"):
                import gzip
                with gzip.open(path + ".gz", "rb") as f:
                    return np.frombuffer(f.read()[header:], np.uint8)
            with open(path, "rb") as f:
                return np.frombuffer(f.read()[header:], np.uint8)
        images = read("t10k-images-idx3-ubyte", 16).reshape(-1, 28, 28)
        labels = read("t10k-labels-idx1-ubyte", 8)
        _mnist_cache[folder] = (images, labels)
    return _mnist_cache[folder]


def mnist_coverage(digit28, size, width, height, rng):
    """An MNIST digit (28x28, ink 255) enlarged so its 20-pixel box is size
    pixels tall, placed anywhere it fits on a width x height page."""
    scale = size / 20.0
    side = max(8, int(round(28 * scale)))
    big = Image.fromarray(digit28).resize((side, side), Image.BICUBIC)
    # MNIST's soft edges enlarged are a blur; a pen's edge is sharp.
    cov = np.clip((np.asarray(big, np.float32) / 255.0 - 0.25) / 0.5, 0, 1)
    page = np.zeros((height, width), np.float32)
    x = int(rng.integers(0, max(1, width - side)))
    y = int(rng.integers(0, max(1, height - side)))
    w, h = min(side, width - x), min(side, height - y)
    page[y:y + h, x:x + w] = cov[:h, :w]
    return page


# ---- the page ----------------------------------------------------------------------


def line_coverage(width, height, kind, rng):
    """Anti-aliased coverage of ruled or squared lines on the flat page."""
    ss = 4
    img = Image.new("L", (width * ss, height * ss), 0)
    d = ImageDraw.Draw(img)
    spacing = min(width, height) * rng.uniform(0.05, 0.11)
    thick = max(1.0, min(width, height) * rng.uniform(0.0015, 0.004))
    t = max(1, int(round(thick * ss)))
    y = rng.uniform(0, spacing)
    while y < height:
        d.line([(0, y * ss), (width * ss, y * ss)], fill=255, width=t)
        y += spacing
    if kind == "squared":
        x = rng.uniform(0, spacing)
        while x < width:
            d.line([(x * ss, 0), (x * ss, height * ss)], fill=255, width=t)
            x += spacing
    a = np.asarray(img, np.float32).reshape(height, ss, width, ss).mean(axis=(1, 3))
    return a / 255.0


def page_warp(width, height, rng):
    """PIL perspective coefficients (output pixel -> input pixel) for a turn
    of up to 4 degrees and corners moved by up to 3% of the size."""
    a = np.radians(rng.uniform(-4, 4))
    cx, cy = width / 2, height / 2
    src = np.array([[0, 0], [width, 0], [width, height], [0, height]], float)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dst = (src - [cx, cy]) @ rot.T + [cx, cy]
    dst += rng.uniform(-0.03, 0.03, (4, 2)) * [width, height]
    # Solve for the map from output (dst) to input (src) coordinates.
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    return np.linalg.solve(np.array(rows), np.array(rhs)).tolist()


def warp(plane, coeffs):
    h, w = plane.shape
    img = Image.fromarray(plane.astype(np.float32), mode="F")
    return np.asarray(img.transform((w, h), Image.PERSPECTIVE, coeffs, Image.BILINEAR), np.float32)


def illumination(width, height, rng):
    """Light falling on the page (per pixel, RGB), and a description."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    u, v = (xx + 0.5) / width - 0.5, (yy + 0.5) / height - 0.5
    level = rng.uniform(0.6, 1.0)
    a = rng.uniform(0, 2 * np.pi)
    light = level * (1 + rng.uniform(0, 0.5) * (np.cos(a) * u + np.sin(a) * v))
    cx, cy = rng.uniform(-0.2, 0.2, 2)
    light *= 1 - rng.uniform(0, 0.45) * ((u - cx) ** 2 + (v - cy) ** 2) / 0.5
    shadow = 0.0
    if rng.random() < 0.6:
        # A soft shadow: a half-plane (the edge of a phone or hand) or a blob.
        shadow = rng.uniform(0.15, 0.5)
        soft = rng.uniform(0.04, 0.15)
        if rng.random() < 0.6:
            b = rng.uniform(0, 2 * np.pi)
            edge = np.cos(b) * u + np.sin(b) * v - rng.uniform(-0.1, 0.35)
        else:
            bx, by, r = rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5), rng.uniform(0.15, 0.4)
            edge = r - np.hypot(u - bx, v - by)
        light *= 1 - shadow / (1 + np.exp(-edge / soft))
    cast = np.array([1.0, rng.uniform(0.93, 1.0), rng.uniform(0.8, 1.0)], np.float32)
    if rng.random() < 0.3:
        cast = cast[::-1].copy()  # a cold light
    return light[:, :, None] * cast, shadow


def desk_around(cov, width, height, rng):
    """Where the sheet is (1) and the desk (0), the sheet a quadrilateral
    whose sides lie 4-15% of the frame inside its edges (never closer to the
    ink than 3% of the frame), corners moved by up to 1%; and the desk's
    reflectance, grained."""
    ys, xs = np.nonzero(cov > 0.01)
    room = [xs.min() / width, ys.min() / height, 1 - (xs.max() + 1) / width, 1 - (ys.max() + 1) / height]
    inset = [max(0.0, min(rng.uniform(0.04, 0.15), r - 0.03)) for r in room]
    x0, y0, x1, y1 = inset[0] * width, inset[1] * height, (1 - inset[2]) * width, (1 - inset[3]) * height
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    jitter = rng.uniform(-0.01, 0.01, (4, 2)) * [width, height]  # less than the 3% kept from the ink
    corners = [(min(max(x + dx, 0), width), min(max(y + dy, 0), height)) for (x, y), (dx, dy) in zip(corners, jitter)]
    mask = Image.new("L", (width * 2, height * 2), 0)
    ImageDraw.Draw(mask).polygon([(2 * x, 2 * y) for x, y in corners], fill=255)
    sheet = np.asarray(mask.resize((width, height), Image.BILINEAR), np.float32) / 255
    name = list(DESKS)[int(rng.integers(len(DESKS)))]
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    a = rng.uniform(0, np.pi)
    along = np.cos(a) * xx + np.sin(a) * yy
    grain = 1 + 0.08 * np.sin(along / rng.uniform(6, 30) + 2 * np.sin(along / rng.uniform(80, 200)))
    desk = np.array(DESKS[name], np.float32)[None, None, :] * grain[:, :, None]
    return sheet, desk, name


def photograph(cov, width, height, rng, lines="mixed", coeffs=None, desk=False):
    """The photo (uint8 RGB or L) of ink coverage cov on a page, and what was
    done to it. coeffs: the page's perspective (page_warp), applied to its
    lines (cov is taken as already seen through it). desk: the sheet does not
    fill the frame; a desk shows around it (desk_around)."""
    paper_name = list(PAPERS)[int(rng.integers(len(PAPERS)))]
    paper = np.array(PAPERS[paper_name], np.float32) * rng.uniform(0.97, 1.03, 3)
    ink_name = list(INKS)[int(rng.integers(len(INKS)))]
    ink = np.array(INKS[ink_name], np.float32) * rng.uniform(0.85, 1.15, 3)
    if lines == "mixed":
        lines = ["none", "ruled", "squared"][int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
    refl = np.ones((height, width, 3), np.float32) * paper
    if lines != "none":
        lc = np.array(LINE_COLOURS[list(LINE_COLOURS)[int(rng.integers(len(LINE_COLOURS)))]], np.float32)
        lcov = line_coverage(width, height, lines, rng) * rng.uniform(0.5, 1.0)
        if coeffs is not None:
            lcov = np.clip(warp(lcov, coeffs), 0, 1)
        refl *= 1 - lcov[:, :, None] * (1 - lc)
    density = rng.uniform(0.8, 1.0)  # a pen is not quite opaque
    refl *= 1 - (density * cov)[:, :, None] * (1 - ink)
    desk_name = None
    if desk:
        sheet, desk_refl, desk_name = desk_around(cov, width, height, rng)
        refl = refl * sheet[:, :, None] + desk_refl * (1 - sheet[:, :, None])
    light, shadow = illumination(width, height, rng)
    img = np.clip(refl * light, 0, 1) * 255
    blur = rng.uniform(0.3, 1.4) * max(1.0, max(width, height) / 1000)
    pil = Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")
    pil = pil.filter(ImageFilter.GaussianBlur(blur))
    noise = rng.uniform(1.5, 7.0)
    arr = np.asarray(pil, np.float32)
    arr = arr + rng.normal(0, noise, arr.shape) + rng.normal(0, noise / 2, arr.shape[:2])[:, :, None]
    arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    if rng.random() < 0.1:
        arr = np.asarray(Image.fromarray(arr, "RGB").convert("L"))
    info = {"paper": paper_name + "/" + ink_name + ("/" + desk_name if desk_name else ""), "lines": lines, "shadow": round(float(shadow), 2),
            "blur": round(float(blur), 2), "noise": round(float(noise), 1)}
    return arr, info


def jpeg_bytes(photo, quality):
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=int(quality))
    return buf.getvalue()


def clean_drawing(cov):
    """The demo canvas's colours: ink 17 on white 255."""
    return np.clip(np.rint(255 - cov * (255 - 17)), 0, 255).astype(np.uint8)


def make_sample(rng, digit=None, source="strokes", number=None, lines="mixed", mnist=None, mnist_index=0,
                desk=False):
    """One photo and its clean drawing. source "strokes" draws digit (or the
    digits of number) with strokes.py; "mnist" uses MNIST test digit
    mnist_index (mnist = (images, labels)). desk: see photograph."""
    long_side = int(rng.integers(400, 1601))
    aspect = [4 / 3, 3 / 4, 1.0, 16 / 9, 9 / 16][int(rng.integers(5))]
    if aspect >= 1:
        width, height = long_side, max(200, int(round(long_side / aspect)))
    else:
        width, height = max(200, int(round(long_side * aspect))), long_side
    short = min(width, height)
    style = ""
    if number is not None:
        size = short * rng.uniform(0.12, 0.3)
        cov, _boxes, styles, _gaps = strokes.render_number(number, rng, width, height, size=size, coverage=True)
        label, style = number, "+".join(styles)
    elif source == "mnist":
        images, labels = mnist
        label = str(int(labels[mnist_index]))
        cov = mnist_coverage(images[mnist_index], short * rng.uniform(0.15, 0.45), width, height, rng)
        style = "mnist#%d" % mnist_index
    else:
        style = strokes.pick_style(digit, rng)
        size = short * rng.uniform(0.15, 0.45)
        pen = max(1.5, size * rng.uniform(0.04, 0.12))
        cov, _box = strokes.render_digit(digit, style, rng, width, height, size=size, pen=pen, coverage=True)
        label = str(digit)
    coeffs = page_warp(width, height, rng)
    cov = np.clip(warp(cov, coeffs), 0, 1)
    photo, info = photograph(cov, width, height, rng, lines, coeffs, desk)
    info["quality"] = int(rng.integers(35, 93))
    info["style"] = style
    info["width"], info["height"] = width, height
    return Sample(label, photo, clean_drawing(cov), info)


FIELDS = ["name", "label", "source", "style", "paper", "lines", "shadow", "blur", "noise", "quality", "width",
          "height"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--source", choices=("mixed", "strokes", "mnist"), default="mixed")
    ap.add_argument("--mnist", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                                   "datasets", "mnist"))
    ap.add_argument("--number", action="store_true", help="numbers of 2-5 digits drawn with strokes")
    ap.add_argument("--lines", choices=("mixed", "none", "ruled", "squared"), default="mixed")
    ap.add_argument("--desk", action="store_true", help="the sheet does not fill the frame: a desk around it")
    a = ap.parse_args(argv)
    mnist = mnist_digits(a.mnist) if a.source != "strokes" and not a.number else None
    for sub in ("photo", "clean"):
        os.makedirs(os.path.join(a.out, sub), exist_ok=True)
    with open(os.path.join(a.out, "labels.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        for i in range(a.count):
            rng = np.random.default_rng([a.seed, i])
            source = a.source if a.source != "mixed" else ("strokes", "mnist")[i % 2]
            if a.number:
                n = int(rng.integers(2, 6))
                text = "".join(str(int(rng.integers(10))) for _ in range(n))
                s = make_sample(rng, number=text, lines=a.lines, desk=a.desk)
                source = "strokes"
            elif source == "mnist":
                s = make_sample(rng, source="mnist", lines=a.lines, mnist=mnist,
                                mnist_index=(a.seed * 7919 + i) % len(mnist[1]), desk=a.desk)
            else:
                s = make_sample(rng, digit=(i // 2 if a.source == "mixed" else i) % 10, source="strokes",
                                lines=a.lines, desk=a.desk)
            name = "%05d" % i
            with open(os.path.join(a.out, "photo", name + ".jpg"), "wb") as out:
                out.write(jpeg_bytes(s.photo, s.info["quality"]))
            Image.fromarray(s.clean).save(os.path.join(a.out, "clean", name + ".png"))
            w.writerow([name, s.label, source] + [s.info[k] for k in FIELDS[3:]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
