#!/bin/sh
# bench/convergence_regimes.sh — the regime study of docs/RESULTS.md ("Regimes"):
# the convergence benchmark (bench/convergence.py) with one setting at a time
# moved from the pilot's (tiny GPT-2, r 0.4, 600 steps, reweighting after 10%
# of them, T 128, B 16) toward the paper's, on the clean mix, and the
# learnability-aware rules on both mixes. Every run is resumable: a finished
# run is skipped, so the script can be stopped and started again, or run as
# two copies with different -q (queues) to use two cores.
# usage: bench/convergence_regimes.sh -c CORPUS -o RESULTS [-q all|A|B|C] [-H HEFT]
#   CORPUS from scripts/corpus/make_corpus.py; RESULTS gets one directory per
#   setting (conv, conv_r1, ...); then bench/convergence_report.py with
#   --regimes (the command is printed at the end).
# Costs (one core, quiet machine): a 600-step run takes ~2 min, a 3000-step
# run ~10, T 512 ~3, 6 layers x C 256 ~5; about 7 CPU-hours in all.
set -eu
CORPUS="" OUT="" QUEUE=all HEFT=""
while getopts c:o:q:H: opt; do
    case $opt in
    c) CORPUS=$OPTARG ;;
    o) OUT=$OPTARG ;;
    q) QUEUE=$OPTARG ;;
    H) HEFT=$OPTARG ;;
    *) exit 2 ;;
    esac
done
if [ -z "$CORPUS" ] || [ -z "$OUT" ]; then
    echo "usage: bench/convergence_regimes.sh -c CORPUS -o RESULTS [-q all|A|B|C] [-H HEFT]" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-python3}
mkdir -p "$OUT"
run() { # run RESULTS-SUBDIR MIX SEEDS convergence.py-args...
    sub=$1 mix=$2 seeds=$3
    shift 3
    $PY "$HERE/convergence.py" run --corpus "$CORPUS" --mix "$mix" --seeds "$seeds" \
        ${HEFT:+--heft "$HEFT"} --results "$OUT/$sub" --ref-dir "$OUT/conv/$mix/_ref" "$@"
}
# uniform does not depend on r or on the reweighting warm-up: those settings
# link the pilot's uniform runs (bit-identical when run again)
link_uniform() {
    mkdir -p "$OUT/$1/clean"
    [ -e "$OUT/$1/clean/uniform" ] || ln -s ../../conv/clean/uniform "$OUT/$1/clean/uniform"
}
R1_LEARN="--reweight learnability --rw-learn-raw --rw-learn-fast 0.95 --rw-learn-slow 0.99"

queue_A() { # the pilot and r = 1 on both mixes; the horizon axis
    for mix in clean noisy; do
        run conv "$mix" 1,2,3 --arms uniform,linupper,reducible,learn_raw,learnability
        run conv_r1 "$mix" 1,2,3 --arms uniform,linupper,reducible,learn_raw,learnability \
            --arm "linupper=--reweight linupper --r 1 --rw-warmup {W}" \
            --arm "reducible=--reweight reducible --r 1 --rw-warmup {W} --ref-losses {REF}" \
            --arm "learnability=--reweight learnability --r 1 --rw-warmup {W}" \
            --arm "learn_raw=$R1_LEARN --r 1 --rw-warmup {W}"
    done
    run conv_h3000 clean 1 --steps 3000 --val-every 100 \
        --arms uniform,linupper,quadratic,reducible_r1,learn_raw_r1 \
        --arm "learn_raw_r1=$R1_LEARN --r 1 --rw-warmup {W}"
    # seed 1 put reducible (r = 1) 14% ahead: seeds 2 and 3
    run conv_h3000 clean 2,3 --steps 3000 --val-every 100 --arms uniform,reducible_r1
    run conv_h3000 noisy 1 --steps 3000 --val-every 100 --arms uniform,reducible_r1
}

queue_B() { # the cheap axes, seed 1
    for d in conv_r2 conv_wu5 conv_ramp; do link_uniform $d; done
    run conv clean 1 --arms quadratic
    run conv_r1 clean 1 --arms quadratic --arm "quadratic=--reweight quadratic --r 1 --rw-warmup {W}"
    run conv_r2 clean 1 --arms linupper,quadratic \
        --arm "linupper=--reweight linupper --r 2 --rw-warmup {W}" \
        --arm "quadratic=--reweight quadratic --r 2 --rw-warmup {W}"
    run conv_wu5 clean 1 --arms linupper,quadratic \
        --arm "linupper=--reweight linupper --r 0.4 --rw-warmup 30" \
        --arm "quadratic=--reweight quadratic --r 0.4 --rw-warmup 30"
    run conv_t512 clean 1 --seq 512 --batch 4 --arms uniform,linupper,quadratic -- --max-seq-len 512
    run conv_c256 clean 1 --arms uniform,linupper,quadratic -- --layers 6 --channels 256 --heads 4
}

queue_C() { # the noise floor, the r ramp, and seeds 2-3 where seed 1 differed
    for d in conv_r2 conv_ramp; do link_uniform $d; done
    # null: LinUpper at r = 1000, every weight within 0.1% of uniform's
    run conv clean 1,2,3 --arms null --arm "null=--reweight linupper --r 1000 --rw-warmup {W}"
    run conv_ramp clean 1,2,3 --arms quadratic,linupper \
        --arm "linupper=--reweight linupper --r 0.4 --rw-warmup 60 --rw-warmup-mode r-linear --rw-r-start 100" \
        --arm "quadratic=--reweight quadratic --r 0.4 --rw-warmup 60 --rw-warmup-mode r-linear --rw-r-start 100"
    run conv_r2 clean 2,3 --arms linupper,quadratic \
        --arm "linupper=--reweight linupper --r 2 --rw-warmup {W}" \
        --arm "quadratic=--reweight quadratic --r 2 --rw-warmup {W}"
}

case $QUEUE in
A) queue_A ;;
B) queue_B ;;
C) queue_C ;;
all) queue_A; queue_B; queue_C ;;
*) echo "bench/convergence_regimes.sh: -q expects all, A, B or C" >&2; exit 2 ;;
esac
cat <<EOF
tables: $PY $HERE/convergence_report.py $OUT/conv --mixes clean,noisy \\
  --regimes "pilot=$OUT/conv,r 1=$OUT/conv_r1,r 2=$OUT/conv_r2,warm-up 5%=$OUT/conv_wu5,r ramp from 100=$OUT/conv_ramp,3000 steps=$OUT/conv_h3000,T 512=$OUT/conv_t512,6 layers C 256=$OUT/conv_c256" \\
  --regime-arms null,linupper,quadratic,reducible,learn_raw,reducible_r1,learn_raw_r1
EOF
