#!/bin/sh
# tests/test_mpi.sh — MPI data parallelism, end to end, with mpiexec on this
# machine (ranks oversubscribe the cores; one thread each).
#
#  1. W = 2 and W = 3 ranks x B rows against 1 rank x W*B rows, same data
#     order, uniform and linupper: the traces (--trace) agree (step and sample
#     losses within 1e-5 relative, weights too), the first reweighting is bit
#     for bit the same, and every call's weights are exactly those of the
#     whole global batch (recomputed). Also with 2 micro-batches normalized
#     over the whole step.
#     The same, 2 ranks x 3 rows against 1 x 6, for a LLaMA model
#     (llama-tiny's grouped-query attention) with linupper, and for the
#     learnability-aware rules: reducible (both ranks look up the same
#     reference losses, bit for bit; a run starting from the reference model
#     sees its own loss as every row's reference on both ranks) and
#     learnability (per-domain EMAs of the global batch).
#  2. ZeRO-1 on against off: same losses within 1e-5 (GPT-2 and LLaMA).
#  3. A 2-rank run stopped and resumed continues bit for bit (with and
#     without ZeRO-1); resuming on another rank count works at the same
#     global batch and is refused, with a message, otherwise.
#  4. Ranks started with different settings, data (same-size shards whose
#     content differs too) or --init-from models stop with a message naming
#     the difference; a rank whose config file is missing ends the job at once.
#  5. A rank killed mid-run, or stopped (hung), ends the job with a message
#     within 30 s, with --comm-timeout 3 and with the default (auto) limit;
#     also under ZeRO-3 with the prefetch (a gather on the comm thread).
# Exits 77 (skipped) when heft is built without MPI or no mpiexec is found.
set -u

HEFT=${HEFT:-./heft}
TRACECMP=${TRACECMP:-./tests/test_mpi_tracecmp}
if ! "$HEFT" --version 2>/dev/null | grep -q "MPI: yes"; then
    echo "SKIP: heft is built without MPI"
    exit 77
fi
MPIEXEC=${MPIEXEC:-}
for m in mpiexec.hydra mpiexec mpirun; do
    [ -n "$MPIEXEC" ] && break
    command -v "$m" >/dev/null 2>&1 && MPIEXEC=$m
done
if [ -z "$MPIEXEC" ]; then
    echo "SKIP: no mpiexec found"
    exit 77
fi

# Under AddressSanitizer, MPI_Finalize dlclose()s MPICH's UCX transport
# modules, and LeakSanitizer then reports the allocations only they still
# pointed to (about 1 KiB; a bare MPI_Init/MPI_Finalize program shows the same),
# failing every run. Leak checking stays off here; with dlclose() made a no-op
# (LD_PRELOAD) these runs report no leak.
if ldd "$HEFT" 2>/dev/null | grep -q libasan; then
    export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/heft-test-mpi.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
export OMP_NUM_THREADS=1
FAILS=0

fail() {
    echo "FAIL: $*"
    FAILS=$((FAILS + 1))
}

check() { # description, command...
    what=$1
    shift
    if out=$("$@" 2>&1); then
        echo "ok   $what: $out"
    else
        fail "$what: $out"
    fi
}

# a tiny model on the built-in data; 6 steps at a learning rate that moves it
# (RUN without the shape flags, which --init-from refuses: the file sets the shape)
RUN="--seq 32 --threads 1 --val-every 0 --quiet --force --warmup 0 --lr 3e-3 --steps 6"
TINY="--layers 2 --channels 32 --heads 2 $RUN"

train() { # ranks, out-name, flags...
    w=$1
    name=$2
    shift 2
    # shellcheck disable=SC2086
    if ! "$MPIEXEC" -n "$w" "$HEFT" train $TINY --out "$WORK/$name" --trace "$WORK/$name.trace" \
        "$@" >"$WORK/$name.log" 2>&1; then
        fail "heft train on $w rank(s) ($name): $(tail -3 "$WORK/$name.log")"
        return 1
    fi
}

