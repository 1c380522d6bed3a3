#!/bin/sh
# Resume is exact: N steps straight and N/2 steps, stop, resume, N/2 more give
# the same losses and gradient norms bit for bit, and the same final model
# file byte for byte. Checked with plain weighting, with reweighting whose
# state matters (InfoBatch draws random numbers; an r warm-up depends on the
# step), with micro-batches normalized over the whole step, for a LLaMA
# model (grouped-query attention, untied head) with LinUpper, and with the
# learnability-aware rules: reducible (reference losses read by window, half
# of the windows without one) and learnability (per-domain EMAs in the state,
# warm-up over before the stop).
. "${top_srcdir:-.}/tests/lib.sh"

BASE="--layers 2 --channels 32 --heads 2 --seq 32 --batch 4 --steps 12 --val-every 0 --quiet --lr 3e-3"

check_resume() {
  name=$1; shift
  "$HEFT" train $BASE "$@" --out "$SCRATCH/$name-straight" >/dev/null 2>"$SCRATCH/err" ||
    { fail "$name: straight run: $(cat "$SCRATCH/err")"; return; }
  "$HEFT" train $BASE "$@" --stop-after 6 --out "$SCRATCH/$name-split" >/dev/null 2>"$SCRATCH/err" ||
    { fail "$name: first half: $(cat "$SCRATCH/err")"; return; }
  [ -f "$SCRATCH/$name-split/model.bin" ] && { fail "$name: a stopped run exported a final model"; return; }
  "$HEFT" train --resume "$SCRATCH/$name-split" --quiet >/dev/null 2>"$SCRATCH/err" ||
    { fail "$name: resumed half: $(cat "$SCRATCH/err")"; return; }
  train_losses "$SCRATCH/$name-straight/metrics.jsonl" >"$SCRATCH/a"
  train_losses "$SCRATCH/$name-split/metrics.jsonl" >"$SCRATCH/b"
  if [ "$(wc -l <"$SCRATCH/a")" -ne 12 ]; then
    fail "$name: expected 12 steps of metrics, got $(wc -l <"$SCRATCH/a")"
  elif ! cmp -s "$SCRATCH/a" "$SCRATCH/b"; then
    fail "$name: losses differ after resume:"; diff "$SCRATCH/a" "$SCRATCH/b" | head -n 6
  elif ! cmp -s "$SCRATCH/$name-straight/model.bin" "$SCRATCH/$name-split/model.bin"; then
    fail "$name: final models differ"
  else
    pass "$name: 12 steps straight == 6 + resume + 6, bit for bit"
  fi
}

check_resume uniform
check_resume linupper --reweight linupper --r 0.4 --rw-warmup 8 --rw-warmup-mode r-linear
check_resume infobatch --reweight infobatch
check_resume step-normalized --reweight quadratic --grad-accum 2 --rw-normalize step
check_resume llama-linupper --model llama-tiny --heads 4 --kv-heads 2 --reweight linupper --r 0.4

if "$HEFT" train --layers 1 --channels 32 --heads 2 --seq 32 --batch 4 --steps 10 --val-every 0 \
     --quiet --data builtin:repeat,noise --out "$SCRATCH/refrun" >/dev/null 2>"$SCRATCH/err" &&
   "$HEFT" score --model-file "$SCRATCH/refrun/model.bin" --data builtin:repeat,noise --seq 32 \
     --max-windows 7000 --quiet --out "$SCRATCH/ref.bin" >/dev/null 2>"$SCRATCH/err"; then
  check_resume reducible --data builtin:repeat,noise --reweight reducible \
    --ref-losses "$SCRATCH/ref.bin" --r 0.4 --rw-warmup 3
else
  fail "reference model and side file for reducible: $(cat "$SCRATCH/err")"
fi
check_resume learnability --reweight learnability --r 0.4 --rw-warmup 3

# a resumed run that already reached --steps does nothing and says so
"$HEFT" train --resume "$SCRATCH/uniform-straight" >"$SCRATCH/out" 2>&1 &&
  grep -q "already reached" "$SCRATCH/out" && pass "resuming a finished run is a no-op" ||
  fail "resuming a finished run: $(cat "$SCRATCH/out")"

finish
