#!/usr/bin/env bash
# test_cli.sh - dn-train and dn-predict end to end: option errors, a short
# training run with metrics, checkpoint and resume, thread-count
# reproducibility, predictions on PGM files (good, blank and broken) and IDX
# evaluation. Needs MNIST in datasets/mnist (skips with 77 otherwise).
# usage: test_cli.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build=$1
source=$2
train=$build/cli/dn-train
predict=$build/cli/dn-predict
data=$source/datasets/mnist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

check() { # check DESCRIPTION COMMAND...: the command must succeed
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $what" >&2
  fi
}

# expect_exit CODE PATTERN COMMAND...: exit code and a stderr line matching PATTERN
expect_exit() {
  local want=$1 pattern=$2
  shift 2
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [ "$got" -eq "$want" ] && grep -qE -- "$pattern" "$work/err"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: '$*' exited $got (want $want), stderr: $(head -c 300 "$work/err")" >&2
  fi
}

if [ ! -f "$data/t10k-images-idx3-ubyte" ] && [ ! -f "$data/t10k-images-idx3-ubyte.gz" ]; then
  echo "MNIST not in $data: run bash datasets/fetch-mnist.sh; skipped"
  exit 77
fi

# --- option errors: exit 2 and a message that names the problem
expect_exit 2 "epochs.*integer" "$train" --epochs 0
expect_exit 2 "expected cnn, mlp or cnn-bn" "$train" --model resnet
expect_exit 2 "unknown option '--bogus'" "$train" --bogus
expect_exit 2 "--calibrate: expected right or all, got 'some'" "$train" --calibrate some
expect_exit 2 "--lr needs a value" "$train" --lr
expect_exit 2 "expected a number" "$train" --lr abc
expect_exit 1 "fetch MNIST first" "$train" --data "$work/nowhere" --out "$work/x.safetensors"
expect_exit 1 "spec: unknown layer" "$train" --arch "input 1x28x28; flatten; wobble" --data "$data" --out "$work/x.safetensors"
expect_exit 2 "no images given" "$predict" --model "$work/none.safetensors"
expect_exit 1 "none.safetensors" "$predict" --model "$work/none.safetensors" "$work/a.pgm"

# --- the default output is the model the canvas demo serves: not replaced
# silently (exit 2, the file untouched); --out or --force say otherwise
mkdir -p "$work/cwd/models"
echo "the demo's model" >"$work/cwd/models/mlp.safetensors"
expect_exit 2 "models/mlp.safetensors exists.*--force" bash -c "cd '$work/cwd' && '$train' --model mlp --data '$data'"
check "the served model is left alone" grep -q "the demo's model" "$work/cwd/models/mlp.safetensors"

# --- a short run: metrics, model, checkpoint
"$train" --model mlp --epochs 1 --limit 3000 --data "$data" --seed 5 --threads 2 \
  --out "$work/mlp.safetensors" --metrics "$work/metrics.jsonl" >"$work/train.log" 2>&1
check "dn-train runs" test $? -eq 0
check "one metrics line per epoch" test "$(wc -l <"$work/metrics.jsonl")" -eq 1
check "metrics keys" grep -qE '^\{"epoch":1,"train_loss":[0-9.]+,"train_acc":[0-9.]+,"test_acc":0\.[89][0-9]+,"seconds":[0-9.]+,"images_per_s":[0-9.]+\}$' "$work/metrics.jsonl"
check "model written" test -s "$work/mlp.safetensors"
check "checkpoint written" test -s "$work/mlp.ckpt.safetensors"
check "no temporary files left" test -z "$(find "$work" -name '*.tmp*')"
check "plain progress line when not a terminal" grep -qE '^epoch 1/1 +loss [0-9.]+ +train [0-9.]+% +test [0-9.]+%' "$work/train.log"

# --- resume: 1 epoch + resume to 2 == 2 epochs straight, byte for byte (a
# step schedule, which does not depend on the planned length of the run)
"$train" --model mlp --epochs 1 --limit 3000 --data "$data" --seed 5 --schedule step \
  --out "$work/step1.safetensors" >/dev/null 2>&1
"$train" --model mlp --epochs 2 --limit 3000 --data "$data" --seed 5 --threads 2 --schedule step \
  --out "$work/straight.safetensors" >/dev/null 2>&1
