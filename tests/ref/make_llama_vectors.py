#!/work/venv/bin/python3
"""Make the Hugging Face reference vectors for heft's LLaMA family (tests/ref/).

The reference is transformers' own LlamaForCausalLM (4.46.3), not a
re-implementation, so the committed files pin heft's LLaMA to the model people
load checkpoints into. CI has no transformers: the .bin files are committed and
this script is only rerun when they must change. Setup (Debian, python3-torch
1.13 from apt):
    python3 -m venv --system-site-packages /work/venv
    /work/venv/bin/pip install transformers==4.46.3 safetensors tokenizers
Run from anywhere:
    /work/venv/bin/python3 tests/ref/make_llama_vectors.py
It rewrites, byte for byte identically on every run, for each tiny config
NAME in gqa (grouped-query, untied), mha (multi-head, tied, LLaMA-3 theta) and
mqa (multi-query, untied):
    tests/ref/llama_NAME_model.bin    the weights, heft's LLaMA model file
    tests/ref/llama_NAME_vectors.bin  inputs and expected results (below)

Precision: the weights are drawn in float32 (so the model file holds them
exactly) and the model runs in float64 (model.double()) from those values.
transformers casts three things to float32 for the sake of half-precision
models: RMSNorm's normalization, the rotary (cos, sin) table (computed from a
float32 inv_freq) and the attention softmax. In a float64 model those casts are
*down*casts that would put float32 round-off (~1e-7) into every result, so the
script lifts them while it computes (lift_float32_casts: the same formulas, in
float64; the attention code, the MLP, the embeddings and the head are HF's,
untouched). It checks that the lifted model differs from stock HF by float32
round-off only (printed, asserted < 1e-5 and > 0 so the lift is known to be
active). The results are then the float64 answer for the float32 weights.

Stored values are float32 (the format has no float64). Where a float64 test
needs more (logits and losses), a record NAME comes with NAME_lo = the float32
rounding of (exact - NAME), so NAME + NAME_lo recovers the float64 value to
~1e-14 relative; a float32 backend just compares against NAME. Gradients and
parameters are stored once (float32 rounding, ~6e-8 relative). eps, theta and
the AdamW hyper-parameters are float32-representable values, so what heft reads
from a float32 header field is exactly what HF used.

Model file (heft's LLaMA format, little-endian): int32 header[256] =
    [0] 20241210 [1] 1 [2] maxT [3] V [4] L [5] NH [6] C [7] Vp [8] KVH [9] F
    [10] tied [11] norm_eps (float32 bits) [12] rope_theta (float32 bits), rest 0
then the float32 parameters in heft's flat layout (KVD = KVH hs, QKV = C + 2 KVD):
    wte (Vp, C), attn_norm (L, C), wqkv (L, QKV, C) = [q_proj; k_proj; v_proj],
    wo (L, C, C) = o_proj, ffn_norm (L, C), w13 (L, 2F, C) = [gate_proj; up_proj],
    w2 (L, C, F) = down_proj, norm (C), lm_head (Vp, C) (absent when tied).
HF's weights are copied in by these concatenations only, no permutation (heft's
RoPE pairs i with i + hs/2, HF's rotate_half). Padding rows V..Vp-1 of wte and
lm_head are zero.

Vectors format (little-endian; read by tests/ref/vectors.c):
    char  magic[8] = "HEFTVEC1"
    int32 num_records
    num_records times:
        int32 name_len (1..63), char name[name_len] (no NUL)
        int32 dtype (1 = float32, 2 = int32)
        int32 ndims (0..8; 0 = scalar, one element), int32 dims[ndims] (>= 1)
        prod(dims) 4-byte elements, row-major
    end of file right after the last record.
Records:
    config            int32 [maxT, V, Vp, L, NH, KVH, C, F, tied, B, T]
    norm_eps, rope_theta   float32 scalars (as in the model header)
    inputs, targets   int32 (B, T); target -1 = ignored (every row keeps some)
    token_counts      int32 (B) kept targets per row
    logits(_lo)       (B, T, V): the real columns (heft computes Vp; its
                      columns V..Vp-1 are exactly 0 since those rows are)
    token_losses(_lo) (B, T), 0 where ignored
    sample_losses(_lo) (B): l_i = mean of row i's kept token losses
    weights           (B) non-uniform, exact in float32, sum 1
    weighted_loss(_lo) scalar sum_i w_i l_i
    grad.T            gradient of weighted_loss for each tensor T of the
                      layout above (its shape; wte's padding rows 0)
    adamw_hparams     [lr, beta1, beta2, eps, weight_decay, max_norm]
    adamw_decays      int32 per tensor in layout order: 1 = weight decay
    then 10 steps of torch.optim.AdamW after clip_grad_norm_(max_norm), the
    same batch every step, for RUN in uniform (w_i = 1/B) and linupper
    (LinUpper, r = 1, recomputed each step from that step's l_i, no gradient
    through the weights: h_i = (2 l_i - lmax - lmin) / max(lmax - lmin, 1e-6),
    f_i = min(h_i + 1, 1), w = softmax(f / r)):
    adamw_RUN_losses         (10) objective sum_i w_i l_i before each step
    adamw_RUN_sample_losses  (10, B) l_i before each step
    adamw_RUN_weights        (10, B) the w_i used in each step
    adamw_RUN_grad_norms     (10) total gradient norm before clipping
    adamw_RUN.T              each tensor after the 10 steps

The model (spec; see tests/ref/ref_llama_f64.h for heft's float64 C version):
x = wte[inputs]; L blocks x += wo(attn(rope(wqkv(rmsnorm(x))))),
x += w2(silu(w1 h) * w3 h) with h = rmsnorm(x); logits = rmsnorm(x) lm_head^T.
Grouped-query attention: query head h reads kv head h / (NH / KVH).
"""

