/* tests/ref/ref_gpt2_f64.h — heft's GPT-2 in float64 on the host, built from
 * the reference ops (ref_ops_f64.h). It defines what the C model computes:
 *
 *   x = wte[inputs] + wpe[:T]
 *   L pre-LN blocks: x += attproj(causal_MHA(LN1(x))); x += fcproj(GELU(fc(LN2(x))))
 *   logits (B, T, Vp) = LNf(x) @ wte^T            (tied head; rows >= V of wte are 0)
 *   per-token cross-entropy over the first V logits, target < 0 ignored
 *   l_i = mean of row i's kept token losses (0 for a row with none kept)
 *   objective sum_i w_i l_i: token t of row i gets gradient scale w_i / n_i.
 *
 * Layout of the flat parameter and gradient buffers: llm.c's (gpt2_config.h).
 * Written as llm.c-style forward/backward op sequences, so a backend model can
 * be read side by side with it: the backward walks the layers in exact reverse
 * and the residual stream's gradient is one buffer that the layer norms'
 * backward accumulate into (their "dinp +=").
 */
#ifndef HEFT_TESTS_REF_GPT2_F64_H
#define HEFT_TESTS_REF_GPT2_F64_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "models/gpt2/gpt2_config.h"

/* Activations of one forward, kept for the backward; "l" = per layer. */
struct ref_gpt2_acts {
    double *encoded;                      /* (B, T, C) */
    double *ln1, *ln1_mean, *ln1_rstd;    /* l (B, T, C), l (B, T), l (B, T) */
    double *qkv;                          /* l (B, T, 3C) */
    double *preatt, *att;                 /* l (B, NH, T, T) */
    double *atty;                         /* l (B, T, C) attention output, heads side by side */
    double *res2;                         /* l (B, T, C) residual after attention */
    double *ln2, *ln2_mean, *ln2_rstd;    /* l (B, T, C), l (B, T), l (B, T) */
    double *fch, *fch_gelu;               /* l (B, T, 4C) */
    double *res3;                         /* l (B, T, C) residual after the MLP */
    double *lnf, *lnf_mean, *lnf_rstd;    /* (B, T, C), (B, T), (B, T) */
    double *logits;                       /* (B, T, Vp) */
    double *lse, *losses;                 /* (B, T) */
};

/* Gradients of activations: scratch of one backward, reused by every layer. */
struct ref_gpt2_dacts {
    double *dx;      /* (B, T, C) residual stream */
    double *dln;     /* (B, T, C) output of a layer norm */
    double *datty;   /* (B, T, C) */
    double *dqkv;    /* (B, T, 3C) */
    double *datt;    /* (B, NH, T, T), softmax backward runs in place */
    double *dfch;    /* (B, T, 4C), GELU backward runs in place */
    double *dlogits; /* (B, T, Vp) */
};

struct ref_gpt2 {
    struct gpt2_config cfg;
    int B, T;
    size_t num_params;
    double *params, *grads;                 /* (num_params), llm.c order */
    double *param[GPT2_NUM_TENSORS];        /* views into params */
    double *grad[GPT2_NUM_TENSORS];         /* views into grads */
    struct ref_gpt2_acts a;
    struct ref_gpt2_dacts d;
    int32_t *inputs, *targets;              /* (B, T) of the last forward */
    int *counts;                            /* (B) kept targets per row */
    double *sample_losses;                  /* (B) l_i of the last forward */
    double *mem;                            /* the one allocation behind all of it */
};

/* Allocates a model for batches of B rows of T <= max_seq_len tokens, with
 * zero parameters and gradients. */
int ref_gpt2_create(struct ref_gpt2 *m, const struct gpt2_config *cfg, int B, int T,
                    struct herr *err);
void ref_gpt2_destroy(struct ref_gpt2 *m);

/* Reads an llm.c float32 GPT-2 model file (header int32[256]: 20240326, 3,
 * maxT, V, L, NH, C, Vp; then the parameters) into *cfg and a malloc'd float
 * array of gpt2_num_params(cfg) values. */
int ref_gpt2_read_llmc(const char *path, struct gpt2_config *cfg, float **params,
                       struct herr *err);

/* Forward of inputs (B, T) with targets (B, T) (< 0 = ignored): fills
 * a.logits, a.losses (per token), sample_losses and counts. Fails (without
 * computing) if an id is out of range. */
int ref_gpt2_forward(struct ref_gpt2 *m, const int32_t *inputs, const int32_t *targets,
                     struct herr *err);

/* sum_i weights[i] * sample_losses[i] of the last forward. */
double ref_gpt2_objective(const struct ref_gpt2 *m, const double *weights);

/* row_scale (B) = weights[i] / counts[i], 0 where counts[i] == 0. */
void ref_gpt2_row_scales(const struct ref_gpt2 *m, const double *weights, double *row_scale);

void ref_gpt2_zero_grad(struct ref_gpt2 *m);

/* grads += gradient of sum_i l_i * row_scale[i] * counts[i] (i.e. token t of
 * row i scaled by row_scale[i]) at the last forward. */
void ref_gpt2_backward(struct ref_gpt2 *m, const double *row_scale);

#endif
