#!/usr/bin/env python3
"""Writes the images tests/install/test_install.sh runs the examples on, with
nothing but Python's standard library:
  digit-I.pgm     MNIST test image I as it is (light ink on black), 28x28
  digit-I.png     the same image inverted (dark ink on white paper)
  number-AB.pgm   test images A and B side by side on a wider canvas
  blank.pgm       a uniform gray image (no digit in it)
and labels.txt: one line "NAME LABEL" per digit image, "NAME TEXT" per number.

usage: make_inputs.py MNIST_DIR OUT_DIR COUNT
"""
import gzip
import os
import struct
import sys
import zlib


def read_idx(path):
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise ValueError("%s: not an unsigned-byte IDX file" % path)
    ndim = data[3]
    dims = struct.unpack(">%dI" % ndim, data[4:4 + 4 * ndim])
    return dims, data[4 + 4 * ndim:]


def write_pgm(path, width, height, pixels):
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (width, height) + bytes(pixels))


def write_png(path, width, height, pixels):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + bytes(pixels[y * width:(y + 1) * width]) for y in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit gray
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9)) +
                chunk(b"IEND", b""))


def main():
    mnist, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    (n, h, w), images = read_idx(os.path.join(mnist, "t10k-images-idx3-ubyte"))
    (_,), labels = read_idx(os.path.join(mnist, "t10k-labels-idx1-ubyte"))
    side = h * w

    def image(i):
        return images[i * side:(i + 1) * side]

    lines = []
    for i in range(min(count, n)):
        write_pgm(os.path.join(out, "digit-%d.pgm" % i), w, h, image(i))
        write_png(os.path.join(out, "digit-%d.png" % i), w, h, [255 - v for v in image(i)])
        lines.append("digit-%d %d" % (i, labels[i]))
    # Numbers: two test images side by side, 10 pixels of margin around.
    for a, b in ((0, 1), (4, 2)):
        width, height = 2 * w + 20, h + 20
        canvas = [0] * (width * height)
        for k, i in enumerate((a, b)):
            for y in range(h):
                for x in range(w):
                    canvas[(y + 10) * width + 10 + k * w + x] = image(i)[y * w + x]
        name = "number-%d%d" % (labels[a], labels[b])
        write_pgm(os.path.join(out, name + ".pgm"), width, height, canvas)
        lines.append("%s %d%d" % (name, labels[a], labels[b]))
    write_pgm(os.path.join(out, "blank.pgm"), 40, 40, [128] * 1600)
    with open(os.path.join(out, "labels.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
