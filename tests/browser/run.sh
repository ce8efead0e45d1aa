#!/usr/bin/env bash
# run.sh - the browser test in one command: installs Debian's Chromium and the
# pinned playwright-core when missing (never a downloaded browser), builds
# dn-canvas, trains two small models when there are none, and runs
# browser_test.mjs. Screenshots land in tests/artifacts/.
# Environment: BUILD_DIR (default build), CNN and MLP (model files to use
# instead of models/*.safetensors or small freshly trained ones).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$root/build}
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
    echo "== npm ci (playwright-core)"
    (cd "$here" && npm ci --no-audit --no-fund)
fi

echo "== building dn-canvas in $build"
cmake -S "$root" -B "$build" >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target dn-canvas dn-train

cnn=${CNN:-}
mlp=${MLP:-}
if [ -z "$cnn" ] || [ -z "$mlp" ]; then
    if [ -f "$root/models/cnn.safetensors" ] && [ -f "$root/models/mlp.safetensors" ]; then
        cnn=$root/models/cnn.safetensors
        mlp=$root/models/mlp.safetensors
    else
        small=$build/canvas-test-models
        if [ ! -f "$root/datasets/mnist/train-images-idx3-ubyte" ]; then
            if [ -d "$root/../shared/mnist" ]; then
                bash "$root/datasets/fetch-mnist.sh" --from "$root/../shared/mnist"
            else
                bash "$root/datasets/fetch-mnist.sh"
            fi
        fi
        echo "== small models in $small"
        cmake -DTRAIN="$build/cli/dn-train" -DDATA="$root/datasets/mnist" -DOUT="$small" \
              -P "$root/tests/server/train_models.cmake"
        cnn=$small/cnn.safetensors
        mlp=$small/mlp.safetensors
    fi
fi

echo "== browser test with $cnn and $mlp"
exec node "$here/browser_test.mjs" --server "$build/examples/canvas/dn-canvas" --cnn "$cnn" --mlp "$mlp" \
    --artifacts "$root/tests/artifacts"
