#!/bin/sh
# heft tokenizer and heft prepare --tokenizer as a user runs them: train,
# encode, decode back to the exact bytes, prepare and train on the shards;
# each bad input one clear line and a non-zero exit.
. "${top_srcdir:-.}/tests/lib.sh"

if ! "$HEFT" tokenizer encode --tokenizer "$top_srcdir/tests/data/none.json" 2>&1 </dev/null |
    grep -q "No such file"; then
  echo "heft built without BPE tokenizers: skipped"; exit 77
fi
corpus="$top_srcdir/tests/data/tokenizer_corpus.txt"
tok="$SCRATCH/tok.json"

# ---- train, encode, decode ------------------------------------------------------
if "$HEFT" tokenizer train --vocab-size 400 --input "$corpus" --output "$tok" >"$SCRATCH/train.out"; then
  pass "train: $(tail -n 1 "$SCRATCH/train.out")"
else
  fail "tokenizer train"; finish; exit 1
fi
"$HEFT" tokenizer encode --tokenizer "$tok" --input "$corpus" >"$SCRATCH/ids" || fail "encode"
"$HEFT" tokenizer decode --tokenizer "$tok" --input "$SCRATCH/ids" >"$SCRATCH/back" || fail "decode"
if cmp -s "$corpus" "$SCRATCH/back"; then pass "decode(encode(corpus)) is the corpus, byte for byte"
else fail "round trip differs"; fi
ntok=$(wc -w <"$SCRATCH/ids"); nbytes=$(wc -c <"$corpus")
if [ "$ntok" -lt "$((nbytes * 3 / 4))" ]; then pass "$nbytes bytes -> $ntok tokens"
else fail "no compression: $nbytes bytes -> $ntok tokens"; fi
"$HEFT" tokenizer encode --tokenizer "$tok" --threads 1 <"$corpus" >"$SCRATCH/ids1"
if cmp -s "$SCRATCH/ids" "$SCRATCH/ids1"; then pass "same ids from stdin on one thread"
else fail "ids differ between 1 thread and all"; fi

# ---- prepare with the tokenizer, then train on it ---------------------------------
if "$HEFT" prepare --input "prose=$corpus" --tokenizer "$tok" --out "$SCRATCH/ds" \
    --val-fraction 0.1 >"$SCRATCH/prep.out"; then
  pass "prepare: $(head -n 1 "$SCRATCH/prep.out")"
else
  fail "prepare --tokenizer: $(cat "$SCRATCH/prep.out")"
fi
grep -q "^tokenizer bpe" "$SCRATCH/ds/dataset.txt" && grep -q "^vocab_size 400" "$SCRATCH/ds/dataset.txt" &&
  grep -q "^eot 399" "$SCRATCH/ds/dataset.txt" && pass "manifest: bpe, vocab 400, eot 399" ||
  fail "manifest: $(cat "$SCRATCH/ds/dataset.txt")"
if "$HEFT" train --data "$SCRATCH/ds" --layers 1 --channels 16 --heads 2 --seq 16 --batch 2 \
    --steps 2 --val-every 0 --quiet --threads 1 --out "$SCRATCH/run" >/dev/null 2>"$SCRATCH/run.err"; then
  pass "train on the BPE shards"
else
  fail "train on the BPE shards: $(cat "$SCRATCH/run.err")"
fi

# ---- bad input --------------------------------------------------------------------
sed 's/"type": "BPE"/"type": "WordPiece"/' "$tok" >"$SCRATCH/wp.json"
expect_error "model type WordPiece" "wp.json.*unsupported model type 'WordPiece'" \
  "$HEFT" prepare --input "$corpus" --tokenizer "$SCRATCH/wp.json" --out "$SCRATCH/o1"
head -c 3000 "$tok" >"$SCRATCH/cut.json"
expect_error "malformed JSON" "cut.json.*line [0-9]+" \
  "$HEFT" prepare --input "$corpus" --tokenizer "$SCRATCH/cut.json" --out "$SCRATCH/o2"
sed 's/"merges"/"merged"/' "$tok" >"$SCRATCH/nomerges.json"
expect_error "no merges" "nomerges.json.*no 'merges'" \
  "$HEFT" tokenizer encode --tokenizer "$SCRATCH/nomerges.json" --input "$corpus"
# A vocabulary without the byte 'q': trained on text without one (so no merge
# uses it), then its vocab entry removed.
grep -v 'q' "$corpus" >"$SCRATCH/noq.txt"
"$HEFT" tokenizer train --vocab-size 300 --input "$SCRATCH/noq.txt" --output "$SCRATCH/noq.json" >/dev/null
grep -v '^ *"q": 113,$' "$SCRATCH/noq.json" >"$SCRATCH/noq2.json"
printf 'text with a q in it, long enough for a validation split\n' >"$SCRATCH/q.txt"
expect_error "text the vocabulary cannot encode" "q.txt.*byte 0x71 at offset 12.*cannot encode" \
  "$HEFT" prepare --input "$SCRATCH/q.txt" --tokenizer "$SCRATCH/noq2.json" --out "$SCRATCH/o3"
expect_error "unknown --eot" "no token '<eos>'" \
  "$HEFT" prepare --input "$corpus" --tokenizer "$tok" --eot "<eos>" --out "$SCRATCH/o4"
"$HEFT" prepare --input "$corpus" --eot "<eos>" --out "$SCRATCH/o5" >/dev/null 2>"$SCRATCH/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q -- "--eot names a token of --tokenizer" "$SCRATCH/err"; then
  pass "--eot without --tokenizer: usage error"
else fail "--eot without --tokenizer: exit $rc, $(cat "$SCRATCH/err")"; fi
expect_error "vocabulary without merges" "vocab.json is a vocabulary without merges" \
  sh -c "cp '$SCRATCH/ds/dataset.txt' /dev/null; mkdir -p '$SCRATCH/v'; echo '{\"a\": 0}' >'$SCRATCH/v/vocab.json'; exec '$HEFT' tokenizer encode --tokenizer '$SCRATCH/v/vocab.json' --input '$corpus'"
expect_error "vocab size below 257" "vocab-size '100'" \
  "$HEFT" tokenizer train --vocab-size 100 --input "$corpus"
expect_error "train on a missing file" "missing.txt" \
  "$HEFT" tokenizer train --vocab-size 300 --input "$SCRATCH/missing.txt" --output "$SCRATCH/x.json"
printf '1 2 999999\n' >"$SCRATCH/badids"
expect_error "decode an id outside the vocabulary" "999999.*outside the vocabulary of 400" \
  "$HEFT" tokenizer decode --tokenizer "$tok" --input "$SCRATCH/badids"
expect_error "unknown action" "unknown action 'frob'" "$HEFT" tokenizer frob

finish