"$train" --model mlp --epochs 2 --limit 3000 --data "$data" --seed 5 --threads 2 --schedule step \
  --resume "$work/step1.ckpt.safetensors" --out "$work/resumed.safetensors" >"$work/resume.log" 2>&1
check "resume runs epoch 2 only" grep -q "^epoch 2/2" "$work/resume.log"
check "resumed model == straight model" cmp -s "$work/straight.safetensors" "$work/resumed.safetensors"
"$train" --model mlp --limit 3000 --data "$data" --resume "$work/mlp.ckpt.safetensors" \
  --out "$work/again.safetensors" >"$work/again.log" 2>&1
check "resume defaults to the planned epochs" grep -q "nothing to do.*1 of 1 epochs" "$work/again.log"

# --- same seed, same model bytes with 1 and 2 threads (cnn, a few batches)
for t in 1 2; do
  "$train" --model cnn --epochs 1 --limit 640 --data "$data" --seed 3 --threads $t \
    --out "$work/cnn$t.safetensors" >/dev/null 2>&1
done
check "cnn: 1 thread == 2 threads, byte for byte" cmp -s "$work/cnn1.safetensors" "$work/cnn2.safetensors"

# --- cnn-bn distorts MNIST with the affine augmentation alone, as --no-digits
# does; the cnn with the digit distortion, which --no-digits turns off
for m in cnn cnn-bn; do
  for d in digits no-digits; do
    "$train" --model $m --epochs 1 --limit 128 --drawn 0 --others 0 --augment --$d --data "$data" --seed 3 \
      --out "$work/$m-$d.safetensors" >"$work/$m-$d.log" 2>&1
  done
done
check "cnn-bn on MNIST: the affine augmentation" cmp -s "$work/cnn-bn-digits.safetensors" "$work/cnn-bn-no-digits.safetensors"
check "cnn-bn says so" grep -q "augmentation on (affine)" "$work/cnn-bn-digits.log"
# cnn-bn's recipe has an L2 penalty of 1e-4 (docs/results.md): the default is that, and 0 is another model
for wd in 1e-4 0; do
  "$train" --model cnn-bn --epochs 1 --limit 128 --drawn 0 --others 0 --augment --digits --data "$data" --seed 3 \
    --weight-decay $wd --out "$work/cnn-bn-wd$wd.safetensors" >/dev/null 2>&1
done
check "cnn-bn: weight decay 1e-4 by default" cmp -s "$work/cnn-bn-digits.safetensors" "$work/cnn-bn-wd1e-4.safetensors"
check "cnn-bn: --weight-decay 0 trains another model" \
  bash -c "! cmp -s '$work/cnn-bn-digits.safetensors' '$work/cnn-bn-wd0.safetensors'"
# so has the cnn's since 2026-11-29 (sixth session)
"$train" --model cnn --epochs 1 --limit 128 --drawn 0 --others 0 --augment --digits --data "$data" --seed 3 \
  --weight-decay 0 --out "$work/cnn-wd0.safetensors" >/dev/null 2>&1
"$train" --model cnn --epochs 1 --limit 128 --drawn 0 --others 0 --augment --digits --data "$data" --seed 3 \
  --weight-decay 1e-4 --out "$work/cnn-wd1e-4.safetensors" >/dev/null 2>&1
check "cnn: weight decay 1e-4 by default" cmp -s "$work/cnn-digits.safetensors" "$work/cnn-wd1e-4.safetensors"
check "cnn: --weight-decay 0 trains another model" \
  bash -c "! cmp -s '$work/cnn-digits.safetensors' '$work/cnn-wd0.safetensors'"
check "cnn on MNIST: the digit distortion, another model" \
  bash -c "! cmp -s '$work/cnn-digits.safetensors' '$work/cnn-no-digits.safetensors'"
check "cnn says so" grep -q "augmentation on (digit shapes)" "$work/cnn-digits.log"
# the mlp augments on digits too, over 10 epochs (docs/results.md, "The mlp augments");
# on other data it keeps 5 epochs and no augmentation
for a in default augment no-augment; do
  flag=--$a; [ $a = default ] && flag=
  "$train" --model mlp --limit 128 --drawn 0 --others 0 --digits $flag --data "$data" --seed 3 \
    --out "$work/mlp-$a.safetensors" >"$work/mlp-$a.log" 2>&1
