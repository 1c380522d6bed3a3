#!/bin/sh
# The convergence benchmark's quick form, for make check: the whole pipeline
# (corpus recipe -> heft prepare -> bench/convergence.py runs -> report) on a
# tiny corpus with three arms, one seed and a few steps of a very small model,
# in well under a minute. It checks that the pieces fit, not the results:
# the full benchmark runs by hand (docs/RESULTS.md, "Convergence on real text").
# Run from the build directory (make check does); exit 77 = skipped.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
heft=${HEFT:-./heft}
if [ -x /usr/bin/python3 ]; then py=/usr/bin/python3
elif command -v python3 >/dev/null 2>&1; then py=python3
else echo "convergence_quick: no python3; skipped"; exit 77; fi
[ -x "$heft" ] || { echo "convergence_quick: $heft not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/heft_conv_quick.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Text sources are Debian packages that a build machine may lack: use what
# is there (C headers and Python sources are on any machine that builds heft
# and has python3), skip if fewer than two real domains exist.
rc=0
"$py" "$src/scripts/corpus/make_corpus.py" --out "$tmp/corpus" --heft "$heft" \
    --domain-bytes 12000 --val-fraction 0.1 --dup-passages 4 --dup-len 256 \
    --allow-missing --mixes noisy >"$tmp/corpus.log" 2>&1 || rc=$?
if [ "$rc" -eq 3 ]; then
    cat "$tmp/corpus.log"; echo "convergence_quick: not enough text sources; skipped"; exit 77
fi
[ "$rc" -eq 0 ] || { cat "$tmp/corpus.log"; exit 1; }

"$py" "$src/bench/convergence.py" run --corpus "$tmp/corpus" --mix noisy --heft "$heft" \
    --results "$tmp/res" --arms uniform,linupper,robust --seeds 1 --steps 16 --rw-warmup 4 \
    --batch 8 --seq 64 --val-every 8 --val-batches 1 --threads 2 \
    -- --layers 1 --channels 32 --heads 2 >"$tmp/run.log" 2>&1 \
    || { cat "$tmp/run.log"; exit 1; }
# a second call finds every run finished and trains nothing
"$py" "$src/bench/convergence.py" run --corpus "$tmp/corpus" --mix noisy --heft "$heft" \
    --results "$tmp/res" --arms uniform,linupper,robust --seeds 1 --steps 16 --rw-warmup 4 \
    --batch 8 --seq 64 --val-every 8 --val-batches 1 --threads 2 \
    -- --layers 1 --channels 32 --heads 2 >"$tmp/run2.log" 2>&1
grep -q "robust seed 1: done before, skipped" "$tmp/run2.log" \
    || { cat "$tmp/run2.log"; echo "convergence_quick: finished runs were not skipped"; exit 1; }

"$py" "$src/bench/convergence_report.py" "$tmp/res" --mixes noisy --md "$tmp/tables.md" \
    --jsonl "$tmp/summary.jsonl" --plots "$tmp/img" >"$tmp/report.log" 2>&1 \
    || { cat "$tmp/report.log"; exit 1; }

# What the report must hold: one row per arm in each table, per-arm records,
# validation only on the real domains, weights for the synthetic ones too.
"$py" - "$tmp" <<'EOF'
import json, os, sys
tmp = sys.argv[1]
md = open(os.path.join(tmp, "tables.md")).read()
for arm in ("uniform", "linupper", "robust"):
    assert md.count("| %s |" % arm) == 3, "arm %s: not in all three tables\n%s" % (arm, md)
recs = [json.loads(l) for l in open(os.path.join(tmp, "summary.jsonl"))]
arms = {r["arm"]: r for r in recs if r["type"] == "arm"}
assert sorted(arms) == ["linupper", "robust", "uniform"], sorted(arms)
u = arms["uniform"]
assert u["delta_mean"] == 0 and u["reached"] == 1 and abs(u["speedup_mean"]) < 1e-12, u
for r in arms.values():
    assert "noise" not in r["domains_final"] and "dup" not in r["domains_final"], r
    assert len(r["domains_final"]) >= 2, r
    assert "noise" in r["weights"] and "dup" in r["weights"], r
runs = [r for r in recs if r["type"] == "run"]
assert len(runs) == 3 and all(r["final_step"] == 16 for r in runs), runs
assert all(r["rw_start"] == 4 for r in runs if r["arm"] != "uniform"), runs
EOF
if "$py" -c "import matplotlib" 2>/dev/null; then
    for p in loss domains weights wvl; do
        [ -s "$tmp/img/conv_noisy_$p.png" ] || { echo "convergence_quick: no $p plot"; exit 1; }
    done
fi
# the same benchmark drives a LLaMA model unchanged (--model llama-tiny)
"$py" "$src/bench/convergence.py" run --corpus "$tmp/corpus" --mix noisy --heft "$heft" \
    --results "$tmp/res_llama" --model llama-tiny --arms uniform,linupper --seeds 1 --steps 8 \
    --rw-warmup 2 --batch 8 --seq 64 --val-every 4 --val-batches 1 --threads 2 \
    >"$tmp/llama.log" 2>&1 || { cat "$tmp/llama.log"; exit 1; }
grep -q '"model":"llama"' "$tmp"/res_llama/*/*/*/metrics.jsonl 2>/dev/null ||
    grep -rqs '"model":"llama"' "$tmp/res_llama" ||
    { cat "$tmp/llama.log"; echo "convergence_quick: the llama-tiny runs did not train a LLaMA"; exit 1; }
echo "convergence_quick: pipeline ok"
