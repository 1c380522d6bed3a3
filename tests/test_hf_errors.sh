#!/bin/sh
# Bad Hugging Face input, export and sample usage: each is one clear line and a
# non-zero exit, never a crash. The safetensors files are made here byte by
# byte (no Python needed).
. "${top_srcdir:-.}/tests/lib.sh"

RUNOPTS="--seq 16 --batch 2 --steps 2 --val-every 0 --quiet --threads 1"
"$HEFT" train --layers 1 --channels 16 --heads 2 $RUNOPTS --out "$SCRATCH/run" >/dev/null ||
  { fail "training a tiny model"; finish; exit 1; }
"$HEFT" export --format hf "$SCRATCH/run" "$SCRATCH/good" >/dev/null ||
  { fail "exporting it"; finish; exit 1; }

# u64le N: N as 8 little-endian bytes
u64le() {
  n=$1; i=0
  while [ $i -lt 8 ]; do
    printf "\\$(printf '%03o' $((n % 256)))"
    n=$((n / 256)); i=$((i + 1))
  done
}
# st_dir NAME JSON DATA_BYTES [HEADER_LENGTH]: a model directory with good's
# config.json and a safetensors file of this header and this many zero bytes
st_dir() {
  d="$SCRATCH/$1"
  mkdir -p "$d"
  cp "$SCRATCH/good/config.json" "$d/"
  len=${4:-$(printf '%s' "$2" | wc -c)}
  { u64le "$len"; printf '%s' "$2"; head -c "$3" /dev/zero; } > "$d/model.safetensors"
}
WTE='"transformer.wte.weight"'

# ---- the safetensors file -----------------------------------------------------
st_dir long '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' 4 1000000
expect_error "header longer than the file" "header of 1000000 bytes is longer than the file" \
  "$HEFT" sample "$SCRATCH/long"
st_dir past '{"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}' 8
expect_error "offsets past the end" "tensor x: data_offsets \[0, 16\] run past the end of the data \(8 bytes" \
  "$HEFT" sample "$SCRATCH/past"
st_dir overlap '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}' 12
expect_error "overlapping tensors" "tensors a \(bytes \[0, 8\)\) and b \(bytes \[4, 12\)\) overlap" \
  "$HEFT" sample "$SCRATCH/overlap"
st_dir size '{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}' 8
expect_error "offsets disagree with the shape" "tensor a: data_offsets \[0, 8\] hold 8 bytes but its 3 F32 elements need 12" \
  "$HEFT" sample "$SCRATCH/size"
st_dir notjson '{"a": [' 0
expect_error "header not JSON" "header is not valid JSON" "$HEFT" sample "$SCRATCH/notjson"
st_dir dtype "{$WTE:{\"dtype\":\"I64\",\"shape\":[257,16],\"data_offsets\":[0,32896]}}" 32896
expect_error "unsupported dtype" "tensor transformer.wte.weight .*has dtype I64; heft reads F32, F16 and BF16" \
  "$HEFT" train --init-from "$SCRATCH/dtype" $RUNOPTS --out "$SCRATCH/o1"
st_dir unknown_dtype '{"a":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}' 8
expect_error "not a safetensors dtype" '"Q4" is not a safetensors dtype' "$HEFT" sample "$SCRATCH/unknown_dtype"
st_dir shape "{$WTE:{\"dtype\":\"F32\",\"shape\":[257,32],\"data_offsets\":[0,32896]}}" 32896
expect_error "tensor shape disagrees with config.json" \
  "tensor transformer.wte.weight has shape \[257, 32\] .*but config.json \(gpt2 L=1 C=16 .*\) needs \[257, 16\]" \
  "$HEFT" sample "$SCRATCH/shape"
st_dir missing "{$WTE:{\"dtype\":\"F32\",\"shape\":[257,16],\"data_offsets\":[0,16448]}}" 16448
expect_error "missing tensor" "tensor transformer.wpe.weight is missing" "$HEFT" sample "$SCRATCH/missing"
# a config whose shapes disagree with a good file's tensors
mkdir -p "$SCRATCH/cfg"
cp "$SCRATCH/good/model.safetensors" "$SCRATCH/cfg/"
sed 's/"n_embd": 16/"n_embd": 32/' "$SCRATCH/good/config.json" > "$SCRATCH/cfg/config.json"
expect_error "config.json disagrees with the tensors" \
  "tensor transformer.wte.weight has shape \[257, 16\].*needs \[257, 32\]" \
  "$HEFT" train --init-from "$SCRATCH/cfg" $RUNOPTS --out "$SCRATCH/o2"

