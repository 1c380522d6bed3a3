#!/bin/sh
# Data that changes under heft (issue 13, items 4 and 5): a shard truncated or
# overwritten while a run reads it stops the run with a message naming the
# file (never SIGBUS), and a resume on data whose tokens changed, even at the
# same size and away from the shard's ends, is refused naming the shard.
# Both for 16-bit shards and for 32-bit ones (a vocabulary past 65536 ids).
. "${top_srcdir:-.}/tests/lib.sh"

TINY="--layers 1 --channels 16 --heads 2 --seq 16 --batch 2 --val-every 0 --threads 1 --quiet"
"$HEFT" prepare --builtin --out "$SCRATCH/ds" >/dev/null || { fail "prepare --builtin"; finish; exit 1; }

wait_training() {
  i=0
  while ! grep -q '"type":"train"' "$1/metrics.jsonl" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.1
  done
}

# changed_under NAME PATTERN COMMAND...: runs heft on a copy of the data ($DS),
# applies COMMAND to it once the run trains, and expects one error line.
DS="$SCRATCH/ds"
changed_under() {
  name=$1; pattern=$2; shift 2
  rm -rf "$SCRATCH/d-$name"; cp -r "$DS" "$SCRATCH/d-$name"
  "$HEFT" train $TINY --steps 100000000 --data "$SCRATCH/d-$name" --out "$SCRATCH/o-$name" \
    >/dev/null 2>"$SCRATCH/err-$name" &
  pid=$!
  wait_training "$SCRATCH/o-$name" || fail "$name: the run did not start"
  (cd "$SCRATCH/d-$name" && "$@")
  i=0; while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
  if kill -0 $pid 2>/dev/null; then
    kill -9 $pid; wait $pid 2>/dev/null
    fail "$name: the run went on for 30 s on changed data"
    return
  fi
  wait $pid; rc=$?
  if [ $rc -ge 128 ]; then
    fail "$name: killed by signal $((rc - 128)): $(cat "$SCRATCH/err-$name")"
  elif [ $rc -eq 0 ]; then
    fail "$name: exit 0"
  elif [ "$(grep -c . "$SCRATCH/err-$name")" -ne 1 ] || ! grep -qE "$pattern" "$SCRATCH/err-$name"; then
    fail "$name: message does not match /$pattern/: $(cat "$SCRATCH/err-$name")"
  else
    pass "$name: $(cat "$SCRATCH/err-$name")"
  fi
}

changed_under truncated "shard .*train_prose_000000.bin is now 1024 bytes.*truncated or rewritten" \
  truncate -s 1024 train_prose_000000.bin
changed_under overwritten "shard .*train_prose_000000.bin (is now|was modified|was replaced)" \
  cp train_code_000000.bin train_prose_000000.bin
# (a shard replaced by a rename is not a change for the run: it keeps reading
# the file it opened, the data it started with; a resume then sees the new one)

# ---- resume on changed data ----------------------------------------------------
cp -r "$SCRATCH/ds" "$SCRATCH/d-resume"
"$HEFT" train $TINY --steps 6 --stop-after 3 --data "$SCRATCH/d-resume" --out "$SCRATCH/r" >/dev/null 2>&1 ||
  fail "a run to resume"
# tokens 1000..101000 of a 640k-token shard get other (valid) ids: same size, same ends
dd if="$SCRATCH/ds/train_code_000000.bin" of="$SCRATCH/d-resume/train_prose_000000.bin" \
  bs=1 skip=3024 seek=3024 count=200000 conv=notrunc 2>/dev/null
expect_error "resume after tokens 1000-101000 of a shard changed" \
  "trained on different data.*train_prose_000000.bin has other content .*same [0-9]+ tokens" \
  "$HEFT" train --resume "$SCRATCH/r"
cp "$SCRATCH/ds/train_prose_000000.bin" "$SCRATCH/d-resume/"
"$HEFT" train --resume "$SCRATCH/r" --quiet >/dev/null 2>"$SCRATCH/err" &&
  pass "the restored data resumes" || fail "resume on restored data: $(cat "$SCRATCH/err")"

