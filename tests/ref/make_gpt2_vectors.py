#!/usr/bin/python3
"""Make the PyTorch reference vectors for heft's GPT-2 (tests/ref/).

Run from anywhere with Debian's python3 (it has torch):
    /usr/bin/python3 tests/ref/make_gpt2_vectors.py
It rewrites, byte for byte identically on every run,
    tests/ref/gpt2_tiny_model.bin    the weights, llm.c model-file format
    tests/ref/gpt2_tiny_vectors.bin  inputs and expected results (format below)

Precision: the weights are drawn in float32 (so the model file holds them
exactly) and everything is then computed in float64 inside torch, from those
float32 values. The stored float32 results therefore differ from the exact
answer for the float32 weights by one float32 rounding (~6e-8 relative) and
nothing else, which is far below the tolerances the C tests use (1e-4 for
logits/losses, 1e-3 for gradients), and lets the float64 C reference be checked
tightly. AdamW hyper-parameters are float32-representable values, so a C
optimizer that receives them as float sees exactly what torch used.

Vectors format (little-endian; read by tests/ref/vectors.c):
    char  magic[8] = "HEFTVEC1"
    int32 num_records
    num_records times:
        int32 name_len (1..63), char name[name_len] (no NUL)
        int32 dtype (1 = float32, 2 = int32)
        int32 ndims (0..8; 0 = scalar, one element), int32 dims[ndims] (>= 1)
        prod(dims) 4-byte elements, row-major
    end of file right after the last record.

The model: token + position embeddings; L pre-LN blocks
x += attproj(causal_MHA(LN1(x))); x += fcproj(GELU_tanh(fc(LN2(x)))); final LN;
logits = LNf(x) @ wte^T over Vp padded rows (rows V..Vp-1 of wte are zero).
Per-token cross-entropy over the first V logits, target -1 ignored; per-sample
loss l_i = mean over row i's kept targets; objective sum_i w_i l_i.
"""

import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

# Deliberately odd sizes: head size 8, V not a multiple of anything useful.
MAXT, V, VP, L, NH, C = 12, 61, 64, 2, 3, 24
B, T = 3, 9
SEED = 20240326

# AdamW run: float32-representable hyper-parameters (see the docstring).
def f32(x):
    return float(np.float32(x))

LR, BETA1, BETA2, EPS, WD, MAX_NORM = f32(1e-3), f32(0.9), f32(0.95), f32(1e-8), f32(0.1), f32(1.0)
STEPS = 10

# Non-uniform per-sample weights (sum 1, exact in float32).
WEIGHTS = [0.5, 0.125, 0.375]

# (name, shape, decays) in llm.c order; decays = AdamW weight decay applies.
TENSORS = [
    ("wte", (VP, C), True), ("wpe", (MAXT, C), True),
    ("ln1w", (L, C), False), ("ln1b", (L, C), False),
    ("qkvw", (L, 3 * C, C), True), ("qkvb", (L, 3 * C), False),
    ("attprojw", (L, C, C), True), ("attprojb", (L, C), False),
    ("ln2w", (L, C), False), ("ln2b", (L, C), False),
    ("fcw", (L, 4 * C, C), True), ("fcb", (L, 4 * C), False),
    ("fcprojw", (L, C, 4 * C), True), ("fcprojb", (L, C), False),
    ("lnfw", (C,), False), ("lnfb", (C,), False),
]


def make_params(gen):
    """float32 weights, large enough that attention, GELU and softmax are far
    from their near-linear regime (GPT-2's std 0.02 would hide bugs)."""
    def randn(shape, std, mean=0.0):
        return torch.randn(shape, generator=gen, dtype=torch.float32) * std + mean
    std = {"wte": 0.3, "wpe": 0.3, "qkvw": 0.2, "attprojw": 0.2, "fcw": 0.2,
           "fcprojw": 0.1}
    params = {}
    for name, shape, _ in TENSORS:
        if name in std:
            p = randn(shape, std[name])
        elif name.startswith("ln") and name.endswith("w"):
            p = randn(shape, 0.1, 1.0)
        else:  # biases and layer-norm shifts
            p = randn(shape, 0.1)
        params[name] = p
    params["wte"][V:] = 0.0  # padding rows of the tied head stay zero
    return params


def make_batch(gen):
    tokens = torch.randint(0, V, (B, T + 1), generator=gen, dtype=torch.int64)
    inputs = tokens[:, :T].clone()
    targets = tokens[:, 1:].clone()
    targets[1, 2] = -1   # row 1: two scattered ignored targets
    targets[1, 7] = -1
    targets[2, :4] = -1  # row 2: an ignored prefix (like a masked prompt)
    return inputs, targets


