#!/usr/bin/env bash
# run.sh - the canvas demo from a fresh clone in one command: builds digitnet
# (dn-canvas, dn-train, dn-predict), fetches MNIST when it is missing, and
# starts dn-canvas at once (http://127.0.0.1:5000/ unless --host/--port say
# otherwise). When models/cnn.safetensors or models/mlp.safetensors is
# missing, the server trains it in the background (the MLP first, in
# seconds; the CNN in minutes) while the page shows the progress and switches
# to each model when it is ready, and saves it there for the next run.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: examples/canvas/run.sh [--epochs N] [--host ADDR] [--port N] [other dn-canvas flags]

  --epochs N   epochs for training a missing model, 1-10 (default 5; env EPOCHS)
  --host, --port, --threads, --timeout, ...   passed to dn-canvas
Environment: BUILD_DIR (default build), MODELS_DIR (default models).
Models are only trained when models/cnn.safetensors or models/mlp.safetensors
is missing; delete one to retrain it (or train one from the page).
USAGE
}

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
epochs=${EPOCHS:-5}
server_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --help|-h) usage; exit 0 ;;
        --epochs) [ $# -ge 2 ] || { echo "run.sh: --epochs needs a value" >&2; exit 2; }
                  epochs=$2; shift 2 ;;
        --epochs=*) epochs=${1#*=}; shift ;;
        --host|--port|--threads|--timeout)
                  [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }
                  server_args+=("$1" "$2"); shift 2 ;;
        *) server_args+=("$1"); shift ;;
    esac
done
case "$epochs" in
    [1-9]|10) ;;
    *) echo "run.sh: --epochs: expected a whole number from 1 to 10, got '$epochs'" >&2; exit 2 ;;
esac
build=${BUILD_DIR:-build}
models=${MODELS_DIR:-models}

echo "== building digitnet in $build"
cmake -S . -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target dn-canvas dn-train dn-predict

if [ ! -f datasets/mnist/train-images-idx3-ubyte ] || [ ! -f datasets/mnist/t10k-labels-idx1-ubyte ]; then
    echo "== fetching MNIST"
    if [ -d ../shared/mnist ]; then
        bash datasets/fetch-mnist.sh --from ../shared/mnist
    else
        bash datasets/fetch-mnist.sh
    fi
fi
mkdir -p "$models"
for m in mlp cnn; do
    [ -f "$models/$m.safetensors" ] ||
        echo "== $models/$m.safetensors is missing: the server trains it ($epochs epoch(s)) while the page shows how"
done

exec "$build/examples/canvas/dn-canvas" --cnn "$models/cnn.safetensors" --mlp "$models/mlp.safetensors" \
    --data datasets/mnist --train-missing "$epochs" "${server_args[@]}"