import contextlib
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama import modeling_llama

HERE = os.path.dirname(os.path.abspath(__file__))


def f32(x):
    return float(np.float32(x))


# Deliberately odd sizes: odd T, head sizes 12 and 8, V not a multiple of
# anything useful, one row of ignored targets shaped like a masked prompt.
CONFIGS = [
    dict(name="gqa", C=48, NH=4, KVH=2, F=40, L=2, V=61, VP=64, MAXT=16, B=3, T=9,
         theta=10000.0, eps=1e-5, tied=False, weights=[0.5, 0.125, 0.375], seed=20241210),
    dict(name="mha", C=24, NH=3, KVH=3, F=36, L=2, V=61, VP=64, MAXT=16, B=2, T=7,
         theta=500000.0, eps=1e-6, tied=True, weights=[0.75, 0.25], seed=20241211),
    dict(name="mqa", C=32, NH=4, KVH=1, F=24, L=1, V=37, VP=64, MAXT=16, B=3, T=11,
         theta=10000.0, eps=1e-5, tied=False, weights=[0.25, 0.625, 0.125], seed=20241212),
]

# AdamW run: the hyper-parameters of make_gpt2_vectors.py (float32-representable).
LR, BETA1, BETA2, EPS, WD, MAX_NORM = f32(1e-3), f32(0.9), f32(0.95), f32(1e-8), f32(0.1), f32(1.0)
STEPS = 10
LINUPPER_R = 1.0

MAGIC, VERSION = 20241210, 1


class Shape:
    """A config's sizes and heft's tensor list [(name, shape, decays)]."""

    def __init__(self, c):
        self.__dict__.update(c)
        assert self.C % self.NH == 0 and self.NH % self.KVH == 0
        self.hs = self.C // self.NH
        assert self.hs % 2 == 0
        self.KVD = self.KVH * self.hs
        self.QKV = self.C + 2 * self.KVD
        self.eps = f32(self.eps)  # exactly what the float32 header field holds
        self.theta = f32(self.theta)
        L, C, F_, VP = self.L, self.C, self.F, self.VP
        self.tensors = [
            ("wte", (VP, C), True), ("attn_norm", (L, C), False),
            ("wqkv", (L, self.QKV, C), True), ("wo", (L, C, C), True),
            ("ffn_norm", (L, C), False), ("w13", (L, 2 * F_, C), True),
            ("w2", (L, C, F_), True), ("norm", (C,), False),
        ]
        if not self.tied:
            self.tensors.append(("lm_head", (VP, C), True))


def make_params(s, gen):
    """float32 weights in heft's layout, large enough that attention, SiLU and
    softmax are far from their near-linear regime (init std 0.02 would hide
    bugs); norm gains around 1 but not 1, so a missing gain shows."""
    std = {"wte": 0.3, "wqkv": 0.2, "wo": 0.2, "w13": 0.2, "w2": 0.15, "lm_head": 0.3}
    params = {}
    for name, shape, _ in s.tensors:
        if name in std:
            p = torch.randn(shape, generator=gen, dtype=torch.float32) * std[name]
        else:
            p = torch.randn(shape, generator=gen, dtype=torch.float32) * 0.1 + 1.0
        params[name] = p
    params["wte"][s.V:] = 0.0  # padding rows stay zero
    if not s.tied:
        params["lm_head"][s.V:] = 0.0
    return params


