"""pngwrite.py - a small PNG encoder for tests (standard library only): every
colour type and bit depth, PLTE, tRNS, Adam7, a chosen filter type for each
row (all five), and extra chunks, so that tests can make any PNG, valid or
not. Used by check_png.py and tests/fuzz/make_corpus.py."""
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
DEPTHS = {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}
ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def chunk(kind, data):
    """One chunk: length, type, data and CRC."""
    kind = kind.encode() if isinstance(kind, str) else kind
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def ihdr(width, height, depth, color_type, interlace=0):
    return chunk("IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace))


def pack_row(samples, depth):
    """Samples (ints) of one row, packed big-endian / most significant bits first."""
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    if depth == 8:
        return bytes(samples)
    out = bytearray((len(samples) * depth + 7) // 8)
    per = 8 // depth
    for i, s in enumerate(samples):
        out[i // per] |= s << (8 - depth * (i % per + 1))
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind, row, prev, bpp):
    """Applies filter `kind` (0..4) to the raw bytes row given the previous raw
    row; an undefined kind (5..255) is written with the bytes unchanged."""
    out = bytearray(len(row))
    for i, x in enumerate(row):
        left = row[i - bpp] if i >= bpp else 0
        up = prev[i] if prev is not None else 0
        corner = prev[i - bpp] if prev is not None and i >= bpp else 0
        pred = (0, left, up, (left + up) // 2, paeth(left, up, corner))[kind] if kind <= 4 else 0
        out[i] = (x - pred) & 0xFF
    return bytes([kind]) + bytes(out)


def raw_data(pixels, width, height, depth, color_type, interlace=0, filters=None):
    """The filtered image data. pixels[y][x] is a tuple of samples; filters(r)
    gives the filter type of the r-th row written (default: r % 5)."""
    channels = CHANNELS[color_type]
    bpp = max(1, channels * depth // 8)
    passes = ADAM7 if interlace else ((0, 0, 1, 1),)
    out = bytearray()
    n = 0
    for x0, y0, dx, dy in passes:
        xs = range(x0, width, dx)
        ys = range(y0, height, dy)
        if not xs or not ys:
            continue
        prev = None
        for y in ys:
            row = pack_row([s for x in xs for s in pixels[y][x]], depth)
            kind = filters(n) if filters else n % 5
            out += filter_row(kind, row, prev, bpp)
            prev = row
            n += 1
    return bytes(out)


def png(pixels, width, height, depth, color_type, interlace=0, palette=None, trns=None, filters=None,
        extra=(), level=9, idat_split=None):
    """A whole PNG file. palette: list of (r, g, b); trns: bytes of the tRNS
    chunk; extra: chunks (bytes) put before the image data; idat_split: the
    size of each IDAT chunk (default: one chunk)."""
    data = zlib.compress(raw_data(pixels, width, height, depth, color_type, interlace, filters), level)
    out = SIGNATURE + ihdr(width, height, depth, color_type, interlace)
    out += b"".join(extra)
    if palette is not None:
        out += chunk("PLTE", b"".join(bytes(c) for c in palette))
    if trns is not None:
        out += chunk("tRNS", trns)
    step = idat_split or max(1, len(data))
    for i in range(0, len(data), step):
        out += chunk("IDAT", data[i:i + step])
    return out + chunk("IEND", b"")
