"""tests/hf_interop.py — heft and Hugging Face transformers read each other's models.

Run by tests/test_hf_interop.sh:  python3 hf_interop.py HEFT SCRATCH_DIR

Out (heft -> transformers): heft trains a tiny GPT-2 and a tiny LLaMA (grouped-query
attention) a few steps on its built-in data and exports each with
`heft export --format hf`; transformers loads the directories as GPT2LMHeadModel and
LlamaForCausalLM (float32), and their logits on a batch of two byte sequences must
equal heft's within 1e-4 relative (max |heft - hf| / max |hf|). heft's logits come
from `heft sample --dump-logits`, once through the training forward (--no-kv-cache)
and once through the KV-cache decoder.

In (transformers -> heft): transformers makes a GPT-2 and a LLaMA (tied head, GQA,
eps 1e-6, theta 500000: LlamaConfig's non-heft defaults) from a seed and saves them
with save_pretrained(safe_serialization=True); heft reads the directory directly
(heft sample) and through `heft train --init-from DIR` (one step at lr 1e-12, then
exported again), and its logits must equal transformers'. The LLaMA is also saved in
bfloat16 and float16, which heft converts to float32 exactly as torch does.

With a BPE tokenizer (the whole path a user walks): heft trains a tokenizer, prepares
text with it, trains a LLaMA and exports it; the export carries tokenizer.json, which
transformers loads (PreTrainedTokenizerFast); heft's logits on the prompt transformers
encodes equal transformers', heft's greedy tokens equal transformers' greedy tokens,
and the text heft sample prints is the prompt plus what transformers decodes them to.
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig,
                          LlamaForCausalLM, PreTrainedTokenizerFast)

TOL = 1e-4
HEFT, SCRATCH = sys.argv[1], sys.argv[2]
TEXTS = [b"12+34=46. The cat sat on the mat; int main(void) { return 0; }",
         b"Pack my box with five dozen liquor jugs! 7*8=56\n\tif (x) y++;"]
EOT = 256
failures = []


def run(*args, raw=False):
    r = subprocess.run([HEFT, *args], capture_output=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: heft {' '.join(args)} exited {r.returncode}:\n"
                 f"{r.stderr.decode(errors='replace')}")
    return r.stdout if raw else r.stdout.decode(errors="replace")


def batch():
    """Two rows of the same length: EOT then the text's bytes."""
    n = min(len(t) for t in TEXTS)
    return [[EOT] + list(t[:n]) for t in TEXTS]


def heft_logits(src, rows, vocab, kv):
    out = []
    for i, row in enumerate(rows):
        path = os.path.join(SCRATCH, f"logits_{os.path.basename(src)}_{i}_{kv}.bin")
        args = ["sample", src, "--prompt-ids", ",".join(map(str, row)), "--dump-logits", path,
                "--threads", "1"]
        if not kv:
            args.append("--no-kv-cache")
        run(*args)
        out.append(np.fromfile(path, dtype=np.float32).reshape(len(row), vocab))
    return np.stack(out)


def hf_logits(model, rows):
    with torch.no_grad():
        return model(torch.tensor(rows)).logits.double().numpy()


def compare(what, heft, hf):
    rel = float(np.abs(heft.astype(np.float64) - hf).max() / np.abs(hf).max())
    ok = rel <= TOL
    print(f"{'ok' if ok else 'FAIL'}: {what}: max |heft - hf| / max |hf| = {rel:.3e} "
          f"(tolerance {TOL:g}; logits up to {np.abs(hf).max():.2f})")
    if not ok:
        failures.append(what)


def check_export(name, train_args, cls):
    run_dir, hf_dir = os.path.join(SCRATCH, name), os.path.join(SCRATCH, name + "_hf")
    run("train", *train_args, "--steps", "6", "--batch", "4", "--seq", "64", "--val-every", "0",
        "--threads", "1", "--quiet", "--out", run_dir)
    run("export", "--format", "hf", run_dir, hf_dir)
    model = cls.from_pretrained(hf_dir, torch_dtype=torch.float32).eval()
    if type(model) is not cls:
        failures.append(f"{name}: loaded as {type(model).__name__}")
    rows = batch()
    want = hf_logits(model, rows)
    vocab = model.config.vocab_size
    compare(f"{name}: heft's export in transformers ({cls.__name__}) vs heft's training "
            "forward", heft_logits(run_dir, rows, vocab, kv=False), want)
    compare(f"{name}: the same vs heft's KV-cache decoder",
            heft_logits(run_dir, rows, vocab, kv=True), want)


def check_import(name, model, extra_dtypes=()):
    torch.manual_seed(0)
    hf_dir = os.path.join(SCRATCH, name)
    model.eval().save_pretrained(hf_dir, safe_serialization=True)
    rows = batch()
    want = hf_logits(model, rows)
    vocab = model.config.vocab_size
    compare(f"{name}: made by transformers, read by heft (heft sample)",
            heft_logits(hf_dir, rows, vocab, kv=False), want)
    # --init-from: one step at lr 1e-12 moves no weight by more than ~1e-12
    run_dir = os.path.join(SCRATCH, name + "_run")
    run("train", "--init-from", hf_dir, "--steps", "1", "--lr", "1e-12", "--warmup", "0",
        "--batch", "2", "--seq", "32", "--val-every", "0", "--threads", "1", "--quiet",
        "--out", run_dir)
    compare(f"{name}: heft train --init-from (1 step at lr 1e-12), KV-cache decoder",
            heft_logits(run_dir, rows, vocab, kv=True), want)
    for dtype in extra_dtypes:
        low_dir = os.path.join(SCRATCH, f"{name}_{dtype}")
        low = model.to(getattr(torch, dtype))
        low.save_pretrained(low_dir, safe_serialization=True)
        model.to(torch.float32)
        with open(os.path.join(low_dir, "model.safetensors"), "rb") as f:
            header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        stored = {v["dtype"] for k, v in header.items() if k != "__metadata__"}
        back = type(model).from_pretrained(low_dir, torch_dtype=torch.float32).eval()
        compare(f"{name}: saved in {dtype} (dtypes {sorted(stored)}), converted by heft",
                heft_logits(low_dir, rows, vocab, kv=False), hf_logits(back, rows))