done
"$train" --model mlp --limit 128 --drawn 0 --others 0 --no-digits --data "$data" --seed 3 \
  --out "$work/mlp-no-digits.safetensors" >"$work/mlp-no-digits.log" 2>&1
check "mlp on digits: augmented by default" cmp -s "$work/mlp-default.safetensors" "$work/mlp-augment.safetensors"
check "mlp: --no-augment trains another model" \
  bash -c "! cmp -s '$work/mlp-default.safetensors' '$work/mlp-no-augment.safetensors'"
check "mlp on digits: 10 epochs by default" grep -q "^epoch 10/10" "$work/mlp-default.log"
check "mlp on other data: 5 epochs, no augmentation" \
  bash -c "grep -q '^epoch 5/5' '$work/mlp-no-digits.log' && grep -q 'augmentation off' '$work/mlp-no-digits.log'"

# --- predictions on PGM files
python_pgm() { # python_pgm FILE INDEX INVERT SCALE: an MNIST test digit as a P5 file
  local out=$1 index=$2 invert=$3 scale=$4
  local offset=$((16 + index * 784))
  {
    printf 'P5\n# digit %d\n%d %d\n255\n' "$index" $((28 * scale)) $((28 * scale))
    dd if="$data/t10k-images-idx3-ubyte" bs=1 skip=$offset count=784 2>/dev/null |
      od -An -v -tu1 -w28 | while read -r row; do
        line=""
        for v in $row; do
          [ "$invert" = 1 ] && v=$((255 - v))
          for ((k = 0; k < scale; k++)); do line+=$(printf '\\%03o' "$v"); done
        done
        for ((k = 0; k < scale; k++)); do printf '%b' "$line"; done
      done
  } >"$out"
}
if [ -f "$data/t10k-images-idx3-ubyte" ]; then
  labels=$(od -An -v -tu1 -j 8 -N 3 "$data/t10k-labels-idx1-ubyte" | tr -s ' ' | sed 's/^ //')
  python_pgm "$work/d0.pgm" 0 0 1
  python_pgm "$work/d1.pgm" 1 1 3
  python_pgm "$work/d2.pgm" 2 0 2
  printf 'P2\n4 3\n255\n' >"$work/blank.pgm"
  for i in $(seq 12); do printf '255 ' >>"$work/blank.pgm"; done
  printf 'P5\n28 28\n255\nshort' >"$work/truncated.pgm"
  printf 'GIF89a' >"$work/notpgm.pgm"
  "$predict" --model "$work/mlp.safetensors" "$work/d0.pgm" "$work/missing.pgm" "$work/d1.pgm" \
    "$work/truncated.pgm" "$work/blank.pgm" "$work/notpgm.pgm" "$work/d2.pgm" >"$work/pred" 2>"$work/pred.err"
  status=$?
  check "bad files make the exit code non-zero" test $status -ne 0
  check "good files are still predicted" test "$(grep -cE '^.*d[012]\.pgm: [0-9] \([0-9.]+%\)$' "$work/pred")" -eq 3
  check "blank canvas: no digit" grep -q "blank.pgm: no digit" "$work/pred"
  check "missing file named" grep -q "missing.pgm" "$work/pred.err"
  check "truncated file named" grep -q "truncated.pgm" "$work/pred.err"
  check "non-PGM file named" grep -q "notpgm.pgm" "$work/pred.err"
  set -- $labels
  check "digit 0 right (label $1)" grep -q "d0.pgm: $1 " "$work/pred"
  check "inverted, enlarged digit 1 right (label $2)" grep -q "d1.pgm: $2 " "$work/pred"
  check "enlarged digit 2 right (label $3)" grep -q "d2.pgm: $3 " "$work/pred"
  "$predict" --json --model "$work/mlp.safetensors" "$work/d0.pgm" "$work/blank.pgm" >"$work/json"
  check "json per image" grep -qE '^\{"file":"[^"]*d0\.pgm","digit":[0-9],"reason":null,"score":[0-9.]+,"threshold":[01]\.[0-9]+,"best":[0-9],"probs":\[([0-9.]+,){9}[0-9.]+\]\}$' "$work/json"
  check "json null digit for a blank canvas" grep -qE '"file":"[^"]*blank\.pgm","digit":null,"reason":"no ink"' "$work/json"
  # two digits side by side (MNIST test digits 0 and 2, 28 black columns apart): read as a number
  {
    printf 'P5\n84 28\n255\n'
    paste -d' ' <(dd if="$data/t10k-images-idx3-ubyte" bs=1 skip=16 count=784 2>/dev/null | od -An -v -tu1 -w28) \
                <(dd if="$data/t10k-images-idx3-ubyte" bs=1 skip=$((16 + 2 * 784)) count=784 2>/dev/null | od -An -v -tu1 -w28) |
      while read -r row; do
        line=""
        set -- $row
        for ((k = 1; k <= 56; k++)); do
          line+=$(printf '\\%03o' "${!k}")
          [ $k -eq 28 ] && for ((z = 0; z < 28; z++)); do line+='\000'; done
        done
        printf '%b' "$line"
      done
  } >"$work/pair.pgm"
  set -- $labels
  "$predict" --model "$work/mlp.safetensors" "$work/pair.pgm" >"$work/pair" 2>&1
  check "two digits side by side: the number, then each digit (label $1$3)" \
    grep -qE "pair\.pgm: $1$3 \($1 [0-9.]+%, $3 [0-9.]+%\)$" "$work/pair"
  "$predict" --json --model "$work/mlp.safetensors" "$work/pair.pgm" >"$work/pair.json" 2>&1
  check "--json: number and parts with boxes" \
    grep -qE "^\{\"file\":\"[^\"]*pair\.pgm\",\"number\":\"$1$3\",\"parts\":\[\{\"kind\":\"digit\",\"digit\":$1,\"box\":\[[0-9]+,[0-9]+,[0-9]+,[0-9]+\],\"probs\":\[" "$work/pair.json"
  "$predict" --single --model "$work/mlp.safetensors" "$work/pair.pgm" >"$work/pair.single" 2>&1
  # one answer for the whole picture: a digit, or (two digits are no digit) a refusal
  check "--single: one answer, as before" \
    grep -qE "pair\.pgm: ([0-9] \([0-9.]+%\)|not a digit \(top probability [0-9.]+% for [0-9], below [0-9]+%\))$" "$work/pair.single"
  set -- $labels
  "$predict" --model "$work/mlp.safetensors" --raw "$work/d0.pgm" >"$work/raw"
  check "--raw on a 28x28 MNIST image" grep -q "d0.pgm: $1 " "$work/raw"
  expect_exit 1 "needs a 28x28 image" "$predict" --model "$work/mlp.safetensors" --raw "$work/d2.pgm"

  # The same digits as PNG files, read by content whatever their names: black
  # ink as alpha on a transparent background (RGBA), and 16-bit gray Adam7.
  if command -v python3 >/dev/null; then
    python3 - "$source/tests/png" "$work" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import pngwrite
