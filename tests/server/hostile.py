#!/usr/bin/python3
"""hostile.py - clients that do not play along, for measuring dn-canvas
(tests/server/load.sh runs it; standard library only; 127.0.0.1 only; every
mode stops by itself).

    hostile.py mixture --port P --seconds S [--slow 500] [--body FILE]
        for S seconds: 500 slow clients (half send one byte, half nothing;
        each replaced when the server closes it), clients that vanish
        mid-body, oversized heads (9 KB) and bodies (Content-Length 3 MiB,
        and 2 MiB that are not an image), random bytes; meanwhile GET
        /api/health every 100 ms from a fresh connection, every latency kept.
    hostile.py burst --port P [--conns 68] [--max-wait 240]
        opens CONNS connections that send one byte each, then asks GET
        /api/health (one at a time, 100 ms apart) until the first 200: how
        long the server answered nothing useful.
    hostile.py slow --port P --body FILE [--slow 500] [--requests 100]
        opens SLOW slow connections, then times REQUESTS GET /api/health and
        REQUESTS POST /api/predict?w=28&h=28 (body FILE) from fresh clients.

Each mode prints one summary block; latencies in milliseconds."""
import argparse
import random
import resource
import selectors
import socket
import threading
import time

HOST = "127.0.0.1"
HEALTH = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def connect(port, timeout=5.0):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_status(s, deadline):
    """Status of the response on s (its head and Content-Length body), -1 on
    close or when the deadline passes."""
    data = b""
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return -1
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except OSError:
            return -1
        if not chunk:
            return -1
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return -1
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    while len(body) < length:
        left = deadline - time.monotonic()
        if left <= 0:
            return -1
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except OSError:
            return -1
        if not chunk:
            return -1
        body += chunk
    return status