def check_bpe():
    corpus = os.path.join(SCRATCH, "corpus.txt")
    with open(corpus, "w") as f:
        for i in range(300):
            f.write(f"The model {i % 7} reads the data; the tokenizer splits words. "
                    f"Numbers like {i * 37} and code: x[{i}] = y + {i % 5};\n")
    tok_json, data = os.path.join(SCRATCH, "tok.json"), os.path.join(SCRATCH, "bpe_data")
    run_dir, hf_dir = os.path.join(SCRATCH, "bpe_run"), os.path.join(SCRATCH, "bpe_hf")
    r = subprocess.run([HEFT, "tokenizer", "train", "--vocab-size", "400", "--input", corpus,
                        "--output", tok_json, "--threads", "1"], capture_output=True)
    if r.returncode != 0 and b"built without" in r.stderr:
        print("skip: bpe: this heft was built without BPE tokenizers (jansson + PCRE2)")
        return
    if r.returncode != 0:
        sys.exit(f"FAIL: heft tokenizer train: {r.stderr.decode(errors='replace')}")
    run("prepare", "--input", "t=" + corpus, "--tokenizer", tok_json, "--out", data,
        "--threads", "1")
    run("train", "--model", "llama-tiny", "--data", data, "--steps", "6", "--batch", "4",
        "--seq", "64", "--val-every", "0", "--threads", "1", "--quiet", "--out", run_dir)
    run("export", "--format", "hf", run_dir, hf_dir)
    if not os.path.exists(os.path.join(hf_dir, "tokenizer.json")):
        failures.append("bpe: the export has no tokenizer.json")
        return
    tok = PreTrainedTokenizerFast(tokenizer_file=os.path.join(hf_dir, "tokenizer.json"))
    model = LlamaForCausalLM.from_pretrained(hf_dir, torch_dtype=torch.float32).eval()
    eos = model.config.eos_token_id
    prompt = "The model reads x[3] = "
    ids = [eos] + tok.encode(prompt)
    compare("bpe: heft's LLaMA on its own BPE data, export (V=%d) vs heft's KV cache"
            % model.config.vocab_size,
            heft_logits(run_dir, [ids], model.config.vocab_size, kv=True), hf_logits(model, [ids]))
    # greedy decoding, both sides
    new = 12
    got = [int(x) for x in run("sample", run_dir, "--prompt", prompt, "--temperature", "0",
                               "--max-tokens", str(new), "--ignore-eot", "--print-ids",
                               "--threads", "1").split()]
    seq = list(ids)
    with torch.no_grad():
        for _ in range(new):
            seq.append(int(model(torch.tensor([seq])).logits[0, -1].argmax()))
    want = seq[len(ids):]
    ok = got == want
    print(f"{'ok' if ok else 'FAIL'}: bpe: heft's greedy tokens {got} "
          f"{'==' if ok else '!='} transformers' {want}")
    if not ok:
        failures.append("bpe greedy tokens")
    text = run("sample", run_dir, "--prompt", prompt, "--temperature", "0", "--max-tokens",
               str(new), "--ignore-eot", "--threads", "1", raw=True)
    # heft prints the bytes as the model made them; transformers' decode puts U+FFFD
    # where they are not UTF-8, so compare the same way
    got_text = text.decode("utf-8", errors="replace")
    want_text = prompt + tok.decode(want) + "\n"
    ok = got_text == want_text
    print(f"{'ok' if ok else 'FAIL'}: bpe: heft sample prints {got_text!r}, transformers "
          f"decodes {want_text!r}")
    if not ok:
        failures.append("bpe text")


def main():
    torch.manual_seed(1234)
    check_export("gpt2_tiny", ["--model", "tiny", "--layers", "2", "--channels", "64"],
                 GPT2LMHeadModel)
    check_export("llama_gqa", ["--model", "llama-tiny", "--kv-heads", "2"], LlamaForCausalLM)

    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=257, n_positions=128, n_embd=64, n_layer=2,
                                      n_head=4, bos_token_id=EOT, eos_token_id=EOT))
    check_import("hf_gpt2", gpt2)
    llama = LlamaForCausalLM(LlamaConfig(vocab_size=257, hidden_size=48, intermediate_size=96,
                                         num_hidden_layers=2, num_attention_heads=4,
                                         num_key_value_heads=2, max_position_embeddings=128,
                                         rope_theta=500000.0, tie_word_embeddings=True,
                                         bos_token_id=EOT, eos_token_id=EOT))
    check_import("hf_llama", llama, extra_dtypes=("bfloat16", "float16"))
    check_bpe()
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {failures}")
    print("all checks passed")


if __name__ == "__main__":
    main()
