#!/usr/bin/env bash
# test_install.sh BUILD_DIR SOURCE_DIR - libdigitnet as another project sees it:
#  1. installs the build into a temporary prefix and compiles a consumer with
#     the README's line exactly, `cc app.c $(pkg-config --cflags --libs
#     digitnet)`, without -fopenmp, and runs it;
#  2. the same consumer with CMake's find_package(digitnet), checking that
#     no compile line of the consumer carries -fopenmp;
#  3. builds the library shared (-fvisibility=hidden) and checks that `nm -D`
#     lists exactly the functions the public headers declare with DN_API.
set -uo pipefail
build_dir=$1
source_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc=${CC:-cc}
passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what" >&2; fi
}

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
export PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig
check "pkg-config --cflags has no -fopenmp" test -z "$(pkg-config --cflags digitnet | grep -o fopenmp)"
cp "$here/consumer.c" "$work/app.c"
# shellcheck disable=SC2046 # the README's line, word splitting and all
(cd "$work" && $cc app.c $(pkg-config --cflags --libs digitnet) -o app 2>"$work/cc.log")
check "the README's pkg-config line compiles and links" test -x "$work/app"
[ -x "$work/app" ] || cat "$work/cc.log" >&2
check "and the program runs" "$work/app"

cmake -S "$here" -B "$work/consumer-build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$work/consumer-build" -- VERBOSE=1 >"$work/cmake.log" 2>&1
check "find_package(digitnet) builds the consumer" test -x "$work/consumer-build/consumer"
check "its compile lines have no -fopenmp" test -z "$(grep -E ' -c .*consumer\.c' "$work/cmake.log" | grep -o fopenmp)"
check "and it runs" "$work/consumer-build/consumer"

# The shared library exports the public API and nothing else.
cmake -S "$source_dir" -B "$work/shared" -DBUILD_SHARED_LIBS=ON -DDN_BUILD_TESTS=OFF -DDN_BUILD_TOOLS=OFF \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/shared" -j2 --target digitnet >"$work/shared.log" 2>&1 || cat "$work/shared.log" >&2
lib=$(find "$work/shared" -name 'libdigitnet.so.*.*' | head -n 1)
check "a shared library is built" test -n "$lib"
if [ -n "$lib" ]; then
  nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort >"$work/exported"
  grep -hoE '^DN_API [^(]*\bdn_[a-z0-9_]+\(' "$source_dir"/include/digitnet/*.h "$source_dir"/include/digitnet/*.h.in |
    grep -oE 'dn_[a-z0-9_]+\($' | tr -d '(' | sort -u >"$work/declared"
  extra=$(comm -23 "$work/exported" "$work/declared")
  missing=$(comm -13 "$work/exported" "$work/declared")
  check "nm -D lists only DN_API functions (extra: $(echo $extra))" test -z "$extra"
  check "every DN_API function is exported (missing: $(echo $missing))" test -z "$missing"
  echo "the shared library exports $(wc -l <"$work/exported") functions"
  # a program compiled without -fopenmp links against it and runs
  $cc "$work/app.c" -I"$source_dir/include" -I"$work/shared/include" -L"$(dirname "$lib")" -ldigitnet \
    -o "$work/app-shared" 2>>"$work/cc.log"
  check "a program without -fopenmp links the shared library" test -x "$work/app-shared"
  check "and runs" env LD_LIBRARY_PATH="$(dirname "$lib")" "$work/app-shared"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
