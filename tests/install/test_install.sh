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
#     /usr/bin/python3 has torch) against PyTorch's own predictions.
#     Skipped, with the reason printed, without MNIST or python3.
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
python=${DN_PYTHON:-/usr/bin/python3}
mnist=$source_dir/datasets/mnist
cp -r "$source_dir/examples" "$work/examples-src" # the examples as a user would copy them
rm -rf "$work/examples-src/canvas"
mkdir -p "$work/mk"
(cd "$work/mk" && make -f "$work/examples-src/Makefile" CC="$cc" >"$work/make.log" 2>&1) || cat "$work/make.log" >&2
for program in classify train read_number run_torch_model; do
  check "examples/Makefile builds $program" test -x "$work/mk/$program"
done
check "its compile lines use pkg-config's flags and no -fopenmp" \
  test -z "$(grep -E -- '-I.*prefix/include' "$work/make.log" | grep -o fopenmp)" -a -n "$(grep -E -- '-I.*prefix/include' "$work/make.log")"
cmake -S "$work/examples-src" -B "$work/cm" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_C_COMPILER="$cc" >/dev/null
cmake --build "$work/cm" -- VERBOSE=1 >"$work/cm.log" 2>&1 || cat "$work/cm.log" >&2
for program in classify train read_number run_torch_model; do
  check "examples/CMakeLists.txt on its own (find_package) builds $program" test -x "$work/cm/$program"
done
check "its compile lines have no -fopenmp" test -z "$(grep -E ' -c .*examples-src/' "$work/cm.log" | grep -o fopenmp)"

if [ ! -f "$mnist/train-images-idx3-ubyte" ] && [ ! -f "$mnist/train-images-idx3-ubyte.gz" ]; then
  echo "skipped running the examples: no MNIST in $mnist (datasets/fetch-mnist.sh)"
elif ! [ -x "$python" ]; then
  echo "skipped running the examples: no $python to write their input images"