def exchange(port, request, timeout):
    """One request on a fresh connection: (status, milliseconds)."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    try:
        s = connect(port, timeout)
    except OSError:
        return -1, (time.monotonic() - t0) * 1000
    try:
        s.sendall(request)
        status = read_status(s, deadline)
    except OSError:
        status = -1
    finally:
        s.close()
    return status, (time.monotonic() - t0) * 1000


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def summary(name, results):
    """results: list of (status, ms). Prints count, statuses, p50/p99/max."""
    ms = [m for _, m in results]
    statuses = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    shown = ", ".join(f"{k if k != -1 else 'none'}: {v}" for k, v in sorted(statuses.items()))
    print(f"{name}: {len(results)} requests ({shown}); latency p50 {percentile(ms, 50):.2f} ms, "
          f"p99 {percentile(ms, 99):.2f} ms, max {max(ms) if ms else float('nan'):.2f} ms")


def predict_request(body):
    return (b"POST /api/predict?w=28&h=28 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % len(body)) + body


class SlowClients:
    """count connections that sent one byte (even) or nothing (odd), kept
    open: each one the server closes is opened again, until stop()."""

    def __init__(self, port, count):
        self.port, self.count = port, count
        self.selector = selectors.DefaultSelector()
        self.opened = self.replaced = self.failed = 0
        self.stopping = threading.Event()
        for i in range(count):
            self.open(i)

    def open(self, i):
        try:
            s = socket.create_connection((HOST, self.port), timeout=5)
            if i % 2 == 0:
                s.send(b"G")
            s.setblocking(False)
            self.selector.register(s, selectors.EVENT_READ, i)
            self.opened += 1
        except OSError:
            self.failed += 1

    def run(self):
        """Until stop(): replaces what the server closes; then closes all."""
        while not self.stopping.is_set():
            for key, _ in self.selector.select(timeout=0.1):
                s, i = key.fileobj, key.data
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if not data:  # the server closed it (408, idle, cap): replace it
                    self.selector.unregister(s)
                    s.close()
                    self.replaced += 1
                    self.open(i)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()

    def stop(self):
        """Asks run() to end; join its thread afterwards."""
        self.stopping.set()


def repeat(until, interval, action, results):
    while time.monotonic() < until:
        t0 = time.monotonic()
        results.append(action())
        time.sleep(max(0.0, interval - (time.monotonic() - t0)))


def vanishing_client(port):
    """A head promising 100000 bytes, 1000 of them, then a reset."""
    t0 = time.monotonic()
    try:
        s = connect(port)
        s.sendall(b"POST /api/predict?w=100&h=1000 HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
                  + b"\x80" * 1000)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
        return 0, (time.monotonic() - t0) * 1000
    except OSError:
        return -1, (time.monotonic() - t0) * 1000


def oversized_head(port):
    return exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * 9000 + b"\r\n\r\n", 10)


def oversized_body_declared(port):
    return exchange(port, b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 3145728\r\n\r\n", 10)


def big_body_not_an_image(port):
    return exchange(port, b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 2097152\r\n\r\n"
                    + b"\x00" * 2097152, 20)


def random_bytes(port, rng):
    junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2048)))
    return exchange(port, junk, 10)


def mixture(args):
    until = time.monotonic() + args.seconds
    slow = SlowClients(args.port, args.slow)
    slow_thread = threading.Thread(target=slow.run)
    slow_thread.start()
    rng = random.Random(12345)
    jobs = {  # name: (interval s, action)
        "health every 100 ms": (0.1, lambda: exchange(args.port, HEALTH, 5)),
        "vanish mid-body": (0.05, lambda: vanishing_client(args.port)),
        "9 KB head (431)": (0.1, lambda: oversized_head(args.port)),
        "Content-Length 3 MiB (413)": (0.1, lambda: oversized_body_declared(args.port)),
        "2 MiB not an image (422)": (0.5, lambda: big_body_not_an_image(args.port)),
        "random bytes (400)": (0.05, lambda: random_bytes(args.port, rng)),
    }
    results = {name: [] for name in jobs}
    threads = [threading.Thread(target=repeat, args=(until, interval, action, results[name]))
               for name, (interval, action) in jobs.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slow.stop()
    slow_thread.join()
    print(f"slow clients: {args.slow} kept open ({slow.opened} opened, {slow.replaced} closed by the "
          f"server and replaced, {slow.failed} failed to open)")
    for name in jobs:
        summary(name, results[name])


def burst(args):
    conns = []
    for _ in range(args.conns):
        s = connect(args.port)
        s.send(b"G")
        conns.append(s)
    t0 = time.monotonic()
    busy = timeouts = 0
    first_ok = None
    while time.monotonic() - t0 < args.max_wait:
        status, _ = exchange(args.port, HEALTH, min(30.0, args.max_wait - (time.monotonic() - t0)))
        if status == 200:
            first_ok = time.monotonic() - t0
            break
        busy += status == 503
        timeouts += status == -1
        time.sleep(0.1)
    for s in conns:
        s.close()
    if first_ok is None:
        print(f"burst of {args.conns} one-byte connections: no 200 within {args.max_wait:.0f} s "
              f"({busy} 503s, {timeouts} polls without an answer)")
    else:
        print(f"burst of {args.conns} one-byte connections: first 200 to GET /api/health after "
              f"{first_ok * 1000:.1f} ms ({busy} 503s, {timeouts} polls without an answer before it)")


def slow_latency(args):
    with open(args.body, "rb") as f:
        predict = predict_request(f.read())
    slow = SlowClients(args.port, args.slow)
    slow_thread = threading.Thread(target=slow.run)
    slow_thread.start()
    time.sleep(1.0)
    health = [exchange(args.port, HEALTH, 5) for _ in range(args.requests)]
    predictions = [exchange(args.port, predict, 5) for _ in range(args.requests)]
    slow.stop()
    slow_thread.join()
    print(f"with {args.slow} slow connections open ({slow.opened} opened, {slow.failed} failed):")
    summary("GET /api/health", health)
    summary("POST /api/predict", predictions)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["mixture", "burst", "slow"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--conns", type=int, default=68)
    parser.add_argument("--max-wait", type=float, default=240)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--body")
    args = parser.parse_args()
    raise_fd_limit()
    {"mixture": mixture, "burst": burst, "slow": slow_latency}[args.mode](args)


if __name__ == "__main__":
    main()
