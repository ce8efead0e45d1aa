#!/usr/bin/env python3
"""hostile_inputs.py BUILD_DIR SOURCE_DIR [--markdown FILE]

Tries hostile inputs against dn-predict and dn-train: broken, truncated,
empty and absurd model files, images (PGM and PNG) and datasets, files that are not files
(directories, FIFOs, devices, dangling links), non-finite weights, absurd
architectures and outputs that cannot be written. Each must get a clear
message on stderr and exit code 1 or 2: never a crash (a signal), a hang
(20 s), NaN or infinity in the output, a leftover temporary file, or a
changed file that was there before. Prints one line per case and, with
--markdown, writes the table docs/reliability.md shows.
Needs MNIST in SOURCE_DIR/datasets/mnist (exit 77 without it).
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

build, source = sys.argv[1], sys.argv[2]
markdown = sys.argv[sys.argv.index("--markdown") + 1] if "--markdown" in sys.argv else None
predict = os.path.join(build, "cli", "dn-predict")
train = os.path.join(build, "cli", "dn-train")
mnist = os.path.join(source, "datasets", "mnist")
if not os.path.exists(os.path.join(mnist, "t10k-images-idx3-ubyte")):
    print("MNIST not in %s: run bash datasets/fetch-mnist.sh; skipped" % mnist)
    sys.exit(77)

work = tempfile.mkdtemp(prefix="dn-hostile-")
rows, failures = [], 0


def path(name):
    return os.path.join(work, name)


def write(name, data):
    with open(path(name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    return path(name)


def safetensors(header, payload=b"", raw_header=None):
    text = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + payload


def run(tool, args, env=None):
    full_env = dict(os.environ, **(env or {}))
    try:
        done = subprocess.run([tool] + args, capture_output=True, timeout=20, env=full_env)
        return done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return "timeout", "", ""


def case(what, tool, args, watch=(), env=None, ok_exit=(1, 2)):
    """Runs one hostile case; watch: files that must not change or appear as .tmp."""
    global failures
    before = {w: open(w, "rb").read() if os.path.isfile(w) else None for w in watch}
    code, out, err = run(tool, args, env)
    message = err.strip().splitlines()[0] if err.strip() else ""
    problems = []
    if code == "timeout":
        problems.append("hung")
    elif code < 0 or code >= 128:
        problems.append("crashed (%s)" % code)
    elif code not in ok_exit:
        problems.append("exit %s" % code)
    if not message:
        problems.append("no message")
    lowered = out.lower()
    if "nan" in lowered or "inf" in lowered:
        problems.append("NaN or inf in the output")
    for w in watch:
        now = open(w, "rb").read() if os.path.isfile(w) else None
        if now != before[w]:
            problems.append("%s changed" % os.path.basename(w))
    if any(".tmp." in name for name in os.listdir(work)):
        problems.append("temporary file left")
    verdict = "ok" if not problems else "FAIL: " + ", ".join(problems)
    failures += bool(problems)
    shown = message.replace(work + "/", "").replace(build + "/", "").replace(source + "/", "")
    rows.append((what, os.path.basename(tool), str(code), shown, verdict))
    print("%-4s %-55s exit %-3s %s" % ("ok" if not problems else "FAIL", what, code, shown[:150]))


def main():
    # a real model and a real digit to start from
    model = path("mlp.safetensors")
    code, _, err = run(train, ["--model", "mlp", "--epochs", "1", "--limit", "2000", "--data", mnist,
                               "--quiet", "--out", model])
    if code != 0:
        sys.exit("cannot train the base model: " + err)
    with open(model, "rb") as f:
        good = f.read()
    (n,) = struct.unpack("<Q", good[:8])
    header = json.loads(good[8:8 + n])
    payload = good[8 + n:]
    with open(os.path.join(mnist, "t10k-images-idx3-ubyte"), "rb") as f:
        f.seek(16)
        digit = write("digit.pgm", b"P5\n28 28\n255\n" + f.read(784))

    def model_case(what, data_or_path, extra=None, env=None):
        target = data_or_path if isinstance(data_or_path, str) else write("m.safetensors", data_or_path)
        case("model: " + what, predict, ["--model", target] + (extra or [digit]), env=env)

    # --- model files
    model_case("empty file", b"")
    model_case("7 bytes", b"\x01" * 7)
    model_case("truncated to half", good[:len(good) // 2])
    model_case("truncated inside the header", good[:40])
    model_case("a text file (README.md)", os.path.join(source, "README.md"))
    model_case("a PNG file", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    model_case("header length 2^63", struct.pack("<Q", 1 << 63) + b"{}")
    model_case("header length past the end", struct.pack("<Q", 4096) + b"{}      ")
    model_case("header not JSON", safetensors(None, raw_header=b"{this is not json}"))
    model_case("header a JSON array", safetensors(None, raw_header=b"[1,2,3]"))
    model_case("header nested 10000 deep", safetensors(None, raw_header=b"{\"a\":" + b"[" * 10000 + b"]" * 10000 + b"}"))
    model_case("duplicate tensor names", safetensors(None, raw_header=b"{\"x\":{},\"x\":{}}"))
    model_case("invalid UTF-8 in a name", safetensors(None, raw_header=b"{\"\xff\xfe\":{}}"))
    bad = dict(header)
    first = next(k for k in header if k != "__metadata__")
    bad[first] = dict(header[first], dtype="I64")
    model_case("dtype I64", safetensors(bad, payload))
    bad[first] = dict(header[first], dtype=7)
    model_case("dtype a number", safetensors(bad, payload))
    bad[first] = dict(header[first], shape=[1 << 40, 1 << 40])
    model_case("shape 2^40 x 2^40", safetensors(bad, payload))
    bad[first] = dict(header[first], shape=[-1, 5])
    model_case("negative dimension", safetensors(bad, payload))
    bad[first] = dict(header[first], data_offsets=[0, 8])
    model_case("data offsets overlap others", safetensors(bad, payload))
    bad = dict(header)
    bad["__metadata__"] = dict(header["__metadata__"], arch="input 0x0x0; linear 10")
    model_case("arch with a zero-sized input", safetensors(bad, payload))
    bad["__metadata__"] = dict(header["__metadata__"], arch="input 1x28x28; flatten; linear 1000000000")
    model_case("arch with 10^9 outputs", safetensors(bad, payload))
    bad["__metadata__"] = dict(header["__metadata__"], arch="input 1x28x28; wobble 3; linear 10")
    model_case("arch with an unknown layer", safetensors(bad, payload))
    bad["__metadata__"] = dict(header["__metadata__"], input_std="0")
    model_case("input_std 0", safetensors(bad, payload))
    bad["__metadata__"] = dict(header["__metadata__"], input_mean="0,1307")
    model_case("input_mean with a decimal comma", safetensors(bad, payload))
    bad["__metadata__"] = dict(header["__metadata__"], input_mean="nan")
    model_case("input_mean nan", safetensors(bad, payload))
    hostile = os.path.join(source, "tests", "cli", "hostile_model.py")
    subprocess.run([sys.executable, hostile, "hungry", "-", path("hungry.safetensors")], check=True)
    model_case("arch needing 1.5 GiB in a 160 KB file", path("hungry.safetensors"))
    subprocess.run([sys.executable, hostile, "nan", model, path("nan.safetensors")], check=True)
    model_case("a NaN weight", path("nan.safetensors"))
    subprocess.run([sys.executable, hostile, "huge", model, path("huge.safetensors")], check=True)
    model_case("finite weights that overflow (3e37)", path("huge.safetensors"))
    model_case("finite weights that overflow, --json", path("huge.safetensors"), ["--json", digit])
    f64 = dict(header)
    f64[first] = dict(header[first], dtype="F64")
    start, end = header[first]["data_offsets"]
    count = (end - start) // 4
    wide = struct.pack("<%dd" % count, *([1e300] * count))
    rest = [k for k in header if k not in ("__metadata__", first)]
    offset, chunks = len(wide), [wide]
    for k in sorted(rest, key=lambda k: header[k]["data_offsets"][0]):
        s, e = header[k]["data_offsets"]
        f64[k] = dict(header[k], data_offsets=[offset, offset + e - s])
        chunks.append(payload[s:e])
        offset += e - s
    f64[first]["data_offsets"] = [0, len(wide)]
    model_case("F64 weights of 1e300 (inf as float32)", safetensors(f64, b"".join(chunks)))
    os.mkdir(path("a-directory"))
    model_case("a directory", path("a-directory"))
    os.mkfifo(path("fifo"))
    model_case("a FIFO", path("fifo"))
    model_case("a character device (/dev/zero)", "/dev/zero")
    os.symlink(path("missing-target"), path("dangling"))
    model_case("a dangling symbolic link", path("dangling"))
    os.symlink(path("loop-b"), path("loop-a"))
    os.symlink(path("loop-a"), path("loop-b"))
    model_case("a symbolic link loop", path("loop-a"))
    model_case("DN_MEMORY_LIMIT=abc", model, env={"DN_MEMORY_LIMIT": "abc"})
    code, _, _ = run(train, ["--arch", "input 1x28x28; flatten; linear 11", "--epochs", "1", "--limit", "200",
                             "--data", mnist, "--quiet", "--out", path("eleven.safetensors")])
    model_case("an 11-class model on a digit image", path("eleven.safetensors"))

    # --- images
    def image_case(what, data):
        case("image: " + what, predict, ["--model", model, write("i.pgm", data) if not isinstance(data, str)
                                         else data])

    image_case("empty file", b"")
    image_case("magic only", b"P5")
    image_case("truncated pixels", b"P5\n28 28\n255\n" + b"\x80" * 100)
    image_case("width 0", b"P5\n0 28\n255\n")
    image_case("100000 x 100000", b"P5\n100000 100000\n255\n" + b"\0" * 64)
    image_case("maxval 0", b"P5\n2 2\n0\n\0\0\0\0")
    image_case("maxval 70000", b"P5\n2 2\n70000\n" + b"\0" * 16)
    image_case("P2 with a word for a pixel", b"P2\n2 2\n255\n1 2 three 4\n")
    image_case("P2 value over maxval", b"P2\n2 2\n15\n1 2 3 99\n")
    image_case("a comment that never ends", b"P5\n# " + b"x" * 5000)
    image_case("P6 (colour)", b"P6\n1 1\n255\n\0\0\0")
    image_case("random bytes", bytes(range(256)) * 4)
    image_case("a directory", path("a-directory"))
    image_case("a FIFO", path("fifo"))

    # --- PNG (and other formats, told apart by content)
    sys.path.insert(0, os.path.join(source, "tests", "png"))
    import pngwrite

    def png_case(what, data):
        case("png: " + what, predict, ["--model", model, write("i.png", data)])

    gray = [[(x * 9,) for x in range(28)] for _ in range(28)]
    good = pngwrite.png(gray, 28, 28, 8, 0)
    bad_crc = bytearray(good)
    bad_crc[20] ^= 1
    png_case("a bad CRC in IHDR", bytes(bad_crc))
    png_case("truncated in the image data", good[:60])
    png_case("100000 x 100000", pngwrite.SIGNATURE + pngwrite.ihdr(100000, 100000, 8, 0) + good[33:])
    png_case("16384 x 4096 claimed by 80 bytes", pngwrite.SIGNATURE + pngwrite.ihdr(16384, 4096, 8, 0) + good[33:])
    png_case("bit depth 3", pngwrite.SIGNATURE + pngwrite.ihdr(28, 28, 3, 0) + good[33:])
    png_case("palette index out of range",
             pngwrite.png([[(x % 4,) for x in range(8)]] * 2, 8, 2, 8, 3, palette=[(0, 0, 0), (255, 255, 255)]))
    png_case("filter type 7", pngwrite.png(gray, 28, 28, 8, 0, filters=lambda r: 7 if r == 5 else 0))
    png_case("IDAT chunks not contiguous", good[:33] + pngwrite.chunk("IDAT", b"\x78") +
             pngwrite.chunk("tEXt", b"a\0b") + good[33:])
    png_case("an unknown critical chunk", good[:33] + pngwrite.chunk("QuIT", b"\0\0\0\0") + good[33:])
    png_case("bytes after IEND", good + b"trailing")
    png_case("a JPEG", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(64))
    png_case("a GIF", b"GIF89a" + bytes(64))

    # --- IDX evaluation
    labels = os.path.join(mnist, "t10k-labels-idx1-ubyte")
    images = os.path.join(mnist, "t10k-images-idx3-ubyte")

    def idx_case(what, image_bytes=None, label_bytes=None):
        i = write("x-images.idx", image_bytes) if image_bytes is not None else images
        l = write("x-labels.idx", label_bytes) if label_bytes is not None else labels
        case("idx: " + what, predict, ["--model", model, "--idx", i, "--labels", l])

    with open(images, "rb") as f:
        head = f.read(16 + 784 * 10)
    idx_case("wrong magic", b"\x01\x02\x08\x03" + head[4:])
    idx_case("dims 2^31 x 28 x 28", head[:4] + struct.pack(">I", 1 << 31) + head[8:])
    idx_case("truncated", head[:16 + 784 * 10 - 5])
    idx_case("fewer labels than images", label_bytes=struct.pack(">II", 0x801, 3) + b"\1\2\3")
    idx_case("label 200 for a 10-class model", struct.pack(">IIII", 0x803, 10, 28, 28) + head[16:],
             struct.pack(">II", 0x801, 10) + b"\xc8" * 10)
    idx_case("corrupt gzip", b"\x1f\x8b\x08\x00" + b"\xff" * 40)
    idx_case("images 1 x 32 x 32", struct.pack(">IIII", 0x803, 2, 32, 32) + b"\0" * 2048,
             struct.pack(">II", 0x801, 2) + b"\1\2")

    # --- training: bad data, absurd architectures, outputs that cannot be written
    data_dir = path("data")
    os.mkdir(data_dir)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copy(os.path.join(mnist, name), data_dir)
    write("data/t10k-images-idx3-ubyte", head[:100])
    case("train: a truncated test set", train, ["--model", "mlp", "--data", data_dir, "--out", path("t.safetensors")])
    case("train: --data without the files", train, ["--data", path("a-directory"), "--out", path("t.safetensors")])
    case("train: arch of 3.6 billion parameters", train, ["--arch", "input 1x28x28; flatten; linear 60000; linear 60000",
                                                   "--data", mnist, "--out", path("t.safetensors")])
    case("train: arch that does not fit the data", train, ["--arch", "input 3x32x32; flatten; linear 10",
                                                           "--data", mnist, "--out", path("t.safetensors")])
    case("train: --resume a model file (no optimizer)", train, ["--model", "mlp", "--data", mnist,
                                                                "--resume", model], watch=[model])
    subprocess.run([sys.executable, hostile, "nan", model, path("nan-ckpt.safetensors")], check=True)
    case("train: --resume a checkpoint with NaN", train, ["--model", "mlp", "--data", mnist, "--resume",
                                                          path("nan-ckpt.safetensors")])
    case("train: --out is a directory", train, ["--model", "mlp", "--epochs", "1", "--limit", "500",
                                                "--data", mnist, "--quiet", "--out", path("a-directory")])
    case("train: --out is a FIFO", train, ["--model", "mlp", "--epochs", "1", "--limit", "500",
                                           "--data", mnist, "--quiet", "--out", path("fifo")])
    case("train: --out in a file, not a folder", train, ["--model", "mlp", "--epochs", "1", "--limit", "500",
                                                         "--data", mnist, "--quiet",
                                                         "--out", os.path.join(model, "x.safetensors")],
         watch=[model])
    case("train: diverging (SGD, lr 10)", train, ["--model", "mlp", "--optimizer", "sgd", "--lr", "10",
                                                  "--momentum", "0.99", "--epochs", "2", "--limit", "3000",
                                                  "--data", mnist, "--quiet", "--out", model], watch=[model])
    case("train: --epochs 1e9", train, ["--epochs", "1000000000", "--data", mnist])
    case("train: --batch -1", train, ["--batch", "-1"])
    case("train: --lr nan", train, ["--lr", "nan"])

    print("%d cases, %d failed" % (len(rows), failures))
    if markdown:
        with open(markdown, "w") as f:
            f.write("| input | tool | exit | what it says | verdict |\n|---|---|---|---|---|\n")
            for what, tool, code, message, verdict in rows:
                f.write("| %s | %s | %s | %s | %s |\n" % (what, tool, code, message.replace("|", "\\|"), verdict))
    shutil.rmtree(work, ignore_errors=True)
    print("%d passed, %d failed" % (len(rows) - failures, failures))
    sys.exit(1 if failures else 0)


main()