work = sys.argv[2]
for name in ("d0", "d2"):
    with open("%s/%s.pgm" % (work, name), "rb") as f:
        data = f.read()
    head = data.split(b"\n")
    w, h = map(int, head[2].split())
    px = data[len(data) - w * h:]
    rgba = [[(0, 0, 0, px[y * w + x]) for x in range(w)] for y in range(h)]
    with open("%s/%s-rgba.png" % (work, name), "wb") as f:
        f.write(pngwrite.png(rgba, w, h, 8, 6))
    gray16 = [[(px[y * w + x] * 257,) for x in range(w)] for y in range(h)]
    with open("%s/%s-gray16.pgm" % (work, name), "wb") as f:  # a PNG despite its name
        f.write(pngwrite.png(gray16, w, h, 16, 0, interlace=1))
PY
    "$predict" --model "$work/mlp.safetensors" "$work/d0-rgba.png" "$work/d2-rgba.png" "$work/d0-gray16.pgm" \
      "$work/d2-gray16.pgm" >"$work/pred-png" 2>&1
    check "PNG: RGBA with transparent paper read (digit 0, label $1)" grep -q "d0-rgba.png: $1 " "$work/pred-png"
    check "PNG: RGBA with transparent paper read (digit 2, label $3)" grep -q "d2-rgba.png: $3 " "$work/pred-png"
    check "PNG named .pgm read by content, 16-bit Adam7 (label $1)" grep -q "d0-gray16.pgm: $1 " "$work/pred-png"
    check "PNG named .pgm read by content, 16-bit Adam7 (label $3)" grep -q "d2-gray16.pgm: $3 " "$work/pred-png"
    head -c 100 "$work/d0-rgba.png" >"$work/cut.png"
    expect_exit 1 "cut.png: truncated" "$predict" --model "$work/mlp.safetensors" "$work/cut.png"
  fi
  printf '\377\330\377\340JFIF' >"$work/photo.jpg"
  expect_exit 1 "photo.jpg: " "$predict" --model "$work/mlp.safetensors" "$work/photo.jpg"
