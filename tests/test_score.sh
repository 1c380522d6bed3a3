#!/bin/sh
# heft score and the reducible rule end to end: a side file is made, read by
# window index (a run that starts from the reference model itself sees its
# own loss as every row's reference loss), and every bad input gives one
# clear line: missing or corrupt side file, other data, other --seq, another
# window count, a side file changed under a resumed run, reducible without
# one.
. "${top_srcdir:-.}/tests/lib.sh"
TRACECMP=${TRACECMP:-./tests/test_mpi_tracecmp}

DATA="builtin:repeat,noise"
RUN="--seq 32 --batch 4 --val-every 0 --quiet --threads 1"
REFMODEL="--layers 1 --channels 32 --heads 2"

"$HEFT" score --help >"$SCRATCH/help" 2>&1 && grep -q -- "--ref-losses FILE" "$SCRATCH/help" &&
  grep -q -- "--train-tokens" "$SCRATCH/help" && pass "heft score --help" ||
  fail "heft score --help: $(head -3 "$SCRATCH/help")"

# a small reference model, scored on the first 7000 of 14010 windows (the
# rest have none: reducible weighs them as the median)
"$HEFT" train $REFMODEL $RUN --data "$DATA" --steps 10 --out "$SCRATCH/refrun" >/dev/null 2>&1 ||
  { fail "training the reference model"; finish; exit 1; }
REF="$SCRATCH/refrun/model.bin"
if "$HEFT" score --model-file "$REF" --data "$DATA" --seq 32 --batch 16 --max-windows 7000 \
    --train-tokens 1280 --out "$SCRATCH/ref.bin" --quiet >"$SCRATCH/score.out" 2>&1; then
  size=$(wc -c <"$SCRATCH/ref.bin")
  [ "$size" -eq $((136 + 4 * 7000 + 8)) ] && grep -q "training the reference model" "$SCRATCH/score.out" &&
    pass "heft score wrote 7000 windows ($size bytes) and the FLOPs: $(tail -1 "$SCRATCH/score.out")" ||
    fail "heft score: file of $size bytes; $(cat "$SCRATCH/score.out")"
else
  fail "heft score: $(cat "$SCRATCH/score.out")"; finish; exit 1
fi

# Starting from the reference model, step 0's loss of every row is its
# reference loss: the trainer looked up each row's own window.
"$HEFT" train $RUN --data "$DATA" --init-from "$REF" --steps 2 --batch 16 --reweight reducible \
  --ref-losses "$SCRATCH/ref.bin" --trace "$SCRATCH/own.trace" --out "$SCRATCH/own" \
  >/dev/null 2>"$SCRATCH/err" || fail "reducible from the reference model: $(cat "$SCRATCH/err")"
out=$("$TRACECMP" --loss-is-ref "$SCRATCH/own.trace" --rtol 1e-5) && pass "rows find their windows: $out" ||
  fail "rows find their windows: $out"
out=$("$TRACECMP" --recompute "$SCRATCH/own.trace") && pass "reducible weights recomputed: $out" ||
  fail "reducible weights recomputed: $out"
grep -q '"n_noref":' "$SCRATCH/own/metrics.jsonl" && grep -q '"ref":' "$SCRATCH/own/metrics.jsonl" &&
  pass "metrics log the reference losses per domain and the rows without one" ||
  fail "metrics lack n_noref or per-domain ref"

# a LLaMA model file scores too (any model file heft reads), and a LLaMA
# learner starting from it finds its own windows the same way
if "$HEFT" train --model llama-tiny --heads 4 --kv-heads 2 --ffn 64 $RUN --data "$DATA" --steps 3 \
     --out "$SCRATCH/llref" >/dev/null 2>"$SCRATCH/err" &&
   "$HEFT" score --model-file "$SCRATCH/llref/model.bin" --data "$DATA" --seq 32 --max-windows 7000 \
     --quiet --out "$SCRATCH/llref.bin" >/dev/null 2>"$SCRATCH/err" &&
   "$HEFT" train $RUN --data "$DATA" --init-from "$SCRATCH/llref/model.bin" --steps 1 --batch 16 \
     --reweight reducible --ref-losses "$SCRATCH/llref.bin" --trace "$SCRATCH/ll.trace" \
     --out "$SCRATCH/llown" >/dev/null 2>"$SCRATCH/err"; then
  out=$("$TRACECMP" --loss-is-ref "$SCRATCH/ll.trace" --rtol 1e-5) && pass "LLaMA reference: $out" ||
    fail "LLaMA reference: $out"
