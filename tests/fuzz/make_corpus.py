#!/usr/bin/env python3
"""make_corpus.py - writes the libFuzzer seed corpora under tests/fuzz/corpus/.

Every seed is a small valid example of its format, made deterministically
(gzip mtime 0, fixed numbers), so rerunning this script gives the same bytes:
    python3 tests/fuzz/make_corpus.py
Only the standard library is needed."""
import gzip
import json
import os
import shutil
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "corpus")
FIXTURES = os.path.join(HERE, "..", "fixtures")


def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data, level=9):
    return gzip.compress(data, compresslevel=level, mtime=0)


def deflate(data, level=9, strategy=zlib.Z_DEFAULT_STRATEGY):
    c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
    return c.compress(data) + c.flush()


# ---- IDX -------------------------------------------------------------------

def idx(type_byte, dims, payload):
    head = bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    return head + payload


def idx_seeds():
    images = idx(0x08, [2, 3, 3], bytes(range(0, 18 * 14, 14)))
    labels = idx(0x08, [2], bytes([3, 7]))
    yield "images-u8-2x3x3.idx", images
    yield "labels-u8-2.idx", labels
    yield "i8-4.idx", idx(0x09, [4], bytes([0, 1, 0x7F, 0x80]))
    yield "i16-2x2.idx", idx(0x0B, [2, 2], struct.pack(">4h", 1, -1, 32767, -32768))
    yield "i32-3.idx", idx(0x0C, [3], struct.pack(">3i", 0, -7, 1 << 30))
    yield "f32-1x1x2x2.idx", idx(0x0D, [1, 1, 2, 2], struct.pack(">4f", 0.0, 0.5, -1.5, 255.0))
    yield "f64-2.idx", idx(0x0E, [2], struct.pack(">2d", 0.1307, 0.3081))
    yield "images-u8-2x3x3.idx.gz", gz(images)
    yield "labels-u8-2.idx.gz", gz(labels, 1)


# ---- gzip / deflate ----------------------------------------------------------
# Byte 0 of a fuzz_gzip input is the mode: bit 0 = gzip (1) or raw deflate (0),
# bits 1..5 = log2 of the output bound (> 24: none).

def gzip_seeds():
    text = b"Hello, hello, hello! Fixed Huffman codes for short inputs.\n"
    mixed = bytes((i * i + 7 * i) & 0xFF for i in range(600)) + b"abcabcabcabcabc" * 20 + bytes(300)
    unbounded = 31 << 1
    small = 10 << 1
    yield "gzip-fixed", bytes([1 | unbounded]) + gz(text)
    yield "gzip-dynamic", bytes([1 | unbounded]) + gz(mixed)
    yield "gzip-stored", bytes([1 | unbounded]) + gz(bytes((i * 37) & 0xFF for i in range(256)), 0)
    yield "gzip-empty", bytes([1 | unbounded]) + gz(b"")
    yield "gzip-two-members", bytes([1 | unbounded]) + gz(b"first ") + gz(b"second\n")
    # FNAME, FCOMMENT, FEXTRA and FHCRC in one header.
    body = deflate(text)
    head = bytearray(b"\x1f\x8b\x08\x1e\x00\x00\x00\x00\x00\x03")
    head += struct.pack("<H", 4) + b"ab\x00\x00"
    head += b"name.txt\x00" + b"a comment\x00"
    head += struct.pack("<H", zlib.crc32(bytes(head)) & 0xFFFF)
    trailer = struct.pack("<II", zlib.crc32(text), len(text))
    yield "gzip-all-header-fields", bytes([1 | unbounded]) + bytes(head) + body + trailer
    yield "gzip-bounded", bytes([1 | small]) + gz(mixed)
    yield "inflate-fixed", bytes([unbounded]) + deflate(text)
    yield "inflate-dynamic", bytes([unbounded]) + deflate(mixed)
    yield "inflate-rle", bytes([unbounded]) + deflate(bytes(500) + b"x" * 300, 9, zlib.Z_RLE)
    yield "inflate-stored", bytes([unbounded]) + deflate(mixed[:200], 0)
    yield "inflate-bounded", bytes([small]) + deflate(mixed)
    short = os.path.join(FIXTURES, "gzip", "short-9n.gz")
    if os.path.exists(short):
        with open(short, "rb") as f:
            yield "fixture-short-9n", bytes([1 | unbounded]) + f.read()


