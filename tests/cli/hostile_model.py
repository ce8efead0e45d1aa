#!/usr/bin/env python3
"""hostile_model.py KIND IN OUT - writes a hostile variant of the safetensors
model IN to OUT, with nothing but the standard library:
  huge     every weight 3e37: finite, but the outputs overflow to infinity
  hungry   metadata arch that is tiny in parameters and huge in activations,
           with tensors to match (a few KB that ask for gigabytes)
  nan      one weight NaN (as a file digitnet never writes)
"""
import json
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n]), bytearray(data[8 + n:])


def write(path, header, payload):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + bytes(payload))


def hungry():
    arch = ("input 1x1024x1024; conv 16 3; relu; conv 16 3; relu; conv 16 3; relu; "
            "maxpool 64; flatten; linear 10")
    shapes = [("conv1.weight", [16, 1, 3, 3]), ("conv1.bias", [16]),
              ("conv2.weight", [16, 16, 3, 3]), ("conv2.bias", [16]),
              ("conv3.weight", [16, 16, 3, 3]), ("conv3.bias", [16]),
              ("fc1.weight", [10, 16 * 15 * 15]), ("fc1.bias", [10])]
    header, offset = {"__metadata__": {"arch": arch}}, 0
    for name, shape in shapes:
        count = 1
        for d in shape:
            count *= d
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + 4 * count]}
        offset += 4 * count
    return header, bytearray(offset)


def main():
    kind, src, out = sys.argv[1:4]
    if kind == "hungry":
        header, payload = hungry()
    else:
        header, payload = read(src)
        floats = len(payload) // 4
        if kind == "huge":
            payload = bytearray(struct.pack("<f", 3e37) * floats)
        elif kind == "nan":
            payload[0:4] = struct.pack("<f", float("nan"))
        else:
            sys.exit("unknown kind " + kind)
    write(out, header, payload)


if __name__ == "__main__":
    main()
