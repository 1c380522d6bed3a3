# tests/lib.sh — helpers for heft's shell tests (sourced). The harness sets
# HEFT (the built program) and top_srcdir; each test gets a scratch directory.
set -u
: "${HEFT:?HEFT must name the heft program (set by make check)}"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/heft-test.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
FAILS=0
PASSES=0

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
pass() { echo "ok: $*"; PASSES=$((PASSES + 1)); }

# expect_error DESCRIPTION REGEX COMMAND...
# The command must exit non-zero without a signal (no crash), print exactly one
# line on stderr, and that line must match REGEX (case-insensitive).
expect_error() {
  desc=$1; pattern=$2; shift 2
  "$@" >"$SCRATCH/out" 2>"$SCRATCH/err"
  rc=$?
  lines=$(grep -c . "$SCRATCH/err")
  if [ "$rc" -eq 0 ]; then
    fail "$desc: exit 0 (expected an error)"
  elif [ "$rc" -ge 128 ]; then
    fail "$desc: killed by signal $((rc - 128)): $(head -c 300 "$SCRATCH/err")"
  elif [ "$lines" -ne 1 ]; then
    fail "$desc: $lines lines on stderr (expected one):"; sed 's/^/    /' "$SCRATCH/err"
  elif ! grep -qiE -- "$pattern" "$SCRATCH/err"; then
    fail "$desc: message does not match /$pattern/: $(cat "$SCRATCH/err")"
  else
    pass "$desc: $(cat "$SCRATCH/err")"
  fi
}

# train_losses METRICS_FILE: "step loss grad_norm" of every train line, the
# last occurrence of each step winning (a resumed run appends).
train_losses() {
  sed -n 's/.*"type":"train","step":\([0-9]*\),"loss":\([^,]*\),.*"grad_norm":\([^,]*\),.*/\1 \2 \3/p' "$1" |
    awk '{ v[$1] = $0 } END { for (s in v) print v[s] }' | sort -n
}

finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
}