fi

# --- "not a digit": a model trained with drawings that are not digits
# (dn-train's default on MNIST) refuses a star and still answers digits.
star_pgm() { # out: a five-pointed star in one stroke, dark ink on white, 96x96
  awk 'BEGIN {
    pi = atan2(0, -1); n = 96; r = 40; half = 3.5
    for (i = 0; i <= 5; i++) { a = 4 * pi * i / 5 - pi / 2; vx[i] = 48 + r * cos(a); vy[i] = 50 + r * sin(a) }
    printf "P2\n%d %d\n255\n", n, n
    for (y = 0; y < n; y++) { for (x = 0; x < n; x++) {
      best = 1e9
      for (i = 0; i < 5; i++) {
        dx = vx[i+1] - vx[i]; dy = vy[i+1] - vy[i]
        t = ((x - vx[i]) * dx + (y - vy[i]) * dy) / (dx * dx + dy * dy); t = t < 0 ? 0 : t > 1 ? 1 : t
        ex = x - vx[i] - t * dx; ey = y - vy[i] - t * dy; d = sqrt(ex * ex + ey * ey); if (d < best) best = d
      }
      printf "%d ", best < half ? 20 : 255 }
      printf "\n" } }' >"$1"
}
if [ -f "$data/t10k-images-idx3-ubyte" ]; then
  "$train" --model mlp --epochs 3 --data "$data" --seed 2 --out "$work/mlp-oe.safetensors" \
    >"$work/train-oe.log" 2>&1
  check "training on MNIST adds drawn digits and non-digits by default" \
    grep -q "20000 drawn digits and 30000 non-digits added" "$work/train-oe.log"
  star_pgm "$work/star.pgm"
  "$predict" --model "$work/mlp-oe.safetensors" "$work/star.pgm" "$work/d0.pgm" "$work/d2.pgm" >"$work/refuse"
  check "a refusal is an answer, not an error (exit 0)" test $? -eq 0
  check "a star is not a digit" grep -qE '^.*star\.pgm: not a digit \(top probability [0-9.]+% for [0-9], below [0-9]+%\)$' "$work/refuse"
  check "digits are still answered" test "$(grep -cE 'd[02]\.pgm: [0-9] \(' "$work/refuse")" -eq 2
  "$predict" --json --model "$work/mlp-oe.safetensors" "$work/star.pgm" >"$work/refuse.json"
  check "json: digit null, the reason and the score" \
    grep -qE '^\{"file":"[^"]*star\.pgm","digit":null,"reason":"not a digit","score":0\.[0-9]+,"threshold":0\.[0-9]+,"best":[0-9],' "$work/refuse.json"
  calibrated=$(sed -n 's/.*below a top probability of \([0-9.]*\),.*/\1/p' "$work/train-oe.log")
  check "the MLP's threshold answers 97% of the test digits read right, fewer of the whole set (issue 11)" \
    grep -qE "which answers 97% of the test digits it reads right \(9[0-6]\.[0-9]{2}% of the test set\)$" "$work/train-oe.log"
  check "dn-train calibrates a threshold and stores it in the model ($calibrated)" \
    grep -qE "\"threshold\":${calibrated:-none}0*," "$work/refuse.json"
  "$predict" --threshold 0 --model "$work/mlp-oe.safetensors" "$work/star.pgm" >"$work/refuse0"
  check "--threshold 0 never refuses (a digit, or digits: with nothing refused the star may read as a number)" grep -qE 'star\.pgm: [0-9]+ \(' "$work/refuse0"
  expect_exit 2 "--threshold" "$predict" --threshold 1.5 --model "$work/mlp-oe.safetensors" "$work/star.pgm"
