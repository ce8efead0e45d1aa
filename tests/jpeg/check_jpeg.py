#!/usr/bin/env python3
"""Checks digitnet's JPEG reader against an independent decoder, libjpeg
(through PIL), on JPEG files of every kind made by PIL and by libjpeg-turbo's
cjpeg and jpegtran: gray and colour, quality 10..100, sampling 4:4:4, 4:2:2,
4:2:0, 4:1:1 and others (2x1, 1x2, 4x1, 1x4, 3x1, 4x2, chroma sampled above
luma), progressive, restart intervals, optimised Huffman tables, several
sequential scans, RGB JPEGs (Adobe transform 0), odd sizes (1x1 .. 640x480)
and EXIF orientations 1-8 in both byte orders. Arithmetic-coded and CMYK
files must be refused as unsupported.

The reference gray is libjpeg's own luma: for YCbCr files PIL is asked for
YCbCr output (Image.draft), so no colour conversion comes in between, and Y
is compared; gray files directly; RGB files as 0.299 R + 0.587 G + 0.114 B
in float, as digitnet computes it. EXIF orientation is applied to the
reference with the transposes of PIL's ImageOps.exif_transpose.

Tolerance: both decoders start from the same quantised coefficients; they
differ only in the inverse DCT (libjpeg's default is the accurate integer
one, JDCT_ISLOW, with 13-bit fixed-point constants; digitnet's is float)
and in rounding, so a sample may differ by a level or two. Where luma is
sampled below the image size (only in the "chroma above luma" case),
libjpeg interpolates (triangle filter, "fancy upsampling") and digitnet
replicates: there the reference is libjpeg's replication instead,
`djpeg -nosmooth` (-grayscale for YCbCr: libjpeg's gray is its Y).
Measured (see the last lines this script prints): docs/reliability.md.

usage: check_jpeg.py PATH_TO_test_jpeg
Exits 77 (skipped) without PIL or numpy; cases needing cjpeg/jpegtran are
skipped with a message when those are missing (Debian: libjpeg-turbo-progs).
"""
import io
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from PIL import Image
except ImportError as e:
    print(f"PIL or numpy is missing ({e}; apt-get install python3-pil python3-numpy): skipped")
    sys.exit(77)

# Tolerances, in levels of 255 (see the docstring). The mean is checked on
# images of at least 64 pixels (in a 1x1 image the mean is the maximum).
MAX_DIFF = 2
MEAN_DIFF = 0.15

SIZES = [(1, 1), (2, 3), (8, 8), (17, 9), (99, 61), (64, 48), (250, 130), (640, 480)]


