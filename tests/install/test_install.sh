#!/usr/bin/env bash
# Installs the built library into a temporary prefix, then builds and runs a
# consumer twice: with pkg-config and with CMake's find_package.
set -euo pipefail
build_dir=$1
source_dir=$(cd "$(dirname "$0")" && pwd)
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name digitnet.pc | head -n1)")
export PKG_CONFIG_PATH="$libdir"
cc=${CC:-cc}
# shellcheck disable=SC2046
$cc "$source_dir/consumer.c" -o "$prefix/consumer-pc" $(pkg-config --cflags digitnet) \
  $(pkg-config --libs --static digitnet)
"$prefix/consumer-pc"
cmake -S "$source_dir" -B "$prefix/consumer-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/consumer-build" >/dev/null
"$prefix/consumer-build/consumer"
echo "1 passed, 0 failed"