# ---- 1 and 2: W ranks x B rows == 1 rank x W*B rows; ZeRO-1 on == off ----------
# Losses agree to float rounding (gradients are summed in another order), and
# the weights of later steps follow them through the normalization to
# [-1, 1], which divides by the batch's loss range (about 0.05 nats for a
# fresh model), and exp(f/r) at r = 0.4: a loss difference of 1e-7 becomes a
# weight difference near 1e-5. Hence WTOL; the weights are bit-identical where
# the losses are (the first step) and always exactly those of the global batch.
WTOL=1e-3
for rw in uniform linupper; do
    train 1 "$rw-w1" --reweight "$rw" --batch 6
    train 2 "$rw-w2" --reweight "$rw" --batch 3
    train 3 "$rw-w3" --reweight "$rw" --batch 2
    train 2 "$rw-w2z" --reweight "$rw" --batch 3 --zero1
    train 3 "$rw-w3z" --reweight "$rw" --batch 2 --zero1
    for w in 2 3; do
        check "$rw: $w ranks x $((6 / w)) rows == 1 rank x 6 rows" \
            "$TRACECMP" "$WORK/$rw-w1.trace" "$WORK/$rw-w$w.trace" --rtol 1e-5 --wtol $WTOL \
            --exact-first
        check "$rw: $w ranks, weights of the global batch" \
            "$TRACECMP" --recompute "$WORK/$rw-w$w.trace"
        check "$rw: $w ranks, ZeRO-1 on == off" \
            "$TRACECMP" "$WORK/$rw-w$w.trace" "$WORK/$rw-w${w}z.trace" --rtol 1e-5
    done
done

