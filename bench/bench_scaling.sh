#!/bin/sh
# bench/bench_scaling.sh — data parallelism on one machine at a fixed total
# core count: 1 rank x C threads against W ranks x C/W threads, the same
# global batch (so the same data, weights and result), with and without
# ZeRO-1. Prints tokens/s, step time and the time each step spends in
# communication, as medians over the timed steps, from heft's metrics:
# comm ms = all collectives of the step (mean over ranks; waiting there for
# a slower rank counts), exchange ms = the gradient exchange alone (timed
# from a barrier; staging copies included), and the exchange's bus bandwidth
# 2 (W-1)/W x 4P bytes / exchange time.
#
# With -r R every configuration runs R times, the configurations taking
# turns (so a change in the machine's load hits them alike), and each figure
# is the median over the R runs of the per-run medians.
#
# usage: bench/bench_scaling.sh [-c CORES] [-w W] [-s STEPS] [-r R] [heft train flags...]
#   run from the build directory (./heft); defaults: -c 2 -w 2 -s 8 -r 1,
#   MODEL="--model small --seq 256", GLOBAL=8 (rows per step over all ranks).
#   Extra flags go to every run.
set -u
HEFT=${HEFT:-./heft}
CORES=2
W=2
STEPS=8
REPEAT=1
while getopts c:w:s:r: opt; do
    case $opt in
    c) CORES=$OPTARG ;;
    w) W=$OPTARG ;;
    s) STEPS=$OPTARG ;;
    r) REPEAT=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
MODEL=${MODEL:---model small --seq 256}
GLOBAL=${GLOBAL:-8}
MPIEXEC=${MPIEXEC:-mpiexec}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heft-bench-scaling.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

# median of numbers on stdin
median_of() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
                                       else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# median of a metrics field over steps 2.. (step 0 and 1 warm up caches and pools)
median() { # file field
    sed -n "s/.*\"type\":\"train\",\"step\":\([0-9]*\),.*\"$2\":\([0-9.e+-]*\).*/\1 \2/p" "$1" |
        awk '$1 >= 2 { print $2 }' | median_of
}

CONFIGS="1: $W: $W:--zero1"
run_config() { # ranks:zero1-flag repeat-number
    w=${1%%:*}
    z=${1#*:}
    t=$((CORES / w))
    b=$((GLOBAL / w))
    out="$WORK/w$w$z.$2"
    shift 2
    # shellcheck disable=SC2086
    if ! OMP_NUM_THREADS=$t "$MPIEXEC" -n "$w" "$HEFT" train $MODEL --batch "$b" \
        --threads "$t" --steps "$STEPS" --val-every 0 --val-batches 1 --quiet --force \
        --out "$out" $z "$@" >"$out.log" 2>&1; then
        echo "run failed: $(tail -3 "$out.log")"
        exit 1
    fi
    for f in tokens_per_s ms comm_ms exchange_ms; do
        median "$out/metrics.jsonl" $f >>"$WORK/w$w$z.$f"
    done
}

echo "heft $($HEFT --version | head -1)"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
    "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(unset)}; load average before $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model: $MODEL, global batch $GLOBAL rows, $STEPS steps (median of steps 2..$((STEPS - 1))), $REPEAT run(s) each"
i=0
while [ $i -lt "$REPEAT" ]; do
    for c in $CONFIGS; do
        run_config "$c" $i "$@"
    done
    i=$((i + 1))
done
printf '%-6s %-16s %10s %10s %9s %7s %12s %10s\n' "zero1" "ranks x threads" "tokens/s" "step ms" \
    "comm ms" "comm %" "exchange ms" "exch. GB/s"
for c in $CONFIGS; do
    w=${c%%:*}
    z=${c#*:}
    tok=$(median_of <"$WORK/w$w$z.tokens_per_s")
    ms=$(median_of <"$WORK/w$w$z.ms")
    comm=$(median_of <"$WORK/w$w$z.comm_ms")
    exch=$(median_of <"$WORK/w$w$z.exchange_ms")
    params=$(sed -n 's/.*"params":\([0-9]*\).*/\1/p' "$WORK/w$w$z.0/metrics.jsonl" | head -1)
    # bytes each rank moves in the gradient exchange: 2 (W-1)/W of 4P
    awk -v z="${z:-no}" -v w="$w" -v t="$((CORES / w))" -v tok="$tok" -v ms="$ms" -v comm="$comm" \
        -v exch="$exch" -v P="$params" 'BEGIN {
            bw = (w > 1 && exch > 0) ? 2 * (w - 1) / w * 4 * P / (exch / 1e3) / 1e9 : 0;
            gbs = (w > 1) ? sprintf("%.2f", bw) : "-";
            printf("%-6s %-16s %10.0f %10.1f %9.1f %7.1f %12.1f %10s\n", (z == "no") ? "off" : "on",
                w " x " t, tok, ms, comm, 100 * comm / ms, exch, gbs) }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
