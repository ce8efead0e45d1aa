#!/bin/bash
# bench_side_by_side.sh - digitnet and PyTorch's anchor (../shared/bench/
# torch_anchor.py, the seed's models) timed one after the other, ROUNDS
# times, for docs/performance.md. Run it on a quiet machine from the
# repository's root after building into BUILD (default: build):
#     bash tests/bench_side_by_side.sh [BUILD [ROUNDS]]
# Needs Debian's python3-torch and MNIST in datasets/mnist. Not a ctest:
# speed is a figure to read, not a pass/fail.
set -u
build=${1:-build}
rounds=${2:-2}
anchor=../shared/bench/torch_anchor.py
load() { cut -d' ' -f1-3 /proc/loadavg; }
for round in $(seq "$rounds"); do
  echo "== round $round $(date -u +%T) load $(load)"
  /usr/bin/python3 "$anchor" datasets/mnist --threads 2 --epochs 1 --model cnn
  "$build/cli/dn-train" --bench --no-dropout --bench-steps 60 | grep "training images/s"
  "$build/cli/dn-train" --bench --no-dropout --bench-steps 30 --threads 1 | grep "training images/s"
  "$build/cli/dn-predict" --bench 3000 --model cnn | grep -E "single image, |batch 1000"
  /usr/bin/python3 "$anchor" datasets/mnist --threads 2 --epochs 1 --model mlp
  "$build/cli/dn-train" --bench --model mlp --bench-steps 300 | grep "training images/s"
  "$build/cli/dn-predict" --bench 10000 --model mlp | grep -E "single image, |batch 1000"
done
out=$(mktemp -d)
echo "== real epochs $(date -u +%T) load $(load)"
"$build/cli/dn-train" --model cnn --epochs 1 --no-digits --no-dropout --out "$out/cnn.safetensors" | grep "^epoch"
"$build/cli/dn-train" --model mlp --epochs 1 --no-digits --out "$out/mlp.safetensors" | grep "^epoch"
rm -rf "$out"
echo "== end $(date -u +%T) load $(load)"
