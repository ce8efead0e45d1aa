#!/usr/bin/env bash
# run.sh - the canvas demo from a fresh clone in one command: builds digitnet,
# fetches MNIST and trains the CNN and the MLP when their files are missing,
# then starts dn-canvas (http://127.0.0.1:5000/ unless --host/--port say
# otherwise). Running it again starts the server at once.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: examples/canvas/run.sh [--epochs N] [--host ADDR] [--port N] [other dn-canvas flags]

  --epochs N   epochs for training a missing model (default 5; env EPOCHS,
               or CNN_EPOCHS / MLP_EPOCHS for one model)
  --host, --port, --threads, --timeout   passed to dn-canvas
Environment: BUILD_DIR (default build), MODELS_DIR (default models).
Models are only trained when models/cnn.safetensors or models/mlp.safetensors
is missing; delete one to retrain it.
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
    ''|*[!0-9]*|0) echo "run.sh: --epochs: expected a whole number >= 1, got '$epochs'" >&2; exit 2 ;;
esac
build=${BUILD_DIR:-build}
models=${MODELS_DIR:-models}

echo "== building digitnet in $build"
cmake -S . -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target dn-train dn-canvas

train() { # model epochs
    local file="$models/$1.safetensors"
    [ -f "$file" ] && return 0
    if [ ! -f datasets/mnist/train-images-idx3-ubyte ] || [ ! -f datasets/mnist/t10k-labels-idx1-ubyte ]; then
        echo "== fetching MNIST"
        if [ -d ../shared/mnist ]; then
            bash datasets/fetch-mnist.sh --from ../shared/mnist
        else
            bash datasets/fetch-mnist.sh
        fi
    fi
    echo "== training the $1 ($2 epochs) into $file"
    mkdir -p "$models"
    "$build/cli/dn-train" --model "$1" --epochs "$2" --data datasets/mnist --out "$file"
}
train mlp "${MLP_EPOCHS:-$epochs}"
train cnn "${CNN_EPOCHS:-$epochs}"

exec "$build/examples/canvas/dn-canvas" --cnn "$models/cnn.safetensors" --mlp "$models/mlp.safetensors" \
    "${server_args[@]}"
