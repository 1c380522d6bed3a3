#!/bin/sh
# SentencePiece .model files (LLaMA-2's kind) through heft's C++ shim: the
# ids of spm_encode (Debian's sentencepiece tools) line by line, a dataset
# made with one, and <unk> as an error. Skips without the shim or the tools.
. "${top_srcdir:-.}/tests/lib.sh"

if "$HEFT" tokenizer encode --tokenizer "$SCRATCH/none.model" </dev/null 2>&1 | grep -q "without SentencePiece"; then
  echo "heft built without SentencePiece: skipped"; exit 77
fi
if ! command -v spm_train >/dev/null 2>&1 || ! command -v spm_encode >/dev/null 2>&1; then
  echo "spm_train/spm_encode not found (Debian package sentencepiece): skipped"; exit 77
fi
corpus="$top_srcdir/tests/data/tokenizer_corpus.txt"
cat "$corpus" "$corpus" "$corpus" >"$SCRATCH/train.txt"
# Non-blank lines without a carriage return: one document each, for both tools.
grep -v '^[[:space:]]*$' "$corpus" | grep -v "$(printf '\r')" >"$SCRATCH/lines.txt"
if spm_train --input="$SCRATCH/train.txt" --model_prefix="$SCRATCH/bpe" --vocab_size=700 \
    --model_type=bpe --byte_fallback=true --character_coverage=1.0 --minloglevel=2 \
    >"$SCRATCH/spm.log" 2>&1; then
  pass "spm_train: a 700-piece BPE model with byte fallback"
else
  fail "spm_train: $(tail -n 2 "$SCRATCH/spm.log")"; finish; exit 1
fi
model="$SCRATCH/bpe.model"

# ---- the ids of spm_encode, line by line --------------------------------------------
spm_encode --model="$model" --output_format=id <"$SCRATCH/lines.txt" >"$SCRATCH/want"
: >"$SCRATCH/got"
while IFS= read -r line; do
  printf '%s' "$line" >"$SCRATCH/one.txt"
  "$HEFT" tokenizer encode --tokenizer "$model" --input "$SCRATCH/one.txt" >>"$SCRATCH/got" ||
    fail "encode: $line"
done <"$SCRATCH/lines.txt"
if cmp -s "$SCRATCH/want" "$SCRATCH/got"; then
  pass "same ids as spm_encode on $(wc -l <"$SCRATCH/lines.txt") lines"
else
  fail "ids differ from spm_encode:"; diff "$SCRATCH/want" "$SCRATCH/got" | head -n 6
fi

# ---- a dataset ------------------------------------------------------------------------
if "$HEFT" prepare --input "$SCRATCH/lines.txt" --split-docs line --tokenizer "$model" \
    --val-fraction 0 --out "$SCRATCH/ds" >"$SCRATCH/prep.out" 2>&1; then
  pass "prepare: $(head -n 1 "$SCRATCH/prep.out")"
else
  fail "prepare: $(cat "$SCRATCH/prep.out")"
fi
grep -q "^tokenizer sentencepiece" "$SCRATCH/ds/dataset.txt" && grep -q "^eot 2$" "$SCRATCH/ds/dataset.txt" &&
  pass "manifest: sentencepiece, EOT </s> = 2" || fail "manifest: $(cat "$SCRATCH/ds/dataset.txt")"
# EOT + each line's ids: the shard holds as many ids as spm_encode gave, plus one per line.
want=$(( $(wc -w <"$SCRATCH/want") + $(wc -l <"$SCRATCH/lines.txt") ))
got=$(od -An -t d4 -j 8 -N 4 "$SCRATCH/ds/train_default_000000.bin" | tr -d ' ')
[ "$got" = "$want" ] && pass "shard holds $got ids" || fail "shard holds $got ids, expected $want"

# ---- <unk> -------------------------------------------------------------------------------
grep -v '[^ -~]' "$corpus" >"$SCRATCH/ascii.txt"
spm_train --input="$SCRATCH/ascii.txt" --model_prefix="$SCRATCH/nofb" --vocab_size=150 \
  --model_type=bpe --character_coverage=1.0 --minloglevel=2 >/dev/null 2>&1 || fail "spm_train (no byte fallback)"
printf 'plain text, then \346\227\245\346\234\254 and more\n' >"$SCRATCH/cjk.txt"
expect_error "text the model can only give as <unk>" "cjk.txt.*cannot encode.*<unk>" \
  "$HEFT" prepare --input "$SCRATCH/cjk.txt" --tokenizer "$SCRATCH/nofb.model" --out "$SCRATCH/o1" --val-fraction 0
printf 'not a model' >"$SCRATCH/bad.model"
expect_error "not a SentencePiece model" "bad.model.*not a SentencePiece model" \
  "$HEFT" tokenizer encode --tokenizer "$SCRATCH/bad.model" --input "$SCRATCH/cjk.txt"

finish
