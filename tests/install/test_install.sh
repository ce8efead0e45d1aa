#!/usr/bin/env bash
# test_install.sh BUILD_DIR SOURCE_DIR - libdigitnet as another project sees it:
#  1. installs the build into a temporary prefix and compiles a consumer with
#     the README's line exactly, `cc app.c $(pkg-config --cflags --libs
#     digitnet)`, without -fopenmp, and runs it;
#  2. the same consumer with CMake's find_package(digitnet), checking that
#     no compile line of the consumer carries -fopenmp;
#  3. builds the library shared (-fvisibility=hidden) and checks that `nm -D`
#     lists exactly the functions the public headers declare with DN_API;
#  4. builds examples/ against the installed tree both ways, with
#     examples/Makefile (pkg-config, no -fopenmp) and with examples/CMakeLists.txt
#     on its own (find_package), and runs them on real inputs: trains a small
#     net on MNIST with the train example (its loss must fall), classifies
#     MNIST test images written as PGM, inverted PNG and JPEG with it, reads
#     two-digit numbers, and runs a model trained by PyTorch (when
#     /usr/bin/python3 has torch) against PyTorch's own predictions
#     (run_examples.sh; skipped, with the reason printed, without MNIST or
#     python3).
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

# ---- 4. the examples, built as another project would and run ----
cp -r "$source_dir/examples" "$work/examples-src" # the examples as a user would copy them
rm -rf "$work/examples-src/canvas"
mkdir -p "$work/mk"
(cd "$work/mk" && make -f "$work/examples-src/Makefile" CC="$cc" >"$work/make.log" 2>&1) || cat "$work/make.log" >&2
for program in classify train read_number run_torch_model; do
  check "examples/Makefile builds $program" test -x "$work/mk/$program"
done
line=$(grep -F 'classify.c' "$work/make.log")
check "its compile lines use pkg-config's flags and no -fopenmp: $line" \
  test -n "$(echo "$line" | grep -e '-I.*prefix' | grep -e '-ldigitnet')" -a -z "$(grep -o fopenmp "$work/make.log")"
cmake -S "$work/examples-src" -B "$work/cm" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$work/cm" -- VERBOSE=1 >"$work/cm.log" 2>&1 || cat "$work/cm.log" >&2
for program in classify train read_number run_torch_model; do
  check "examples/CMakeLists.txt on its own (find_package) builds $program" test -x "$work/cm/$program"
done
check "its compile lines have no -fopenmp" test -z "$(grep -E ' -c .*examples-src/' "$work/cm.log" | grep -o fopenmp)"

bash "$here/run_examples.sh" "$work/mk" "$source_dir" "$work/run"
code=$?
if [ "$code" = 77 ]; then
  echo "skipped running the examples (above: why)"
else
  check "the examples built with examples/Makefile run and print what they should" test "$code" = 0
  "$work/mk/classify" "$work/run/model.safetensors" "$work/run/inputs/digit-0.pgm" >"$work/mk.out" 2>&1
  "$work/cm/classify" "$work/run/model.safetensors" "$work/run/inputs/digit-0.pgm" >"$work/cm.out" 2>&1
  check "the find_package build answers as the pkg-config one" cmp -s "$work/mk.out" "$work/cm.out"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