# ---- 32-bit shards --------------------------------------------------------------
# a byte-level tokenizer.json (GPT-2's byte-to-unicode map, byte b = id b) with
# one merge, "ab" = 70000, and EOT 70001: heft prepare writes 32-bit shards
if ! "$HEFT" tokenizer encode --tokenizer "$SCRATCH/none.json" 2>&1 </dev/null |
    grep -q "No such file"; then
  echo "heft built without BPE tokenizers: 32-bit cases skipped"; finish; exit $?
fi
awk 'BEGIN {
  printf "{\"added_tokens\": [{\"id\": 70001, \"content\": \"<|endoftext|>\", \"special\": true}], "
  printf "\"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"use_regex\": true}, "
  printf "\"model\": {\"type\": \"BPE\", \"vocab\": {"
  n = 0
  for (b = 0; b < 256; b++) {
    cp = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174) ? b : 256 + n++
    printf "\"\\u%04x\": %d, ", cp, b
  }
  printf "\"ab\": 70000, \"<|endoftext|>\": 70001}, \"merges\": [\"a b\"]}}\n"
}' >"$SCRATCH/big.json"
awk 'BEGIN { for (i = 0; i < 4000; i++) printf "ab cab %d abba a b, line %d of about ab\n", i * 7, i }' \
  >"$SCRATCH/ab.txt"
if "$HEFT" prepare --input "d=$SCRATCH/ab.txt" --tokenizer "$SCRATCH/big.json" --val-fraction 0 \
    --out "$SCRATCH/ds32" >"$SCRATCH/prep32" 2>&1 &&
   grep -q "^vocab_size 70002" "$SCRATCH/ds32/dataset.txt" &&
   [ "$(od -An -t d4 -N 8 "$SCRATCH/ds32/train_d_000000.bin" | tr -s ' ')" = " 20240801 7" ]; then
  pass "prepare: 32-bit shards (magic 20240801) for a vocabulary of 70002"
else
  fail "prepare with a 70002-id tokenizer: $(cat "$SCRATCH/prep32") $(cat "$SCRATCH/ds32/dataset.txt" 2>&1)"
  finish; exit 1
fi
DS="$SCRATCH/ds32"
changed_under truncated-32bit "shard .*train_d_000000.bin is now 1024 bytes.*truncated or rewritten" \
  truncate -s 1024 train_d_000000.bin
# 4 bytes in the middle become another valid id ('c' = 99): same size; the
# write, after the run opened the file, moves its modification time
changed_under overwritten-32bit "shard .*train_d_000000.bin (is now|was modified|was replaced)" \
  sh -c 'printf "\143\000\000\000" | dd of=train_d_000000.bin bs=1 seek=41024 conv=notrunc 2>/dev/null'
cp -r "$SCRATCH/ds32" "$SCRATCH/d-resume32"
"$HEFT" train $TINY --steps 6 --stop-after 3 --data "$SCRATCH/d-resume32" --out "$SCRATCH/r32" \
  >/dev/null 2>"$SCRATCH/err" || fail "a run on 32-bit shards to resume: $(cat "$SCRATCH/err")"
printf '\143\000\000\000' | dd of="$SCRATCH/d-resume32/train_d_000000.bin" bs=1 seek=41024 \
  conv=notrunc 2>/dev/null
expect_error "resume after one id in the middle of a 32-bit shard changed" \
  "trained on different data.*train_d_000000.bin has other content .*same [0-9]+ tokens" \
  "$HEFT" train --resume "$SCRATCH/r32"
cp "$SCRATCH/ds32/train_d_000000.bin" "$SCRATCH/d-resume32/"
"$HEFT" train --resume "$SCRATCH/r32" --quiet >/dev/null 2>"$SCRATCH/err" &&
  pass "the restored 32-bit data resumes" || fail "resume on restored 32-bit data: $(cat "$SCRATCH/err")"
finish
