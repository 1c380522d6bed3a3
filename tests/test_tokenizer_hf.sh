#!/bin/sh
# heft's tokenizers against Hugging Face `tokenizers` (tests/tokenizer_hf.py).
# The Python with `tokenizers` (and `transformers`) is $HEFT_PYTHON, else
# python3; without the package the test skips (exit 77) and says so.
: "${HEFT:?HEFT must name the heft program (set by make check)}"
py=${HEFT_PYTHON:-python3}
if ! "$HEFT" tokenizer encode --tokenizer /nonexistent.json </dev/null 2>&1 | grep -q "No such file"; then
  echo "heft built without BPE tokenizers: skipped"; exit 77
fi
if ! "$py" -c "import tokenizers" 2>/dev/null; then
  echo "no 'tokenizers' for $py (set HEFT_PYTHON to a Python that has it): skipped"; exit 77
fi
exec "$py" "${top_srcdir:-.}/tests/tokenizer_hf.py"
