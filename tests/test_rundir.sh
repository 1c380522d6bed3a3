#!/bin/sh
# One run per run directory (issue 13, items 1 and 3): a second heft that
# wants a directory in use (a new run, --force, a second --resume) is refused
# with a message naming the holder; a lock left by a killed run is taken over;
# temporary files that interrupted writes left behind are removed.
. "${top_srcdir:-.}/tests/lib.sh"

TINY="--layers 1 --channels 16 --heads 2 --seq 16 --batch 2 --val-every 0 --threads 1 --quiet"
R="$SCRATCH/R"

# waits until run directory $1 has a train line in its metrics
wait_training() {
  i=0
  while ! grep -q '"type":"train"' "$1/metrics.jsonl" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.1
  done
}

json_ok() { # every line of $1 is one JSON object
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys
for n, l in enumerate(open(sys.argv[1]), 1):
    try: json.loads(l)
    except Exception as e: sys.exit("line %d: %s: %r" % (n, e, l[:80]))' "$1"
  else
    ! grep -v '^{.*}$' "$1"
  fi
}

# ---- two runs started together: exactly one of them writes R ----------------
"$HEFT" train $TINY --steps 30 --ckpt-every 10 --seed 1 --out "$SCRATCH/T" >/dev/null 2>"$SCRATCH/e1" &
p1=$!
"$HEFT" train $TINY --steps 30 --ckpt-every 10 --seed 2 --out "$SCRATCH/T" >/dev/null 2>"$SCRATCH/e2" &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
if { [ $r1 -eq 0 ] && [ $r2 -ne 0 ]; } || { [ $r1 -ne 0 ] && [ $r2 -eq 0 ]; }; then
  pass "two runs on one --out at once: one ran, the other stopped: $(cat "$SCRATCH/e1" "$SCRATCH/e2")"
else
  fail "two runs on one --out at once: exit codes $r1 and $r2: $(cat "$SCRATCH/e1" "$SCRATCH/e2")"
fi
json_ok "$SCRATCH/T/metrics.jsonl" && pass "its metrics.jsonl is whole JSON lines" ||
  fail "metrics.jsonl of the two runs is broken"

# ---- a run in progress refuses newcomers --------------------------------------
"$HEFT" train $TINY --steps 1000000 --ckpt-every 50 --seed 1 --out "$R" >/dev/null 2>&1 &
holder=$!
wait_training "$R" || fail "the first run did not start"
expect_error "a second run with the same --out" "run directory .*R is in use by heft pid $holder on host" \
  "$HEFT" train $TINY --steps 5 --seed 2 --out "$R"
expect_error "a new run with --force over a running one" "in use by heft pid $holder" \
  "$HEFT" train $TINY --steps 5 --out "$R" --force
i=0; while [ ! -f "$R/latest" ] && [ $i -lt 600 ]; do i=$((i + 1)); sleep 0.1; done
expect_error "--resume of a running run" "in use by heft pid $holder" \
  "$HEFT" train --resume "$R" --steps 5
grep -q "^pid $holder" "$R/heft.lock" && pass "heft.lock names the holder" || fail "heft.lock: $(cat "$R/heft.lock")"

# ---- killed: its lock is taken over, its temporary files removed ---------------
kill -9 $holder; wait $holder 2>/dev/null
# what a kill in the middle of writes leaves (pid 2^22+1 is above Linux's pid_max default;
# the kill itself may have left a fourth, if it hit a checkpoint write)
head -c 5000 /dev/urandom >"$R/ckpt_00009999.heft.tmp.4194305"
echo ckpt_00009999.heft >"$R/latest.tmp.4194305"
head -c 100 /dev/urandom >"$R/model.bin.tmp.4194305"
echo mine >"$R/notes.tmp.4194305"
step=$(sed -n 's/^ckpt_0*\([0-9]*\)\.heft$/\1/p' "$R/latest")
"$HEFT" train --resume "$R" --steps $((step + 100000)) --quiet >/dev/null 2>&1 &
resumer=$!
i=0; while ! grep -q '"type":"note"' "$R/metrics.jsonl" 2>/dev/null && [ $i -lt 600 ]; do
  i=$((i + 1)); sleep 0.1; done
if grep -q "pid $holder.*ended without releasing heft.lock.*taken over" "$R/metrics.jsonl"; then
  pass "a killed run's lock is taken over, with a note"
else
  fail "no note about the killed run's lock: $(grep note "$R/metrics.jsonl")"
fi
left=$(ls "$R" | grep -c '\.tmp\.4194305$')
[ "$left" -eq 1 ] && [ -f "$R/notes.tmp.4194305" ] &&
  grep -Eq "removed ([3-9]|[1-9][0-9]+) temporary files" "$R/metrics.jsonl" &&
  pass "the temporary files of interrupted writes are removed (other files kept)" ||
  fail "temporary files left: $(ls "$R" | grep tmp | tr '\n' ' ')"
expect_error "a second --resume at once" "in use by heft pid $resumer" \
  "$HEFT" train --resume "$R" --steps $((step + 100000))
kill -9 $resumer; wait $resumer 2>/dev/null
json_ok "$R/metrics.jsonl" && pass "metrics.jsonl is whole JSON lines" || fail "metrics.jsonl broken"

# ---- a finished run releases its directory -----------------------------------
"$HEFT" train $TINY --steps 3 --out "$SCRATCH/F" >/dev/null 2>&1 || fail "a short run"
[ ! -e "$SCRATCH/F/heft.lock" ] && pass "a finished run removes heft.lock" || fail "heft.lock left"
ls "$SCRATCH/F" | grep -q tmp && fail "temporary files left: $(ls "$SCRATCH/F")" ||
  pass "a finished run leaves no temporary file"
finish