# ---- safetensors -------------------------------------------------------------

def safetensors(tensors, metadata=None, pad=True):
    """tensors: list of (name, dtype, shape, raw bytes)."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(t[3] for t in tensors)


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


def safetensors_seeds():
    yield "f32-one.safetensors", safetensors([("w", "F32", [2, 2], f32(1, 2, 3, 4))])
    yield "mixed-dtypes.safetensors", safetensors([
        ("a", "F32", [3], f32(0.5, -1, 2)),
        ("b", "F64", [2], struct.pack("<2d", 1e300, -0.25)),
        ("c", "F16", [2], struct.pack("<2e", 1.5, -2.0)),
        ("d", "BF16", [1, 2], bytes([0x80, 0x3F, 0x00, 0xC0])),
        ("scalar", "F32", [], f32(7)),
        ("empty", "F32", [0, 3], b""),
        ("four", "F32", [1, 1, 1, 2], f32(1, 2)),
    ], {"format": "pt", "note": "caf\u00e9"})
    yield "metadata-only.safetensors", safetensors([], {"k": "v"})
    yield "empty-object.safetensors", safetensors([])
    small = os.path.join(FIXTURES, "torch_small.safetensors")
    if os.path.exists(small):
        with open(small, "rb") as f:
            yield "fixture-torch_small.safetensors", f.read()


# ---- model files and checkpoints ----------------------------------------------

def model_tensors(arch_params):
    out = []
    k = 0
    for name, shape in arch_params:
        n = 1
        for s in shape:
            n *= s
        out.append((name, "F32", shape, f32(*[((k + i) % 7 - 3) / 10 for i in range(n)])))
        k += n
    return out


MLP_TINY = ("input 1x2x2; flatten; linear 3; relu; linear 2",
            [("fc1.weight", [3, 4]), ("fc1.bias", [3]), ("fc2.weight", [2, 3]), ("fc2.bias", [2])])
CNN_TINY = ("input 1x4x4; conv 2 3; relu; maxpool 2; flatten; linear 2",
            [("conv1.weight", [2, 1, 3, 3]), ("conv1.bias", [2]), ("fc1.weight", [2, 2]),
             ("fc1.bias", [2])])


def model_seeds():
    meta = {"input_mean": "0.1307", "input_std": "0.3081", "producer": "digitnet 0.1.0"}
    for label, (arch, params) in (("mlp", MLP_TINY), ("cnn", CNN_TINY)):
        tensors = model_tensors(params)
        full = dict(meta, arch=arch, epochs="3", seed="42", test_accuracy="0.5",
                    train_images="100")
        yield "model-%s.safetensors" % label, safetensors(tensors, full)
        count = sum(len(t[3]) // 4 for t in tensors)
        sgd = dict(full, optimizer="sgd", optimizer_steps="10", epoch="1", lr="0.01",
                   momentum="0.9", weight_decay="0", beta1="0.9", beta2="0.999", eps="1e-08",
                   nesterov="1")
        state = [("optimizer.momentum_buffer", "F32", [count], f32(*[0.01] * count))]
        yield "checkpoint-sgd-%s.safetensors" % label, safetensors(tensors + state, sgd)
    tensors = model_tensors(MLP_TINY[1])
    count = sum(len(t[3]) // 4 for t in tensors)
    adam = dict(meta, arch=MLP_TINY[0], optimizer="adam", optimizer_steps="4", epoch="2",
                lr="0.001", momentum="0", weight_decay="0.0001", beta1="0.9", beta2="0.999",
                eps="1e-08", nesterov="0")
    state = [("optimizer.exp_avg", "F32", [count], f32(*[0.5] * count)),
             ("optimizer.exp_avg_sq", "F32", [count], f32(*[0.25] * count))]
    yield "checkpoint-adam-mlp.safetensors", safetensors(tensors + state, adam)
    # No "arch": the loader must recognise a preset by its tensors. The real
    # presets are too large for a seed, so these only reach the matching code.
    yield "no-arch.safetensors", safetensors(model_tensors(MLP_TINY[1]), {"format": "pt"})


# ---- PGM --------------------------------------------------------------------

def pgm_seeds():
    # A 7 drawn in a 12x12 image: light ink on dark, and dark on light.
    rows = ["............", ".#########..", "........##..", ".......##...", "......##....",
            ".....##.....", "....##......", "....##......", "...##.......", "...##.......",
            "............", "............"]
    light = [255 if c == "#" else 0 for r in rows for c in r]
    dark = [255 - v for v in light]
    yield "p5-12x12-light-on-dark.pgm", b"P5\n12 12\n255\n" + bytes(light)
    yield "p5-12x12-dark-on-light.pgm", b"P5 12 12 255 " + bytes(dark)
    lines = "\n".join(" ".join(str(v * 15 // 255) for v in light[r * 12:(r + 1) * 12]) for r in range(12))
    yield "p2-12x12-maxval15.pgm", "P2\n# a comment\n12 12\n15\n" + lines + "\n"
    yield "p5-2x2-16bit.pgm", b"P5\n2 2\n65535\n" + struct.pack(">4H", 0, 65535, 1000, 30000)
    yield "p5-comment-after-maxval.pgm", b"P5 3 2 255#c\n" + bytes([0, 128, 255, 255, 128, 0])
    yield "p2-1x1.pgm", "P2 1 1 1 1\n"
    yield "p5-blank-28x28.pgm", b"P5 28 28 255\n" + bytes([200] * 784)
    # Thin strokes on a larger canvas (exercises the dilation step).
    w = h = 64
    thin = bytearray(w * h)
    for i in range(10, 54):
        thin[i * w + 32] = 255
        thin[12 * w + i] = 255
    yield "p5-64x64-thin.pgm", b"P5 64 64 255\n" + bytes(thin)
    yield "p5-96x72-photo.pgm", photo_pgm()


def photo_pgm():
    """A photo of paper (the paper path of the preprocessing): a bold 7 on
    paper lit unevenly, vignetted, in a shadow on the right, ruled with
    lines turned a little, and noise (a fixed LCG)."""
    w, h = 96, 72
    state = 12345
    px = bytearray(w * h)
    for y in range(h):
        for x in range(w):
            state = (state * 1103515245 + 12345) % 2 ** 31
            u, v = x / w - 0.5, y / h - 0.5
            light = (0.9 + 0.2 * u) * (1 - 0.5 * (u * u + v * v)) * (0.6 if x > 70 else 1.0)
            paper = 0.9 * (0.7 if (y + x // 24) % 12 == 0 else 1.0)
            ink = (20 <= y <= 26 and 30 <= x <= 62) or (abs((x - 62) + (y - 26) * 0.5) < 3.5 and 26 <= y <= 62)
            value = paper * (0.25 if ink else 1.0) * light * 255 + (state % 17) - 8
            px[y * w + x] = max(0, min(255, int(value)))
    return b"P5 96 72 255\n" + bytes(px)


# ---- specs ------------------------------------------------------------------

def spec_seeds():
    yield "preset-mlp", "mlp"
    yield "preset-cnn", "cnn"
    yield "preset-cnn-dropout", "cnn-dropout"
    yield "spec-mlp", "input 1x28x28; flatten; linear 128; relu; linear 256; relu; linear 10"
    yield "spec-cnn", ("input 1x28x28; conv 32 3; relu; conv 64 3; relu; maxpool 2; flatten; "
                       "linear 128; relu; linear 10")
    yield "spec-cnn-dropout", ("input 1x28x28; conv 32 3; relu; conv 64 3; relu; maxpool 2; "
                               "dropout 0.25; flatten; linear 128; relu; dropout 0.5; linear 10")
    yield "spec-options", "input 3x9x7\nconv 4 3x2 stride=2 pad=1\nrelu\nmaxpool 2 stride=1\nflatten\nlinear 5"
    yield "spec-tiny", "input 1x1x2; flatten; linear 2"
    yield "spec-batchnorm", ("input 1x12x12; conv 8 3; batchnorm; relu; conv 8 3; batchnorm momentum=0.2; relu; "
                             "maxpool 2; flatten; linear 16; batchnorm eps=0.001; relu; linear 3")


# ---- dn-canvas requests ------------------------------------------------------
# Byte 0 of a fuzz_http input picks the body limit (odd: 2 MiB, even: that
# many bytes); the rest is what a client sent.

def http_seeds():
    big = b"\x01"
    yield "get-health", big + b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    yield "post-raw", big + (b"POST /api/predict?w=28&h=28 HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Type: application/octet-stream\r\nContent-Length: 784\r\n\r\n")
    yield "post-continue", big + (b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n"
                                  b"Expect: 100-continue\r\nConnection: keep-alive, Upgrade\r\n\r\nP5 2 2 255\n")
    yield "http10-keepalive", big + b"HEAD /index.html HTTP/1.0\nConnection: Keep-Alive\n\n"
    yield "pipelined", big + (b"\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"
                              b"GET /app.js HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    yield "small-limit", b"\x10" + b"POST /x?a&w=&h=3 HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n\r\n"
    yield "chunked", big + b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    yield "partial", big + b"GET /api/health HTTP/1.1\r\nHo"


# Byte 0 of a fuzz_inside_query input picks the reader (odd: GET
# /api/weights's query, even: POST /api/predict's); the rest is the query.

def inside_query_seeds():
    yield "predict-plain", b"\x00w=28&h=28"
    yield "predict-inside", b"\x00w=280&h=280&inside=1"
    yield "predict-ig", b"\x00w=28&h=28&inside=1&saliency=ig"
    yield "predict-grad", b"\x00saliency=grad&inside=1"
    yield "predict-twice", b"\x00inside=1&inside=0"
    yield "weights-conv2", b"\x01model=cnn&layer=conv2&map=12"
    yield "weights-fc1", b"\x01map=127&model=mlp&layer=fc1"
    yield "weights-extra", b"\x01model=cnn&layer=conv1&map=0&x"


# The query of a fuzz_predict_body input comes before its first newline.

def predict_body_seeds():
    stroke = bytearray(28 * 28)  # a "1": a light stroke on black, like MNIST
    for y in range(5, 23):
        for x in (13, 14, 15):
            stroke[y * 28 + x] = 255 if x == 14 else 128
    yield "raw-28x28-one", b"w=28&h=28\n" + bytes(stroke)
    yield "raw-3x2", b"h=2&w=3\n" + bytes([0, 255, 0, 255, 0, 255])
    yield "raw-bad-length", b"w=4&h=4\nabcde"
    yield "pgm-p5", b"\n" + b"P5\n# drawn\n4 3\n255\n" + bytes(range(0, 240, 20))
    yield "pgm-p2", b"\nP2 3 2 15\n0 15 0\n15 0 15\n"
    yield "pgm-photo", b"\n" + photo_pgm()
    # Image files by content: PNGs (gray, and RGBA ink on transparent paper).
    yield "png-gray", b"\n" + pngwrite.png([[(x * 40,) for x in range(6)] for _ in range(4)], 6, 4, 8, 0)
    yield "png-rgba-adam7", b"\n" + pngwrite.png([[(0, 0, 0, (x * y * 17) % 256) for x in range(9)]
                                                   for y in range(9)], 9, 9, 8, 6, 1)
    # No newline in the first 65 bytes: no query, all of it is the body.
    yield "pgm-long-comment", b"P5 #" + b"c" * 70 + b"\n2 2 255\n\x00\xff\xff\x00"


# ---- PNG ----------------------------------------------------------------------
# Byte 0 of a fuzz_png input is the mode: 0 = a PNG file as it is, 1 = chunks
# without CRCs whose IDAT data is the decompressed image data (the harness
# compresses it and adds the CRCs).

sys.path.insert(0, os.path.join(HERE, "..", "png"))
import pngwrite  # noqa: E402


def png_image(width, height, color_type, depth, seed):
    top = (1 << depth) - 1 if color_type != 3 else min((1 << depth) - 1, 5)
    channels = pngwrite.CHANNELS[color_type]
    return [[tuple((seed + 7 * x + 13 * y + 31 * c) * 37 % (top + 1) for c in range(channels))
             for x in range(width)] for y in range(height)]


def png_structured(pixels, width, height, depth, color_type, interlace=0, palette=None, trns=None):
    def raw_chunk(kind, data):
        return struct.pack(">I", len(data)) + kind.encode() + data
    out = raw_chunk("IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace))
    if palette is not None:
        out += raw_chunk("PLTE", b"".join(bytes(c) for c in palette))
    if trns is not None:
        out += raw_chunk("tRNS", trns)
    raw = pngwrite.raw_data(pixels, width, height, depth, color_type, interlace)
    half = len(raw) // 2
    out += raw_chunk("IDAT", raw[:half]) + raw_chunk("IDAT", raw[half:])
    return out + raw_chunk("IEND", b"")


def png_seeds():
    palette = [(0, 0, 0), (255, 255, 255), (200, 30, 30), (30, 200, 30), (30, 30, 200), (128, 128, 128)]
    seed = 0
    for color_type, depths in sorted(pngwrite.DEPTHS.items()):
        for depth in depths:
            for interlace in (0, 1):
                seed += 1
                w, h = (5, 3) if not interlace else (9, 10)
                px = png_image(w, h, color_type, depth, seed)
                pal = palette if color_type == 3 else None
                name = "ct%d-d%d%s" % (color_type, depth, "-adam7" if interlace else "")
                yield name + ".png", b"\x00" + pngwrite.png(px, w, h, depth, color_type, interlace, pal)
                if not interlace:
                    yield name + ".raw", b"\x01" + png_structured(px, w, h, depth, color_type, 0, pal)
    px = png_image(4, 4, 3, 8, 3)
    yield "palette-alpha.png", b"\x00" + pngwrite.png(px, 4, 4, 8, 3, 0, palette, b"\x00\x80")
    yield "palette-alpha.raw", b"\x01" + png_structured(px, 4, 4, 8, 3, 0, palette, b"\x00\x80")
    px = png_image(4, 4, 0, 16, 4)
    yield "gray16-key.png", b"\x00" + pngwrite.png(px, 4, 4, 16, 0, 0, trns=struct.pack(">H", px[1][1][0]))
    px = png_image(3, 3, 2, 8, 5)
    key = struct.pack(">HHH", *px[0][0])
    yield "rgb-key-adam7.png", b"\x00" + pngwrite.png(px, 3, 3, 8, 2, 1, trns=key)
    yield "rgb-key.raw", b"\x01" + png_structured(px, 3, 3, 8, 2, 0, trns=key)
    px = png_image(28, 28, 0, 8, 6)
    text = pngwrite.chunk("tEXt", b"Software\x00digitnet") + pngwrite.chunk("gAMA", struct.pack(">I", 45455))
    yield "gray-28x28-split-idat.png", b"\x00" + pngwrite.png(px, 28, 28, 8, 0, extra=[text], idat_split=50)
    yield "gray-stored.png", b"\x00" + pngwrite.png(png_image(6, 2, 0, 8, 7), 6, 2, 8, 0, level=0)


def main():
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    for target, seeds in (("idx", idx_seeds), ("gzip", gzip_seeds), ("safetensors", safetensors_seeds),
                          ("model", model_seeds), ("pgm", pgm_seeds), ("spec", spec_seeds),
                          ("http", http_seeds), ("predict_body", predict_body_seeds), ("png", png_seeds),
                          ("inside_query", inside_query_seeds)):
        for name, data in seeds():
            put(target, name, data)
    # The model harness also parses plain safetensors, and the reverse.
    for name in os.listdir(os.path.join(ROOT, "model")):
        if name.startswith("model-"):
            with open(os.path.join(ROOT, "model", name), "rb") as f:
                put("safetensors", name, f.read())


if __name__ == "__main__":
    main()
