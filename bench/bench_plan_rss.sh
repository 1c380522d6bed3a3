#!/bin/sh
# bench/bench_plan_rss.sh — the full-width check: GPT-2 1.5B's width (C = 1600,
# 25 heads) with few layers trains a few steps on the CPU, and its peak
# resident size is compared with `heft plan`'s prediction for the same flags.
# Peak RSS is read twice: from the kernel via /usr/bin/time -v (1 rank) and
# from heft's own metrics ("end" line, rank 0's getrusage).
# usage: bench/bench_plan_rss.sh [-l LAYERS] [-s STEPS] [-t THREADS]   (from the build directory)
# Exits 1 when a measurement is more than 10% from the plan.
set -u
HEFT=${HEFT:-./heft}
LAYERS=2
STEPS=3
THREADS=2
while getopts l:s:t: opt; do
    case $opt in
    l) LAYERS=$OPTARG ;;
    s) STEPS=$OPTARG ;;
    t) THREADS=$OPTARG ;;
    *) exit 2 ;;
    esac
done
MPIEXEC=${MPIEXEC:-mpiexec}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heft-bench-rss.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
SHAPE="--model gpt2-xl --layers $LAYERS --batch 1 --seq 64 --vocab 257 --threads $THREADS"
FAILS=0
printf '%-26s %12s %14s %14s %8s\n' "run" "planned MiB" "time -v MiB" "heft MiB" "diff %"
for case in "1" "2" "2 --zero1"; do
    set -- $case
    w=$1
    shift
    # shellcheck disable=SC2086
    want=$("$HEFT" plan $SHAPE --ranks "$w" "$@" | awk '/peak resident on the CPU backend/ { print $NF }')
    out="$WORK/w$w$*"
    launch=""
    [ "$w" -gt 1 ] && launch="$MPIEXEC -n $w"
    # shellcheck disable=SC2086
    /usr/bin/time -v $launch "$HEFT" train $SHAPE --steps "$STEPS" --val-every 0 --val-batches 1 \
        --quiet --force --out "$out" "$@" >"$out.log" 2>&1 || { echo "run failed: $(tail -3 "$out.log")"; exit 1; }
    kernel=$(awk '/Maximum resident set size/ { printf "%.1f", $NF / 1024 }' "$out.log")
    own=$(sed -n 's/.*"type":"end".*"peak_rss_mib":\([0-9.]*\).*/\1/p' "$out/metrics.jsonl")
    # for W > 1 the launcher's figure is the largest of its children: the rank
    # with the export, rank 0, which heft's own figure is
    awk -v n="$w rank(s) $*" -v a="$want" -v k="$kernel" -v o="$own" 'BEGIN {
        d = 100 * (o - a) / a; printf "%-26s %12.1f %14.1f %14.1f %+8.1f\n", n, a, k, o, d;
        exit !(d < 10 && d > -10) }' || FAILS=$((FAILS + 1))
done
[ $FAILS -eq 0 ]
