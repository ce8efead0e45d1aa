#!/usr/bin/env bash
# test_train_faults.sh - dn-train under faults: killed with SIGKILL at random
# moments then resumed, interrupted with Ctrl-C, writing to a full disk and to
# a read-only folder. After each, the model and checkpoint on disk are a
# pair from one finished epoch that loads, nothing is left behind, and a
# resumed run ends bit for bit where an uninterrupted one does.
# Needs MNIST (skips with 77 otherwise); the disk tests need to mount a
# tmpfs (root) and say so when they cannot.
# usage: test_train_faults.sh BUILD_DIR SOURCE_DIR [TRIES]
set -uo pipefail
build=$1
source=$2
tries=${3:-10}
train=$build/cli/dn-train
predict=$build/cli/dn-predict
data=$source/datasets/mnist
work=$(mktemp -d)
mounted=""
cleanup() {
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $what" >&2
  fi
}

if [ ! -f "$data/train-images-idx3-ubyte" ]; then
  echo "MNIST not in $data: run bash datasets/fetch-mnist.sh; skipped"
  exit 77
fi

# A run of several short epochs; the same options every time.
epochs=6
# (an array, not a function: started with &, $! must be dn-train itself)
run=("$train" --model mlp --epochs $epochs --limit 6000 --batch 32 --seed 4 --threads 2 --schedule step
  --data "$data" --quiet)

# The epoch a file records, from its metadata ("epochs":"3" in the model).
epoch_of() { grep -ao '"epochs":"[0-9]*"' "$1" | grep -o '[0-9]*'; }

"${run[@]}" --out "$work/straight.safetensors" >/dev/null 2>&1
check "an uninterrupted run" test -s "$work/straight.safetensors"
start=$(date +%s%N)
"${run[@]}" --out "$work/timing.safetensors" >/dev/null 2>&1
run_ms=$((($(date +%s%N) - start) / 1000000))
echo "one run: ${run_ms} ms"

# --- SIGKILL at random moments, then --resume until done
for try in $(seq "$tries"); do
  dir=$work/kill$try
  mkdir -p "$dir"
  out=$dir/mlp.safetensors ckpt=$dir/mlp.ckpt.safetensors
  delay_ms=$((RANDOM % run_ms + 1))
  "${run[@]}" --out "$out" >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  # Only a kill in the instant between a replacing save's link and rename
  # can leave a "<file>.tmp.XXXXXX"; the next save removes it (checked below).
  leftovers=$(find "$dir" -name '*.tmp*' ! -name '*.tmp.??????')
  check "try $try (killed after ${delay_ms} ms): no temporary files but abandoned ones" test -z "$leftovers"
  if [ -f "$ckpt" ]; then
    m=$(epoch_of "$out" 2>/dev/null)
    c=$(epoch_of "$ckpt")
    # One pair, or (a kill between the two renames of dn_training_save) the
    # checkpoint one epoch ahead of its model, or of no model after the
    # first epoch; --resume then mends the model first.
    check "try $try: the model (epoch ${m:-none}) and checkpoint (epoch $c) are one pair or the checkpoint one ahead" \
      test "$c" = "${m:-0}" -o "$c" = "$((${m:-0} + 1))"
    if [ "$c" = "$m" ]; then
      check "try $try: the model loads" "$predict" --model "$out" --idx "$data/t10k-images-idx3-ubyte" \
        --labels "$data/t10k-labels-idx1-ubyte" >/dev/null 2>&1
    fi
    "${run[@]}" --out "$out" --resume "$ckpt" >"$dir/resume.log" 2>&1
    check "try $try: --resume from epoch $c finishes" test $? -eq 0
    if [ "$c" != "$m" ]; then
      check "try $try: --resume first wrote the model of epoch $c again" grep -q "writing it again" "$dir/resume.log"
    fi
  else
    check "try $try: killed before the first epoch, so no model either" test ! -e "$out"
    "${run[@]}" --out "$out" >/dev/null 2>&1
  fi
  check "try $try: ends with the uninterrupted model, bit for bit" cmp -s "$out" "$work/straight.safetensors"
  check "try $try: no temporary files left after the next run" test -z "$(find "$dir" -name '*.tmp*')"
done

