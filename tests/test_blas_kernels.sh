#!/bin/sh
# OpenBLAS kernel choice (tools/blas_kernels.c): where OpenBLAS falls back to a
# generic kernel set on a CPU that can do better, heft restarts itself with
# OPENBLAS_CORETYPE set and says so; a user's OPENBLAS_CORETYPE is left alone;
# the restarted process keeps its name. On a CPU that OpenBLAS recognises
# there is nothing to choose: checked that heft then leaves OpenBLAS alone.
. "${top_srcdir:-.}/tests/lib.sh"

out=$(env -u OPENBLAS_CORETYPE -u HEFT_OPENBLAS_FALLBACK "$HEFT" devices 2>&1 | grep '^cpu backend:')
case "$out" in
*"generic fallback"*)
  fail "heft runs OpenBLAS's generic kernels without choosing better ones: $out" ;;
*"chosen by heft over OpenBLAS's generic"*)
  pass "generic kernels replaced: $out"
  # a user's choice wins, and is reported as the fallback it is
  user=$(OPENBLAS_CORETYPE=Prescott "$HEFT" devices 2>&1 | grep '^cpu backend:')
  case "$user" in
  *"core Prescott (generic fallback"*) pass "OPENBLAS_CORETYPE=Prescott respected" ;;
  *) fail "OPENBLAS_CORETYPE=Prescott not respected: $user" ;;
  esac
  # the restarted process is still called heft (ps, top, pgrep)
  env -u OPENBLAS_CORETYPE "$HEFT" train --layers 1 --channels 16 --heads 2 --seq 16 \
      --batch 2 --steps 1000000 --val-every 0 --ckpt-every 0 --quiet --out "$SCRATCH/run" &
  job=$!
  i=0
  while [ ! -s "$SCRATCH/run/metrics.jsonl" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  name=$(cat "/proc/$job/comm" 2>/dev/null)
  kill $job 2>/dev/null; wait $job 2>/dev/null
  if [ "$name" = heft ] || [ "$name" = lt-heft ]; then pass "process name after the restart: $name"
  else fail "process name after the restart: '$name' (expected heft)"; fi ;;
*"OpenBLAS core"*)
  case "$out" in
  *"chosen by heft"*) fail "heft replaced kernels OpenBLAS had chosen itself: $out" ;;
  *) pass "OpenBLAS chose its kernels itself: $out" ;;
  esac ;;
*) fail "no cpu backend line from heft devices: $out" ;;
esac
finish
