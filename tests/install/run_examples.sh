#!/usr/bin/env bash
# run_examples.sh BIN_DIR SOURCE_DIR WORK_DIR - runs the programs of examples/
# built in BIN_DIR on real inputs and checks what they print:
#  - train: a small conv net given as a spec, two epochs on 20,000 MNIST
#    training images; its loss must fall and its progress line run;
#  - classify, with that model: the first 20 MNIST test images written as
#    PGM, inverted (dark on white) PNG and, with cjpeg, JPEG; a blank image
#    (no ink) and a file that is no image;
#  - read_number: two test digits side by side, twice;
#  - run_torch_model: a model trained by PyTorch (when /usr/bin/python3 has
#    torch) must predict PyTorch's classes and reach PyTorch's accuracy.
# Leaves WORK_DIR/model.safetensors and WORK_DIR/inputs/ for the caller.
# Exits 0 when every check passed, 1 when one failed, 77 (skipped) without
# MNIST or python3 (the inputs are written with Python's standard library).
set -uo pipefail
bin=$1
source_dir=$2
work=$3
here=$(cd "$(dirname "$0")" && pwd)
python=${DN_PYTHON:-/usr/bin/python3}
mnist=$source_dir/datasets/mnist
export PYTHONDONTWRITEBYTECODE=1
# One thread: for nets this small, on a machine shared with other jobs,
# OpenMP threads waiting for each other cost far more than they give.
export OMP_NUM_THREADS=1
passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what" >&2; fi
}
idx() { # the raw or gzip file of an MNIST set
  if [ -f "$mnist/$1" ]; then echo "$mnist/$1"; else echo "$mnist/$1.gz"; fi
}
if [ ! -f "$(idx train-images-idx3-ubyte)" ] || [ ! -f "$(idx t10k-images-idx3-ubyte)" ]; then
  echo "skipped: no MNIST in $mnist (bash datasets/fetch-mnist.sh)"
  exit 77
fi
if ! [ -x "$python" ]; then
  echo "skipped: no $python to write the input images"
  exit 77
fi
mkdir -p "$work/inputs"
inputs=$work/inputs
model=$work/model.safetensors
"$python" "$here/make_inputs.py" "$mnist" "$inputs" 20 || exit 1

# train: a small conv net, two epochs on 20000 images
spec='input 1x28x28; conv 16 5 stride=2; relu; flatten; linear 64; relu; linear 10'
"$bin/train" "$spec" "$(idx train-images-idx3-ubyte)" "$(idx train-labels-idx1-ubyte)" "$model" 2 20000 \
  >"$work/train.out" 2>"$work/train.err"
check "train exits 0 and saves the model" test -s "$model"
cat "$work/train.out" "$work/train.err" | tr '\r' '\n' | grep -v -e '^  epoch .* batch [0-9]*[1-9]0*/' -e '^$'
losses=$(sed -n 's/^epoch [0-9]*: loss \([0-9.]*\),.*/\1/p' "$work/train.out" | tr '\n' ' ')
first_progress=$(tr '\r' '\n' <"$work/train.err" | sed -n 's/.*epoch 1  batch [0-9/]*  loss \([0-9.]*\).*/\1/p' | head -n 1)
echo "train: progress line's loss $first_progress at its first report; epoch losses $losses"
check "train reports two epochs and its loss falls ($losses)" \
  awk -v l="$losses" 'BEGIN { n = split(l, a, " "); exit !(n == 2 && a[2] + 0 < a[1] + 0) }'
check "its progress line runs ($first_progress at the first report, above the first epoch's mean)" \
  awk -v p="$first_progress" -v l="$losses" 'BEGIN { split(l, a, " "); exit !(p != "" && p + 0 > a[1] + 0) }'
if [ ! -s "$model" ]; then
  echo "$passed passed, $failed failed (no model to run the others with)"
  exit 1
fi

# classify: each test image as PGM, inverted PNG and (with cjpeg) JPEG
has_jpeg=0
if command -v cjpeg >/dev/null; then
  has_jpeg=1
  for pgm in "$inputs"/digit-*.pgm; do cjpeg -grayscale -quality 90 "$pgm" >"${pgm%.pgm}.jpg"; done
fi
digit_of() { "$bin/classify" "$model" "$1" | sed -n 's/^[^:]*: \([0-9]\) (probability [0-9.]*)$/\1/p'; }
right=0 total=0 same=0 jpeg_right=0
while read -r name label; do
  case $name in digit-*) ;; *) continue ;; esac
  total=$((total + 1))
  got=$(digit_of "$inputs/$name.pgm")
  [ "$got" = "$label" ] && right=$((right + 1))
  [ -n "$got" ] && [ "$got" = "$(digit_of "$inputs/$name.png")" ] && same=$((same + 1))
  if [ "$has_jpeg" = 1 ] && [ "$(digit_of "$inputs/$name.jpg")" = "$label" ]; then jpeg_right=$((jpeg_right + 1)); fi
done <"$inputs/labels.txt"
"$bin/classify" "$model" "$inputs/digit-0.pgm"
echo "classify: $right of $total PGM test images right; the inverted PNGs agree on $same; JPEGs right: $jpeg_right"
check "classify gets at least 18 of 20 MNIST test images right ($right of $total)" test "$right" -ge 18 -a "$total" -eq 20
check "the same digits as inverted PNGs get the same answers ($same of $total)" test "$same" -eq "$total"
if [ "$has_jpeg" = 1 ]; then
  check "and as JPEGs at least 18 right ($jpeg_right)" test "$jpeg_right" -ge 18
else
  echo "skipped the JPEG inputs: no cjpeg (libjpeg-turbo-progs)"
fi
check "a blank image is refused for having no ink" \
  grep -q ': no ink (' <("$bin/classify" "$model" "$inputs/blank.pgm")
"$bin/classify" "$model" "$inputs/labels.txt" >/dev/null 2>"$work/bad.err"
code=$?
check "a file that is no image fails (exit $code) with the library's message: $(cat "$work/bad.err")" \
  test "$code" = 1 -a -n "$(grep '^classify: .*labels.txt' "$work/bad.err")"

# read_number: two MNIST digits side by side
while read -r name text; do
  case $name in number-*) ;; *) continue ;; esac
  "$bin/read_number" "$model" "$inputs/$name.pgm" >"$work/number.out"
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
  "$bin/run_torch_model" "$work/torch.safetensors" "$(idx t10k-images-idx3-ubyte)" \
    "$(idx t10k-labels-idx1-ubyte)" 100 >"$work/torch.out"
  grep -v '^first' "$work/torch.out"
  check "run_torch_model predicts PyTorch's classes for the first 100 test images" \
    grep -qxF "$(head -n 1 "$work/torch-expected.txt")" "$work/torch.out"
  want=$(sed -n 's/^accuracy //p' "$work/torch-expected.txt")
  got=$(sed -n 's/^accuracy on [0-9]* images: \([0-9.]*\)%$/\1/p' "$work/torch.out")
  echo "run_torch_model: accuracy $got%, PyTorch's $want%"
  check "and PyTorch's accuracy on the test set to 0.05% ($got% vs $want%)" \
    awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(a != "" && d <= 0.05 && d >= -0.05) }'
fi
echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
