/* tests/ref/ref_llama_f64.h — heft's LLaMA in float64 on the host: the
 * reference the LLaMA backends are tested against, and itself tested against
 * Hugging Face's LlamaForCausalLM (tests/ref/make_llama_vectors.py) and finite
 * differences. It computes (the spec of the LLaMA family):
 *
 *   x = wte[inputs]                                  (no position embedding)
 *   L blocks:
 *     h   = rmsnorm(x, attn_norm[l], eps)
 *     qkv = h wqkv[l]^T, RoPE on the NH query and KVH key heads (pairs i, i + hs/2)
 *     y   = causal softmax(q k^T / sqrt(hs)) v, query head h reads kv head h / (NH / KVH)
 *     x  += y wo[l]^T
 *     h2  = rmsnorm(x, ffn_norm[l], eps); gu = h2 w13[l]^T
 *     x  += (silu(gu[:, :F]) * gu[:, F:]) w2[l]^T
 *   logits (B, T, Vp) = rmsnorm(x, norm, eps) head^T, head = lm_head, or wte when tied
 *   per-token cross-entropy over the first V logits, target < 0 ignored
 *   l_i = mean of row i's kept token losses (0 for a row with none kept)
 *   objective sum_i w_i l_i: token t of row i gets gradient scale w_i / n_i.
 *
 * rmsnorm(x, w, eps) = x / sqrt(mean(x^2) + eps) * w. RoPE's (cos, sin) of
 * angle t * theta^(-2i/hs), i < hs/2, computed here in float64 (heft's models
 * use a float32 table; m->freqs can be overwritten to reproduce one).
 *
 * Layout of the flat parameter and gradient buffers: heft's LLaMA layout
 * (tensor-major, layer-major inside a tensor), see enum ref_llama_tensor.
 * This header deliberately does not use models/llama/llama_config.h: the
 * reference is written from the spec alone, so it checks the model code
 * rather than sharing its assumptions.
 *
 * Written as llm.c-style forward/backward op sequences (the gradient of the
 * residual stream is one buffer the RMSNorms' backward accumulate into), from
 * the float64 ops of ref_ops_f64.h plus the LLaMA ops as static loops in
 * ref_llama_f64.c with the signatures of backend.h's LLaMA ops.
 */
#ifndef HEFT_TESTS_REF_LLAMA_F64_H
#define HEFT_TESTS_REF_LLAMA_F64_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* The model's sizes and constants (the spec's llama_config, in float64). */
struct ref_llama_shape {
    int max_seq_len;       /* maxT */
    int vocab_size;        /* V */
    int padded_vocab_size; /* Vp >= V; rows V..Vp-1 of wte / lm_head are zero */
    int num_layers;        /* L */
    int num_heads;         /* NH; C % NH == 0, head size hs = C / NH even */
    int num_kv_heads;      /* KVH; NH % KVH == 0 */
    int channels;          /* C */
    int ffn;               /* F, the SwiGLU hidden width */
    int tied;              /* 1: the head is wte (no lm_head tensor) */
    double norm_eps;       /* RMSNorm eps, > 0 */
    double rope_theta;     /* RoPE base, > 0 */
};

/* heft's tensor order. KVD = KVH hs, QKV = C + 2 KVD. */
enum ref_llama_tensor {
    REF_LLAMA_WTE,       /* (Vp, C) */
    REF_LLAMA_ATTN_NORM, /* (L, C) */
    REF_LLAMA_WQKV,      /* (L, QKV, C): rows q [0, C), k [C, C+KVD), v [C+KVD, QKV) */
    REF_LLAMA_WO,        /* (L, C, C) */
    REF_LLAMA_FFN_NORM,  /* (L, C) */
    REF_LLAMA_W13,       /* (L, 2F, C): rows gate (w1) [0, F), up (w3) [F, 2F) */
    REF_LLAMA_W2,        /* (L, C, F) */
    REF_LLAMA_NORM,      /* (C) */
    REF_LLAMA_LM_HEAD,   /* (Vp, C); size 0 when tied */
    REF_LLAMA_NUM_TENSORS
};

/* Checks every constraint of struct ref_llama_shape; the message names the
 * offending field. */
int ref_llama_shape_validate(const struct ref_llama_shape *s, struct herr *err);
/* "wte", "attn_norm", ..., as in the spec and the vectors' record names. */
const char *ref_llama_tensor_name(int t);
/* 1 for the matrices (AdamW weight decay applies), 0 for the RMSNorm gains. */
int ref_llama_tensor_decays(int t);
void ref_llama_tensor_sizes(const struct ref_llama_shape *s, size_t sizes[REF_LLAMA_NUM_TENSORS]);
void ref_llama_tensor_offsets(const struct ref_llama_shape *s,
                              size_t offs[REF_LLAMA_NUM_TENSORS]);