def make_batch(s, gen):
    tokens = torch.randint(0, s.V, (s.B, s.T + 1), generator=gen, dtype=torch.int64)
    inputs = tokens[:, :s.T].clone()
    targets = tokens[:, 1:].clone()
    targets[0 if s.B == 2 else 1, [2, s.T - 2]] = -1  # two scattered ignored targets
    targets[s.B - 1, :4] = -1                          # an ignored prefix (masked prompt)
    assert bool(((targets >= 0).sum(dim=1) > 0).all()), "every row keeps some targets"
    return inputs, targets


def hf_model(s):
    cfg = LlamaConfig(
        vocab_size=s.V, hidden_size=s.C, intermediate_size=s.F, num_hidden_layers=s.L,
        num_attention_heads=s.NH, num_key_value_heads=s.KVH, max_position_embeddings=s.MAXT,
        rms_norm_eps=s.eps, rope_theta=s.theta, tie_word_embeddings=s.tied,
        attention_bias=False, mlp_bias=False, hidden_act="silu", rope_scaling=None,
        attention_dropout=0.0, pretraining_tp=1, attn_implementation="eager")
    model = LlamaForCausalLM(cfg).double()
    model.train()  # dropout is 0.0; train mode as in training
    assert model.config._attn_implementation == "eager"
    assert (model.lm_head.weight is model.model.embed_tokens.weight) == s.tied
    return model


def hf_tensors(s, model):
    """HF's parameters grouped by the heft tensor they make up, in heft's row
    order: {name: [HF parameters whose rows are concatenated (per layer)]}."""
    layers = model.model.layers
    out = {
        "wte": [model.model.embed_tokens.weight],
        "attn_norm": [ly.input_layernorm.weight for ly in layers],
        "wqkv": [w for ly in layers for w in (ly.self_attn.q_proj.weight,
                                              ly.self_attn.k_proj.weight,
                                              ly.self_attn.v_proj.weight)],
        "wo": [ly.self_attn.o_proj.weight for ly in layers],
        "ffn_norm": [ly.post_attention_layernorm.weight for ly in layers],
        "w13": [w for ly in layers for w in (ly.mlp.gate_proj.weight, ly.mlp.up_proj.weight)],
        "w2": [ly.mlp.down_proj.weight for ly in layers],
        "norm": [model.model.norm.weight],
    }
    if not s.tied:
        out["lm_head"] = [model.lm_head.weight]
    return out


def heft_from_hf(s, model, get):
    """{name: float64 tensor in heft's shape} from get(param) (the weight or
    its gradient) of each HF parameter; rows V..Vp-1 of wte / lm_head are 0."""
    groups = hf_tensors(s, model)
    out = {}
    for name, shape, _ in s.tensors:
        flat = torch.cat([get(p).reshape(-1) for p in groups[name]])
        if name in ("wte", "lm_head"):
            flat = torch.cat([flat, torch.zeros((s.VP - s.V) * s.C, dtype=flat.dtype)])
        out[name] = flat.reshape(shape)
    return out


def load_into_hf(s, model, params32):
    """Copies heft's float32 tensors into HF's float64 parameters: row slices of
    wqkv / w13 (the concatenations of the spec), real rows of wte / lm_head."""
    groups = hf_tensors(s, model)
    with torch.no_grad():
        for name, _, _ in s.tensors:
            src = params32[name].to(torch.float64).reshape(-1)
            at = 0
            for p in groups[name]:
                p.copy_(src[at:at + p.numel()].view_as(p))
                at += p.numel()
            pad = (s.VP - s.V) * s.C if name in ("wte", "lm_head") else 0
            assert at + pad == src.numel()
    back = heft_from_hf(s, model, lambda p: p.detach())
    for name, _, _ in s.tensors:  # the mapping is a bijection on the real rows
        assert torch.equal(back[name], params32[name].to(torch.float64)), name


