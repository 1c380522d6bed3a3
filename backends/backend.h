/* backends/backend.h — the one interface every compute backend implements.
 *
 * A backend owns device memory and runs the ops a model is written in. Models
 * (models/) and the trainer (core/) see nothing but this header, so the same
 * training step runs on the CPU (backends/cpu, OpenMP + OpenBLAS, the reference
 * for every op) or on an OpenCL device (backends/opencl, own kernels + CLBlast).
 *
 * Conventions
 *  - All tensors are float32 except token/target ids, which are int32. Both are
 *    4 bytes, so a position in a buffer is counted in 4-byte elements.
 *  - Tensors are row-major; the shape comment on each argument, e.g. (N, C),
 *    lists dimensions from slowest to fastest varying.
 *  - Ops are enqueued and may run asynchronously; `download`, `sum_squares` and
 *    `finish` wait for all earlier work.
 *  - Errors are sticky: the first failing call records a message in be->error
 *    and sets be->failed; later calls become no-ops. Callers check
 *    backend_check() at natural sync points (after a forward, a backward, a
 *    step), so model code reads as straight-line math.
 *  - "=" in an op's comment means the output is overwritten, "+=" that the op
 *    accumulates into it (weight gradients and the residual-stream gradient
 *    accumulate; everything else overwrites).
 *  - Every op is deterministic for a given backend, device and thread count:
 *    reductions have a fixed order. Bit-exact resume depends on it.
 */
#ifndef HEFT_BACKEND_H
#define HEFT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct dev_buffer; /* opaque; defined by each backend */
struct backend;

/* A position in a device buffer: the buffer plus an offset in 4-byte elements.
 * One allocation is carved into many named tensors by offsetting. */
typedef struct {
    struct dev_buffer *buf;
    size_t off;
} dptr;

static inline dptr dptr_at(dptr p, size_t n_elements)
{
    p.off += n_elements;
    return p;
}

/* A batch of equally shaped GEMMs laid out on a two-level grid. Problem i in
 * [0, outer*inner) has o = i / inner and j = i % inner, and each operand X
 * starts at X + o*x_outer + j*x_inner (in elements). Attention uses it with
 * o = batch row and j = head, reading Q, K and V in place from the (B, T, 3C)
 * qkv tensor without a permutation. */
struct gemm_batch {
    int outer, inner;
    size_t a_outer, a_inner;
    size_t b_outer, b_inner;
    size_t c_outer, c_inner;
};

/* Arguments of one AdamW update (PyTorch's torch.optim.AdamW semantics):
 *   g = grad * grad_scale                    (grad_scale folds in clipping)
 *   p = p * (1 - lr * weight_decay)
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g * g
 *   p = p - lr * (m / bias_correction1) / (sqrt(v / bias_correction2) + eps)
 * with bias_correction{1,2} = 1 - beta{1,2}^t computed by the caller. */
struct adamw_args {
    float lr, beta1, beta2, eps, weight_decay, grad_scale;
    float bias_correction1, bias_correction2;
};

struct backend_ops {
    /* ---- memory and control ---------------------------------------------- */
    /* Allocates `bytes` of device memory; NULL and an error when it cannot. */
    struct dev_buffer *(*alloc)(struct backend *be, size_t bytes);
    void (*release)(struct backend *be, struct dev_buffer *buf);
    void (*upload)(struct backend *be, dptr dst, const void *src, size_t bytes);
    /* Blocking: returns when dst holds the data. */
    void (*download)(struct backend *be, void *dst, dptr src, size_t bytes);
    /* dst[0..n) = value */
    void (*fill)(struct backend *be, dptr dst, float value, size_t n);
    /* dst[0..n) = src[0..n); the ranges must not overlap. */
    void (*copy)(struct backend *be, dptr dst, dptr src, size_t n);
    /* Waits until all enqueued work has completed. */
    void (*finish)(struct backend *be);
    /* Frees everything the backend owns, including `be` itself. */
    void (*destroy)(struct backend *be);

    /* ---- linear algebra --------------------------------------------------- */
    /* C = alpha * op(A) * op(B) + beta * C, row-major; op(A) is (m, k), op(B)
     * is (k, n), C is (m, n); trans_x != 0 means op(X) = X^T. `batch` may be
     * NULL for a single product. With beta == 0, C is never read (as in BLAS):
     * it may hold garbage or NaN, e.g. an activation never written before. */
    void (*gemm)(struct backend *be, int trans_a, int trans_b, int m, int n, int k,
                 float alpha, dptr a, int lda, dptr b, int ldb, float beta, dptr c,
                 int ldc, const struct gemm_batch *batch);
    /* out (N, OC) += bias (OC) broadcast over rows */
    void (*add_bias)(struct backend *be, dptr out, dptr bias, int N, int OC);
    /* out (OC) += sum over rows of in (N, OC)        (bias gradient) */
    void (*col_sums)(struct backend *be, dptr out, dptr in, int N, int OC);
    /* out (R) = sum over columns of in (R, K)        (per-sample loss sums) */
    void (*row_sums)(struct backend *be, dptr out, dptr in, int R, int K);

