#!/bin/sh
# Bad input: every case must give one clear line naming the problem and a
# non-zero exit, never a crash (issue: heft trains GPT-2 on the CPU backend).
. "${top_srcdir:-.}/tests/lib.sh"

RUNOPTS="--seq 16 --batch 2 --steps 2 --val-every 0 --quiet --threads 1"
TINY="--layers 1 --channels 16 --heads 2 $RUNOPTS"

# a valid dataset to corrupt copies of
"$HEFT" prepare --builtin --out "$SCRATCH/ds" >/dev/null || { fail "prepare --builtin"; finish; exit 1; }
shard="$SCRATCH/ds/train_arith_000000.bin"
corrupt() { # corrupt NAME OFFSET BYTES(printf escapes)
  cp "$shard" "$SCRATCH/$1"
  printf "$3" | dd of="$SCRATCH/$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# ---- command line ------------------------------------------------------------
expect_error "unknown flag" "unknown flag.*--frobnicate" "$HEFT" train --frobnicate 3
expect_error "unknown command" "unknown command" "$HEFT" frobnicate
expect_error "flag without value" "needs a value" "$HEFT" train --batch
expect_error "stray argument" "unexpected argument" "$HEFT" train extra
expect_error "batch 0" "batch.*out of range" "$HEFT" train --batch 0
expect_error "negative batch" "batch.*out of range" "$HEFT" train --batch -3
expect_error "non-numeric batch" "batch.*not an integer" "$HEFT" train --batch many
expect_error "absurd seq" "seq.*out of range" "$HEFT" train --seq 99999999
expect_error "absurd layers" "layers.*out of range" "$HEFT" train --layers 100000
expect_error "steps 0" "steps.*out of range" "$HEFT" train --steps 0
expect_error "negative lr" "lr.*out of range" "$HEFT" train --lr -1
expect_error "nan lr" "lr.*not a finite number" "$HEFT" train --lr nan
expect_error "heads do not divide width" "channels 30 not divisible by num_heads 4" \
  "$HEFT" train $TINY --channels 30 --heads 4 --out "$SCRATCH/o1"
expect_error "seq beyond positions" "seq 512.*max_seq_len 256" \
  "$HEFT" train $TINY --seq 512 --out "$SCRATCH/o2"
expect_error "unknown model" "unknown model 'gpt5'" "$HEFT" train --model gpt5 --out "$SCRATCH/o3"
expect_error "unknown strategy" "unknown.*strategy.*'best'" "$HEFT" train $TINY --reweight best --out "$SCRATCH/o4"
expect_error "r <= 0" "r.*out of range" "$HEFT" train --r 0
expect_error "unknown backend" "unknown backend 'cuda'" "$HEFT" train $TINY --backend cuda --out "$SCRATCH/o5"
printf 'batch = 4\nbogus_key = 1\n' >"$SCRATCH/bad.conf"
expect_error "config file unknown key" "bad.conf:2.*unknown option 'bogus_key'" \
  "$HEFT" train --config "$SCRATCH/bad.conf"
expect_error "missing config file" "config file.*No such file" "$HEFT" train --config "$SCRATCH/none.conf"

# ---- data ---------------------------------------------------------------------
expect_error "missing data" "nope.*(no such|not found|does not exist|matches no)" \
  "$HEFT" train $TINY --data "$SCRATCH/nope" --out "$SCRATCH/o6"
corrupt magic.bin 0 '\001\002\003\004'
expect_error "shard wrong magic" "magic.*magic.bin|magic.bin.*magic" \
  "$HEFT" train $TINY --data "$SCRATCH/magic.bin" --vocab 257 --out "$SCRATCH/o7"
corrupt version.bin 4 '\007'
expect_error "shard wrong version" "version.*7|7.*version" \
  "$HEFT" train $TINY --data "$SCRATCH/version.bin" --vocab 257 --out "$SCRATCH/o8"
cp "$shard" "$SCRATCH/trunc.bin"; truncate -s -3 "$SCRATCH/trunc.bin"
expect_error "truncated shard" "trunc.bin.*(truncated|size|bytes)" \
  "$HEFT" train $TINY --data "$SCRATCH/trunc.bin" --vocab 257 --out "$SCRATCH/o9"
corrupt token.bin 1030 '\377\177'
expect_error "token id >= vocab" "32767.*257|token" \
  "$HEFT" train $TINY --data "$SCRATCH/token.bin" --vocab 257 --out "$SCRATCH/o10"
expect_error "prepare missing input" "missing.txt" \
  "$HEFT" prepare --input "x=$SCRATCH/missing.txt" --out "$SCRATCH/o11"

# ---- checkpoints and model files ----------------------------------------------
"$HEFT" train $TINY --out "$SCRATCH/run" >/dev/null 2>&1 || fail "a tiny run to resume from"
expect_error "resume with a different batch" "batch 4 differs from the checkpoint" \
  "$HEFT" train --resume "$SCRATCH/run" --batch 4
expect_error "resume with a different model" "layers 2 differs" \
  "$HEFT" train --resume "$SCRATCH/run" --layers 2
expect_error "resume as another family" "model llama-tiny differs from the checkpoint" \
  "$HEFT" train --resume "$SCRATCH/run" --model llama-tiny
expect_error "resume from nothing" "resume.*(no such|not found|does not exist|no checkpoint)" \
  "$HEFT" train --resume "$SCRATCH/none"
expect_error "new run over an old one" "already holds a run" "$HEFT" train $TINY --out "$SCRATCH/run"
ckpt=$(ls "$SCRATCH"/run/ckpt_*.heft | head -n 1)
cp "$ckpt" "$SCRATCH/corrupt.heft"
size=$(wc -c <"$SCRATCH/corrupt.heft")
printf '\125' | dd of="$SCRATCH/corrupt.heft" bs=1 seek=$((size - 40)) conv=notrunc 2>/dev/null
expect_error "corrupt checkpoint" "(crc|checksum)" "$HEFT" train --resume "$SCRATCH/corrupt.heft"
head -c 2000 "$ckpt" >"$SCRATCH/short.heft"
expect_error "truncated checkpoint" "(truncated|size|bytes)" "$HEFT" train --resume "$SCRATCH/short.heft"
cp "$SCRATCH/run/model.bin" "$SCRATCH/m_magic.bin"
printf '\000' | dd of="$SCRATCH/m_magic.bin" bs=1 seek=0 conv=notrunc 2>/dev/null
expect_error "model file wrong magic" "bad magic 20240128 \\(expected one of 20240326" "$HEFT" train $RUNOPTS --init-from "$SCRATCH/m_magic.bin" --out "$SCRATCH/o12"
cp "$SCRATCH/run/model.bin" "$SCRATCH/m_v5.bin"
printf '\005' | dd of="$SCRATCH/m_v5.bin" bs=1 seek=4 conv=notrunc 2>/dev/null
expect_error "model file bf16 version" "version 5|bf16" "$HEFT" train $RUNOPTS --init-from "$SCRATCH/m_v5.bin" --out "$SCRATCH/o13"
expect_error "shape flag with --init-from" "--layers cannot be combined with --init-from" "$HEFT" train $TINY --init-from "$SCRATCH/run/model.bin" --out "$SCRATCH/o14"
expect_error "LLaMA flag on GPT-2" "--kv-heads: GPT-2 has no grouped-query" "$HEFT" train $TINY --kv-heads 1 --out "$SCRATCH/o15"
expect_error "kv heads not dividing heads" "num_kv_heads 3 must divide num_heads 4" "$HEFT" train --model llama-tiny --kv-heads 3 $RUNOPTS --out "$SCRATCH/o16"

# the run that was refused must not have been touched
cmp -s "$ckpt" "$(ls "$SCRATCH"/run/ckpt_*.heft | head -n 1)" && pass "refused runs left the checkpoint intact" ||
  fail "a refused run changed $ckpt"

finish