# The same for LLaMA (its own kernels: RMSNorm, RoPE, SwiGLU, and grouped-query
# attention, 4 heads sharing 2 KV heads, whose K/V gradients sum over the heads
# of a group; an untied head, so ZeRO-1's shards cut other spans than GPT-2's).
# LinUpper only: its weights depend on every rank's losses, so it covers the
# loss all-gather as well; uniform would add nothing LLaMA-specific. 2 ranks
# only: the machine is small, and 2 already split every sum.
LLAMA="--model llama-tiny --heads 4 --kv-heads 2 --ffn 64"
# shellcheck disable=SC2086
{
    train 1 llama-w1 $LLAMA --reweight linupper --batch 6
    train 2 llama-w2 $LLAMA --reweight linupper --batch 3
    train 2 llama-w2z $LLAMA --reweight linupper --batch 3 --zero1
}
# the runs built what they claim: heft's LLaMA file (magic 20241210), header
# [5] NH = 4, [8] KVH = 2
llama_gqa_file() {
    # shellcheck disable=SC2046
    set -- $(od -An -t d4 -N 36 "$1" 2>/dev/null)
    [ $# -eq 9 ] && [ "$1" = 20241210 ] && [ "$6" = 4 ] && [ "$9" = 2 ]
}
if llama_gqa_file "$WORK/llama-w2/model.bin"; then
    echo "ok   llama runs: model.bin is a LLaMA with 4 heads and 2 KV heads"
else
    fail "llama-w2/model.bin is not a 4-head, 2-KV-head LLaMA: $(od -An -t d4 -N 36 "$WORK/llama-w2/model.bin" 2>&1)"
fi
check "llama linupper: 2 ranks x 3 rows == 1 rank x 6 rows" \
    "$TRACECMP" "$WORK/llama-w1.trace" "$WORK/llama-w2.trace" --rtol 1e-5 --wtol $WTOL --exact-first
check "llama linupper: 2 ranks, weights of the global batch" \
    "$TRACECMP" --recompute "$WORK/llama-w2.trace"
check "llama linupper: 2 ranks, ZeRO-1 on == off" \
    "$TRACECMP" "$WORK/llama-w2.trace" "$WORK/llama-w2z.trace" --rtol 1e-5

# The learnability-aware rules. reducible: a 1-layer reference model, its
# losses on the first 7000 of builtin:repeat,noise's 14010 windows (the rest
# have none); every rank looks up the whole global batch by window index.
RDATA="--data builtin:repeat,noise"
if "$HEFT" train --layers 1 --channels 32 --heads 2 $RUN $RDATA --batch 4 --out "$WORK/refrun" \
       >"$WORK/refrun.log" 2>&1 &&
   "$HEFT" score --model-file "$WORK/refrun/model.bin" $RDATA --seq 32 --max-windows 7000 \
       --threads 1 --quiet --out "$WORK/ref.bin" >"$WORK/score.log" 2>&1; then
    # shellcheck disable=SC2086
    {
        train 1 red-w1 $RDATA --reweight reducible --ref-losses "$WORK/ref.bin" --rw-warmup 2 --batch 6
        train 2 red-w2 $RDATA --reweight reducible --ref-losses "$WORK/ref.bin" --rw-warmup 2 --batch 3
    }
    check "reducible: 2 ranks x 3 rows == 1 rank x 6 rows (same reference losses)" \
        "$TRACECMP" "$WORK/red-w1.trace" "$WORK/red-w2.trace" --rtol 1e-5 --wtol $WTOL --exact-first
    check "reducible: 2 ranks, weights of the global batch" \
        "$TRACECMP" --recompute "$WORK/red-w2.trace"
    # shellcheck disable=SC2086
    if "$MPIEXEC" -n 2 "$HEFT" train $RUN $RDATA --init-from "$WORK/refrun/model.bin" --batch 8 \
        --steps 1 --reweight reducible --ref-losses "$WORK/ref.bin" --out "$WORK/own" \
        --trace "$WORK/own.trace" >"$WORK/own.log" 2>&1; then
        check "reducible: on 2 ranks every row's reference loss is its own window's" \
            "$TRACECMP" --loss-is-ref "$WORK/own.trace" --rtol 1e-5
    else
        fail "reducible from the reference model on 2 ranks: $(tail -3 "$WORK/own.log")"
    fi
else
    fail "reference model and side file: $(tail -3 "$WORK/refrun.log" "$WORK/score.log")"
fi
# learnability: the EMAs follow the global batch's domain means, the same on
# every rank and for any split (within rounding after the first update)
train 1 learn-w1 --reweight learnability --rw-warmup 2 --batch 6
train 2 learn-w2 --reweight learnability --rw-warmup 2 --batch 3
check "learnability: 2 ranks x 3 rows == 1 rank x 6 rows" \
    "$TRACECMP" "$WORK/learn-w1.trace" "$WORK/learn-w2.trace" --rtol 1e-5 --wtol $WTOL --exact-first

# gradient accumulation, weights normalized over the whole step (2 x 2 rows x 2 ranks)
train 1 acc-w1 --reweight linupper --batch 4 --grad-accum 2 --rw-normalize step
train 2 acc-w2 --reweight linupper --batch 2 --grad-accum 2 --rw-normalize step
check "linupper, 2 micro-batches per step: 2 ranks == 1 rank" \
    "$TRACECMP" "$WORK/acc-w1.trace" "$WORK/acc-w2.trace" --rtol 1e-5 --wtol $WTOL --exact-first
check "linupper, 2 micro-batches per step: weights of the global step" \
    "$TRACECMP" --recompute "$WORK/acc-w2.trace"

# ---- 3: resume -----------------------------------------------------------------
for z in "" --zero1; do
    tag=resume${z:+-zero1}
    train 2 "$tag" --reweight linupper --batch 3 --stop-after 3 $z
    cp "$WORK/$tag.trace" "$WORK/$tag.first"
    # shellcheck disable=SC2086
    if "$MPIEXEC" -n 2 "$HEFT" train --resume "$WORK/$tag" --trace "$WORK/$tag.second" \
        --threads 1 --quiet $z >"$WORK/$tag.log2" 2>&1; then
        cat "$WORK/$tag.first" "$WORK/$tag.second" >"$WORK/$tag.trace"
        straight=linupper-w2${z:+z}
        check "2 ranks${z:+ with ZeRO-1}: stopped at step 3 and resumed == straight (bit for bit)" \
            "$TRACECMP" "$WORK/$straight.trace" "$WORK/$tag.trace" --exact
        if cmp -s "$WORK/$straight/model.bin" "$WORK/$tag/model.bin"; then
            echo "ok   2 ranks${z:+ with ZeRO-1}: resumed model.bin == straight model.bin"
        else
            fail "2 ranks${z:+ with ZeRO-1}: the resumed run's model.bin differs from the straight run's"
        fi
    else
        fail "resume on 2 ranks: $(tail -3 "$WORK/$tag.log2")"
    fi
done

# the 2-rank checkpoint at step 3, continued by 1 rank holding both ranks' rows
mkdir -p "$WORK/reshard"
cp "$WORK/resume/ckpt_00000003.heft" "$WORK/reshard/"
if "$MPIEXEC" -n 1 "$HEFT" train --resume "$WORK/reshard/ckpt_00000003.heft" --batch 6 \
    --trace "$WORK/reshard.second" --threads 1 --quiet >"$WORK/reshard.log" 2>&1; then
    # the straight 2-rank run's steps 3..5: its trace without the first 3 steps
    grep -v '"step":[012],' "$WORK/linupper-w2.trace" >"$WORK/straight.last3"
    check "2-rank checkpoint resumed on 1 rank x 6 rows == 2 ranks straight" \
        "$TRACECMP" "$WORK/straight.last3" "$WORK/reshard.second" --rtol 1e-5 --wtol $WTOL
else
    fail "resuming a 2-rank checkpoint on 1 rank with --batch 6: $(tail -3 "$WORK/reshard.log")"
fi
if "$MPIEXEC" -n 3 "$HEFT" train --resume "$WORK/resume/ckpt_00000003.heft" --threads 1 \
    --quiet --out "$WORK/refused" >"$WORK/refused.log" 2>&1; then
    fail "a 2-rank x 3-row checkpoint resumed on 3 ranks x 3 rows was not refused"
elif grep -q "mpiexec -n 2" "$WORK/refused.log"; then
    echo "ok   resuming on 3 ranks at another global batch is refused: $(grep -m1 error "$WORK/refused.log")"
else
    fail "the refused resume does not say how to resume: $(tail -2 "$WORK/refused.log")"
fi

# ---- 4: ranks that disagree -------------------------------------------------------
expect_refusal() { # what, pattern, mpiexec arguments...
    what=$1
    pattern=$2
    shift 2
    if "$MPIEXEC" "$@" >"$WORK/refusal.log" 2>&1; then
        fail "$what: the job ran"
    elif grep -q -- "$pattern" "$WORK/refusal.log"; then
        echo "ok   $what: $(grep -m1 -- "$pattern" "$WORK/refusal.log")"
    else
        fail "$what: no message naming it ('$pattern'): $(head -3 "$WORK/refusal.log")"
    fi
}
# shellcheck disable=SC2086
expect_refusal "a rank with another --lr" "rank 1 was started with --lr 0.002 but rank 0 with --lr 0.003" \
    -n 1 "$HEFT" train $TINY --out "$WORK/disagree" : -n 1 "$HEFT" train $TINY --lr 0.002 --out "$WORK/disagree"
# shellcheck disable=SC2086
expect_refusal "a rank with other data" "rank 1 sees different data than rank 0: the number of domains is 2 on rank 1 but 5 on rank 0" \
    -n 1 "$HEFT" train $TINY --out "$WORK/disagree" : -n 1 "$HEFT" train $TINY --data builtin:arith,prose --out "$WORK/disagree"

# same-size shards whose middle differs (tokens 1000..101000): the content hash tells
if "$HEFT" prepare --builtin --out "$WORK/dsA" >/dev/null 2>&1 && cp -r "$WORK/dsA" "$WORK/dsB"; then
    dd if="$WORK/dsA/train_code_000000.bin" of="$WORK/dsB/train_prose_000000.bin" \
        bs=1 skip=3024 seek=3024 count=200000 conv=notrunc 2>/dev/null
    # shellcheck disable=SC2086
    expect_refusal "a rank whose shard has other content at the same size" \
        "rank 1 sees different data than rank 0: shard 2 is train_prose_000000.bin (train, domain 'prose'): 640969 tokens, content hash" \
        -n 1 "$HEFT" train $TINY --data "$WORK/dsA" --out "$WORK/disagree" : \
        -n 1 "$HEFT" train $TINY --data "$WORK/dsB" --out "$WORK/disagree"
else
    fail "preparing the data for the content check"
fi

# a rank whose --init-from file holds another model (rank 0 sends the parameters)
# shellcheck disable=SC2086
if "$HEFT" train $TINY --layers 1 --steps 1 --out "$WORK/one-layer" >/dev/null 2>&1; then
    # shellcheck disable=SC2086
    # (the file sets the shape: no shape flags with --init-from)
    expect_refusal "a rank with another --init-from model" "rank 1 builds the model gpt2 L=1" \
        -n 1 "$HEFT" train $RUN --init-from "$WORK/uniform-w1/model.bin" --out "$WORK/disagree" : \
        -n 1 "$HEFT" train $RUN --init-from "$WORK/one-layer/model.bin" --out "$WORK/disagree"
    # a model file on one rank only: rank 0's random weights would be used without a word
    # (rank 0 gives the file's shape as flags, which --init-from refuses on rank 1)
    # shellcheck disable=SC2086
    expect_refusal "--init-from on rank 1 only" \
        "rank 1 was started with --init-from (a model file) but rank 0 with --init-from (not given: random weights)" \
        -n 1 "$HEFT" train $TINY --layers 1 --out "$WORK/disagree" : \
        -n 1 "$HEFT" train $RUN --init-from "$WORK/one-layer/model.bin" --out "$WORK/disagree"
else
    fail "training the 1-layer model for the --init-from check"
fi

# a rank that fails before training, on its command line: the others must not wait
# for it (they did, for ever, in MPI_Init when heft parsed its flags before it)
start=$(date +%s)
# shellcheck disable=SC2086
expect_refusal "a rank whose --config file is missing" "config file .*missing.conf: cannot open" \
    -n 1 timeout 60 "$HEFT" train $TINY --out "$WORK/disagree" : \
    -n 1 timeout 60 "$HEFT" train $TINY --config "$WORK/missing.conf" --out "$WORK/disagree"
took=$(($(date +%s) - start))
if [ $took -gt 20 ]; then
    fail "the job with a rank whose --config is missing took $took s to end (the others waited)"
else
    echo "ok   ... and the job ended after $took s"
fi

# ---- 5: a rank that dies or hangs ---------------------------------------------------
# pid of rank $2 of the job whose command line contains $1
rank_pid() {
    for p in $(pgrep -f "$1"); do
        [ "$(cat "/proc/$p/comm" 2>/dev/null)" = heft ] || continue
        if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "PMI_RANK=$2"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# starts a long 2-rank run, applies signal $2 to rank 1 once it trains, and
# checks the job ends within 30 s with a message matching $3
doomed_rank() {
    name=$1
    sig=$2
    pattern=$3
    shift 3
    # shellcheck disable=SC2086
    "$MPIEXEC" -n 2 "$HEFT" train $TINY --batch 2 --steps 1000000 --out "$WORK/$name" "$@" \
        >"$WORK/$name.log" 2>&1 &
    job=$!
    i=0
    while ! grep -q '"type":"train"' "$WORK/$name/metrics.jsonl" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 300 ] || ! kill -0 $job 2>/dev/null; then
            fail "$name: the run did not start training: $(tail -3 "$WORK/$name.log")"
            kill $job 2>/dev/null
            return
        fi
        sleep 0.1
    done
    victim=$(rank_pid "$WORK/$name" 1)
    if [ -z "$victim" ]; then
        fail "$name: rank 1's process not found"
        kill $job 2>/dev/null
        return
    fi
    start=$(date +%s)
    kill "-$sig" "$victim"
    while kill -0 $job 2>/dev/null && [ $(($(date +%s) - start)) -le 30 ]; do
        sleep 0.2
    done
    took=$(($(date +%s) - start))
    if kill -0 $job 2>/dev/null; then
        fail "$name: the job still runs $took s after rank 1 got SIG$sig"
        kill $job 2>/dev/null
        kill -KILL "$victim" 2>/dev/null
    elif wait $job; then
        fail "$name: the job ended with exit code 0 after rank 1 got SIG$sig"
    elif grep -q "$pattern" "$WORK/$name.log"; then
        echo "ok   rank 1 got SIG$sig: the job ended after ${took} s: $(grep -m1 "$pattern" "$WORK/$name.log")"
    else
        fail "$name: the job ended without a message matching '$pattern': $(tail -3 "$WORK/$name.log")"
    fi
    kill -KILL "$victim" 2>/dev/null
}

doomed_rank killed KILL "BAD TERMINATION\|Killed\|killed"
doomed_rank hung STOP "comm-timeout" --comm-timeout 3
# the default watchdog follows the step time: 20 s + 2 steps of a few ms
doomed_rank hung-auto STOP "comm-timeout auto: 20 s + 2 x the longest recent step"
# ZeRO-3 with its prefetch: the collective that waits for the stopped rank
# may be the communication thread's gather; the watchdog ends it all the same
doomed_rank hung-z3 STOP "comm-timeout" --comm-timeout 3 --zero 3 --zero-prefetch on
doomed_rank killed-z3 KILL "BAD TERMINATION\|Killed\|killed" --zero 3 --zero-prefetch on

if [ $FAILS -gt 0 ]; then
    echo "$FAILS check(s) failed (work directory kept: $WORK)"
    trap - EXIT
    exit 1
fi
echo "all MPI checks passed"