    /* ---- transformer layers ----------------------------------------------- */
    /* out (B, T, C) = wte[tokens[b, t]] + wpe[t]; tokens (B, T) int32,
     * wte (V, C), wpe (maxT, C). Ids are validated by the caller. */
    void (*encoder_forward)(struct backend *be, dptr out, dptr tokens, dptr wte,
                            dptr wpe, int B, int T, int C);
    /* dwte (V, C) +=, dwpe (maxT, C) += from dout (B, T, C) */
    void (*encoder_backward)(struct backend *be, dptr dwte, dptr dwpe, dptr dout,
                             dptr tokens, int B, int T, int C);
    /* out (N, C) = (inp - mean) * rstd * w + b; also stores mean (N), rstd (N).
     * eps = 1e-5 as in GPT-2. */
    void (*layernorm_forward)(struct backend *be, dptr out, dptr mean, dptr rstd,
                              dptr inp, dptr w, dptr b, int N, int C);
    /* dinp (N, C) +=, dw (C) +=, db (C) += from dout (N, C) */
    void (*layernorm_backward)(struct backend *be, dptr dinp, dptr dw, dptr db,
                               dptr dout, dptr inp, dptr w, dptr mean, dptr rstd,
                               int N, int C);
    /* out (n) = GELU(inp), tanh approximation (GPT-2's). out may alias inp. */
    void (*gelu_forward)(struct backend *be, dptr out, dptr inp, size_t n);
    /* dinp (n) = GELU'(inp) * dout. dinp may alias dout. */
    void (*gelu_backward)(struct backend *be, dptr dinp, dptr inp, dptr dout, size_t n);
    /* att (R, T, T) = causal softmax over the last axis of pre (R, T, T):
     * row i keeps columns j <= i, columns j > i become 0. att may alias pre. */
    void (*softmax_causal_forward)(struct backend *be, dptr att, dptr pre, int R, int T);
    /* dpre (R, T, T) = att * (datt - sum_j att * datt) row-wise, 0 above the
     * diagonal. dpre may alias datt. */
    void (*softmax_causal_backward)(struct backend *be, dptr dpre, dptr datt, dptr att,
                                    int R, int T);
    /* out (R, n) = softmax over each row of inp (R, n), all n columns kept (one
     * query's scores over the n keys of a KV cache); rows are ld floats apart
     * in both, columns n..ld-1 are not touched. out may alias inp. */
    void (*softmax_rows_forward)(struct backend *be, dptr out, dptr inp, int R, int n, int ld);

    /* ---- LLaMA-family layers ---------------------------------------------- */
    /* out (N, C) = wte[tokens[n]]: a token embedding without positions;
     * tokens (N) int32, wte (V, C). Ids are validated by the caller. */
    void (*embedding_forward)(struct backend *be, dptr out, dptr tokens, dptr wte, int N, int C);
    /* dwte (V, C) += rows of dout (N, C) at tokens[n] (fixed order per row) */
    void (*embedding_backward)(struct backend *be, dptr dwte, dptr dout, dptr tokens, int N,
                               int C);
    /* out (N, C) = inp * rstd * w with rstd = 1 / sqrt(mean_c(inp^2) + eps);
     * also stores rstd (N). eps is the model's (LLaMA: 1e-5, some 1e-6). */
    void (*rmsnorm_forward)(struct backend *be, dptr out, dptr rstd, dptr inp, dptr w, int N,
                            int C, float eps);
    /* dinp (N, C) +=, dw (C) += from dout (N, C) */
    void (*rmsnorm_backward)(struct backend *be, dptr dinp, dptr dw, dptr dout, dptr inp,
                             dptr w, dptr rstd, int N, int C);
    /* Rotary position embedding, in place. x holds B*T rows of ld floats; head
     * h (0 <= h < nh) of row (b, t) is the hs floats at column h*hs. Each pair
     * (i, i + hs/2), i < hs/2, is rotated by the angle of position t and
     * frequency i (Hugging Face's rotate_half layout, not adjacent pairs):
     *   x'[i]      = x[i] cos - x[i + hs/2] sin
     *   x'[i+hs/2] = x[i] sin + x[i + hs/2] cos
     * with (cos, sin) = freqs[t, i, 0..1]; freqs (T, hs/2, 2) is built once by
     * the model from theta (models/nn/rope_table), so every backend rotates by
     * the same float32 values. hs is even. */
    void (*rope_forward)(struct backend *be, dptr x, dptr freqs, int B, int T, int nh, int hs,
                         int ld);
    /* The transpose of rope_forward (rotation by -angle), in place on dx. */
    void (*rope_backward)(struct backend *be, dptr dx, dptr freqs, int B, int T, int nh, int hs,
                          int ld);
    /* out (N, F) = silu(g) * u, silu(g) = g / (1 + exp(-g)), where inp (N, 2F)
     * holds g = inp[:, 0:F] and u = inp[:, F:2F] (LLaMA's w1 and w3 products,
     * computed by one GEMM). */
    void (*swiglu_forward)(struct backend *be, dptr out, dptr inp, int N, int F);
    /* dinp (N, 2F) = gradients of g and u from dout (N, F) */
    void (*swiglu_backward)(struct backend *be, dptr dinp, dptr inp, dptr dout, int N, int F);

