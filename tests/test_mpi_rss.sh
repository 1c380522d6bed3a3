#!/bin/sh
# tests/test_mpi_rss.sh — `heft plan` predicts the memory a real run takes:
# one layer of GPT-2 XL's full width (C = 1600, 25 heads) on the built-in data,
# one step; the run's peak resident size (its metrics' "end" line, rank 0)
# must be within 10% of the planner's "peak resident on the CPU backend, rank 0".
# On 1 rank, and on 2 ranks with ZeRO-1 and with ZeRO-3 (layers gathered,
# recomputed) when heft has MPI. About 700 MiB and 10-30 s.
# (bench/bench_plan_rss.sh does the same at 2 layers, for every rank.)
set -u
HEFT=${HEFT:-./heft}
if ldd "$HEFT" 2>/dev/null | grep -q libasan; then
    echo "SKIP: AddressSanitizer's shadow memory and quarantine change the resident size"
    exit 77
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/heft-test-plan.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=1
SHAPE="--model gpt2-xl --layers 1 --batch 1 --seq 32"
FAILS=0

check_rss() { # ranks, launcher words..., -- , extra flags
    w=$1
    shift
    launch=""
    while [ "$1" != "--" ]; do launch="$launch $1"; shift; done
    shift
    # shellcheck disable=SC2086
    want=$("$HEFT" plan $SHAPE --vocab 257 --ranks "$w" --threads 1 --gemm-gflops 1 "$@" |
        awk '/peak resident on the CPU backend, rank 0/ { print $NF }')
    # shellcheck disable=SC2086
    if ! $launch "$HEFT" train $SHAPE --steps 1 --threads 1 --val-every 0 --val-batches 1 \
        --quiet --force --out "$WORK/run$w" "$@" >"$WORK/run$w.log" 2>&1; then
        echo "FAIL: heft train on $w rank(s): $(tail -3 "$WORK/run$w.log")"
        FAILS=$((FAILS + 1))
        return
    fi
    got=$(sed -n 's/.*"type":"end".*"peak_rss_mib":\([0-9.]*\).*/\1/p' "$WORK/run$w/metrics.jsonl")
    if [ -z "$want" ] || [ -z "$got" ]; then
        echo "FAIL: no figure (planned '$want' MiB, measured '$got' MiB)"
        FAILS=$((FAILS + 1))
    elif awk -v a="$want" -v b="$got" 'BEGIN { d = (b - a) / a; exit !(d < 0.1 && d > -0.1) }'; then
        echo "ok   $w rank(s) $*: planned $want MiB, measured $got MiB peak resident"
    else
        echo "FAIL: $w rank(s) $*: planned $want MiB, measured $got MiB peak resident (more than 10% apart)"
        FAILS=$((FAILS + 1))
    fi
}

check_rss 1 --
if "$HEFT" --version | grep -q "MPI: yes"; then
    MPIEXEC=
    for m in mpiexec.hydra mpiexec mpirun; do
        [ -z "$MPIEXEC" ] && command -v "$m" >/dev/null 2>&1 && MPIEXEC=$m
    done
    if [ -n "$MPIEXEC" ]; then
        check_rss 2 "$MPIEXEC" -n 2 -- --zero1
        check_rss 2 "$MPIEXEC" -n 2 -- --zero 3 --recompute layer
    fi
fi
[ $FAILS -eq 0 ] || exit 1