@contextlib.contextmanager
def lift_float32_casts():
    """transformers' float32 casts, made no-ops for a float64 model (see the
    docstring). Each replacement computes HF's formula in the input's dtype:
      RMSNorm   weight * (x * rsqrt(mean(x^2) + eps))
      rotary    angle = t * theta^(-2i/hs) (i < hs/2), cos/sin of cat(angle, angle)
      softmax   softmax(x, dim) without its dtype=float32 argument
    The originals are restored on exit."""
    rms_forward = modeling_llama.LlamaRMSNorm.forward
    rotary_forward = modeling_llama.LlamaRotaryEmbedding.forward
    softmax = torch.nn.functional.softmax

    def rms64(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.variance_epsilon))

    @torch.no_grad()
    def rotary64(self, x, position_ids):
        assert self.rope_type == "default" and self.attention_scaling == 1.0
        dim = 2 * self.inv_freq.shape[0]
        inv_freq = 1.0 / (self.config.rope_theta
                          ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
        angle = position_ids[:, :, None].to(torch.float64) * inv_freq  # (B, T, hs/2)
        emb = torch.cat((angle, angle), dim=-1)
        return emb.cos().to(x.dtype), emb.sin().to(x.dtype)

    def softmax64(input, dim=None, _stacklevel=3, dtype=None):
        if dtype == torch.float32 and input.dtype == torch.float64:
            dtype = None
        return softmax(input, dim=dim, _stacklevel=_stacklevel, dtype=dtype)

    modeling_llama.LlamaRMSNorm.forward = rms64
    modeling_llama.LlamaRotaryEmbedding.forward = rotary64
    torch.nn.functional.softmax = softmax64
    try:
        yield
    finally:
        modeling_llama.LlamaRMSNorm.forward = rms_forward
        modeling_llama.LlamaRotaryEmbedding.forward = rotary_forward
        torch.nn.functional.softmax = softmax


def logits_of(model, inputs):
    """(B, T, V) float64. No labels: HF's own loss would upcast logits with
    .float() (a downcast here) and average over all tokens, not per sample."""
    out = model(input_ids=inputs, use_cache=False, return_dict=True)
    assert out.logits.dtype == torch.float64
    return out.logits


def losses(s, logits, targets):
    """Per-token losses (B, T) (0 where ignored), per-sample losses (B),
    kept-target counts (B)."""
    tok = F.cross_entropy(logits.reshape(s.B * s.T, s.V), targets.reshape(s.B * s.T),
                          ignore_index=-1, reduction="none").view(s.B, s.T)
    n = (targets >= 0).sum(dim=1)
    return tok, tok.sum(dim=1) / n.to(torch.float64), n


def linupper_weights(per_sample, r):
    """METHOD's LinUpper from the batch's per-sample losses (no gradient)."""
    l = per_sample.detach()
    lmax, lmin = l.max().item(), l.min().item()
    h = (2.0 * l - lmax - lmin) / max(lmax - lmin, 1e-6)
    f = torch.clamp(h + 1.0, max=1.0)
    return torch.softmax(f / r, dim=0)


class Records:
    DTYPES = {np.float32: 1, np.int32: 2}

    def __init__(self):
        self.items = []

    def add(self, name, array, dtype):
        a = np.ascontiguousarray(np.asarray(array), dtype=dtype)
        self.items.append((name, a))

    def add_hilo(self, name, array):
        """NAME = float32(x), NAME_lo = float32(x - NAME): x to ~1e-14."""
        x = np.asarray(array, dtype=np.float64)
        hi = x.astype(np.float32)
        self.add(name, hi, np.float32)
        self.add(name + "_lo", (x - hi.astype(np.float64)).astype(np.float32), np.float32)

    def write(self, path):
        names = [n for n, _ in self.items]
        assert len(set(names)) == len(names), "record names must be unique"
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


def write_model(path, s, params32):
    header = np.zeros(256, dtype="<i4")
    header[:11] = [MAGIC, VERSION, s.MAXT, s.V, s.L, s.NH, s.C, s.VP, s.KVH, s.F, int(s.tied)]
    header[11:13] = np.array([s.eps, s.theta], dtype="<f4").view("<i4")
    body = b"".join(params32[name].numpy().astype("<f4").tobytes() for name, _, _ in s.tensors)
    write_bytes(path, header.tobytes() + body)


def check_lift(s, model, inputs):
    """Stock HF and the lifted model: equal up to float32 round-off, not equal."""
    with torch.no_grad():
        stock = logits_of(model, inputs)
        with lift_float32_casts():
            lifted = logits_of(model, inputs)
    d = ((stock - lifted).abs().max() / lifted.abs().max()).item()
    print("  %s: stock HF (float32 casts) vs lifted float64 logits: normalized diff %.2e"
          % (s.name, d))
    assert 0 < d < 1e-5, d
    return d


def adamw_run(s, params32, inputs, targets, rule, tag, rec):
    """10 AdamW steps with clipping on the same batch, weights from rule(l)."""
    model = hf_model(s)
    load_into_hf(s, model, params32)
    groups = hf_tensors(s, model)
    decay = [p for name, _, d in s.tensors if d for p in groups[name]]
    no_decay = [p for name, _, d in s.tensors if not d for p in groups[name]]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=(BETA1, BETA2), eps=EPS)
    step_losses, sample_losses, step_weights, norms = [], [], [], []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        _, per_sample, _ = losses(s, logits_of(model, inputs), targets)
        w = rule(per_sample)
        loss = (w * per_sample).sum()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM)
        step_losses.append(loss.item())
        sample_losses.append(per_sample.detach().numpy())
        step_weights.append(w.numpy())
        norms.append(norm.item())
        opt.step()
    clipped = sum(nm > MAX_NORM for nm in norms)
    assert 0 < clipped, "the run must exercise clipping"
    rec.add("adamw_%s_losses" % tag, step_losses, np.float32)
    rec.add("adamw_%s_sample_losses" % tag, np.stack(sample_losses), np.float32)
    rec.add("adamw_%s_weights" % tag, np.stack(step_weights), np.float32)
    rec.add("adamw_%s_grad_norms" % tag, norms, np.float32)
    final = heft_from_hf(s, model, lambda p: p.detach())
    for name, _, _ in s.tensors:
        rec.add("adamw_%s.%s" % (tag, name), final[name].numpy(), np.float32)
    print("  %s %-8s losses %s" % (s.name, tag, " ".join("%.5f" % x for x in step_losses)))
    print("  %s %-8s grad norms %s, clipped in %d of %d steps"
          % (s.name, tag, " ".join("%.3f" % x for x in norms), clipped, STEPS))


