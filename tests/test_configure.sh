#!/bin/sh
# configure's output is clean: autoconf's clean-up after each test program
# (`rm -f core conftest.err ...`) met heft's top-level core/ folder and
# printed "rm: cannot remove 'core': Is a directory" 31 times in-tree (once in
# a build tree, from the exit trap, which then also left confdefs.h behind).
# Runs configure in a scratch build tree that already has a core/ folder, as
# every build tree does after its first configure.
. "${top_srcdir:-.}/tests/lib.sh"

if [ -f "$top_srcdir/config.status" ]; then
  # configured in-tree: configure refuses another build tree, so check what
  # that configure left
  [ -e "$top_srcdir/confdefs.h" ] && fail "configure left confdefs.h in $top_srcdir" ||
    pass "in-tree configure left no confdefs.h"
  finish
  exit $?
fi
mkdir -p "$SCRATCH/build/core"
(cd "$SCRATCH/build" && "$top_srcdir/configure" --without-opencl --without-mpi \
  >"$SCRATCH/out" 2>"$SCRATCH/err")
rc=$?
if [ $rc -ne 0 ]; then
  fail "configure failed ($rc): $(tail -3 "$SCRATCH/err")"
elif [ -s "$SCRATCH/err" ]; then
  fail "configure wrote $(grep -c . "$SCRATCH/err") line(s) on stderr: $(sort "$SCRATCH/err" | uniq -c | head -3)"
else
  pass "configure wrote nothing on stderr"
fi
[ -e "$SCRATCH/build/confdefs.h" ] && fail "configure left confdefs.h behind" ||
  pass "configure removed its confdefs.h"
[ -d "$SCRATCH/build/core" ] && pass "the core/ folder is kept" || fail "core/ was removed"
finish
