/* tests/ref/ref_ops_f64.h — every compute op of backends/backend.h as naive
 * float64 host code: the reference each backend op is tested against.
 *
 * Each function mirrors the backend op of the same name: same argument order,
 * shapes and "=" / "+=" semantics, with host double* / int32_t* arrays in
 * place of dptr and no backend argument. Written for clarity, not speed:
 * straight loops, sums in index order. The aliasing the header allows (gelu
 * in place, softmax in place, crossentropy_backward dlogits = logits) works
 * here too, so pointers are deliberately not restrict; rope is in place by
 * definition, as in backend.h.
 *
 * gemm follows BLAS: with beta == 0, C is not read (it may hold garbage).
 */
#ifndef HEFT_TESTS_REF_OPS_F64_H
#define HEFT_TESTS_REF_OPS_F64_H

#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"

/* dst[0..n) = value */
void ref_fill(double *dst, double value, size_t n);
/* dst[0..n) = src[0..n) */
void ref_copy(double *dst, const double *src, size_t n);

/* C = alpha * op(A) * op(B) + beta * C, row-major, op(A) (m, k), op(B) (k, n),
 * C (m, n); batch may be NULL (see struct gemm_batch). */
void ref_gemm(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
              int lda, const double *b, int ldb, double beta, double *c, int ldc,
              const struct gemm_batch *batch);
/* out (N, OC) += bias (OC) */
void ref_add_bias(double *out, const double *bias, int N, int OC);
/* out (OC) += sum over rows of in (N, OC) */
void ref_col_sums(double *out, const double *in, int N, int OC);
/* out (R) = sum over columns of in (R, K) */
void ref_row_sums(double *out, const double *in, int R, int K);

/* out (B, T, C) = wte[tokens[b, t]] + wpe[t] */
void ref_encoder_forward(double *out, const int32_t *tokens, const double *wte,
                         const double *wpe, int B, int T, int C);
/* dwte (V, C) +=, dwpe (maxT, C) += from dout (B, T, C) */
void ref_encoder_backward(double *dwte, double *dwpe, const double *dout,
                          const int32_t *tokens, int B, int T, int C);
/* out (N, C) = (inp - mean) * rstd * w + b, mean (N), rstd (N); eps 1e-5 */
void ref_layernorm_forward(double *out, double *mean, double *rstd, const double *inp,
                           const double *w, const double *b, int N, int C);
/* dinp (N, C) +=, dw (C) +=, db (C) += */
void ref_layernorm_backward(double *dinp, double *dw, double *db, const double *dout,
                            const double *inp, const double *w, const double *mean,
                            const double *rstd, int N, int C);
/* out (n) = GELU_tanh(inp); out may alias inp */
void ref_gelu_forward(double *out, const double *inp, size_t n);
/* dinp (n) = GELU_tanh'(inp) * dout; dinp may alias dout */
void ref_gelu_backward(double *dinp, const double *inp, const double *dout, size_t n);
/* att (R, T, T) = causal softmax of pre (R, T, T); att may alias pre */
void ref_softmax_causal_forward(double *att, const double *pre, int R, int T);
/* out (R, n) = softmax of each row of inp (R, n), rows ld apart; columns
 * n..ld-1 untouched; out may alias inp */
void ref_softmax_rows_forward(double *out, const double *inp, int R, int n, int ld);
/* dpre (R, T, T) = att * (datt - sum_j att * datt), 0 above the diagonal;
 * dpre may alias datt */
void ref_softmax_causal_backward(double *dpre, const double *datt, const double *att, int R,
                                 int T);

/* ---- LLaMA family ---- */
/* out (N, C) = wte[tokens[n]] */
void ref_embedding_forward(double *out, const int32_t *tokens, const double *wte, int N, int C);
/* dwte (V, C) += rows of dout (N, C) at tokens[n] */
void ref_embedding_backward(double *dwte, const double *dout, const int32_t *tokens, int N,
                            int C);
/* out (N, C) = inp * rstd * w, rstd (N) = 1 / sqrt(mean_c(inp^2) + eps) */
void ref_rmsnorm_forward(double *out, double *rstd, const double *inp, const double *w, int N,
                         int C, double eps);
/* dinp (N, C) +=, dw (C) += from dout (N, C) */
void ref_rmsnorm_backward(double *dinp, double *dw, const double *dout, const double *inp,
                          const double *w, const double *rstd, int N, int C);
/* freqs (T, hs/2, 2) = (cos, sin) of t * theta^(-2i/hs): the table backend.h's
 * rope ops take (a model rounds it to float32 once). hs even. */
void ref_rope_table(double *freqs, int T, int hs, double theta);
/* Rotary embedding in place on B*T rows of ld values, heads h < nh of hs at
 * column h*hs, pairs (i, i + hs/2) rotated by freqs[t, i] (backend.h). */
void ref_rope_forward(double *x, const double *freqs, int B, int T, int nh, int hs, int ld);
/* The transpose (rotation by -angle), in place on dx. */
void ref_rope_backward(double *dx, const double *freqs, int B, int T, int nh, int hs, int ld);
/* out (N, F) = silu(g) * u with inp (N, 2F) = [g | u] */
void ref_swiglu_forward(double *out, const double *inp, int N, int F);
/* dinp (N, 2F) = [dg | du] from dout (N, F) */
void ref_swiglu_backward(double *dinp, const double *inp, const double *dout, int N, int F);

/* losses (N), lse (N) from logits (N, Vp) (first V used), targets (N); a
 * target < 0 gives loss 0 */
void ref_crossentropy_forward(double *losses, double *lse, const double *logits,
                              const int32_t *targets, int N, int V, int Vp);
/* dlogits (N, Vp) = row_scale[n / T] * (softmax - onehot) for v < V and kept
 * targets, 0 otherwise; dlogits may alias logits */
void ref_crossentropy_backward(double *dlogits, const double *logits, const double *lse,
                               const int32_t *targets, const double *row_scale, int T, int N,
                               int V, int Vp);

/* AdamW on n elements (struct adamw_args; its floats are used as doubles) */
void ref_adamw(double *params, const double *grads, double *m, double *v, size_t n,
               const struct adamw_args *args);
/* sum of x[i]^2 */
double ref_sum_squares(const double *x, size_t n);

#endif