def make_case(c):
    s = Shape(c)
    torch.manual_seed(s.seed)  # HF's own init (overwritten) draws from the global RNG
    gen = torch.Generator().manual_seed(s.seed)
    params32 = make_params(s, gen)
    inputs, targets = make_batch(s, gen)
    rec = Records()
    rec.add("config", [s.MAXT, s.V, s.VP, s.L, s.NH, s.KVH, s.C, s.F, int(s.tied), s.B, s.T],
            np.int32)
    rec.add("norm_eps", np.float32(s.eps), np.float32)
    rec.add("rope_theta", np.float32(s.theta), np.float32)
    rec.add("inputs", inputs, np.int32)
    rec.add("targets", targets, np.int32)

    model = hf_model(s)
    load_into_hf(s, model, params32)
    check_lift(s, model, inputs)
    with lift_float32_casts():
        weights = torch.tensor(s.weights, dtype=torch.float64)
        assert weights.sum().item() == 1.0 and len(set(s.weights)) > 1
        assert all(f32(x) == x for x in s.weights)
        logits = logits_of(model, inputs)
        tok, per_sample, n = losses(s, logits, targets)
        loss = (weights * per_sample).sum()
        loss.backward()
        rec.add_hilo("logits", logits.detach().numpy())
        rec.add_hilo("token_losses", tok.detach().numpy())
        rec.add_hilo("sample_losses", per_sample.detach().numpy())
        rec.add("token_counts", n.numpy(), np.int32)
        rec.add("weights", weights.numpy(), np.float32)
        rec.add_hilo("weighted_loss", np.float64(loss.item()))
        grads = heft_from_hf(s, model, lambda p: p.grad)
        for name, _, _ in s.tensors:
            rec.add("grad." + name, grads[name].numpy(), np.float32)
        # the gradient of a padding row is exactly zero (no logit, no input uses it)
        assert torch.all(grads["wte"][s.V:] == 0)

        rec.add("adamw_hparams", [LR, BETA1, BETA2, EPS, WD, MAX_NORM], np.float32)
        rec.add("adamw_decays", [int(d) for _, _, d in s.tensors], np.int32)
        uniform = torch.full((s.B,), 1.0 / s.B, dtype=torch.float64)
        adamw_run(s, params32, inputs, targets, lambda l: uniform, "uniform", rec)
        adamw_run(s, params32, inputs, targets, lambda l: linupper_weights(l, LINUPPER_R),
                  "linupper", rec)

    model_path = os.path.join(HERE, "llama_%s_model.bin" % s.name)
    vec_path = os.path.join(HERE, "llama_%s_vectors.bin" % s.name)
    write_model(model_path, s, params32)
    rec.write(vec_path)
    print("  %s: wrote %s (%d bytes), %s (%d bytes)"
          % (s.name, os.path.basename(model_path), os.path.getsize(model_path),
             os.path.basename(vec_path), os.path.getsize(vec_path)))


def main():
    torch.set_num_threads(1)  # fixed reduction order: same bytes on every run
    for c in CONFIGS:
        make_case(c)


if __name__ == "__main__":
    main()
