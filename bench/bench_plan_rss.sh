#!/bin/sh
# bench/bench_plan_rss.sh — the full-width check: a big model's full width
# (default GPT-2 1.5B's, C = 1600, 25 heads; -m llama-1.4b or llama-7b for
# the paper's LLaMA widths) with few layers trains a few steps on the CPU, and
# its peak resident size is compared with `heft plan`'s prediction for the
# same flags. Peak RSS is read twice: from the kernel via /usr/bin/time -v
# and from heft's own metrics ("end" line, rank 0's getrusage).
# With -v V > 257 the data is a shard of random token ids below V (made here),
# so the model has a V-token vocabulary (LLaMA's 32000).
# usage: bench/bench_plan_rss.sh [-m MODEL] [-v VOCAB] [-l LAYERS] [-s STEPS] [-t THREADS]
#                                [-T SEQ] [-x "EXTRA FLAGS"] [-r "1 2 2z"]
#        (from the build directory; 2z = 2 ranks ZeRO-1; -x e.g. "--recompute layer")
# Exits 1 when a measurement is more than 10% from the plan.
set -u
HEFT=${HEFT:-./heft}
MODEL=gpt2-xl
VOCAB=257
LAYERS=2
STEPS=3
THREADS=2
RUNS="1 2 2z"
SEQ=64
EXTRA=""
while getopts m:v:l:s:t:r:T:x: opt; do
    case $opt in
    T) SEQ=$OPTARG ;;
    x) EXTRA=$OPTARG ;;
    m) MODEL=$OPTARG ;;
    v) VOCAB=$OPTARG ;;
    r) RUNS=$OPTARG ;;
    l) LAYERS=$OPTARG ;;
    s) STEPS=$OPTARG ;;
    t) THREADS=$OPTARG ;;
    *) exit 2 ;;
    esac
done
MPIEXEC=${MPIEXEC:-mpiexec}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heft-bench-rss.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
SHAPE="--model $MODEL --layers $LAYERS --batch 1 --seq $SEQ --vocab $VOCAB --threads $THREADS $EXTRA"
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
printf '%-26s %12s %14s %14s %8s\n' "run" "planned MiB" "time -v MiB" "heft MiB" "diff %"
for run in $RUNS; do
    case $run in
    *z) set -- "${run%z}" --zero1 ;;
    *) set -- "$run" ;;
    esac
    w=$1
    shift
    # shellcheck disable=SC2086
    want=$("$HEFT" plan $SHAPE --ranks "$w" "$@" | awk '/peak resident on the CPU backend/ { print $NF }')
    out="$WORK/w$w$*"
    launch=""
    [ "$w" -gt 1 ] && launch="$MPIEXEC -n $w"
    # shellcheck disable=SC2086
    /usr/bin/time -v $launch "$HEFT" train $SHAPE $DATA --steps "$STEPS" --val-every 0 --val-batches 1 \
        --quiet --force --out "$out" "$@" >"$out.log" 2>&1 || { echo "run failed: $(tail -3 "$out.log")"; exit 1; }
    kernel=$(awk '/Maximum resident set size/ { printf "%.1f", $NF / 1024 }' "$out.log")
    own=$(sed -n 's/.*"type":"end".*"peak_rss_mib":\([0-9.]*\).*/\1/p' "$out/metrics.jsonl")
    # for W > 1 the launcher's figure is the largest of its children: the rank
    # with the export, rank 0, which heft's own figure is
    awk -v n="$MODEL L=$LAYERS T=$SEQ $EXTRA, $w rank(s) $*" -v a="$want" -v k="$kernel" -v o="$own" 'BEGIN {
        d = 100 * (o - a) / a; printf "%-26s %12.1f %14.1f %14.1f %+8.1f\n", n, a, k, o, d;
        exit !(d < 10 && d > -10) }' || FAILS=$((FAILS + 1))
done
[ $FAILS -eq 0 ]
