#!/bin/sh
# heft sample: a seed gives the same text, another seed another; greedy
# decoding with the KV cache gives exactly the tokens of the full forward per
# token, for GPT-2 and for LLaMA (grouped-query attention), on the CPU and, where
# an OpenCL device exists, on OpenCL; top-k 1 is greedy; the sources a model
# comes in (run, checkpoint, model file, Hugging Face export) give the same
# tokens; --sample-every prints samples during training and logs them; with a
# BPE tokenizer the text is decoded with it, end to end.
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

# a BPE tokenizer (when this heft has them): prepare keeps it with the data, sample
# decodes with it, --sample-every shows text, export carries it
printf 'The quick brown fox jumps over the lazy dog. %s\n' $(seq 1 400) > "$SCRATCH/corpus.txt"
if "$HEFT" tokenizer train --vocab-size 300 --input "$SCRATCH/corpus.txt" \
     --output "$SCRATCH/tok.json" --threads 1 >/dev/null 2>"$SCRATCH/tok.err"; then
  "$HEFT" prepare --input t="$SCRATCH/corpus.txt" --tokenizer "$SCRATCH/tok.json" \
    --out "$SCRATCH/bdata" --threads 1 >/dev/null &&
  "$HEFT" train --model llama-tiny --data "$SCRATCH/bdata" --steps 8 --seq 32 --batch 4 \
    --val-every 0 --threads 1 --sample-every 8 --out "$SCRATCH/b" > "$SCRATCH/b.out" ||
    fail "BPE data: prepare or train"
  [ -f "$SCRATCH/bdata/tokenizer.json" ] && pass "prepare keeps the tokenizer with the data" ||
    fail "no tokenizer.json in the dataset directory"
  "$HEFT" sample "$SCRATCH/b" --prompt "The quick" --max-tokens 10 --seed 2 \
    > "$SCRATCH/btext" 2> "$SCRATCH/btext.err"
  if grep -q "the model's tokenizer .*tokenizer.json (bpe)" "$SCRATCH/btext.err" &&
     [ "$(head -c 9 "$SCRATCH/btext")" = "The quick" ]; then
    pass "sample decodes with the data's BPE tokenizer: $(head -c 60 "$SCRATCH/btext")"
  else
    fail "sample with the BPE tokenizer: $(cat "$SCRATCH/btext.err") | $(head -c 60 "$SCRATCH/btext")"
  fi
  # the text is what the ids decode to
  "$HEFT" sample "$SCRATCH/b" --prompt "The quick" --max-tokens 10 --seed 2 --print-ids \
    > "$SCRATCH/bids" 2>/dev/null
  tr ' ' '\n' < "$SCRATCH/bids" | "$HEFT" tokenizer decode --tokenizer "$SCRATCH/tok.json" \
    > "$SCRATCH/bdec" 2>/dev/null
  printf 'The quick' > "$SCRATCH/bwant"; cat "$SCRATCH/bdec" >> "$SCRATCH/bwant"; echo >> "$SCRATCH/bwant"
  cmp -s "$SCRATCH/btext" "$SCRATCH/bwant" && pass "sample's text = the prompt + heft tokenizer decode of its ids" ||
    fail "sample's text differs from decoding its ids: $(od -c "$SCRATCH/btext" | head -2) | $(od -c "$SCRATCH/bwant" | head -2)"
  grep -q '^sample step 8 | ' "$SCRATCH/b.out" && ! grep -q '^sample step 8 | \[' "$SCRATCH/b.out" &&
    pass "--sample-every shows BPE text" || fail "--sample-every with BPE data: $(grep sample "$SCRATCH/b.out")"
  "$HEFT" export --format hf "$SCRATCH/b" "$SCRATCH/bhf" >/dev/null &&
    cmp -s "$SCRATCH/bhf/tokenizer.json" "$SCRATCH/tok.json" &&
    pass "export carries the run's tokenizer.json" || fail "export without the tokenizer"
  # GPT-2's form of the same tokenizer (vocab.json + merges.txt, made from tok.json):
  # prepare keeps it as one tokenizer.json that encodes to the same ids
  if command -v python3 >/dev/null 2>&1 && python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["model"]
