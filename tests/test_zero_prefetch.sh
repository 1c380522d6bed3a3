#!/bin/sh
# tests/test_zero_prefetch.sh — ZeRO-3's prefetch (core/train_prefetch.c)
# moves the same bytes as the gathers made when the model asks: every run
# with --zero-prefetch on is compared with the same run with it off.
#  - trace (every step's and sample's loss and weight) and model.bin bit for
#    bit, metrics' losses and gradient norms the same;
#  - every step's exchange_mib the same: a prefetch of a layer the model did
#    not ask for next would be gathered again in line and add bytes (a wrong
#    guess cannot change the results: a buffer's layer is tracked), and one
#    into the buffer the model computes with would change the results;
#  - every layer the model asked for had been prefetched (metrics:
#    gathers_inline 0, gathers_prefetched = the other run's gathers_inline,
#    validation's forwards included): a wrong guess leaves the layer asked
#    for to be gathered in line;
#  - the run says it prefetched ("zero_prefetch":"on") and some step spent
#    time in prefetches, so a silent fallback to gathering in line fails.
# Runs (6 steps, validation every 3 steps: its forwards prefetch too):
#   W=2 and W=3, --recompute none and layer, GPT-2 (tied, 3 layers: an odd
#   count, the backward's first fetch lands in the buffer the forward ended
#   with) and LLaMA-tiny (2 layers); W=1 (no MPI launcher: the thread only
#   copies); 2 micro-batches weighed over the step (re-forwards before each
#   backward); and a run stopped at step 3 with the prefetch off and resumed
#   with it on, against the straight run.
# Without MPI only the 1-rank run takes place (the single-process build runs
# each fetch at once, so it checks the order and the bytes, not the thread).
. "${top_srcdir:-.}/tests/lib.sh"
. "${top_srcdir:-.}/tests/lib_zero.sh"

RUN="--seq 32 --steps 6 --warmup 0 --lr 3e-3 --val-every 3 --val-batches 2 --quiet --force
     --threads 1 --ckpt-every 3 --zero 3"
GPT2="--layers 3 --channels 32 --heads 2 --reweight uniform"

# metric FILE FIELD: "step value" of every train line
metric() {
  sed -n "s/.*\"type\":\"train\",\"step\":\([0-9]*\),.*\"$2\":\([0-9.e+-]*\).*/\1 \2/p" "$1"
}

# same OFF ON: the two runs bit for bit, the same bytes, and ON prefetched
same() {
  off=$1 on=$2
  t=$("$TRACECMP" "$SCRATCH/$off.trace" "$SCRATCH/$on.trace" --exact 2>&1) &&
    m=$("$MODELCMP" "$SCRATCH/$off/model.bin" "$SCRATCH/$on/model.bin" 2>&1) &&
    cmp -s "$SCRATCH/$off/model.bin" "$SCRATCH/$on/model.bin" &&
    [ "$(train_losses "$SCRATCH/$off/metrics.jsonl")" = "$(train_losses "$SCRATCH/$on/metrics.jsonl")" ] ||
    { fail "$on != $off (expected bit for bit): $t $m"; return; }
  b_off=$(metric "$SCRATCH/$off/metrics.jsonl" exchange_mib)
  b_on=$(metric "$SCRATCH/$on/metrics.jsonl" exchange_mib)
  [ -n "$b_on" ] && [ "$b_on" = "$b_off" ] ||
    { fail "$on: exchange_mib per step '$(echo $b_on)' != '$(echo $b_off)' without the prefetch"; return; }
  grep -q '"zero_prefetch":"on"' "$SCRATCH/$on/metrics.jsonl" &&
    grep -q '"zero_prefetch":"off"' "$SCRATCH/$off/metrics.jsonl" ||
    { fail "$on: the prefetch was not on (or $off's not off): $(grep -h '"note"' "$SCRATCH/$on/metrics.jsonl")"; return; }
  metric "$SCRATCH/$on/metrics.jsonl" prefetch_ms | awk '$2 > 0 { n++ } END { exit !n }' ||
    { fail "$on: no step spent time in a prefetch"; return; }
  # every layer the model asked for was the one prefetched: none gathered in
  # line, as many prefetched as the run without gathered in line
  i_on=$(metric "$SCRATCH/$on/metrics.jsonl" gathers_inline | awk '{ print $2 }' | sort -u)
  p_on=$(metric "$SCRATCH/$on/metrics.jsonl" gathers_prefetched)
  i_off=$(metric "$SCRATCH/$off/metrics.jsonl" gathers_inline)
  [ "$i_on" = 0 ] && [ "$p_on" = "$i_off" ] && [ -n "$p_on" ] ||
    { fail "$on: layer gathers in line '$(echo $i_on)' (expected 0), prefetched per step '$(echo $p_on)' (expected '$(echo $i_off)', gathered in line without the prefetch)"; return; }
  pass "$on == $off bit for bit (trace, model.bin, losses), exchange $(echo "$b_on" | awk '{ print $2 }' | sort -u | tr '\n' ' ')MiB per step either way; all $(echo "$p_on" | tail -n 1 | awk '{ print $2 }') layer gathers prefetched"
}

