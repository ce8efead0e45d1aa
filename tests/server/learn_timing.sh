#!/usr/bin/env bash
# learn_timing.sh - the figures of docs/results.md "Watch it learn": a 1-epoch
# MLP and a 1-epoch CNN trained through the page's API (all 60,000 images, as
# the page's "all 60,000" choice), and the latency of /api/predict while
# nothing trains and while the CNN trains. Not in CI (minutes).
# usage: tests/server/learn_timing.sh [BUILD_DIR]   (needs MNIST in datasets/mnist, curl)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${1:-build}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
cp "${MODELS_DIR:-models}/cnn.safetensors" "${MODELS_DIR:-models}/mlp.safetensors" "$work/"
"$build/examples/canvas/dn-canvas" --port "$port" --cnn "$work/cnn.safetensors" --mlp "$work/mlp.safetensors" \
    --data datasets/mnist 2>"$work/log" >/dev/null &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
url=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$url/api/health" >/dev/null && break; sleep 0.1; done
# the first MNIST test digit (a 7) as 784 raw bytes
python3 -c "
import sys
d = open('datasets/mnist/t10k-images-idx3-ubyte', 'rb').read()
sys.stdout.buffer.write(d[16:16 + 784])" >"$work/digit.raw"

stats() { # numbers in ms on stdin: median, p95, max
    sort -n | awk '{v[NR] = $1} END {printf "median %.1f ms, p95 %.1f ms, max %.1f ms", v[int(NR / 2) + 1], v[int(NR * 0.95)], v[NR]}'
}

latency() { # N: N predictions one after another, timed by curl (round trip) and
            # by the server's access log (first byte in to last byte out)
    local from
    from=$(wc -l <"$work/log")
    for _ in $(seq "$1"); do
        curl -s -o /dev/null -w '%{time_total}\n' -X POST --data-binary @"$work/digit.raw" "$url/api/predict?w=28&h=28"
    done | awk '{print $1 * 1000}' | stats
    echo -n " round trip; server "
    tail -n +"$((from + 1))" "$work/log" | grep '"POST /api/predict' | awk '{sub(/ms$/, "", $NF); print $NF}' | stats
    echo " ($1 requests)"
}

state() { curl -s "$url/api/train" | grep -o '"state":"[a-z]*"' | cut -d'"' -f4; }

train() { # MODEL: one epoch of all images; prints the server's timing
    curl -s -X POST -d "{\"model\":\"$1\",\"epochs\":1,\"limit\":0}" "$url/api/train" >/dev/null
    local t0=$SECONDS
    [ "$1" = cnn ] && { sleep 5; echo "  predict while the cnn trains: $(latency 200)"; }
    while [ "$(state)" = running ]; do sleep 0.5; done
    echo "  $1: $(curl -s "$url/api/train" | grep -o '"epochs":\[[^]]*\]') (job $((SECONDS - t0)) s incl. loading and testing)"
    curl -s -X POST -d '' "$url/api/train/discard" >/dev/null
}

echo "predict, nothing training: $(latency 200)"
train mlp
train cnn
