#!/bin/sh
# Recomputation changes memory, not results: --recompute none, attn and layer
# give bit-identical losses and final models (the backward recomputes with the
# same ops on the same inputs), for GPT-2 and for LLaMA (GQA, RoPE), uniform and
# LinUpper; a run may switch modes on resume; on 2 MPI ranks (when heft has
# MPI), recompute layer matches 1 rank x 2B without recomputation within 1e-5.
# --attn-chunk 3 makes the recomputed attention work through the 4-row batch in
# two passes of 3 and 1 rows (the automatic chunk would take all 4 at once);
# --attn-chunk 1 --attn-heads 1 cuts each row into one pass per key/value head
# (with its query heads: 2 per pass under --kv-heads 2); with the automatic
# chunk (the whole batch), --recompute layer keeps the probabilities its
# recomputed forward made for the backward instead of computing them again.
. "${top_srcdir:-.}/tests/lib.sh"
TRACECMP=${TRACECMP:-./tests/test_mpi_tracecmp}

BASE="--seq 64 --batch 4 --steps 8 --val-every 0 --quiet --threads 2 --lr 3e-3 --ckpt-every 0"

CHUNK="--attn-chunk 3"
same_runs() {
  name=$1; shift
  for rc in none attn layer; do
    # shellcheck disable=SC2086
    "$HEFT" train $BASE "$@" --recompute $rc $CHUNK --out "$SCRATCH/$name-$rc" >/dev/null \
      2>"$SCRATCH/err" || { fail "$name --recompute $rc: $(cat "$SCRATCH/err")"; return; }
    train_losses "$SCRATCH/$name-$rc/metrics.jsonl" >"$SCRATCH/$name-$rc.losses"
  done
  for rc in attn layer; do
    if [ "$(wc -l <"$SCRATCH/$name-none.losses")" -ne 8 ]; then
      fail "$name: expected 8 steps of metrics"
    elif ! cmp -s "$SCRATCH/$name-none.losses" "$SCRATCH/$name-$rc.losses"; then
      fail "$name: losses of --recompute $rc differ from none:"
      diff "$SCRATCH/$name-none.losses" "$SCRATCH/$name-$rc.losses" | head -n 4
    elif ! cmp -s "$SCRATCH/$name-none/model.bin" "$SCRATCH/$name-$rc/model.bin"; then
      fail "$name: final model of --recompute $rc differs from none"
    else
      pass "$name: --recompute $rc == none, 8 steps bit for bit"
    fi
  done
}

same_runs gpt2 --layers 2 --channels 32 --heads 2
same_runs gpt2-linupper --layers 2 --channels 32 --heads 2 --reweight linupper --r 0.4
same_runs llama --model llama-tiny --heads 4 --kv-heads 2
same_runs llama-linupper --model llama-tiny --heads 4 --kv-heads 1 --reweight linupper --r 0.4
CHUNK="--attn-chunk 1 --attn-heads 1"
same_runs gpt2-heads --layers 2 --channels 32 --heads 2
same_runs llama-heads --model llama-tiny --heads 4 --kv-heads 2 --reweight linupper --r 0.4
CHUNK=""
same_runs gpt2-auto --layers 2 --channels 32 --heads 2
same_runs llama-auto --model llama-tiny --heads 4 --kv-heads 2

# switch modes on resume: 4 steps with layer, then 4 with none == 8 with none
# shellcheck disable=SC2086
"$HEFT" train $BASE --model llama-tiny --recompute layer --stop-after 4 --ckpt-every 4 \
  --out "$SCRATCH/switch" >/dev/null 2>"$SCRATCH/err" &&
  "$HEFT" train --resume "$SCRATCH/switch" --recompute none --quiet >/dev/null 2>>"$SCRATCH/err" ||
  fail "resume with another --recompute: $(cat "$SCRATCH/err")"
if cmp -s "$SCRATCH/switch/model.bin" "$SCRATCH/llama-none/model.bin"; then
  pass "4 steps with --recompute layer + resume with none == 8 with none, bit for bit"
else
  fail "switching --recompute on resume changed the result"
fi

MPIEXEC=""
for m in mpiexec.hydra mpiexec mpirun; do
  [ -z "$MPIEXEC" ] && command -v "$m" >/dev/null 2>&1 && MPIEXEC=$m
done
if "$HEFT" --version | grep -q "MPI: yes" && [ -n "$MPIEXEC" ]; then
  RUN="--seq 64 --steps 6 --val-every 0 --quiet --threads 1 --ckpt-every 0 --model llama-tiny
       --reweight linupper --r 0.4"
  # shellcheck disable=SC2086
  "$HEFT" train $RUN --batch 4 --out "$SCRATCH/w1" --trace "$SCRATCH/w1.trace" >/dev/null 2>&1 &&
    "$MPIEXEC" -n 2 "$HEFT" train $RUN --batch 2 --recompute layer --out "$SCRATCH/w2" \
      --trace "$SCRATCH/w2.trace" >/dev/null 2>"$SCRATCH/err" ||
    fail "MPI runs: $(tail -n 3 "$SCRATCH/err")"
  if out=$("$TRACECMP" "$SCRATCH/w1.trace" "$SCRATCH/w2.trace" --rtol 1e-5 --wtol 1e-5 2>&1); then
    pass "llama linupper: 2 ranks x 2 rows with --recompute layer == 1 rank x 4 rows: $out"
  else
    fail "2 ranks with --recompute layer vs 1 rank: $out"
  fi
else
  echo "note: no MPI; the 2-rank comparison is skipped"
fi
finish
