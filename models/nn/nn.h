/* models/nn/nn.h — the layers every family is composed of, written once:
 * linear, norm (LayerNorm or RMSNorm), attention (multi-head or grouped-query,
 * optional rotary positions), MLP (GELU or SwiGLU), token embedding (with or
 * without a learned position table) and the LM head with its cross-entropy.
 *
 * Each layer is a pair of functions over backend ops: forward, and a backward
 * that quotes the forward line it differentiates. Optional tensors (biases,
 * LayerNorm's shift, the position table) are passed as NN_NONE. */
#ifndef HEFT_NN_H
#define HEFT_NN_H

#include "backends/backend.h"

/* An absent tensor. */
#define NN_NONE ((dptr){ NULL, 0 })
static inline int nn_has(dptr p) { return p.buf != NULL; }

/* ---- linear --------------------------------------------------------------- */
/* y (N, OC) = x (N, IC) W^T (+ b) with W (OC, IC); beta = 1 adds to y. */
void nn_linear_forward(struct backend *be, dptr y, dptr x, dptr W, dptr b, int N, int IC, int OC,
                       float beta);
/* dx (N, IC) = dy W; dW (OC, IC) += dy^T x; db (OC) += column sums of dy */
void nn_linear_backward(struct backend *be, dptr dx, dptr dW, dptr db, dptr dy, dptr x, dptr W,
                        int N, int IC, int OC);

/* ---- norm ----------------------------------------------------------------- */
enum nn_norm_kind { NN_LAYERNORM, NN_RMSNORM };
struct nn_norm {
    enum nn_norm_kind kind;
    float eps; /* RMSNorm's; LayerNorm's is GPT-2's 1e-5 inside the op */
};
/* out (N, C) = norm(inp) * w (+ b); keeps mean (LayerNorm only) and rstd (N). */
void nn_norm_forward(struct backend *be, const struct nn_norm *n, dptr out, dptr mean, dptr rstd,
                     dptr inp, dptr w, dptr b, int N, int C);
/* dinp (N, C) +=, dw +=, db += from dout */
void nn_norm_backward(struct backend *be, const struct nn_norm *n, dptr dinp, dptr dw, dptr db,
                      dptr dout, dptr inp, dptr w, dptr mean, dptr rstd, int N, int C);

/* ---- attention ------------------------------------------------------------ */
/* Causal self-attention over qkv (B, T, (NH + 2 KVH) hs): NH query heads, then
 * KVH key heads, then KVH value heads. Query head h reads key/value head
 * h / G, G = NH / KVH (G = 1: plain multi-head). The GEMMs read every head in
 * place: K and V are never copied per query head. With rope, the query and key
 * heads are rotated in place first (freqs: (T, hs/2, 2) cos/sin). */
struct nn_attention {
    int B, T, NH, KVH, hs;
    dptr freqs; /* NN_NONE: no rotary positions */
    /* Memory: with recompute = 0 the forward keeps every row's probabilities
     * in att (B, NH, T, T) for the backward. With recompute = 1 it works
     * through the batch `chunk` rows at a time in att (chunk, NH, T, T),
     * keeps nothing, and the backward recomputes each chunk's probabilities
     * (one more Q K^T product and softmax): T x T memory no longer grows with
     * the batch or the depth. Same ops on the same inputs: same results.
     * head_chunk (0 = all) cuts a pass further into key/value heads (each
     * with its G query heads): one row of a 7B model's probabilities at
     * T = 4096 is 2 GiB, one head's 64 MiB. */
    int recompute, chunk, head_chunk;
};
/* att: the kept probabilities or the chunk scratch (see above); y (B, T, NH hs) */
void nn_attention_forward(struct backend *be, const struct nn_attention *a, dptr qkv, dptr att,
                          dptr y);
/* dqkv (B, T, (NH + 2 KVH) hs) = from dy; datt (B or chunk, NH or head_chunk G, T, T) is
 * scratch. */
void nn_attention_backward(struct backend *be, const struct nn_attention *a, dptr dqkv,
                           dptr datt, dptr dy, dptr qkv, dptr att);

/* ---- MLP ------------------------------------------------------------------ */
enum nn_mlp_act { NN_GELU, NN_SWIGLU };
/* GELU:   h (N, F) = x W1^T + b1, a = gelu(h),                 out += a W2^T + b2
 * SwiGLU: h (N, 2F) = x W1^T (gate | up), a = silu(gate) * up, out += a W2^T
 * (W1 is (F, C) or (2F, C); W2 is (C, F).) */
struct nn_mlp {
    enum nn_mlp_act act;
    int C, F;
};
static inline int nn_mlp_hidden(const struct nn_mlp *m)
{
    return m->act == NN_SWIGLU ? 2 * m->F : m->F;
}
void nn_mlp_forward(struct backend *be, const struct nn_mlp *m, dptr out, dptr h, dptr a, dptr x,
                    dptr W1, dptr b1, dptr W2, dptr b2, int N);
/* dx (N, C) = ; dh (N, hidden) and da (N, F) scratch (da may equal dh for
 * GELU, which works in place) */
void nn_mlp_backward(struct backend *be, const struct nn_mlp *m, dptr dx, dptr dh, dptr da,
                     dptr dout, dptr h, dptr a, dptr x, dptr W1, dptr dW1, dptr db1, dptr W2,
                     dptr dW2, dptr db2, int N);

/* ---- embedding ------------------------------------------------------------ */
/* out (B, T, C) = wte[tokens] (+ wpe[t]) */
void nn_embed_forward(struct backend *be, dptr out, dptr tokens, dptr wte, dptr wpe, int B, int T,
                      int C);
/* dwte +=, dwpe += from dout */
void nn_embed_backward(struct backend *be, dptr dwte, dptr dwpe, dptr dout, dptr tokens, int B,
                       int T, int C);
/* The rotary table freqs (T, hs/2, 2) of angle t * theta^(-2i/hs), computed
 * in double on the host and rounded once, into host memory. */
void nn_rope_table(float *freqs, int T, int hs, double theta);

/* ---- LM head and loss ----------------------------------------------------- */
/* logits (N, Vp) = x head^T; losses (N), lse (N) per token (targets < 0 ignored) */
void nn_lm_loss_forward(struct backend *be, dptr logits, dptr lse, dptr losses, dptr x, dptr head,
                        dptr targets, int N, int C, int V, int Vp);
/* From the per-row scales (row_scale[n / T]): logits become their gradient in
 * place; dx (N, C) = ; dhead (Vp, C) += */
void nn_lm_loss_backward(struct backend *be, dptr dx, dptr dhead, dptr logits, dptr lse,
                         dptr targets, dptr row_scale, dptr x, dptr head, int T, int N, int C,
                         int V, int Vp);

#endif
