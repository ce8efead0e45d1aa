#!/usr/bin/env python3
"""make_jpeg_corpus.py - writes the seed corpus of fuzz_jpeg under
tests/fuzz/corpus/jpeg/: small valid JPEGs of each kind the reader takes
(gray and colour, baseline, progressive, restart intervals, every common
sampling and some odd ones, RGB, several scans, EXIF orientation in both
byte orders) and a few it refuses (arithmetic coding, CMYK).
Needs PIL and numpy (python3-pil, python3-numpy) and libjpeg-turbo-progs:
    python3 tests/fuzz/make_jpeg_corpus.py
The images are fixed; the bytes depend on the libjpeg version."""
import io
import os
import struct
import subprocess
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "jpeg")


def picture(w, h):
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // max(w - 1, 1)).astype(np.uint8)
    g = (y * 255 // max(h - 1, 1)).astype(np.uint8)
    b = (((x // 3 + y // 3) % 2) * 200).astype(np.uint8)
    return Image.fromarray(np.stack([r, g, b], axis=-1), "RGB")


def pil(img, **kw):
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def tool(args, data):
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


def ppm(img):
    buf = io.BytesIO()
    img.save(buf, "PPM")
    return buf.getvalue()


def exif(orientation, big):
    e = "MM\x00*" if big else "II*\x00"
    f = ">" if big else "<"
    tiff = e.encode("latin1") + struct.pack(f + "I", 8) + struct.pack(f + "H", 1)
    tiff += struct.pack(f + "HHI", 0x0112, 3, 1) + struct.pack(f + "HH", orientation, 0) + struct.pack(f + "I", 0)
    return b"Exif\x00\x00" + tiff


def seeds():
    img = picture(16, 16)
    gray = img.convert("L")
    yield "gray-16x16.jpg", pil(gray, quality=75)
    yield "gray-1x1.jpg", pil(picture(1, 1).convert("L"), quality=50)
    yield "gray-prog-17x9.jpg", pil(picture(17, 9).convert("L"), quality=60, progressive=True)
    yield "ycc420-16x16.jpg", pil(img, quality=60, subsampling=2)
    yield "ycc422-17x9.jpg", pil(picture(17, 9), quality=60, subsampling=1)
    yield "ycc444-prog-16x16.jpg", pil(img, quality=60, subsampling=0, progressive=True)
    yield "ycc420-prog-opt-24x16.jpg", pil(picture(24, 16), quality=40, progressive=True, optimize=True)
    yield "exif6-le-16x8.jpg", pil(picture(16, 8).convert("L"), quality=50, exif=exif(6, False))
    yield "exif8-be-16x8.jpg", pil(picture(16, 8), quality=50, exif=exif(8, True))
    p = ppm(picture(20, 12))
    yield "cjpeg-restart1B-20x12.jpg", tool(["cjpeg", "-quality", "50", "-restart", "1B"], p)
    yield "cjpeg-4x1-prog-restart2B-20x12.jpg", tool(
        ["jpegtran", "-progressive", "-restart", "2B"], tool(["cjpeg", "-quality", "50", "-sample", "4x1"], p))
    yield "cjpeg-3x2-20x12.jpg", tool(["cjpeg", "-quality", "50", "-sample", "3x2"], p)
    yield "cjpeg-luma-low-20x12.jpg", tool(["cjpeg", "-quality", "50", "-sample", "1x1,2x2,1x1"], p)
    yield "cjpeg-rgb-20x12.jpg", tool(["cjpeg", "-quality", "50", "-rgb"], p)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("0;\n1;\n2;\n")
    try:
        yield "cjpeg-3scans-20x12.jpg", tool(["cjpeg", "-quality", "50", "-scans", f.name], p)
    finally:
        os.unlink(f.name)
    yield "cjpeg-arith-20x12.jpg", tool(["cjpeg", "-quality", "50", "-arithmetic"], p)
    yield "cmyk-8x8.jpg", pil(picture(8, 8).convert("CMYK"), quality=50)


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
        print(f"{name}: {len(data)} bytes")


if __name__ == "__main__":
    main()
