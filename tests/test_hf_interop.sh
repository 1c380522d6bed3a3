#!/bin/sh
# heft and Hugging Face transformers read each other's models (tests/hf_interop.py):
# heft's exports of a trained tiny GPT-2 and LLaMA give transformers' logits, and
# models made by transformers (float32, bfloat16, float16) give heft the same
# logits, directly and through --init-from. Skips (exit 77) where no Python with
# transformers, safetensors and torch is found: HEFT_PYTHON names one, else
# the source tree's .venv (scripts/install-deps.sh --with-hf), else python3.
. "${top_srcdir:-.}/tests/lib.sh"

PY=
for p in "${HEFT_PYTHON:-}" "${top_srcdir:-.}/.venv/bin/python3" python3; do
  [ -n "$p" ] || continue
  if command -v "$p" >/dev/null 2>&1 &&
     "$p" -c 'import transformers, safetensors, torch' >/dev/null 2>&1; then
    PY=$p
    break
  fi
done
if [ -z "$PY" ]; then
  echo "SKIP: no Python with transformers, safetensors and torch (set HEFT_PYTHON)"
  exit 77
fi
echo "using $PY (transformers $("$PY" -c 'import transformers; print(transformers.__version__)' 2>/dev/null))"
# torch's own threads: two tiny models do not need the whole machine
OMP_NUM_THREADS=1 "$PY" "${top_srcdir:-.}/tests/hf_interop.py" "$HEFT" "$SCRATCH"