# --- Ctrl-C after the first epoch: a clear note, and the pair of the last
# finished epoch (a long run, so that it is surely still going)
dir=$work/sigint
mkdir -p "$dir"
"${run[@]}" --out "$dir/mlp.safetensors" --epochs 100 >/dev/null 2>"$dir/err" &
pid=$!
for _ in $(seq 300); do # up to 30 s for the first epoch
  [ -f "$dir/mlp.ckpt.safetensors" ] && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
status=$?
check "Ctrl-C: exit code 130" test $status -eq 130
check "Ctrl-C: says what is saved" grep -qE "interrupted; epoch [0-9]+ is saved in .*resume with --resume" "$dir/err"
check "Ctrl-C: one pair" test "$(epoch_of "$dir/mlp.safetensors")" = "$(epoch_of "$dir/mlp.ckpt.safetensors")"
check "Ctrl-C: no temporary files left" test -z "$(find "$dir" -name '*.tmp*')"

# --- a checkpoint one epoch ahead of its model (a kill between the two
# renames) is mended by --resume
dir=$work/behind
mkdir -p "$dir"
"$train" --model mlp --epochs 1 --limit 6000 --batch 32 --seed 4 --threads 2 --schedule step --data "$data" \
  --quiet --out "$dir/mlp.safetensors" >/dev/null 2>&1
cp "$dir/mlp.safetensors" "$dir/epoch1.safetensors"
"$train" --model mlp --epochs 2 --limit 6000 --batch 32 --seed 4 --threads 2 --schedule step --data "$data" \
  --quiet --out "$dir/mlp.safetensors" --resume "$dir/mlp.ckpt.safetensors" >/dev/null 2>&1
cp "$dir/epoch1.safetensors" "$dir/mlp.safetensors"
"$train" --model mlp --epochs 2 --limit 6000 --batch 32 --seed 4 --threads 2 --schedule step --data "$data" \
  --quiet --out "$dir/mlp.safetensors" --resume "$dir/mlp.ckpt.safetensors" >"$dir/log" 2>&1
check "a model behind its checkpoint is written again" grep -q "writing it again" "$dir/log"
check "and then matches the checkpoint's epoch" test "$(epoch_of "$dir/mlp.safetensors")" = 2

# --- a full disk, and a read-only folder: a clear error, the old pair kept
if mkdir -p "$work/disk" && mount -t tmpfs -o size=1600k tmpfs "$work/disk" 2>/dev/null; then
  mounted=$work/disk
  small="input 1x28x28; flatten; linear 10"
  "$train" --arch "$small" --epochs 1 --limit 500 --data "$data" --quiet --out "$work/disk/m.safetensors" \
    >/dev/null 2>&1
  check "a small model fits on the small disk" test -s "$work/disk/m.safetensors"
  cp "$work/disk/m.safetensors" "$work/small.safetensors"
  cp "$work/disk/m.ckpt.safetensors" "$work/small.ckpt.safetensors"
  # the mlp's model and checkpoint need about 5.4 MB
  "$train" --model mlp --epochs 1 --limit 500 --data "$data" --quiet --out "$work/disk/m.safetensors" \
    >/dev/null 2>"$work/full.err"
  check "full disk: exit 1" test $? -eq 1
  check "full disk: says so" grep -q "No space left on device" "$work/full.err"
  check "full disk: the old model is intact" cmp -s "$work/disk/m.safetensors" "$work/small.safetensors"
  check "full disk: the old checkpoint is intact" cmp -s "$work/disk/m.ckpt.safetensors" "$work/small.ckpt.safetensors"
  check "full disk: no temporary files left" test -z "$(find "$work/disk" -name '*.tmp*')"
  mount -o remount,ro "$work/disk"
  "$train" --arch "$small" --epochs 1 --limit 500 --data "$data" --quiet --out "$work/disk/m.safetensors" \
    >/dev/null 2>"$work/ro.err"
  check "read-only folder: exit 1" test $? -eq 1
  check "read-only folder: says so" grep -q "Read-only file system" "$work/ro.err"
  check "read-only folder: the old model is intact" cmp -s "$work/disk/m.safetensors" "$work/small.safetensors"
  umount "$work/disk" && mounted=""
else
  echo "note: cannot mount a tmpfs here (not root?); the full-disk and read-only tests did not run"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
