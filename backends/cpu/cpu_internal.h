/* backends/cpu/cpu_internal.h — what the CPU backend's files share: its buffer
 * type, its private state, and typed access to a dptr. */
#ifndef HEFT_CPU_INTERNAL_H
#define HEFT_CPU_INTERNAL_H

#include <stdint.h>

#include "backends/backend.h"

/* Host memory, 64-byte aligned so vector loads never split cache lines. */
struct dev_buffer {
    size_t bytes;
    void *data;
};

struct cpu_impl {
    int threads; /* OpenMP threads for heft's own loops (>= 1) */
};

/* Column block width for reductions over rows (bias, norm-gain and embedding
 * gradients), which are split by columns so that each sum keeps its row
 * order: wide enough to stream a row's chunk with vector loads, narrow
 * enough to give every thread work. */
enum { COL_BLOCK = 64 };

static inline float *cpu_f(dptr p) { return (float *)p.buf->data + p.off; }
static inline int32_t *cpu_i(dptr p) { return (int32_t *)p.buf->data + p.off; }
static inline int cpu_threads(const struct backend *be)
{
    return ((const struct cpu_impl *)be->impl)->threads;
}

/* Op implementations, one file per family. */
void cpu_gemm(struct backend *be, int trans_a, int trans_b, int m, int n, int k, float alpha,
              dptr a, int lda, dptr b, int ldb, float beta, dptr c, int ldc,
              const struct gemm_batch *batch);
void cpu_add_bias(struct backend *be, dptr out, dptr bias, int N, int OC);
void cpu_col_sums(struct backend *be, dptr out, dptr in, int N, int OC);
void cpu_row_sums(struct backend *be, dptr out, dptr in, int R, int K);
void cpu_encoder_forward(struct backend *be, dptr out, dptr tokens, dptr wte, dptr wpe,
                         int B, int T, int C);
void cpu_encoder_backward(struct backend *be, dptr dwte, dptr dwpe, dptr dout, dptr tokens,
                          int B, int T, int C);
void cpu_layernorm_forward(struct backend *be, dptr out, dptr mean, dptr rstd, dptr inp,
                           dptr w, dptr b, int N, int C);
void cpu_layernorm_backward(struct backend *be, dptr dinp, dptr dw, dptr db, dptr dout,
                            dptr inp, dptr w, dptr mean, dptr rstd, int N, int C);
void cpu_gelu_forward(struct backend *be, dptr out, dptr inp, size_t n);
void cpu_gelu_backward(struct backend *be, dptr dinp, dptr inp, dptr dout, size_t n);
void cpu_softmax_causal_forward(struct backend *be, dptr att, dptr pre, int R, int T);
void cpu_softmax_causal_backward(struct backend *be, dptr dpre, dptr datt, dptr att, int R,
                                 int T);
void cpu_softmax_rows_forward(struct backend *be, dptr out, dptr inp, int R, int n, int ld);
void cpu_embedding_forward(struct backend *be, dptr out, dptr tokens, dptr wte, int N, int C);
void cpu_embedding_backward(struct backend *be, dptr dwte, dptr dout, dptr tokens, int N, int C);
void cpu_rmsnorm_forward(struct backend *be, dptr out, dptr rstd, dptr inp, dptr w, int N, int C,
                         float eps);
void cpu_rmsnorm_backward(struct backend *be, dptr dinp, dptr dw, dptr dout, dptr inp, dptr w,
                          dptr rstd, int N, int C);
void cpu_rope_forward(struct backend *be, dptr x, dptr freqs, int B, int T, int nh, int hs,
                      int ld);
void cpu_rope_backward(struct backend *be, dptr dx, dptr freqs, int B, int T, int nh, int hs,
                       int ld);
void cpu_swiglu_forward(struct backend *be, dptr out, dptr inp, int N, int F);
void cpu_swiglu_backward(struct backend *be, dptr dinp, dptr inp, dptr dout, int N, int F);
void cpu_crossentropy_forward(struct backend *be, dptr losses, dptr lse, dptr logits,
                              dptr targets, int N, int V, int Vp);
void cpu_crossentropy_backward(struct backend *be, dptr dlogits, dptr logits, dptr lse,
                               dptr targets, dptr row_scale, int T, int N, int V, int Vp);
void cpu_adamw(struct backend *be, dptr params, dptr grads, dptr m, dptr v, size_t n,
               const struct adamw_args *args);
double cpu_sum_squares(struct backend *be, dptr x, size_t n);

#endif