def forward(p, inputs):
    """Logits (B, T, Vp) in float64 from the float64 parameter dict p."""
    hs = C // NH
    x = p["wte"][inputs] + p["wpe"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for l in range(L):
        h = F.layer_norm(x, (C,), p["ln1w"][l], p["ln1b"][l], eps=1e-5)
        qkv = h @ p["qkvw"][l].T + p["qkvb"][l]
        q, k, v = qkv.split(C, dim=-1)
        q = q.view(B, T, NH, hs).transpose(1, 2)
        k = k.view(B, T, NH, hs).transpose(1, 2)
        v = v.view(B, T, NH, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / (hs ** 0.5)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ p["attprojw"][l].T + p["attprojb"][l]
        h = F.layer_norm(x, (C,), p["ln2w"][l], p["ln2b"][l], eps=1e-5)
        h = F.gelu(h @ p["fcw"][l].T + p["fcb"][l], approximate="tanh")
        x = x + h @ p["fcprojw"][l].T + p["fcprojb"][l]
    x = F.layer_norm(x, (C,), p["lnfw"], p["lnfb"], eps=1e-5)
    return x @ p["wte"].T


def losses(logits, targets):
    """Per-token losses (B, T) (0 where ignored), per-sample losses (B),
    kept-target counts (B)."""
    tok = F.cross_entropy(logits[..., :V].reshape(B * T, V), targets.reshape(B * T),
                          ignore_index=-1, reduction="none").view(B, T)
    n = (targets >= 0).sum(dim=1)
    per_sample = tok.sum(dim=1) / n.clamp(min=1).to(torch.float64)
    return tok, per_sample, n


def flat_grad(p):
    return torch.cat([p[name].grad.reshape(-1) for name, _, _ in TENSORS])


def leaf_params(params32):
    return {name: params32[name].to(torch.float64).requires_grad_(True)
            for name, _, _ in TENSORS}


class Records:
    DTYPES = {np.float32: 1, np.int32: 2}

    def __init__(self):
        self.items = []

    def add(self, name, array, dtype):
        a = np.ascontiguousarray(np.asarray(array), dtype=dtype)
        self.items.append((name, a))

    def write(self, path):
        out = [b"HEFTVEC1", struct.pack("<i", len(self.items))]
        for name, a in self.items:
            nb = name.encode("ascii")
            assert 1 <= len(nb) <= 63
            out.append(struct.pack("<i", len(nb)) + nb)
            out.append(struct.pack("<ii", self.DTYPES[a.dtype.type], a.ndim))
            out.append(struct.pack("<%di" % a.ndim, *a.shape))
            out.append(a.astype(a.dtype.newbyteorder("<")).tobytes())
        write_bytes(path, b"".join(out))


def write_bytes(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def write_model(path, params32):
    header = np.zeros(256, dtype="<i4")
    header[:8] = [20240326, 3, MAXT, V, L, NH, C, VP]
    body = b"".join(params32[name].numpy().astype("<f4").tobytes() for name, _, _ in TENSORS)
    write_bytes(path, header.tobytes() + body)


def main():
    torch.set_num_threads(1)  # fixed reduction order: same bytes on every run
    gen = torch.Generator().manual_seed(SEED)
    params32 = make_params(gen)
    inputs, targets = make_batch(gen)
    rec = Records()
    rec.add("config", [MAXT, V, VP, L, NH, C, B, T], np.int32)
    rec.add("inputs", inputs, np.int32)
    rec.add("targets", targets, np.int32)

    # Forward, and the gradients of the uniform and the weighted objective.
    weights = torch.tensor(WEIGHTS, dtype=torch.float64)
    for tag, w in (("uniform", torch.full((B,), 1.0 / B, dtype=torch.float64)),
                   ("weighted", weights)):
        p = leaf_params(params32)
        logits = forward(p, inputs)
        tok, per_sample, n = losses(logits, targets)
        loss = (w * per_sample).sum()
        loss.backward()
        if tag == "uniform":
            pad = logits[..., V:]
            assert torch.all(pad == 0), "padded logits must be exactly zero"
            rec.add("logits", logits.detach().numpy(), np.float32)
            rec.add("token_losses", tok.detach().numpy(), np.float32)
            rec.add("sample_losses", per_sample.detach().numpy(), np.float32)
            rec.add("token_counts", n.numpy(), np.int32)
        else:
            rec.add("weights", weights.numpy(), np.float32)
        rec.add(tag + "_loss", np.float32(loss.item()), np.float32)
        rec.add(tag + "_grad", flat_grad(p).numpy(), np.float32)

    # AdamW with clipping, uniform weights, the same batch every step.
    p = leaf_params(params32)
    decay = [p[name] for name, _, d in TENSORS if d]
    no_decay = [p[name] for name, _, d in TENSORS if not d]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=(BETA1, BETA2), eps=EPS)
    step_losses, norms = [], []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        _, per_sample, _ = losses(forward(p, inputs), targets)
        loss = per_sample.mean()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([p[name] for name, _, _ in TENSORS], MAX_NORM)
        step_losses.append(loss.item())
        norms.append(norm.item())
        opt.step()
    clipped = sum(nm > MAX_NORM for nm in norms)
    assert 0 < clipped, "the run must exercise clipping"
    rec.add("adamw_hparams", [LR, BETA1, BETA2, EPS, WD, MAX_NORM], np.float32)
    rec.add("adamw_losses", step_losses, np.float32)
    rec.add("adamw_grad_norms", norms, np.float32)
    final = torch.cat([p[name].detach().reshape(-1) for name, _, _ in TENSORS])
    rec.add("adamw_final_params", final.numpy(), np.float32)

    write_model(os.path.join(HERE, "gpt2_tiny_model.bin"), params32)
    rec.write(os.path.join(HERE, "gpt2_tiny_vectors.bin"))
    print("losses", ["%.6f" % x for x in step_losses])
    print("grad norms", ["%.4f" % x for x in norms], "clipped in %d of %d steps" % (clipped, STEPS))


if __name__ == "__main__":
    main()