# pair NAME W FLAGS...: the run with the prefetch off and on
pair() {
  pair_name=$1 pair_w=$2 # (train sets name and w)
  shift 2
  train "$pair_name-off" "$pair_w" --zero-prefetch off "$@" &&
    train "$pair_name-on" "$pair_w" --zero-prefetch on "$@" &&
    same "$pair_name-off" "$pair_name-on"
}

# shellcheck disable=SC2086
pair gpt2-w1-layer 1 $GPT2 --recompute layer
if [ -z "$MPIEXEC" ]; then
  echo "note: no MPI; the 2- and 3-rank runs are skipped"
  finish
  exit
fi
for w in 2 3; do
  for rc in none layer; do
    # shellcheck disable=SC2086
    pair "gpt2-w$w-$rc" "$w" $GPT2 --recompute "$rc"
    # shellcheck disable=SC2086
    pair "llama-w$w-$rc" "$w" $LLAMA --recompute "$rc"
  done
done
# shellcheck disable=SC2086
pair acc-w2-layer 2 $LLAMA --recompute layer --batch 1 --grad-accum 2 --rw-normalize step

# ---- stopped with the prefetch off, resumed with it on ---------------------------
straight=gpt2-w2-layer-off
# shellcheck disable=SC2086
if train resume 2 $GPT2 --recompute layer --zero-prefetch off --stop-after 3; then
  cp "$SCRATCH/resume.trace" "$SCRATCH/resume.first"
  if $MPIEXEC -n 2 "$HEFT" train --resume "$SCRATCH/resume" --stop-after 0 --zero-prefetch on \
    --trace "$SCRATCH/resume.second" --threads 1 --quiet >"$SCRATCH/resume2.log" 2>&1; then
    cat "$SCRATCH/resume.first" "$SCRATCH/resume.second" >"$SCRATCH/resume.trace"
    t=$("$TRACECMP" "$SCRATCH/$straight.trace" "$SCRATCH/resume.trace" --exact 2>&1) &&
      cmp -s "$SCRATCH/$straight/model.bin" "$SCRATCH/resume/model.bin" &&
      [ "$(train_losses "$SCRATCH/$straight/metrics.jsonl")" = "$(train_losses "$SCRATCH/resume/metrics.jsonl")" ] &&
      grep -q '"zero_prefetch":"on"' "$SCRATCH/resume/metrics.jsonl" &&
      pass "2 ranks: stopped at step 3 without the prefetch, resumed with it == straight, bit for bit: $t" ||
      fail "2 ranks: resumed with the prefetch differs from the straight run: $t"
  else
    fail "resuming with --zero-prefetch on: $(tail -n 2 "$SCRATCH/resume2.log")"
  fi
fi

# ---- --zero-prefetch auto (the default): on only when a core is left ----------
# W ranks x 1 thread on this node: the communication thread needs a core of
# its own, so auto prefetches when W < the cores, and says why not otherwise.
if [ -n "$MPIEXEC" ]; then
  cores=$(getconf _NPROCESSORS_ONLN)
  for aw in 2 $((cores + 1)); do
    # shellcheck disable=SC2086
    train auto-w$aw $aw $GPT2 --steps 2 --val-every 0 || continue
    f="$SCRATCH/auto-w$aw/metrics.jsonl"
    if [ "$aw" -lt "$cores" ]; then want=on; else want=off; fi
    if grep -q "\"zero_prefetch\":\"$want\"" "$f" &&
      { [ $want = on ] || grep -q "zero-prefetch auto: gathering each layer when it is used instead: $aw rank(s) x 1 thread(s) on this node keep its $cores cores busy" "$SCRATCH/auto-w$aw.log" "$f"; }; then
      pass "--zero-prefetch auto on $aw ranks x 1 thread, $cores cores: $want"
    else
      fail "--zero-prefetch auto on $aw ranks x 1 thread, $cores cores: expected $want (and the reason when off): $(grep -h '"start"\|note' "$f" | head -n 3)"
    fi
  done
fi
finish
