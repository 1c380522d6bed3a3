#!/bin/sh
# tests/fuzz/run.sh — builds heft's libFuzzer targets with clang and runs
# each, one after another, for a given time or number of inputs, from seeds
# heft's own writers make (make_seeds) plus the corpus of earlier runs.
#
#   tests/fuzz/run.sh [--seconds S | --runs N] [--out DIR] [--nice] [TARGET...]
#
# Targets: shard manifest model_file checkpoint config weights safetensors
# tokenizer (default: all).
# DIR (default ./fuzz-out) holds the build, corpus/<target>/ and crashes/.
# Prints one line per target: inputs run, seconds, inputs/s, corpus size;
# exits 1 if any target found a crash, leak or sanitizer report (the input is
# in DIR/crashes/), 77 when clang cannot build fuzz targets.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUT=./fuzz-out
SECONDS_EACH=
RUNS=
NICE=
TARGETS=
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --nice) NICE="nice -n 19"; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) TARGETS="$TARGETS $1"; shift ;;
  esac
done
[ -n "$TARGETS" ] || TARGETS="shard manifest model_file checkpoint config weights safetensors tokenizer"
[ -n "$SECONDS_EACH$RUNS" ] || SECONDS_EACH=10
CLANG=${CLANG:-clang}

probe=$(mktemp -d "${TMPDIR:-/tmp}/heft-fuzz-probe.XXXXXX")
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
  >"$probe/p.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" >/dev/null 2>&1; then
  rm -rf "$probe"
  echo "SKIP: $CLANG cannot build libFuzzer targets (Debian: apt-get install clang)"
  exit 77
fi
rm -rf "$probe"

mkdir -p "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
if ! make -s -f "$SRC/tests/fuzz/Makefile" SRC="$SRC" OUT="$OUT" CLANG="$CLANG" \
     -j"${FUZZ_JOBS:-2}" >"$OUT/build.log" 2>&1; then
  echo "FAIL: building the fuzz targets:"; tail -20 "$OUT/build.log"
  exit 1
fi
"$OUT/make_seeds" "$OUT/seeds" || exit 1
mkdir -p "$OUT/crashes"

# leaks are findings; inputs past 64 KiB say nothing a smaller one would not
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
status=0
printf '%-12s %12s %8s %10s %8s\n' target inputs seconds inputs/s corpus
for t in $TARGETS; do
  bin="$OUT/fuzz_$t"
  [ -x "$bin" ] || { echo "FAIL: no target '$t'"; status=1; continue; }
  mkdir -p "$OUT/corpus/$t"
  limit=${RUNS:+-runs=$RUNS}
  limit=${limit:--max_total_time=$SECONDS_EACH}
  start=$(date +%s)
  $NICE "$bin" $limit -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -close_fd_mask=2 \
    -artifact_prefix="$OUT/crashes/$t-" "$OUT/corpus/$t" "$OUT/seeds/$t" >"$OUT/$t.log" 2>&1
  rc=$?
  took=$(($(date +%s) - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.log" | tail -1)
  corpus=$(ls "$OUT/corpus/$t" | wc -l)
  if [ $rc -ne 0 ]; then
    echo "FAIL: fuzz_$t exit $rc after ${runs:-?} inputs; see $OUT/$t.log:"
    grep -E "ERROR|SUMMARY|runtime error|==[0-9]+==" "$OUT/$t.log" | head -5
    status=1
  else
    rate=$(( ${runs:-0} / (took > 0 ? took : 1) ))
    printf '%-12s %12s %8s %10s %8s\n' "$t" "${runs:-?}" "$took" "$rate" "$corpus"
  fi
done
exit $status
