#!/bin/sh
# bench/bench_zero.sh — what ZeRO-3 and recomputation cost: W ranks, the same
# global batch and data, --zero 0 and 3 each with --recompute none and layer
# (or the configurations given with -c: STAGE:RECOMPUTE[:PREFETCH], PREFETCH
# = on or off for --zero-prefetch; without it heft's default, auto: on when
# the ranks x threads leave a core free). Prints, as medians over the timed steps (from heft's metrics): step ms,
# the exchange's ms and MiB per rank (stage 0: the all-reduce after the
# backward, timed from a barrier; stage 3: the main thread's time in every
# gather and reduce-scatter the hooks make, staging copies included and timed
# where they happen, so waiting there for a slower rank counts, and waiting
# for a prefetch not yet done), for stage 3 the part of it spent waiting for
# layer gathers (gather wait ms: in line, or for a prefetch) and the
# prefetches' own time on the communication thread (prefetch ms, overlapped
# with the compute as far as it is not in the wait), comm ms (all
# collectives, waiting included), and each step time as a ratio of the first
# configuration's. The configurations take turns, R times (-r), so a change
# in the machine's load hits them alike; each figure is the median over the R
# runs.
# usage: bench/bench_zero.sh [-w W] [-s STEPS] [-r R] [-c "0:none 3:none 0:layer 3:layer"]
#                            [heft train flags...]
#   e.g. -c "3:none:off 3:none:on": ZeRO-3 with and without the prefetch
#   from the build directory; defaults -w 2 -s 6 -r 2, MODEL="--model small --seq 256",
#   GLOBAL=8 rows per step, one thread per rank.
set -u
HEFT=${HEFT:-./heft}
W=2
STEPS=6
REPEAT=2
CONFIGS="0:none 3:none 0:layer 3:layer"
while getopts w:s:r:c: opt; do
    case $opt in
    w) W=$OPTARG ;;
    s) STEPS=$OPTARG ;;
    r) REPEAT=$OPTARG ;;
    c) CONFIGS=$OPTARG ;;
    *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))
MODEL=${MODEL:---model small --seq 256}
GLOBAL=${GLOBAL:-8}
MPIEXEC=${MPIEXEC:-mpiexec}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heft-bench-zero.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT

median_of() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
                                       else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# median of a metrics field over steps 1.. (step 0 warms caches and pools)
median() { # file field
    sed -n "s/.*\"type\":\"train\",\"step\":\([0-9]*\),.*\"$2\":\([0-9.e+-]*\).*/\1 \2/p" "$1" |
        awk '$1 >= 1 { print $2 }' | median_of
}

# a configuration's parts: stage, recompute mode, prefetch ("" = default)
parse_config() { # zero:recompute[:prefetch]
    z=${1%%:*}
    rc=${1#*:}
    pf=""
    case $rc in *:*) pf=${rc#*:} rc=${rc%%:*} ;; esac
    key="z$z-$rc${pf:+-$pf}"
}

run_config() { # zero:recompute[:prefetch] repeat-number extra...
    parse_config "$1"
    out="$WORK/$key.$2"
    shift 2
    [ -n "$pf" ] && set -- --zero-prefetch "$pf" "$@"
    # shellcheck disable=SC2086
    if ! OMP_NUM_THREADS=1 "$MPIEXEC" -n "$W" "$HEFT" train $MODEL --batch $((GLOBAL / W)) \
        --threads 1 --steps "$STEPS" --val-every 0 --val-batches 1 --ckpt-every 0 --quiet \
        --force --out "$out" --zero "$z" --recompute "$rc" "$@" >"$out.log" 2>&1; then
        echo "run failed: $(tail -3 "$out.log")"
        exit 1
    fi
    for f in ms exchange_ms gather_wait_ms prefetch_ms exchange_mib comm_ms; do
        median "$out/metrics.jsonl" $f >>"$WORK/$key.$f"
    done
}

echo "heft $($HEFT --version | head -1)"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
    "load average before $(cut -d' ' -f1-3 /proc/loadavg)"
echo "model: $MODEL, $W ranks x 1 thread, global batch $GLOBAL rows, $STEPS steps" \
    "(median of steps 1..$((STEPS - 1))), $REPEAT run(s) each, taking turns"
i=0
while [ $i -lt "$REPEAT" ]; do
    for c in $CONFIGS; do
        run_config "$c" $i "$@"
    done
    i=$((i + 1))
done
printf '%-5s %-9s %-8s %10s %8s %12s %15s %12s %13s %9s\n' "zero" "recompute" "prefetch" \
    "step ms" "x first" "exchange ms" "gather wait ms" "prefetch ms" "exchange MiB" "comm ms"
base=""
for c in $CONFIGS; do
    parse_config "$c"
    ms=$(median_of <"$WORK/$key.ms")
    [ -z "$base" ] && base=$ms
    awk -v z="$z" -v rc="$rc" -v pf="${pf:-default}" -v ms="$ms" -v b="$base" \
        -v ex="$(median_of <"$WORK/$key.exchange_ms")" -v gw="$(median_of <"$WORK/$key.gather_wait_ms")" \
        -v pms="$(median_of <"$WORK/$key.prefetch_ms")" -v mib="$(median_of <"$WORK/$key.exchange_mib")" \
        -v comm="$(median_of <"$WORK/$key.comm_ms")" \
        'BEGIN { printf("%-5s %-9s %-8s %10.1f %8.2f %12.1f %15s %12s %13.1f %9.1f\n", z, rc, pf, ms,
                        ms / b, ex, gw == "nan" ? "-" : sprintf("%.1f", gw),
                        pms == "nan" ? "-" : sprintf("%.1f", pms), mib, comm) }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
