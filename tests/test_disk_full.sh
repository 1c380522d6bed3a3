#!/bin/sh
# Writes that fail (issue 13, item 6): the disk filling up in the middle of a
# run (simulated with a file-size limit, prlimit --fsize, which fails writes
# with EFBIG the way a full disk fails them with ENOSPC) stops the run at once
# with a message naming the file, before the next checkpoint: metrics.jsonl
# stays whole JSON lines, the last checkpoint is intact and resumes, no model
# is exported. A metrics file on a full device (/dev/full) stops the start.
. "${top_srcdir:-.}/tests/lib.sh"

TINY="--layers 1 --channels 16 --heads 2 --seq 16 --batch 2 --val-every 0 --threads 1 --quiet"

json_ok() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys
for n, l in enumerate(open(sys.argv[1]), 1):
    try: json.loads(l)
    except Exception as e: sys.exit("line %d: %s: %r" % (n, e, l[:80]))' "$1"
  else
    ! grep -v '^{.*}$' "$1"
  fi
}

if ! command -v prlimit >/dev/null 2>&1; then
  echo "SKIP: prlimit (util-linux) not found"
  exit 77
fi

"$HEFT" train $TINY --steps 2 --out "$SCRATCH/size" >/dev/null 2>&1 || fail "a short run"
ckpt=$(wc -c <"$SCRATCH/size/ckpt_00000002.heft")
# checkpoints fit under the limit; metrics.jsonl (about 600 bytes a step) outgrows it
limit=$((ckpt + 60000))
expect_error "metrics write fails in mid-run" \
  "writing metrics file .*/R/metrics.jsonl: File too large; stopped after step [0-9]+, before its checkpoint: .*ckpt_[0-9]+.heft is intact" \
  prlimit --fsize=$limit "$HEFT" train $TINY --steps 100000 --ckpt-every 10 --out "$SCRATCH/R"
json_ok "$SCRATCH/R/metrics.jsonl" && pass "metrics.jsonl is whole JSON lines" ||
  fail "metrics.jsonl was left with a broken line"
[ -e "$SCRATCH/R/model.bin" ] && fail "a model was exported" || pass "no model exported"
ls "$SCRATCH/R" | grep -q tmp && fail "temporary files left: $(ls "$SCRATCH/R")" ||
  pass "no temporary file left"
step=$(sed -n 's/^ckpt_0*\([0-9]*\)\.heft$/\1/p' "$SCRATCH/R/latest")
if "$HEFT" train --resume "$SCRATCH/R" --steps $((step + 5)) --quiet >/dev/null 2>"$SCRATCH/err" &&
   [ -f "$SCRATCH/R/model.bin" ] && json_ok "$SCRATCH/R/metrics.jsonl"; then
  pass "the last checkpoint (step $step) resumes once there is room"
else
  fail "resume after the failed write: $(cat "$SCRATCH/err")"
fi

# a metrics file on a full device: refused at the first line
mkdir -p "$SCRATCH/F" && ln -s /dev/full "$SCRATCH/F/metrics.jsonl"
expect_error "metrics on a full device" \
  "writing metrics file .*/F/metrics.jsonl: No space left on device; stopped after step 0, before any checkpoint" \
  "$HEFT" train $TINY --steps 5 --out "$SCRATCH/F"

# a run killed in the middle of a metrics line: the resumed run drops the part
"$HEFT" train $TINY --steps 6 --stop-after 3 --out "$SCRATCH/P" >/dev/null 2>&1 || fail "a run to cut"
printf '{"type":"train","step":3,"lo' >>"$SCRATCH/P/metrics.jsonl"
"$HEFT" train --resume "$SCRATCH/P" --quiet >/dev/null 2>"$SCRATCH/err" || fail "resume: $(cat "$SCRATCH/err")"
json_ok "$SCRATCH/P/metrics.jsonl" && grep -q 'part of a line.*28 bytes dropped' "$SCRATCH/P/metrics.jsonl" &&
  pass "a partial metrics line is dropped on resume, with a note" ||
  fail "partial metrics line: $(tail -c 300 "$SCRATCH/P/metrics.jsonl")"
finish