# ---- config.json ----------------------------------------------------------------
mkdir -p "$SCRATCH/bert"
cp "$SCRATCH/good/model.safetensors" "$SCRATCH/bert/"
sed 's/"model_type": "gpt2"/"model_type": "bert"/' "$SCRATCH/good/config.json" > "$SCRATCH/bert/config.json"
expect_error "unknown model_type" 'model_type "bert" is not a family heft has' "$HEFT" sample "$SCRATCH/bert"
mkdir -p "$SCRATCH/act"
cp "$SCRATCH/good/model.safetensors" "$SCRATCH/act/"
sed 's/"gelu_new"/"relu"/' "$SCRATCH/good/config.json" > "$SCRATCH/act/config.json"
expect_error "activation heft does not compute" 'activation_function is "relu"' "$HEFT" sample "$SCRATCH/act"
mkdir -p "$SCRATCH/noweights"
cp "$SCRATCH/good/config.json" "$SCRATCH/noweights/"
expect_error "no safetensors file" "no model.safetensors or model.safetensors.index.json" \
  "$HEFT" sample "$SCRATCH/noweights"
mkdir -p "$SCRATCH/empty"
expect_error "directory that is no model" "no config.json .*no latest checkpoint pointer and no model.bin" \
  "$HEFT" sample "$SCRATCH/empty"
expect_error "--init-from a directory without config.json" "without config.json" \
  "$HEFT" train --init-from "$SCRATCH/empty" $RUNOPTS --out "$SCRATCH/o3"

# ---- heft export ----------------------------------------------------------------
expect_error "export without --format" "--format is required" "$HEFT" export "$SCRATCH/run" "$SCRATCH/x"
expect_error "export to another format" "--format 'onnx'" "$HEFT" export --format onnx "$SCRATCH/run" "$SCRATCH/x"
expect_error "export without DIR" "needs SOURCE and DIR" "$HEFT" export --format hf "$SCRATCH/run"
expect_error "export over a model" "already holds a model.*--force" \
  "$HEFT" export --format hf "$SCRATCH/run" "$SCRATCH/good"
expect_error "export of nothing" "nothere: No such file" "$HEFT" export --format hf "$SCRATCH/nothere" "$SCRATCH/x"

# ---- heft sample ----------------------------------------------------------------
expect_error "sample without SOURCE" "needs a SOURCE" "$HEFT" sample --max-tokens 3
expect_error "negative temperature" "temperature.*out of range" "$HEFT" sample "$SCRATCH/run" --temperature -1
expect_error "top-p 0" "top-p.*out of range" "$HEFT" sample "$SCRATCH/run" --top-p 0
expect_error "prompt and prompt-ids" "give one" "$HEFT" sample "$SCRATCH/run" --prompt a --prompt-ids 1
expect_error "prompt id outside the vocabulary" "id 300 is outside the vocabulary \[0, 257\)" \
  "$HEFT" sample "$SCRATCH/run" --prompt-ids 256,300
expect_error "prompt ids not a list" "not a comma-separated list" "$HEFT" sample "$SCRATCH/run" --prompt-ids 1,x
expect_error "unknown sample option" "unknown option --frob" "$HEFT" sample "$SCRATCH/run" --frob 1
# a model with a vocabulary heft has no tokenizer for: an llm.c GPT-2 file, V 1000
# (header [magic, version 3, maxT 16, V 1000, L 1, NH 2, C 16, Vp 1024], then
# 19952 zero parameters)
{
  for v in 20240326 3 16 1000 1 2 16 1024; do
    n=$v; i=0
    while [ $i -lt 4 ]; do printf "\\$(printf '%03o' $((n % 256)))"; n=$((n / 256)); i=$((i + 1)); done
  done
  head -c $((1024 - 32 + 4 * 19952)) /dev/zero
} > "$SCRATCH/v1000.bin"
expect_error "text prompt for a vocabulary without a tokenizer" "give the prompt as ids with --prompt-ids" \
  "$HEFT" sample "$SCRATCH/v1000.bin" --prompt "hello"
expect_error "a tokenizer that is not there" "--tokenizer: .*nothere.json" \
  "$HEFT" sample "$SCRATCH/run" --tokenizer "$SCRATCH/nothere.json"
expect_error "export with a tokenizer that is not there" "nothere.json" \
  "$HEFT" export --format hf "$SCRATCH/run" "$SCRATCH/x2" --tokenizer "$SCRATCH/nothere.json"
printf 'some text to learn a few merges from, some text, some more text\n' > "$SCRATCH/c.txt"
if "$HEFT" tokenizer train --vocab-size 300 --input "$SCRATCH/c.txt" --output "$SCRATCH/t300.json" \
     --threads 1 >/dev/null 2>&1; then
  expect_error "a tokenizer with more ids than the model" "has 2[0-9][0-9] ids, more than the model's 257" \
    "$HEFT" sample "$SCRATCH/run" --tokenizer "$SCRATCH/t300.json"
fi

finish
