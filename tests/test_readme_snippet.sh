#!/bin/sh
# test_readme_snippet.sh - runs the README's C example (built by CMake from
# the README's first ```c block as readme_snippet) on MNIST in a scratch
# folder: it must train, report a plausible accuracy and save a model that
# dn-predict loads.
#   test_readme_snippet.sh SNIPPET DN_PREDICT MNIST_DIR
set -u
snippet=$1 predict=$2 mnist=$3
if [ ! -e "$mnist/train-images-idx3-ubyte" ] && [ ! -e "$mnist/train-images-idx3-ubyte.gz" ]; then
  echo "SKIP: no MNIST in $mnist (run datasets/fetch-mnist.sh)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
out=$(OMP_NUM_THREADS=1 "$snippet" "$mnist") || { echo "FAIL: the README's example failed: $out"; exit 1; }
echo "$out"
accuracy=$(echo "$out" | sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p')
# One epoch on 6,000 images gives about 95%; chance is 10%.
if [ -z "$accuracy" ] || [ "$(echo "$accuracy" | awk '{print ($1 >= 85)}')" != 1 ]; then
  echo "FAIL: expected a test accuracy of at least 85%, got '$accuracy'"
  exit 1
fi
if ! "$predict" --model cnn-6000.safetensors --idx "$mnist/t10k-images-idx3-ubyte" \
     --labels "$mnist/t10k-labels-idx1-ubyte" >/dev/null 2>&1; then
  echo "FAIL: dn-predict cannot use the model the example saved"
  exit 1
fi
echo "ok: the README's example trains ($accuracy%) and saves a model dn-predict reads"
