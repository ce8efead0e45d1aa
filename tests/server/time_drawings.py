#!/usr/bin/env python3
"""time_drawings.py - the canvas server's time for drawings as the page sends
them, split into its parts. Not part of CI: its figures depend on the machine
(measure on a quiet one). Talks to 127.0.0.1 only.

  /usr/bin/python3 tests/server/time_drawings.py PORT [COUNT] [--numbers | --mnist DIR]

Draws COUNT (300) digits with tests/drawn/strokes.py (every style, 280x280,
dark on white, seed 5), or with --numbers numbers of 2-3 digits, or with
--mnist DIR the first COUNT MNIST test digits enlarged 10 times (nearest
pixel, as test_server_inside does; messier than drawings), posts each
to a running dn-canvas (`dn-canvas --port PORT ...`) at
POST /api/predict?w=280&h=280&inside=1 twice and keeps the second answer's
times: server_ms, preprocess_ms (the reading of the drawing), each model's
ms and the number's ms; prints median, p90, p99 and max of each."""
import http.client
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "drawn"))
import photos  # noqa: E402
import strokes  # noqa: E402


def main():
    argv = sys.argv[1:]
    mnist = None
    if "--mnist" in argv:
        at = argv.index("--mnist")
        mnist = photos.mnist_digits(argv[at + 1])[0]
        del argv[at:at + 2]
    args = [a for a in argv if not a.startswith("--")]
    if not args:
        sys.exit(__doc__)
    port, count = int(args[0]), int(args[1]) if len(args) > 1 else 300
    numbers = "--numbers" in argv
    rng = np.random.default_rng(5)
    bodies = []
    for i in range(count):
        if mnist is not None:
            img = 255 - mnist[i].repeat(10, 0).repeat(10, 1).astype(np.int32) * 240 // 255
        elif numbers:
            text = "".join(str(d) for d in rng.integers(0, 10, rng.integers(2, 4)))
            img = strokes.render_number(text, rng, polarity="dark")[0]
        else:
            img, _ = strokes.render_digit(int(rng.integers(0, 10)), rng=rng, polarity="dark")
        bodies.append(np.asarray(img, dtype=np.uint8).tobytes())
    times = {k: [] for k in ("server_ms", "preprocess_ms", "cnn", "mlp", "number")}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for timed in (False, True):
        for body in bodies:
            conn.request("POST", "/api/predict?w=280&h=280&inside=1", body,
                         {"Content-Type": "application/octet-stream"})
            answer = conn.getresponse()
            data = json.loads(answer.read())
            if answer.status != 200:
                sys.exit("status %d: %s" % (answer.status, data))
            if not timed:
                continue
            times["server_ms"].append(data["server_ms"])
            times["preprocess_ms"].append(data["preprocess_ms"])
            times["cnn"].append(data["cnn"].get("ms", 0))
            times["mlp"].append(data["mlp"].get("ms", 0))
            times["number"].append(data["number"]["ms"] if data.get("number") else 0)
    for key, values in times.items():
        v = np.sort(values)
        print("%-14s median %.3f  p90 %.3f  p99 %.3f  max %.3f ms" %
              (key, v[len(v) // 2], v[int(len(v) * 0.9)], v[int(len(v) * 0.99)], v[-1]))


if __name__ == "__main__":
    main()
