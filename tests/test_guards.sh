#!/bin/sh
# Runs that must not end as if all were well (issue 13): flags that were
# silently ignored or misread (item 8), a run without validation data
# (item 9), a diverging run (item 10), a checkpoint whose checksums hold but
# whose counters are out of range (item 11).
. "${top_srcdir:-.}/tests/lib.sh"

CKPT_EDIT=${CKPT_EDIT:-$(dirname "$HEFT")/tests/ckpt_edit}
TINY="--layers 1 --channels 16 --heads 2 --seq 16 --batch 2 --steps 4 --val-every 0 --threads 1 --quiet"
"$HEFT" prepare --builtin --out "$SCRATCH/ds" >/dev/null || { fail "prepare --builtin"; finish; exit 1; }

# ---- 8: flags that were dropped or misread -------------------------------------
expect_error "--out followed by a flag" "flag --out needs a value .*followed by the flag '--quiet'" \
  sh -c 'cd "$1" && "$2" train --steps 1 --out --quiet' sh "$SCRATCH" "$HEFT"
[ -e "$SCRATCH/--quiet" ] && fail "a directory named --quiet was made" ||
  pass "no directory named --quiet"
expect_error "--config followed by a flag" "config needs a file name .*--quiet" \
  "$HEFT" train --config --quiet
expect_error "heft plan --ranks with an empty item" "--ranks '1,,2': item 2 is empty" \
  "$HEFT" plan --ranks 1,,2 --gemm-gflops 100
expect_error "heft plan --model with an empty item" "--model 'tiny,': item 2 is empty" \
  "$HEFT" plan --model tiny, --gemm-gflops 100
expect_error "--vocab against a dataset's own vocabulary" \
  "--vocab 50257 conflicts with the vocabulary of .*ds, 257" \
  "$HEFT" train $TINY --vocab 50257 --data "$SCRATCH/ds" --out "$SCRATCH/v1"
expect_error "--vocab against the built-in data" "--vocab 300 conflicts with .*builtin, 257" \
  "$HEFT" train $TINY --vocab 300 --out "$SCRATCH/v2"
"$HEFT" train $TINY --vocab 257 --data "$SCRATCH/ds" --out "$SCRATCH/v3" >/dev/null 2>"$SCRATCH/err" &&
  pass "--vocab equal to the dataset's is accepted" || fail "--vocab 257: $(cat "$SCRATCH/err")"

# ---- 9: no validation data -------------------------------------------------------
mkdir -p "$SCRATCH/noval"
cp "$SCRATCH/ds/train_arith_000000.bin" "$SCRATCH/noval/"
"$HEFT" train --layers 1 --channels 16 --heads 2 --seq 16 --batch 2 --steps 4 --val-every 2 \
  --threads 1 --data "$SCRATCH/noval/*.bin" --vocab 257 --out "$SCRATCH/nv" >"$SCRATCH/out" 2>&1 ||
  fail "a run without validation data: $(cat "$SCRATCH/out")"
if grep -qi nan "$SCRATCH/out"; then
  fail "a run without validation data prints nan: $(grep -i nan "$SCRATCH/out")"
elif grep -q '"loss":null' "$SCRATCH/nv/metrics.jsonl"; then
  fail "a run without validation data logs a null loss"
elif ! grep -q "done: 4 steps, final train loss [0-9.]*, no validation data" "$SCRATCH/out" ||
     ! grep -q '"note".*has no validation data' "$SCRATCH/nv/metrics.jsonl"; then
  fail "a run without validation data does not say so: $(cat "$SCRATCH/out")"
else
  pass "a run without validation data says so: $(grep done "$SCRATCH/out")"
fi

# ---- 10: a diverging run ----------------------------------------------------------
expect_error "a diverging run stops" \
  "diverged at step [0-9]+: loss [0-9.e+]+ is above 3 x ln\(257\) = 16.6.*ckpt_00000010.heft is the last good checkpoint" \
  "$HEFT" train --layers 2 --channels 32 --heads 2 --seq 32 --batch 4 --threads 1 --quiet \
  --lr 9.99 --grad-clip 0 --warmup 10 --schedule constant --steps 300 --ckpt-every 10 \
  --val-every 0 --out "$SCRATCH/div"
[ -e "$SCRATCH/div/model.bin" ] && fail "the diverged run exported a model" || pass "no model exported"
[ "$(cat "$SCRATCH/div/latest" 2>/dev/null)" = ckpt_00000010.heft ] &&
  pass "the last checkpoint is the one before the divergence" ||
  fail "latest: $(cat "$SCRATCH/div/latest" 2>/dev/null); files: $(ls "$SCRATCH/div")"
expect_error "a diverging run without warm-up stops at once" "diverged at step [12]:" \
  "$HEFT" train $TINY --lr 9.99 --grad-clip 0 --warmup 0 --schedule constant --steps 300 \
  --out "$SCRATCH/div0"
"$HEFT" train $TINY --lr 3e-3 --steps 30 --out "$SCRATCH/fine" >/dev/null 2>"$SCRATCH/err" &&
  pass "a healthy run is not stopped" || fail "a healthy run: $(cat "$SCRATCH/err")"

# ---- 11: counters out of range in a checkpoint with valid checksums ----------------
"$HEFT" train $TINY --out "$SCRATCH/run" >/dev/null 2>&1 || fail "a run to edit"
c="$SCRATCH/run/ckpt_00000004.heft"
for kv in step=9223372036854775806 step=-1 adam_t=9223372036854775807 adam_t=-5 \
          data_epoch=18446744073709551615; do
  key=${kv%%=*}
  "$CKPT_EDIT" "$c" "$SCRATCH/edit.heft" "$kv" || fail "ckpt_edit $kv"
  case $key in
    step) want="step -?[0-9]+ is out of range" ;;
    adam_t) want="Adam's update count -?[0-9]+ is out of range" ;;
    *) want="data epoch [0-9]+ is out of range" ;;
  esac
  expect_error "checkpoint with $kv" "$want" "$HEFT" train --resume "$SCRATCH/edit.heft" --steps 100
done
"$CKPT_EDIT" "$c" "$SCRATCH/same.heft" step=4 && "$HEFT" train --resume "$SCRATCH/same.heft" \
  --steps 6 --quiet --out "$SCRATCH/same" >/dev/null 2>"$SCRATCH/err" &&
  pass "an edited checkpoint with in-range values resumes" || fail "in-range edit: $(cat "$SCRATCH/err")"
finish