json.dump(m["vocab"], open(sys.argv[2] + "/vocab.json", "w"))
open(sys.argv[2] + "/merges.txt", "w").write("#version: 0.2\n" + "\n".join(m["merges"]) + "\n")
' "$SCRATCH/tok.json" "$SCRATCH" 2>/dev/null; then
    "$HEFT" prepare --input t="$SCRATCH/corpus.txt" --tokenizer "$SCRATCH/vocab.json,$SCRATCH/merges.txt" \
      --out "$SCRATCH/pdata" --threads 1 >/dev/null || fail "prepare with vocab.json,merges.txt"
    "$HEFT" tokenizer encode --tokenizer "$SCRATCH/vocab.json,$SCRATCH/merges.txt" \
      --input "$SCRATCH/corpus.txt" > "$SCRATCH/ids.pair" 2>/dev/null
    "$HEFT" tokenizer encode --tokenizer "$SCRATCH/pdata/tokenizer.json" \
      --input "$SCRATCH/corpus.txt" > "$SCRATCH/ids.kept" 2>/dev/null
    [ -s "$SCRATCH/ids.pair" ] && cmp -s "$SCRATCH/ids.pair" "$SCRATCH/ids.kept" &&
      pass "GPT-2's vocab.json + merges.txt kept as a tokenizer.json with the same ids" ||
      fail "the kept tokenizer.json encodes differently from vocab.json + merges.txt"
  fi
else
  echo "skip: BPE: $(cat "$SCRATCH/tok.err")"
fi

# a SentencePiece model (when heft has the shim and spm_train is there): kept as
# tokenizer.model and decoded with
if command -v spm_train >/dev/null 2>&1 &&
   spm_train --input="$SCRATCH/corpus.txt" --model_prefix="$SCRATCH/sp" --vocab_size=320 \
     --model_type=bpe --byte_fallback=true --character_coverage=1.0 --minloglevel=2 \
     >/dev/null 2>&1 &&
   "$HEFT" prepare --input t="$SCRATCH/corpus.txt" --tokenizer "$SCRATCH/sp.model" \
     --out "$SCRATCH/spdata" --threads 1 >/dev/null 2>"$SCRATCH/sp.err"; then
  cmp -s "$SCRATCH/sp.model" "$SCRATCH/spdata/tokenizer.model" &&
    pass "prepare keeps a SentencePiece model as tokenizer.model" || fail "no tokenizer.model kept"
  "$HEFT" train --model llama-tiny --data "$SCRATCH/spdata" --steps 4 --seq 32 --batch 4 \
    --val-every 0 --threads 1 --quiet --out "$SCRATCH/sp" >/dev/null || fail "train on SentencePiece data"
  "$HEFT" sample "$SCRATCH/sp" --prompt "The quick" --max-tokens 10 --seed 2 \
    > "$SCRATCH/sptext" 2> "$SCRATCH/sptext.err"
  grep -q "tokenizer.model (sentencepiece)" "$SCRATCH/sptext.err" &&
    [ "$(head -c 9 "$SCRATCH/sptext")" = "The quick" ] &&
    pass "sample decodes with the data's SentencePiece model: $(head -c 60 "$SCRATCH/sptext")" ||
    fail "sample with SentencePiece: $(cat "$SCRATCH/sptext.err")"
else
  echo "skip: SentencePiece: no spm_train, or heft without the shim: $(cat "$SCRATCH/sp.err" 2>/dev/null)"
fi

# --sample-every: printed and in the metrics
n=$(grep -c '^sample step [0-9]* | ' "$SCRATCH/g.out")
[ "$n" -eq 2 ] && pass "--sample-every 15 printed 2 samples in 30 steps" ||
  fail "--sample-every 15 printed $n samples: $(head -c 300 "$SCRATCH/g.out")"
n=$(grep -c '"type":"sample","step":[0-9]*,"tokens":[0-9]*,"text":' "$SCRATCH/g/metrics.jsonl")
[ "$n" -eq 2 ] && pass "--sample-every 15 logged 2 samples" || fail "metrics hold $n samples"
finish
