#!/bin/sh
# Training parity: 20 steps of a small GPT-2 and of a small LLaMA (grouped-
# query attention, RoPE, SwiGLU) with LinUpper reweighting on the CPU and on
# the OpenCL backend. The per-sample losses and step losses must
# agree within 1e-4 relative at every step, and the weights of each run must
# be, bit for bit, what the shared host code (reweight/) gives for that run's
# losses: given identical losses, identical weights on every backend.
. "${top_srcdir:-.}/tests/lib.sh"
TRACECMP=${TRACECMP:-./tests/test_mpi_tracecmp}

case " $("$HEFT" --version) " in
  *opencl*) ;;
  *) echo "SKIP: heft is built without the OpenCL backend"; exit 77 ;;
esac
"$HEFT" devices >"$SCRATCH/devices" 2>&1
if ! grep -q '^  \[0\]' "$SCRATCH/devices"; then
  echo "SKIP: no OpenCL device (install an ICD such as pocl-opencl-icd)"; cat "$SCRATCH/devices"; exit 77
fi

RUN="--seq 64 --batch 4 --steps 20 --lr 2e-3 --warmup 5
     --reweight linupper --r 0.4 --val-every 0 --ckpt-every 0 --quiet --seed 7"

parity() {
  name=$1; shift
  for be in cpu opencl; do
    # shellcheck disable=SC2086
    if ! "$HEFT" train $RUN "$@" --backend $be --out "$SCRATCH/$name-$be" \
         --trace "$SCRATCH/$name-$be.trace" >"$SCRATCH/$name-$be.log" 2>&1; then
      fail "$name $be run: $(tail -n 3 "$SCRATCH/$name-$be.log")"; return
    fi
  done
  # losses within 1e-4 relative at every step, for every sample; the weights
  # follow the losses, so they are compared loosely here (amplified by r = 0.4)
  if out=$("$TRACECMP" "$SCRATCH/$name-cpu.trace" "$SCRATCH/$name-opencl.trace" --rtol 1e-4 \
           --wtol 1e-3 2>&1); then
    pass "$name: cpu vs opencl, 20 steps of linupper: $out"
  else
    fail "$name: cpu vs opencl: $out"
  fi
  for be in cpu opencl; do
    if out=$("$TRACECMP" --recompute "$SCRATCH/$name-$be.trace" 2>&1); then
      pass "$name $be: weights are bit for bit the host code's for its losses: $out"
    else
      fail "$name $be: weights differ from the host code's: $out"
    fi
  done
  # the first step starts from the same parameters and data: its losses agree
  # within float32 round-off of two different kernels, far inside 1e-4
  train_losses "$SCRATCH/$name-cpu/metrics.jsonl" | head -n 1 >"$SCRATCH/a"
  train_losses "$SCRATCH/$name-opencl/metrics.jsonl" | head -n 1 >"$SCRATCH/b"
  awk 'NR == FNR { a = $2; next } { d = (a - $2) / a; if (d < 0) d = -d;
       if (d > 1e-5) { print "first-step loss differs by " d; exit 1 } }' "$SCRATCH/a" "$SCRATCH/b" &&
    pass "$name first step: loss $(cut -d' ' -f2 "$SCRATCH/a") (cpu) vs $(cut -d' ' -f2 "$SCRATCH/b") (opencl)" ||
    fail "$name first step losses: $(cat "$SCRATCH/a") vs $(cat "$SCRATCH/b")"
}

parity gpt2 --layers 2 --channels 64 --heads 4
parity llama --model llama-tiny --layers 2 --channels 64 --heads 4 --kv-heads 2 --ffn 96
finish
