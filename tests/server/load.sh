#!/usr/bin/env bash
# load.sh - measures dn-canvas under load and under hostile clients, for the
# figures in docs/reliability.md. Not part of CI: it takes minutes and its
# numbers depend on the machine. Everything talks to 127.0.0.1 only and
# every step stops by itself.
#
#   tests/server/load.sh [MODE] [--server EXE] [--cnn FILE] [--mlp FILE]
#       [--seconds N] [--runs N] [--connections N] [--threads N] [--slow N]
#
# MODE
#   wrk        (default) RUNS (3) runs of
#              wrk -t2 -cCONNECTIONS(64) -dSECONDS(30)s --latency
#              against POST /api/predict?w=28&h=28 carrying the first MNIST
#              test digit, keep-alive; after each run: requests/s, p50 and
#              p99 latency, non-2xx answers, socket errors, and the server's
#              resident memory (VmRSS from /proc/PID/status).
#   hostile    one such wrk run while tests/server/hostile.py mixture hits
#              the server for the same time: SLOW (500) slow clients kept
#              open, clients that vanish mid-body, 9 KB heads, 3 MiB
#              Content-Lengths, 2 MiB bodies that are not images, random
#              bytes, and GET /api/health every 100 ms (all latencies kept).
#   burst      68 connections send one byte each; how long until GET
#              /api/health (asked every 100 ms) gets a 200 (at most 240 s).
#   slow       SLOW slow connections open; 100 GET /api/health and 100
#              predictions from fresh clients, timed.
#   keepalive  wrk -t2 -c64 -d10s --latency on keep-alive GET /api/health:
#              the non-2xx (503) count.
#
# It starts its own dn-canvas (--port 0, --threads THREADS (4), the access
# log into a temporary file) and stops it with SIGTERM at the end. Defaults:
# --server build/examples/canvas/dn-canvas; models/cnn.safetensors and
# models/mlp.safetensors, else build/canvas-test-models/*; MNIST from
# datasets/mnist. Needs wrk (apt-get install wrk) and /usr/bin/python3.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
mode=wrk
case ${1:-} in wrk | hostile | burst | slow | keepalive) mode=$1; shift ;; esac
server=$root/build/examples/canvas/dn-canvas
cnn=$root/models/cnn.safetensors
mlp=$root/models/mlp.safetensors
[ -f "$cnn" ] || cnn=$root/build/canvas-test-models/cnn.safetensors
[ -f "$mlp" ] || mlp=$root/build/canvas-test-models/mlp.safetensors
seconds=30 runs=3 connections=64 threads=4 slow=500
while [ $# -gt 0 ]; do
    case $1 in
    --server) server=$2 ;;
    --cnn) cnn=$2 ;;
    --mlp) mlp=$2 ;;
    --seconds) seconds=$2 ;;
    --runs) runs=$2 ;;
    --connections) connections=$2 ;;
    --threads) threads=$2 ;;
    --slow) slow=$2 ;;
    *) sed -n '2,37p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
    shift 2
done
python=/usr/bin/python3
for f in "$server" "$cnn" "$mlp"; do
    [ -e "$f" ] || { echo "load.sh: $f not found" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "load.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/dn-canvas-load.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# The first MNIST test image (a 7), raw 28x28 gray bytes.
"$python" - "$root/datasets/mnist" "$tmp/digit.raw" <<'EOF'
import gzip, os, sys
src, dst = sys.argv[1], sys.argv[2]
path = os.path.join(src, "t10k-images-idx3-ubyte")
data = open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz").read()
assert data[:4] == b"\x00\x00\x08\x03", "not an IDX image file"
open(dst, "wb").write(data[16:16 + 784])
EOF
cat >"$tmp/predict.lua" <<EOF
local f = assert(io.open("$tmp/digit.raw", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/octet-stream"
EOF

"$server" --port 0 --threads "$threads" --cnn "$cnn" --mlp "$mlp" >"$tmp/stdout" 2>"$tmp/access.log" &
pid=$!
port=
for _ in $(seq 600); do
    port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/stdout")
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
[ -n "$port" ] || { echo "load.sh: dn-canvas did not start:" >&2; cat "$tmp/access.log" >&2; exit 1; }
url=http://127.0.0.1:$port
echo "dn-canvas $server (pid $pid, port $port, $threads threads), $(nproc) cores"
echo "models: $cnn, $mlp"

rss() { awk '/^VmRSS/ {printf "%.1f MiB", $2 / 1024}' "/proc/$pid/status"; }

# Prints one line from wrk's output in $1.
wrk_summary() {
    awk '
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = $2 } /^ +99%/ { p99 = $2 }
        /Non-2xx/ { non2xx = $NF }
        /Socket errors/ { errors = $0; sub(/^ *Socket errors: */, "", errors) }
        /requests in/ { total = $1 }
        END {
            printf "%s requests, %s/s, p50 %s, p99 %s, non-2xx %s, socket errors %s\n",
                   total, rps, p50, p99, non2xx == "" ? 0 : non2xx, errors == "" ? "none" : errors
        }' "$1"
}

run_wrk() { # run_wrk LABEL ARGS...
    local label=$1
    shift
    wrk "$@" >"$tmp/wrk.out" 2>&1 || { cat "$tmp/wrk.out"; return 1; }
    echo "$label: $(wrk_summary "$tmp/wrk.out"); server RSS $(rss)"
}

predict_wrk=(-t2 -c"$connections" -d"${seconds}s" --latency -s "$tmp/predict.lua" "$url/api/predict?w=28&h=28")
case $mode in
wrk)
    echo "server RSS at start: $(rss)"
    for run in $(seq "$runs"); do
        echo "\$ wrk ${predict_wrk[*]}" | sed "s|$tmp|TMP|g"
        run_wrk "run $run" "${predict_wrk[@]}"
    done
    ;;
hostile)
    echo "server RSS at start: $(rss)"
    "$python" "$here/hostile.py" mixture --port "$port" --seconds "$seconds" --slow "$slow" \
        >"$tmp/hostile.out" 2>&1 &
    hostile=$!
    sleep 2 # the slow clients are open before the load starts
    run_wrk "wrk while hostile" "${predict_wrk[@]}"
    wait "$hostile" || true
    cat "$tmp/hostile.out"
    echo "server RSS after: $(rss)"
    ;;
burst)
    "$python" "$here/hostile.py" burst --port "$port"
    ;;
slow)
    "$python" "$here/hostile.py" slow --port "$port" --slow "$slow" --body "$tmp/digit.raw"
    ;;
keepalive)
    run_wrk "wrk -c64 keep-alive GET /api/health" -t2 -c64 -d10s --latency "$url/api/health"
    ;;
esac
# Each access-log line names the client's address and port, so how evenly
# the connections were served shows: a starved one has few lines.
echo "access log: $(wc -l <"$tmp/access.log") lines, statuses: $(awk '{print $(NF-2)}' "$tmp/access.log" |
    sort | uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}')"
echo "answers per client connection: $(awk '$2 ~ /:[0-9]+$/ {print $2}' "$tmp/access.log" | sort | uniq -c |
    sort -n | awk '{n[NR] = $1} END {printf "%d connections, min %d, median %d, max %d", NR, n[1],
                                           n[int((NR + 1) / 2)], n[NR]}')"
