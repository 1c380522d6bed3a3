#!/bin/sh
# bench/bench_plan_rss.sh — the full-width check: a big model's full width
# (default GPT-2 1.5B's, C = 1600, 25 heads; -m llama-1.4b or llama-7b for
# the paper's LLaMA widths) with few layers trains a few steps on the CPU, and
# the peak resident size of every rank is compared with `heft plan`'s
# prediction for the same flags (rank 0's, and the other ranks'). Each rank's
# peak comes from the kernel (/usr/bin/time -v around each rank); rank 0's
# also from heft's own metrics ("end" line, getrusage).
# With -v V > 257 the data is a shard of random token ids below V (made here),
# so the model has a V-token vocabulary (LLaMA's 32000).
# usage: bench/bench_plan_rss.sh [-m MODEL] [-v VOCAB] [-l LAYERS] [-s STEPS] [-t THREADS]
#                                [-T SEQ] [-r "1 2 2z 2z3"] [-e] [-- extra heft train flags]
#   (from the build directory). A run is W ranks, W followed by z for ZeRO-1
#   (--zero1) or zN for --zero N. -e: stop after the steps without exporting
#   the model (--stop-after; rank 0 then holds no host copy of the parameters
#   at the end, and the plan knows it).
# Exits 1 when a measurement is more than 10% from the plan.
set -u
HEFT=${HEFT:-./heft}
MODEL=gpt2-xl
VOCAB=257
LAYERS=2
STEPS=3
THREADS=2
RUNS="1 2 2z"
NOEXPORT=""
SEQ=64
while getopts m:v:l:s:t:r:T:e opt; do
    case $opt in
    m) MODEL=$OPTARG ;;
    v) VOCAB=$OPTARG ;;
    r) RUNS=$OPTARG ;;
    T) SEQ=$OPTARG ;;
    l) LAYERS=$OPTARG ;;
    s) STEPS=$OPTARG ;;
    t) THREADS=$OPTARG ;;
    e) NOEXPORT=1 ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
EXTRA="$*"
MPIEXEC=${MPIEXEC:-mpiexec}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heft-bench-rss.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
SHAPE="--model $MODEL --layers $LAYERS --batch 1 --seq $SEQ --vocab $VOCAB --threads $THREADS"
if [ -n "$NOEXPORT" ]; then
    SHAPE="$SHAPE --steps $((STEPS + 1000)) --stop-after $STEPS"
else
    SHAPE="$SHAPE --steps $STEPS"
fi
DATA=""
if [ "$VOCAB" -gt 257 ]; then
    # an llm.c shard (header of 256 int32: magic, version 1, token count; uint16 ids)
    python3 - "$WORK/random.bin" "$VOCAB" <<'PY'
import random, struct, sys
n, v = 200000, int(sys.argv[2])
rng = random.Random(1)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<256i", 20240520, 1, n, *([0] * 253)))
    f.write(struct.pack("<%dH" % n, *(rng.randrange(v) for _ in range(n))))
PY
    DATA="--data $WORK/random.bin"
fi
FAILS=0
printf '%-34s %5s %12s %14s %14s %8s\n' "run" "rank" "planned MiB" "time -v MiB" "heft MiB" "diff %"
for run in $RUNS; do
    case $run in
    *z) set -- "${run%z}" --zero1 ;;
    *z[0-3]) set -- "${run%z?}" --zero "${run##*z}" ;;
    *) set -- "$run" ;;
    esac
    w=$1
    shift
    # shellcheck disable=SC2086
    "$HEFT" plan $SHAPE $EXTRA --ranks "$w" "$@" >"$WORK/plan.txt"
    want0=$(awk '/peak resident on the CPU backend, rank 0/ { print $NF }' "$WORK/plan.txt")
    wantk=$(awk '/peak resident on the CPU backend, others/ { print $NF }' "$WORK/plan.txt")
    out="$WORK/w$w$(echo "$*" | tr -d ' -')"
    launch=""
    [ "$w" -gt 1 ] && launch="$MPIEXEC -n $w" # one rank runs without MPI, as heft plan assumes
    # shellcheck disable=SC2086
    if ! OUT=$out $launch sh -c '/usr/bin/time -v -o "$OUT.rss${PMI_RANK:-0}" "$@"' sh \
        "$HEFT" train $SHAPE $DATA $EXTRA --val-every 0 --val-batches 1 --quiet --force \
        --out "$out" "$@" >"$out.log" 2>&1; then
        echo "run failed: $(tail -3 "$out.log")"
        exit 1
    fi
    own=$(sed -n 's/.*"type":"end".*"peak_rss_mib":\([0-9.]*\).*/\1/p' "$out/metrics.jsonl")
    k=0
    while [ $k -lt "$w" ]; do
        kernel=$(awk '/Maximum resident set size/ { printf "%.1f", $NF / 1024 }' "$out.rss$k")
        want=$wantk
        heft=-
        if [ $k -eq 0 ]; then
            want=$want0
            heft=$own
        fi
        awk -v n="$MODEL L=$LAYERS T=$SEQ, $w rank(s) $*" -v r="$k" -v a="$want" -v m="$kernel" \
            -v o="$heft" 'BEGIN {
            d = 100 * (m - a) / a; printf "%-34s %5d %12.1f %14.1f %14s %+8.1f\n", n, r, a, m, o, d;
            exit !(d < 10 && d > -10) }' || FAILS=$((FAILS + 1))
        k=$((k + 1))
    done
done
[ $FAILS -eq 0 ]