def scene(w, h, seed):
    """An RGB picture with smooth gradients, edges, text-like strokes and noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(x / max(w, 1) * 6.3 + seed)
    g = 255 * y / max(h - 1, 1)
    b = 128 + 90 * np.cos((x + y) / 7.0)
    img = np.stack([r, g, b], axis=-1)
    # a dark box and a bright disc: sharp edges
    img[h // 4: h // 2 + 1, w // 5: w // 2 + 1] = (20, 30, 40)
    disc = (x - 0.7 * w) ** 2 + (y - 0.6 * h) ** 2 < (0.2 * min(w, h)) ** 2
    img[disc] = (250, 240, 200)
    # strokes
    for k in range(3):
        row = int(h * (0.2 + 0.3 * k)) % max(h, 1)
        img[row, :, :] = (0, 0, 0)
    img += rng.normal(0, 8, img.shape)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")


def read_ours(path):
    with open(path, "rb") as f:
        data = f.read()
    nl = data.index(b"\n")
    w, h = map(int, data[:nl].split())
    return np.frombuffer(data[nl + 1:], dtype="<f4").reshape(h, w).astype(np.float64) * 255.0


def reference(path, replicate=False):
    """libjpeg's gray for the file, upright, in levels 0..255 (float)."""
    if replicate:
        rgb = Image.open(path).info.get("adobe_transform") == 0
        args = ["djpeg", "-nosmooth", "-pnm"] + ([] if rgb else ["-grayscale"])
        a = np.asarray(Image.open(io.BytesIO(subprocess.run(args + [path], capture_output=True, check=True).stdout)))
        a = a.astype(np.float64)
        if rgb:
            a = 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]
        return a, 1
    im = Image.open(path)
    orientation = im.getexif().get(0x0112, 1)
    rgb = im.mode == "RGB" and im.info.get("adobe_transform") == 0
    if im.mode == "RGB" and not rgb:
        im.draft("YCbCr", im.size)  # libjpeg's YCbCr output: no conversion to RGB
        if im.mode != "YCbCr":
            raise RuntimeError(f"{path}: PIL would not give YCbCr ({im.mode})")
    a = np.asarray(im).astype(np.float64)
    if rgb:
        a = 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]
    elif a.ndim == 3:
        a = a[..., 0]
    t = {2: Image.FLIP_LEFT_RIGHT, 3: Image.ROTATE_180, 4: Image.FLIP_TOP_BOTTOM, 5: Image.TRANSPOSE,
         6: Image.ROTATE_270, 7: Image.TRANSVERSE, 8: Image.ROTATE_90}.get(orientation)
    if t is not None:
        # PIL's exif_transpose table, on float data (mode "F") so nothing is rounded
        a = np.asarray(Image.fromarray(a.astype(np.float32), "F").transpose(t)).astype(np.float64)
    return a, orientation