fi

# --- IDX evaluation
"$predict" --model "$work/mlp.safetensors" --idx "$data/t10k-images-idx3-ubyte" \
  --labels "$data/t10k-labels-idx1-ubyte" >"$work/eval" 2>&1
check "idx evaluation prints accuracy" grep -qE '^10000 images: accuracy (8|9)[0-9]\.[0-9]+%' "$work/eval"
check "idx evaluation prints the confusion matrix" test "$(grep -cE '^ +[0-9] +( +[0-9]+){10} +[0-9.]+%$' "$work/eval")" -eq 10
expect_exit 1 "t10k-labels" "$predict" --model "$work/mlp.safetensors" --idx "$data/t10k-labels-idx1-ubyte" --labels "$data/t10k-labels-idx1-ubyte"
expect_exit 1 "mlp.ckpt" "$predict" --model "$work/mlp.safetensors" --idx "$work/mlp.ckpt.safetensors" --labels "$data/t10k-labels-idx1-ubyte"

# --- hostile inputs (issue 9): each refused with a clear message, never a
# crash, a hang, NaN in the output or a file lost
hostile=$source/tests/cli/hostile_model.py
mkfifo "$work/fifo"
expect_exit 1 "is a FIFO, not a regular file" timeout 10 "$predict" --model "$work/fifo" "$work/d0.pgm"
expect_exit 1 "fifo: is a FIFO" timeout 10 "$predict" --model "$work/mlp.safetensors" "$work/fifo"
expect_exit 1 "is a directory" "$predict" --model "$work" "$work/d0.pgm"
expect_exit 1 "README.md: not a safetensors file" "$predict" --model "$source/README.md" "$work/d0.pgm"
if command -v python3 >/dev/null; then
  python3 "$hostile" huge "$work/mlp.safetensors" "$work/huge.safetensors"
  expect_exit 1 "not finite" "$predict" --json --model "$work/huge.safetensors" "$work/d0.pgm"
  check "no NaN or infinity printed" test -z "$(grep -iE 'nan|inf' "$work/out")"
  expect_exit 1 "not finite" "$predict" --model "$work/huge.safetensors" --idx "$data/t10k-images-idx3-ubyte" \
    --labels "$data/t10k-labels-idx1-ubyte"
  python3 "$hostile" hungry - "$work/hungry.safetensors"
  expect_exit 1 "would need 1\.[0-9] GiB.*over the memory limit of 1\.0 GiB.*DN_MEMORY_LIMIT" \
    "$predict" --model "$work/hungry.safetensors" "$work/d0.pgm"
  expect_exit 1 "DN_MEMORY_LIMIT='lots' is not a size" env DN_MEMORY_LIMIT=lots \
    "$predict" --model "$work/mlp.safetensors" "$work/d0.pgm"
  python3 "$hostile" nan "$work/mlp.safetensors" "$work/nan.safetensors"
  expect_exit 1 "non-finite value" "$predict" --model "$work/nan.safetensors" "$work/d0.pgm"
fi

# a model with 11 classes evaluated on MNIST: the confusion matrix is 11 x 11
"$train" --arch "input 1x28x28; flatten; linear 11" --epochs 1 --limit 500 --data "$data" \
  --out "$work/eleven.safetensors" --quiet >/dev/null 2>&1
"$predict" --model "$work/eleven.safetensors" --idx "$data/t10k-images-idx3-ubyte" \
  --labels "$data/t10k-labels-idx1-ubyte" >"$work/eval11" 2>&1
check "an 11-class model evaluates" test $? -eq 0
check "with an 11 x 11 confusion matrix" test "$(grep -cE '^ +[0-9]+ +( +[0-9]+){11} +[0-9.]+%$' "$work/eval11")" -eq 11
"$predict" --json --model "$work/eleven.safetensors" --idx "$data/t10k-images-idx3-ubyte" \
  --labels "$data/t10k-labels-idx1-ubyte" >"$work/eval11.json" 2>&1
check "--json: 11 rows of 11" grep -qE '"confusion":\[(\[([0-9]+,){10}[0-9]+\],){10}\[([0-9]+,){10}[0-9]+\]\]' "$work/eval11.json"