    /* ---- loss ------------------------------------------------------------- */
    /* Per-token cross-entropy of the first V of Vp logits per row:
     * lse (N) = log sum_v<V exp(logits), losses (N) = lse - logits[target].
     * targets (N) int32; a target < 0 is ignored: loss 0. */
    void (*crossentropy_forward)(struct backend *be, dptr losses, dptr lse, dptr logits,
                                 dptr targets, int N, int V, int Vp);
    /* dlogits (N, Vp) = scale_n * (softmax(logits) - onehot(target)) for v < V,
     * 0 for V <= v < Vp, where scale_n = row_scale[n / T] (row_scale has N/T
     * entries) for a kept target and 0 for an ignored one. This per-token scale
     * is where loss reweighting enters the backward. dlogits may alias logits. */
    void (*crossentropy_backward)(struct backend *be, dptr dlogits, dptr logits, dptr lse,
                                  dptr targets, dptr row_scale, int T, int N, int V,
                                  int Vp);

    /* ---- optimizer -------------------------------------------------------- */
    /* AdamW on n elements; see struct adamw_args. */
    void (*adamw)(struct backend *be, dptr params, dptr grads, dptr m, dptr v, size_t n,
                  const struct adamw_args *args);
    /* Blocking: returns sum of x[i]^2 over n elements (gradient norm). */
    double (*sum_squares)(struct backend *be, dptr x, size_t n);
};

/* The list of compute ops, for tests that must cover every op of the interface
 * (the parity suite fails when an op has no test or a backend lacks it). */
#define BACKEND_COMPUTE_OPS(X)                                                       \
    X(fill) X(copy) X(gemm) X(add_bias) X(col_sums) X(row_sums) X(encoder_forward)   \
    X(encoder_backward) X(layernorm_forward) X(layernorm_backward) X(gelu_forward)   \
    X(gelu_backward) X(softmax_causal_forward) X(softmax_causal_backward)            \
    X(softmax_rows_forward)                                                          \
    X(embedding_forward) X(embedding_backward) X(rmsnorm_forward) X(rmsnorm_backward) \
    X(rope_forward) X(rope_backward) X(swiglu_forward) X(swiglu_backward)            \
    X(crossentropy_forward) X(crossentropy_backward) X(adamw) X(sum_squares)

struct backend {
    const struct backend_ops *ops;
    const char *name;     /* "cpu" or "opencl" */
    char device[256];     /* what runs the ops, for logs: CPU model and BLAS core,
                             or OpenCL platform/device */
    int failed;           /* sticky error flag */
    char error[512];      /* first error message */
    void *impl;           /* backend-private state */
    /* 1 when `upload` and `download` may run on a second thread while this
     * thread's ops run, on memory those ops do not touch (ZeRO-3's prefetch,
     * core/train_prefetch.c). The second thread only reads the sticky error
     * state on the way (it never calls backend_check): a failure on either
     * thread is found by the first thread's next check, after it has waited
     * for the second. */
    int concurrent_transfers;
    /* host threads the ops keep busy (CPU: its OpenMP/BLAS threads; 0 when
     * the work runs on a device): whether a core is left for a communication
     * thread (--zero-prefetch auto) */
    int host_threads;
};

/* What to create. */
struct backend_options {
    const char *name;      /* "cpu" or "opencl" */
    int device;            /* OpenCL: global device index as listed by `heft devices` */
    int threads;           /* CPU: OpenMP/BLAS threads; 0 = leave the default */
    const char *cache_dir; /* OpenCL: program binary cache; NULL = default */
    int verbose;           /* print set-up details (kernel compile, cache hits) */
};

/* Creates the backend named in opts; NULL with a message in err when the
 * backend is not built in, or no device can be opened. */
struct backend *backend_create(const struct backend_options *opts, struct herr *err);

/* Names of the backends compiled into this binary, e.g. "cpu opencl". */
const char *backend_available(void);

/* Records the first error (printf-style) and marks the backend failed. */
void backend_fail(struct backend *be, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* 0 if the backend is healthy; otherwise copies its error into err (naming the
 * backend) and returns -1. */
int backend_check(struct backend *be, struct herr *err);

/* Helpers that allocate a buffer and return a dptr to its start. */
dptr backend_alloc_floats(struct backend *be, size_t n);
/* The same, for one of a run's large buffers: when it cannot be had, the
 * backend's error starts with `what` ("AdamW moments m: a buffer of 12.5
 * GiB ..."), so the message says which buffer failed, not only its size. */
dptr backend_alloc_named(struct backend *be, size_t n, const char *what);
void backend_release_ptr(struct backend *be, dptr p);

#endif
