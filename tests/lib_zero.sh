# tests/lib_zero.sh — what the ZeRO shell tests share (sourced after
# tests/lib.sh): the comparers, MPI's launcher (MPIEXEC, "" without MPI), and
# train NAME W FLAGS..., which runs heft train with the test's $RUN on W ranks
# x GLOBAL/W rows into $SCRATCH/NAME (trace NAME.trace, log NAME.log).
TRACECMP=${TRACECMP:-./tests/test_mpi_tracecmp}
MODELCMP=${MODELCMP:-./tests/test_modelcmp}
export OMP_NUM_THREADS=1
if ldd "$HEFT" 2>/dev/null | grep -q libasan; then # see tests/test_mpi.sh
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
fi

MPIEXEC=""
if "$HEFT" --version | grep -q "MPI: yes"; then
  for m in mpiexec.hydra mpiexec mpirun; do
    [ -z "$MPIEXEC" ] && command -v "$m" >/dev/null 2>&1 && MPIEXEC=$m
  done
fi

GPT2="--layers 2 --channels 32 --heads 2 --reweight uniform"
LLAMA="--model llama-tiny --reweight linupper --r 0.4"
GLOBAL=6 # rows per step over all ranks

# train NAME W FLAGS...: W ranks x GLOBAL/W rows (sets name and w)
train() {
  name=$1 w=$2
  shift 2
  launch=""
  [ "$w" -gt 1 ] && launch="$MPIEXEC -n $w"
  # shellcheck disable=SC2086
  $launch "$HEFT" train $RUN --batch $((GLOBAL / w)) --out "$SCRATCH/$name" \
    --trace "$SCRATCH/$name.trace" "$@" >"$SCRATCH/$name.log" 2>&1 ||
    { fail "$name: heft train on $w rank(s): $(tail -n 2 "$SCRATCH/$name.log")"; return 1; }
}