# new files respect the umask; a replaced file keeps its mode
(umask 077 && "$train" --model mlp --epochs 1 --limit 300 --data "$data" --quiet --out "$work/private.safetensors" >/dev/null 2>&1)
check "umask 077: the model is 600" test "$(stat -c %a "$work/private.safetensors")" = 600
chmod 644 "$work/private.safetensors"
(umask 077 && "$train" --model mlp --epochs 1 --limit 300 --data "$data" --quiet --out "$work/private.safetensors" >/dev/null 2>&1)
check "a replaced model keeps its mode" test "$(stat -c %a "$work/private.safetensors")" = 644

# diverging training stops, keeping the last good model
cp "$work/mlp.safetensors" "$work/good.safetensors"
expect_exit 1 "stopped; nothing was saved by this run" "$train" --model mlp --optimizer sgd --lr 10 \
  --momentum 0.99 --epochs 2 --limit 3000 --data "$data" --quiet --out "$work/mlp.safetensors"
check "divergence is named" grep -q "training diverged" "$work/err"
check "the last good model is untouched" cmp -s "$work/good.safetensors" "$work/mlp.safetensors"
check "no temporary files left after the failures" test -z "$(find "$work" -name '*.tmp*')"

# another dataset in MNIST's layout (here MNIST inverted): its own input
# statistics go into the model, and the digit augmentation stays off
if command -v python3 >/dev/null; then
  mkdir -p "$work/inverted"
  python3 - "$data" "$work/inverted" <<'PY'
import struct, sys
src, dst = sys.argv[1], sys.argv[2]
for name, count in (("train", 2000), ("t10k", 500)):
    images = open("%s/%s-images-idx3-ubyte" % (src, name), "rb").read()
    labels = open("%s/%s-labels-idx1-ubyte" % (src, name), "rb").read()
    with open("%s/%s-images-idx3-ubyte" % (dst, name), "wb") as f:
        f.write(struct.pack(">IIII", 0x803, count, 28, 28) + bytes(255 - b for b in images[16:16 + 784 * count]))
    with open("%s/%s-labels-idx1-ubyte" % (dst, name), "wb") as f:
        f.write(struct.pack(">II", 0x801, count) + labels[8:8 + count])
PY
  "$train" --model cnn --epochs 1 --data "$work/inverted" --out "$work/inverted.safetensors" >/dev/null 2>"$work/inv.err"
  check "another dataset: trains" test -s "$work/inverted.safetensors"
  check "another dataset: its own mean in the model" grep -qa '"input_mean":"0\.8[5-9]' "$work/inverted.safetensors"
  check "another dataset: augmentation off unless asked" grep -q "augmentation off" "$work/inv.err"
  check "MNIST: its familiar statistics" grep -qa '"input_mean":"0\.130700' "$work/mlp.safetensors"
fi

# ONNX export: dn-train --onnx at the end of training, and dn-predict
# --export-onnx of the saved model file, give the same bytes
"$train" --model mlp --epochs 1 --limit 500 --data "$data" --quiet --out "$work/small.safetensors" \
  --onnx "$work/onnx/trained.onnx" >"$work/onnx-train.log" 2>&1
check "dn-train --onnx exports the model (making its folder)" test -s "$work/onnx/trained.onnx"
check "and says so" grep -q "exported .*trained.onnx (ONNX opset 13)" "$work/onnx-train.log"
"$predict" --model "$work/small.safetensors" --export-onnx "$work/exported.onnx" >"$work/onnx-predict.log" 2>&1
check "dn-predict --export-onnx exports a model file" grep -q "wrote .*exported.onnx" "$work/onnx-predict.log"
check "the same bytes as dn-train --onnx" cmp -s "$work/onnx/trained.onnx" "$work/exported.onnx"
check "an ONNX file: ir_version 7 first (key 0x08, value 0x07)" test "$(head -c 2 "$work/exported.onnx" | od -An -tx1 | tr -d ' ')" = 0807
expect_exit 2 "--export-onnx writes a file and exits" "$predict" --model "$work/small.safetensors" \
  --export-onnx "$work/x.onnx" "$work/d0.pgm"
expect_exit 1 "no/such/x.onnx" "$predict" --model "$work/small.safetensors" --export-onnx "$work/no/such/x.onnx"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