class Runner:
    def __init__(self, test_jpeg, work):
        self.test_jpeg = test_jpeg
        self.work = work
        self.n = 0
        self.failures = []
        self.worst = {"normal": [0.0, 0.0], "upsampled": [0.0, 0.0]}
        self.counts = {"normal": 0, "upsampled": 0}
        self.skipped = 0

    def file(self, name, data):
        path = os.path.join(self.work, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def decode(self, path):
        out = path + ".raw"
        p = subprocess.run([self.test_jpeg, "--decode", path, out], capture_output=True, text=True)
        return p.returncode, p.stderr.strip(), out

    def compare(self, name, data, upsampled=False):
        self.n += 1
        path = self.file(name, data)
        rc, err, out = self.decode(path)
        if rc != 0:
            self.failures.append(f"{name}: digitnet refused it: {err}")
            return
        ours = read_ours(out)
        ref, orientation = reference(path, upsampled)
        if ours.shape != ref.shape:
            self.failures.append(f"{name}: size {ours.shape[::-1]}, libjpeg {ref.shape[::-1]} "
                                 f"(orientation {orientation})")
            return
        diff = np.abs(ours - ref)
        mx, mean = float(diff.max()), float(diff.mean())
        group = "upsampled" if upsampled else "normal"
        self.counts[group] += 1
        w = self.worst[group]
        if diff.size < 64:
            mean = 0.0
        w[0], w[1] = max(w[0], mx), max(w[1], mean)
        if mx > MAX_DIFF + 1e-3 or mean > MEAN_DIFF:
            self.failures.append(f"{name}: max diff {mx:.2f}, mean {mean:.3f} levels (limits {MAX_DIFF}, {MEAN_DIFF})")

    def refused(self, name, data, words):
        self.n += 1
        path = self.file(name, data)
        rc, err, _ = self.decode(path)
        if rc == 0 or not any(w in err for w in words):
            self.failures.append(f"{name}: expected a refusal naming {words}, got exit {rc}: {err!r}")


def pil_jpeg(img, **kw):
    buf = io.BytesIO()
    img.save(buf, "JPEG", **kw)
    return buf.getvalue()


def netpbm(img):
    buf = io.BytesIO()
    img.save(buf, "PPM")
    return buf.getvalue()


def tool(args, data):
    p = subprocess.run(args, input=data, capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {p.stderr.decode(errors='replace')}")
    return p.stdout


def exif_bytes(orientation, big_endian):
    e = Image.Exif()
    e[0x0112] = orientation
    data = e.tobytes()  # "Exif\0\0" + little-endian TIFF
    if not big_endian:
        return data
    # the same IFD in big-endian order, built by hand
    import struct
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(">I", 0)
    return b"Exif\x00\x00" + tiff


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    test_jpeg = os.path.abspath(sys.argv[1])
    have_tools = shutil.which("cjpeg") and shutil.which("jpegtran") and shutil.which("djpeg")
    with tempfile.TemporaryDirectory(prefix="dn-jpeg-") as work:
        r = Runner(test_jpeg, work)
        for si, (w, h) in enumerate(SIZES):
            rgb = scene(w, h, si)
            gray = rgb.convert("L")
            big = w * h >= 250 * 130
            qualities = [10, 50, 90] if big else [10, 25, 50, 75, 90, 95, 100]
            for q in qualities:
                r.compare(f"pil-gray-{w}x{h}-q{q}.jpg", pil_jpeg(gray, quality=q))
                for sub in (0, 1, 2):
                    r.compare(f"pil-ycc{['444', '422', '420'][sub]}-{w}x{h}-q{q}.jpg",
                              pil_jpeg(rgb, quality=q, subsampling=sub))
            for q in (30, 85):
                r.compare(f"pil-gray-prog-{w}x{h}-q{q}.jpg", pil_jpeg(gray, quality=q, progressive=True))
                r.compare(f"pil-gray-opt-{w}x{h}-q{q}.jpg", pil_jpeg(gray, quality=q, optimize=True))
                for sub in (0, 2):
                    r.compare(f"pil-ycc-prog-s{sub}-{w}x{h}-q{q}.jpg",
                              pil_jpeg(rgb, quality=q, progressive=True, subsampling=sub))
                    r.compare(f"pil-ycc-opt-s{sub}-{w}x{h}-q{q}.jpg",
                              pil_jpeg(rgb, quality=q, optimize=True, subsampling=sub))
            # EXIF orientation, both byte orders
            if w * h <= 99 * 61:
                for o in range(1, 9):
                    for be in (False, True):
                        r.compare(f"pil-exif{o}{'be' if be else 'le'}-{w}x{h}.jpg",
                                  pil_jpeg(rgb, quality=80, exif=exif_bytes(o, be)))
                    r.compare(f"pil-gray-prog-exif{o}-{w}x{h}.jpg",
                              pil_jpeg(gray, quality=80, progressive=True, exif=exif_bytes(o, False)))

            if not have_tools:
                continue
            ppm, pgm = netpbm(rgb), netpbm(gray)
            samplings = ["1x1", "2x1", "1x2", "2x2", "4x1", "1x4", "4x2", "2x4", "3x1", "1x3", "3x2", "2x3"]
            for s in samplings:
                q = 20 + (7 * si + 13 * samplings.index(s)) % 80
                base = tool(["cjpeg", "-quality", str(q), "-sample", s], ppm)
                r.compare(f"cjpeg-{s}-{w}x{h}-q{q}.jpg", base)
                r.compare(f"cjpeg-{s}-prog-{w}x{h}.jpg", tool(["jpegtran", "-progressive"], base))
                r.compare(f"cjpeg-{s}-restart1B-{w}x{h}.jpg", tool(["jpegtran", "-restart", "1B"], base))
                r.compare(f"cjpeg-{s}-prog-restart3B-{w}x{h}.jpg",
                          tool(["jpegtran", "-progressive", "-restart", "3B"], base))
            # chroma sampled above luma: luma is replicated (libjpeg's -nosmooth)
            for s in ("1x1,2x2,1x1", "1x1,2x1,1x1", "1x1,1x2,1x2", "2x1,4x1,1x1", "1x1,3x1,1x1"):
                r.compare(f"cjpeg-luma-low-{s.replace(',', '-')}-{w}x{h}.jpg",
                          tool(["cjpeg", "-quality", "90", "-sample", s], ppm), upsampled=True)
            # RGB with G and B sampled below R
            r.compare(f"cjpeg-rgb-2x2-{w}x{h}.jpg", tool(["cjpeg", "-rgb", "-sample", "2x2,1x1,1x1"], ppm),
                      upsampled=True)
            for q in (10, 60, 100):
                r.compare(f"cjpeg-gray-q{q}-{w}x{h}.jpg", tool(["cjpeg", "-quality", str(q), "-grayscale"], pgm))
                r.compare(f"cjpeg-restart1row-q{q}-{w}x{h}.jpg",
                          tool(["cjpeg", "-quality", str(q), "-restart", "1"], ppm))
                r.compare(f"cjpeg-prog-opt-q{q}-{w}x{h}.jpg",
                          tool(["cjpeg", "-quality", str(q), "-progressive", "-optimize"], ppm))
                r.compare(f"cjpeg-rgb-q{q}-{w}x{h}.jpg", tool(["cjpeg", "-quality", str(q), "-rgb"], ppm))
                r.compare(f"cjpeg-rgb-prog-q{q}-{w}x{h}.jpg",
                          tool(["cjpeg", "-quality", str(q), "-rgb", "-progressive"], ppm))
            # several sequential scans: one per component, and split spectra
            script = os.path.join(work, "scans.txt")
            with open(script, "w") as f:
                f.write("0;\n1;\n2;\n")
            r.compare(f"cjpeg-3scans-{w}x{h}.jpg", tool(["cjpeg", "-scans", script, "-sample", "2x2"], ppm))
            with open(script, "w") as f:
                f.write("0,1,2: 0-0, 0, 1;\n0: 1-9, 0, 0;\n0: 10-63, 0, 2;\n1: 1-63, 0, 0;\n2: 1-63, 0, 0;\n"
                        "0: 10-63, 2, 1;\n0: 10-63, 1, 0;\n0,1,2: 0-0, 1, 0;\n")
            r.compare(f"cjpeg-custom-prog-{w}x{h}.jpg", tool(["cjpeg", "-scans", script], ppm))
            r.refused(f"cjpeg-arith-{w}x{h}.jpg", tool(["cjpeg", "-arithmetic"], ppm), ["arithmetic"])
            r.refused(f"cjpeg-arith-prog-{w}x{h}.jpg", tool(["cjpeg", "-arithmetic", "-progressive"], ppm),
                      ["arithmetic"])
        # flat images: the most blocks per byte, the most scan work per byte
        for mode, fill in (("L", 200), ("RGB", (90, 160, 30))):
            flat = Image.new(mode, (2048, 1536), fill)
            r.compare(f"pil-flat-{mode}-prog-2048x1536.jpg", pil_jpeg(flat, quality=75, progressive=True))
            r.compare(f"pil-flat-{mode}-2048x1536.jpg", pil_jpeg(flat, quality=75))
        r.refused("pil-cmyk.jpg", pil_jpeg(scene(40, 30, 9).convert("CMYK")), ["CMYK"])
        if not have_tools:
            print("cjpeg/jpegtran/djpeg not found (apt-get install libjpeg-turbo-progs): their cases were skipped")

        for f in r.failures:
            print("FAIL", f)
        nw, uw = r.worst["normal"], r.worst["upsampled"]
        print(f"{r.counts['normal']} files against PIL: worst max diff {nw[0]:.2f}, worst mean diff {nw[1]:.3f} "
              f"levels of 255 (limits {MAX_DIFF}, {MEAN_DIFF})")
        print(f"{r.counts['upsampled']} files with luma sampled below the image, against djpeg -nosmooth: worst max "
              f"{uw[0]:.2f}, worst mean {uw[1]:.3f}")
        print(f"{r.n - len(r.failures)} passed, {len(r.failures)} failed")
        return 1 if r.failures else 0


if __name__ == "__main__":
    sys.exit(main())