else
  fail "LLaMA reference model: $(cat "$SCRATCH/err")"
fi

# ---- bad input -----------------------------------------------------------------
T="$RUN --layers 1 --channels 16 --heads 2 --steps 1"
expect_error "score without --model-file" "--model-file is required" \
  "$HEFT" score --data "$DATA" --out "$SCRATCH/x.bin"
expect_error "score without --out" "--out is required" \
  "$HEFT" score --model-file "$REF" --data "$DATA"
expect_error "score a missing model file" "nonexistent.bin" \
  "$HEFT" score --model-file "$SCRATCH/nonexistent.bin" --data "$DATA" --out "$SCRATCH/x.bin"
expect_error "score with --seq beyond the model" "--seq 512 is longer than the reference model's max_seq_len 256" \
  "$HEFT" score --model-file "$REF" --data "$DATA" --seq 512 --out "$SCRATCH/x.bin"
expect_error "score unknown data" "--data" \
  "$HEFT" score --model-file "$REF" --data "$SCRATCH/nodata" --out "$SCRATCH/x.bin"
expect_error "reducible without --ref-losses" "reducible needs --ref-losses FILE" \
  "$HEFT" train $T --data "$DATA" --reweight reducible --out "$SCRATCH/o1"
expect_error "missing side file" "--ref-losses: .*nonexistent.ref" \
  "$HEFT" train $T --data "$DATA" --reweight reducible --ref-losses "$SCRATCH/nonexistent.ref" --out "$SCRATCH/o2"
cp "$SCRATCH/ref.bin" "$SCRATCH/corrupt.bin"
printf '\125' | dd of="$SCRATCH/corrupt.bin" bs=1 seek=1000 conv=notrunc 2>/dev/null
expect_error "corrupt side file" "checksum .* corrupt" \
  "$HEFT" train $T --data "$DATA" --reweight reducible --ref-losses "$SCRATCH/corrupt.bin" --out "$SCRATCH/o3"
head -c 5000 "$SCRATCH/ref.bin" >"$SCRATCH/short.bin"
expect_error "truncated side file" "truncated" \
  "$HEFT" train $T --data "$DATA" --reweight reducible --ref-losses "$SCRATCH/short.bin" --out "$SCRATCH/o4"
expect_error "not a side file" "not a reference-loss file" \
  "$HEFT" train $T --data "$DATA" --reweight reducible --ref-losses "$REF" --out "$SCRATCH/o5"
expect_error "side file of other data (window count)" "14010 training windows, but the data has 6005" \
  "$HEFT" train $T --data builtin:noise --reweight reducible --ref-losses "$SCRATCH/ref.bin" --out "$SCRATCH/o6"
expect_error "side file of other data (same count)" "fingerprint" \
  "$HEFT" train $T --data builtin:noise,repeat --reweight reducible --ref-losses "$SCRATCH/ref.bin" --out "$SCRATCH/o7"
expect_error "side file of another --seq" "scored at --seq 32, but this run uses --seq 16" \
  "$HEFT" train $T --seq 16 --data "$DATA" --reweight reducible --ref-losses "$SCRATCH/ref.bin" --out "$SCRATCH/o8"

# a run resumed with other reference losses under the same name is refused
cp "$SCRATCH/ref.bin" "$SCRATCH/moving.bin"
"$HEFT" train $T --steps 4 --stop-after 2 --data "$DATA" --reweight reducible \
  --ref-losses "$SCRATCH/moving.bin" --out "$SCRATCH/moved" >/dev/null 2>&1 ||
  fail "reducible run to resume"
"$HEFT" score --model-file "$REF" --data "$DATA" --seq 32 --max-windows 100 --quiet \
  --out "$SCRATCH/moving.bin" >/dev/null 2>&1 || fail "rescoring"
expect_error "resume with other reference losses" "other reference losses" \
  "$HEFT" train --resume "$SCRATCH/moved"

finish
