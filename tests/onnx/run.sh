#!/usr/bin/env bash
# run.sh MODE MAKE_EXPORTS SOURCE_DIR - the ONNX tests that need outside
# tools, each on fresh exports (make_exports.c) in a temporary folder:
#   runtime  runs every file in onnxruntime (onnxruntime-node from npm, in
#            tests/onnx/node_modules) and compares with digitnet's logits
#   checker  passes every file through ONNX's checker (Debian's python3-onnx)
# Exits 77, saying why, when the tool or MNIST is missing. Model files named
# in DN_ONNX_MODELS (space-separated) are exported and checked too.
set -uo pipefail
mode=$1
make_exports=$2
source=$3
here=$source/tests/onnx

case $mode in
  runtime)
    if ! command -v node >/dev/null; then
      echo "skipped: node is not installed (apt-get install nodejs npm)" >&2
      exit 77
    fi
    if [ ! -f "$here/node_modules/onnxruntime-node/package.json" ]; then
      echo "skipped: onnxruntime-node is not installed: (cd tests/onnx && npm ci --ignore-scripts)" >&2
      exit 77
    fi ;;
  checker)
    if ! /usr/bin/python3 -c 'import onnx' 2>/dev/null; then
      echo "skipped: Debian's python3-onnx is not installed (apt-get install python3-onnx)" >&2
      exit 77
    fi ;;
  *)
    echo "usage: run.sh runtime|checker MAKE_EXPORTS SOURCE_DIR" >&2
    exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2086 # a list of paths
"$make_exports" "$work" "$source/datasets/mnist" ${DN_ONNX_MODELS:-}
status=$?
if [ $status -ne 0 ]; then
  [ $status -eq 77 ] && echo "skipped: MNIST is not in datasets/mnist (bash datasets/fetch-mnist.sh)" >&2
  exit $status
fi
if [ "$mode" = runtime ]; then
  exec node "$here/run_onnxruntime.mjs" "$work"
else
  exec /usr/bin/python3 "$here/check_onnx.py" "$work"
fi
