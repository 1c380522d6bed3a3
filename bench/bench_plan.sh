#!/bin/sh
# bench/bench_plan.sh — `heft plan` for the GPT-2 sizes 124M to 1.5B at 1, 2
# and 8 ranks, plain and with ZeRO-1, at GPT-2's own training shape
# (T = 1024, 8 rows per rank). Memory columns are per rank; the step time
# uses this machine's measured GEMM rate (or GEMM_GFLOPS, e.g. a GPU's) at
# --efficiency 0.5 and a 10 GB/s link.
# usage: bench/bench_plan.sh [extra heft plan flags]   (from the build directory)
set -u
HEFT=${HEFT:-./heft}
MODELS=gpt2,gpt2-medium,gpt2-large,gpt2-xl
RATE=${GEMM_GFLOPS:+--gemm-gflops $GEMM_GFLOPS}
for z in "" --zero1; do
    if [ -n "$z" ]; then echo "## ZeRO-1 on"; else echo "## ZeRO-1 off"; fi
    # shellcheck disable=SC2086
    "$HEFT" plan --model $MODELS --ranks 1,2,8 --batch 8 --seq 1024 $z $RATE "$@" || exit 1
    echo
done
