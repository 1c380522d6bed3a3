#!/bin/sh
# heft sample: a seed gives the same text, another seed another; greedy
# decoding with the KV cache gives exactly the tokens of the full forward per
# token, for GPT-2 and for LLaMA (grouped-query attention), on the CPU and, where
# an OpenCL device exists, on OpenCL; top-k 1 is greedy; the sources a model
# comes in (run, checkpoint, model file, Hugging Face export) give the same
# tokens; --sample-every prints samples during training and logs them.
. "${top_srcdir:-.}/tests/lib.sh"

RUNOPTS="--seq 32 --batch 4 --steps 30 --val-every 0 --threads 1"
"$HEFT" train --model tiny --layers 2 --channels 32 $RUNOPTS --out "$SCRATCH/g" \
  --sample-every 15 > "$SCRATCH/g.out" || { fail "training GPT-2"; finish; exit 1; }
"$HEFT" train --model llama-tiny --kv-heads 2 $RUNOPTS --quiet --out "$SCRATCH/l" >/dev/null ||
  { fail "training LLaMA"; finish; exit 1; }

ids() { # ids NAME SOURCE FLAGS...: the new token ids, one line
  name=$1; src=$2; shift 2
  "$HEFT" sample "$src" --print-ids --threads 1 "$@" > "$SCRATCH/$name" 2> "$SCRATCH/$name.err" ||
    { fail "heft sample $src $*: $(cat "$SCRATCH/$name.err")"; : > "$SCRATCH/$name"; }
}
same() { # same DESCRIPTION A B
  if [ -s "$SCRATCH/$2" ] && cmp -s "$SCRATCH/$2" "$SCRATCH/$3"; then
    pass "$1 ($(wc -w < "$SCRATCH/$2") tokens)"
  else
    fail "$1: $(head -c 200 "$SCRATCH/$2") | $(head -c 200 "$SCRATCH/$3")"
  fi
}

for m in g l; do
  ids "$m.s1" "$SCRATCH/$m" --prompt "The " --seed 7 --temperature 0.9 --top-k 40 --top-p 0.95 --max-tokens 48 --ignore-eot
  ids "$m.s1b" "$SCRATCH/$m" --prompt "The " --seed 7 --temperature 0.9 --top-k 40 --top-p 0.95 --max-tokens 48 --ignore-eot
  ids "$m.s2" "$SCRATCH/$m" --prompt "The " --seed 8 --temperature 0.9 --top-k 40 --top-p 0.95 --max-tokens 48 --ignore-eot
  same "$m: the same seed gives the same tokens" "$m.s1" "$m.s1b"
  if cmp -s "$SCRATCH/$m.s1" "$SCRATCH/$m.s2"; then fail "$m: seeds 7 and 8 gave the same 48 tokens"
  else pass "$m: another seed gives other tokens"; fi
  [ "$(wc -w < "$SCRATCH/$m.s1")" -eq 48 ] && pass "$m: --max-tokens 48 gives 48 tokens" ||
    fail "$m: --max-tokens 48 gave $(wc -w < "$SCRATCH/$m.s1") tokens"

  ids "$m.kv" "$SCRATCH/$m" --prompt "12+3" --temperature 0 --max-tokens 64 --ignore-eot
  ids "$m.full" "$SCRATCH/$m" --prompt "12+3" --temperature 0 --max-tokens 64 --ignore-eot --no-kv-cache
  same "$m: greedy, KV cache = full forward per token" "$m.kv" "$m.full"
  ids "$m.k1" "$SCRATCH/$m" --prompt "12+3" --temperature 1.5 --top-k 1 --max-tokens 64 --ignore-eot
  same "$m: top-k 1 is greedy" "$m.kv" "$m.k1"
  # the same model from each place it can come from
  "$HEFT" export --format hf "$SCRATCH/$m" "$SCRATCH/$m.hfdir" >/dev/null
  ids "$m.hf" "$SCRATCH/$m.hfdir" --prompt-ids 256,49,50,43,51 --temperature 0 --max-tokens 64
  ids "$m.ck" "$SCRATCH/$m/$(cat "$SCRATCH/$m/latest")" --prompt-ids 256,49,50,43,51 --temperature 0 --max-tokens 64
  ids "$m.bin" "$SCRATCH/$m/model.bin" --prompt-ids 256,49,50,43,51 --temperature 0 --max-tokens 64
  ids "$m.run" "$SCRATCH/$m" --prompt "12+3" --temperature 0 --max-tokens 64
  same "$m: the Hugging Face export samples as the run" "$m.run" "$m.hf"
  same "$m: the checkpoint samples as the run" "$m.run" "$m.ck"
  same "$m: model.bin samples as the run" "$m.run" "$m.bin"
  if "$HEFT" devices 2>/dev/null | grep -q '^OpenCL platform'; then
    ids "$m.ocl" "$SCRATCH/$m" --prompt "12+3" --temperature 0 --max-tokens 64 --ignore-eot --backend opencl
    ids "$m.oclfull" "$SCRATCH/$m" --prompt "12+3" --temperature 0 --max-tokens 64 --ignore-eot --backend opencl --no-kv-cache
    same "$m: OpenCL, greedy, KV cache = full forward per token" "$m.ocl" "$m.oclfull"
  else
    echo "skip: no OpenCL device"
  fi
done

# text out: the prompt, then bytes; stops at the end of a document by default
"$HEFT" sample "$SCRATCH/g" --prompt "Hello" --max-tokens 20 --seed 3 > "$SCRATCH/text" 2>/dev/null
case "$(head -c 5 "$SCRATCH/text")" in
  Hello) pass "text output starts with the prompt" ;;
  *) fail "text output: $(head -c 80 "$SCRATCH/text")" ;;
esac

# --sample-every: printed and in the metrics
n=$(grep -c '^sample step [0-9]* | ' "$SCRATCH/g.out")
[ "$n" -eq 2 ] && pass "--sample-every 15 printed 2 samples in 30 steps" ||
  fail "--sample-every 15 printed $n samples: $(head -c 300 "$SCRATCH/g.out")"
n=$(grep -c '"type":"sample","step":[0-9]*,"tokens":[0-9]*,"text":' "$SCRATCH/g/metrics.jsonl")
[ "$n" -eq 2 ] && pass "--sample-every 15 logged 2 samples" || fail "metrics hold $n samples"
finish