size_t ref_llama_num_params(const struct ref_llama_shape *s);

/* freqs (T, hs/2, 2) = (cos, sin) of t * theta^(-2i/hs), in float64. */
void ref_llama_rope_table(double *freqs, int T, int hs, double theta);

/* Reads heft's LLaMA model file (int32 header[256]: 20241210, 1, maxT, V, L,
 * NH, C, Vp, KVH, F, tied, norm_eps and rope_theta as float32 bits; then the
 * float32 parameters) into *s and a malloc'd array of ref_llama_num_params(s)
 * floats. */
int ref_llama_read_model(const char *path, struct ref_llama_shape *s, float **params,
                         struct herr *err);

/* Activations of one forward, kept for the backward; "l" = per layer. */
struct ref_llama_acts {
    double *encoded;          /* (B, T, C) wte[inputs] */
    double *an, *an_rstd;     /* l (B, T, C), l (B, T): attn_norm output, 1 / rms */
    double *qkv;              /* l (B, T, QKV), q and k after RoPE */
    double *att;              /* l (B, NH, T, T) attention probabilities */
    double *atty;             /* l (B, T, C) attention output, heads side by side */
    double *res2;             /* l (B, T, C) residual after attention */
    double *fn, *fn_rstd;     /* l (B, T, C), l (B, T): ffn_norm output, 1 / rms */
    double *gu;               /* l (B, T, 2F) gate | up */
    double *mlp;              /* l (B, T, F) silu(gate) * up */
    double *res3;             /* l (B, T, C) residual after the MLP */
    double *xf, *xf_rstd;     /* (B, T, C), (B, T): final norm */
    double *logits;           /* (B, T, Vp) */
    double *lse, *losses;     /* (B, T) */
};

/* Gradients of activations: scratch of one backward, reused by every layer. */
struct ref_llama_dacts {
    double *dx;      /* (B, T, C) residual stream */
    double *dln;     /* (B, T, C) output of an RMSNorm */
    double *datty;   /* (B, T, C) */
    double *dqkv;    /* (B, T, QKV) */
    double *datt;    /* (B, NH, T, T), softmax backward runs in place */
    double *dgu;     /* (B, T, 2F) */
    double *dmlp;    /* (B, T, F) */
    double *dlogits; /* (B, T, Vp) */
};

struct ref_llama {
    struct ref_llama_shape s;
    int B, T;
    size_t num_params;
    double *params, *grads;                   /* (num_params), heft's layout */
    double *param[REF_LLAMA_NUM_TENSORS];     /* views; lm_head's NULL when tied */
    double *grad[REF_LLAMA_NUM_TENSORS];
    double *freqs;                            /* (T, hs/2, 2) RoPE (cos, sin) */
    struct ref_llama_acts a;
    struct ref_llama_dacts d;
    int32_t *inputs, *targets;                /* (B, T) of the last forward */
    int *counts;                              /* (B) kept targets per row */
    double *sample_losses;                    /* (B) l_i of the last forward */
    double *mem;                              /* the one allocation behind the doubles */
};

/* Allocates a model for batches of B rows of T <= max_seq_len tokens, with
 * zero parameters and gradients and the float64 RoPE table of s. */
int ref_llama_create(struct ref_llama *m, const struct ref_llama_shape *s, int B, int T,
                     struct herr *err);
void ref_llama_destroy(struct ref_llama *m);

/* Forward of inputs (B, T) with targets (B, T) (< 0 = ignored): fills
 * a.logits, a.losses (per token), sample_losses and counts. Fails (without
 * computing) if an id is out of range. */
int ref_llama_forward(struct ref_llama *m, const int32_t *inputs, const int32_t *targets,
                      struct herr *err);

/* sum_i weights[i] * sample_losses[i] of the last forward. */
double ref_llama_objective(const struct ref_llama *m, const double *weights);

/* row_scale (B) = weights[i] / counts[i], 0 where counts[i] == 0. */
void ref_llama_row_scales(const struct ref_llama *m, const double *weights, double *row_scale);

void ref_llama_zero_grad(struct ref_llama *m);

/* grads += gradient of sum_i row_scale[i] * (sum of row i's token losses) at
 * the last forward (with ref_llama_row_scales: of sum_i w_i l_i). */
void ref_llama_backward(struct ref_llama *m, const double *row_scale);

#endif
