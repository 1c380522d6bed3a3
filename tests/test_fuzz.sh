#!/bin/sh
# A short run of every libFuzzer target (tests/fuzz/: shard, manifest,
# model_file, checkpoint, config, weights, safetensors, tokenizer) from its seeds and the corpus of
# earlier runs, under ASan + UBSan + leak checks: FUZZ_SECONDS each (default
# 2). Skips (77) when clang cannot build libFuzzer targets. The campaign behind
# docs/RESULTS.md runs the same script for longer (tests/fuzz/run.sh --runs N).
set -u
: "${top_srcdir:=.}"
out=${FUZZ_OUT:-$(pwd)/tests/fuzz-out}
exec sh "$top_srcdir/tests/fuzz/run.sh" --seconds "${FUZZ_SECONDS:-2}" --out "$out"