else
  inputs=$work/inputs
  mkdir -p "$inputs"
  "$python" "$here/make_inputs.py" "$mnist" "$inputs" 20
  # train: a small conv net, two epochs on 20000 images
  spec='input 1x28x28; conv 16 5 stride=2; relu; flatten; linear 64; relu; linear 10'
  "$work/mk/train" "$spec" "$mnist/train-images-idx3-ubyte" "$mnist/train-labels-idx1-ubyte" \
    "$work/model.safetensors" 2 20000 >"$work/train.out" 2>"$work/train.err"
  check "train exits 0 and saves the model" test -s "$work/model.safetensors"
  cat "$work/train.out"
  losses=$(sed -n 's/^epoch [0-9]*: loss \([0-9.]*\),.*/\1/p' "$work/train.out" | tr '\n' ' ')
  first_progress=$(tr '\r' '\n' <"$work/train.err" | sed -n 's/.*epoch 1  batch [0-9/]*  loss \([0-9.]*\).*/\1/p' | head -n 1)
  echo "train: progress loss $first_progress at the first report, epoch losses $losses"
  check "train reports two epochs and its loss falls ($losses)" \
    awk -v l="$losses" 'BEGIN { n = split(l, a, " "); exit !(n == 2 && a[2] < a[1]) }'
  check "its progress line runs ($first_progress at the first report, above the first epoch's mean)" \
    awk -v p="$first_progress" -v l="$losses" 'BEGIN { split(l, a, " "); exit !(p != "" && p + 0 > a[1] + 0) }'

  # classify: each test image as PGM, inverted PNG and (with cjpeg) JPEG
  has_jpeg=0
  if command -v cjpeg >/dev/null; then
    has_jpeg=1
    for pgm in "$inputs"/digit-*.pgm; do cjpeg -grayscale -quality 90 "$pgm" >"${pgm%.pgm}.jpg"; done
  fi
  right=0 total=0 same=0 jpeg_right=0
  while read -r name label; do
    case $name in digit-*) ;; *) continue ;; esac
    total=$((total + 1))
    got=$("$work/mk/classify" "$work/model.safetensors" "$inputs/$name.pgm" | sed -n 's/^[^:]*: \([0-9]\) .*/\1/p')
    got_png=$("$work/mk/classify" "$work/model.safetensors" "$inputs/$name.png" | sed -n 's/^[^:]*: \([0-9]\) .*/\1/p')
    [ "$got" = "$label" ] && right=$((right + 1))
    [ -n "$got" ] && [ "$got" = "$got_png" ] && same=$((same + 1))
    if [ "$has_jpeg" = 1 ]; then
      got_jpeg=$("$work/mk/classify" "$work/model.safetensors" "$inputs/$name.jpg" | sed -n 's/^[^:]*: \([0-9]\) .*/\1/p')
      [ "$got_jpeg" = "$label" ] && jpeg_right=$((jpeg_right + 1))
    fi
  done <"$inputs/labels.txt"
  echo "classify: $right of $total PGM test images right, PNG (inverted) agrees on $same, JPEG right on $jpeg_right"
  check "classify gets at least 18 of $total MNIST test images right ($right)" test "$right" -ge 18 -a "$total" -eq 20
  check "the same digits as inverted PNGs give the same answers ($same of $total)" test "$same" -eq "$total"
  if [ "$has_jpeg" = 1 ]; then
    check "and as JPEGs at least 18 right ($jpeg_right)" test "$jpeg_right" -ge 18
  else
    echo "skipped the JPEG inputs: no cjpeg (libjpeg-turbo-progs)"
  fi
  "$work/mk/classify" "$work/model.safetensors" "$inputs/digit-0.pgm" >"$work/mk.out" 2>&1
  "$work/cm/classify" "$work/model.safetensors" "$inputs/digit-0.pgm" >"$work/cm.out" 2>&1
  check "the find_package build answers as the pkg-config one" cmp -s "$work/mk.out" "$work/cm.out"
  check "a blank image is refused as having no ink" \
    grep -q ': no ink ' <("$work/mk/classify" "$work/model.safetensors" "$inputs/blank.pgm")
  check "a file that is no image fails with a message" \
    sh -c '! "$1" "$2" "$3" 2>"$4" && grep -q "classify: " "$4"' sh "$work/mk/classify" \
    "$work/model.safetensors" "$inputs/labels.txt" "$work/bad.err"

  # read_number: two MNIST digits side by side
  while read -r name text; do
    case $name in number-*) ;; *) continue ;; esac
    "$work/mk/read_number" "$work/model.safetensors" "$inputs/$name.pgm" >"$work/number.out"
    cat "$work/number.out"
    check "read_number reads $text" grep -q ": $text\$" "$work/number.out"
  done <"$inputs/labels.txt"

  # run_torch_model: a model trained by PyTorch, against PyTorch's own answers
  "$python" "$here/make_torch_model.py" "$mnist" "$work" 100
  code=$?
  if [ "$code" = 77 ]; then
    echo "skipped run_torch_model: PyTorch is not installed (python3-torch)"
  else
    check "PyTorch trains and saves a model" test "$code" = 0 -a -s "$work/torch.safetensors"
    "$work/cm/run_torch_model" "$work/torch.safetensors" "$mnist/t10k-images-idx3-ubyte" \
      "$mnist/t10k-labels-idx1-ubyte" 100 >"$work/torch.out"
    head -n 5 "$work/torch.out"
    grep accuracy "$work/torch.out"
    check "run_torch_model predicts PyTorch's classes for the first 100 images" \
      grep -qxF "$(head -n 1 "$work/torch-expected.txt")" "$work/torch.out"
    want=$(sed -n 's/^accuracy //p' "$work/torch-expected.txt")
    got=$(sed -n 's/^accuracy on [0-9]* images: \([0-9.]*\)%$/\1/p' "$work/torch.out")
    echo "run_torch_model: accuracy $got%, PyTorch's $want%"
    check "and PyTorch's accuracy on the test set to 0.05% ($got vs $want)" \
      awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(a != "" && d <= 0.05 && d >= -0.05) }'
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
