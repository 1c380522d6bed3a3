/* bench/bench_ops.c — every backend op, timed on each backend built in, at the
 * shapes of one GPT-2 layer (default: GPT-2 124M, B=4, T=64), in one run; the
 * LLaMA family's ops at the same sizes (SwiGLU with F = 2C, RoPE on q and k).
 *
 * Each op runs once untimed (OpenCL compiles kernels, CLBlast its GEMM
 * kernels), then `reps` times; the median is printed per backend, with the
 * OpenCL/CPU ratio and each backend's square-sgemm rate measured in the same
 * run as the ceiling. Inputs are filled with small values so that no op sees
 * NaN or overflow (speed does not depend on the values otherwise).
 *
 *   bench_ops [--batch 4] [--seq 64] [--channels 768] [--heads 12]
 *             [--vocab 50257] [--reps 5] [--threads 0] [--device 0]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm_rate.h"

enum { MAX_BACKENDS = 2, MAX_OPS = 32 };

struct shape {
    int B, T, C, NH, V, Vp;
};

/* The tensors one layer's ops read and write, carved from one buffer. */
struct tensors {
    dptr x, y, big, big2, qkv, att, w, w4, bias, mean, rstd, logits, lse, losses, tokens,
        targets, scale, freqs, params, grads, m, v;
    size_t nparams;
};

static size_t carve(struct tensors *t, const struct shape *s, dptr base)
{
    size_t BT = (size_t)s->B * s->T, C = (size_t)s->C, off = 0;
    size_t TT = (size_t)s->T * s->T;
    dptr *slots[] = { &t->x, &t->y, &t->big, &t->big2, &t->qkv, &t->att, &t->w, &t->w4,
                      &t->bias, &t->mean, &t->rstd, &t->logits, &t->lse, &t->losses,
                      &t->tokens, &t->targets, &t->scale, &t->freqs, &t->params, &t->grads,
                      &t->m, &t->v };
    size_t sizes[] = { BT * C, BT * C, BT * 4 * C, BT * 4 * C, BT * 3 * C,
                       (size_t)s->B * s->NH * TT, 4 * C * C, 4 * C * C, 4 * C, BT, BT,
                       BT * (size_t)s->Vp, BT, BT, BT, BT, (size_t)s->B,
                       (size_t)s->T * (C / (size_t)s->NH), t->nparams, t->nparams, t->nparams,
                       t->nparams };
    for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++) {
        *slots[i] = dptr_at(base, off);
        off += sizes[i];
    }
    return off;
}

struct op_timer {
    const char *name;
    double ms[MAX_BACKENDS];
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Runs one op reps+1 times (the first untimed) and returns the median ms. */
#define TIME_OP(result, be, reps, call)                                                  \
    do {                                                                                 \
        double samples_[64];                                                             \
        int n_ = (reps) < 64 ? (reps) : 64;                                              \
        for (int r_ = -1; r_ < n_; r_++) {                                               \
            double t0_ = gemm_rate_clock();                                              \
            call;                                                                        \
            (be)->ops->finish(be);                                                       \
            if (r_ >= 0)                                                                 \
                samples_[r_] = (gemm_rate_clock() - t0_) * 1e3;                          \
        }                                                                                \
        qsort(samples_, (size_t)n_, sizeof(double), cmp_double);                        \
        (result) = samples_[n_ / 2];                                                     \
    } while (0)

static int bench_backend(struct backend *be, const struct shape *s, int reps, int col,
                         struct op_timer *ops, int *nops)
{
    struct tensors t = { .nparams = (size_t)124475904 };
    dptr base = { NULL, 0 };
    size_t total = carve(&t, s, base);
    base = backend_alloc_floats(be, total);
    if (be->failed)
        return -1;
    carve(&t, s, base);
    const struct backend_ops *op = be->ops;
    op->fill(be, base, 0.01f, total);
    /* token ids and targets must be valid integers, and row scales finite */
    int BT = s->B * s->T, C = s->C, NH = s->NH, T = s->T, hs = C / NH;
    int32_t *ids = malloc((size_t)BT * sizeof *ids);
    for (int i = 0; i < BT; i++)
        ids[i] = (i * 7919) % s->V;
    op->upload(be, t.tokens, ids, (size_t)BT * sizeof *ids);
    op->upload(be, t.targets, ids, (size_t)BT * sizeof *ids);
    free(ids);
    struct gemm_batch qk = { s->B, NH, (size_t)T * 3 * C, (size_t)hs, (size_t)T * 3 * C,
                             (size_t)hs, (size_t)NH * T * T, (size_t)T * T };
    struct adamw_args aw = { 1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f, 0.1f, 0.05f };
    double ms;
    int k = 0;
#define RECORD(label, call)                                                              \
    do {                                                                                 \
        TIME_OP(ms, be, reps, call);                                                     \
        ops[k].name = label;                                                             \
        ops[k++].ms[col] = ms;                                                           \
    } while (0)
    RECORD("gemm qkv (BT,3C,C)", op->gemm(be, 0, 1, BT, 3 * C, C, 1.0f, t.x, C, t.w, C, 0.0f,
                                          t.qkv, 3 * C, NULL));
    RECORD("gemm fc (BT,4C,C)", op->gemm(be, 0, 1, BT, 4 * C, C, 1.0f, t.x, C, t.w, C, 0.0f,
                                         t.big, 4 * C, NULL));
    RECORD("gemm dW fc (4C,C,BT)", op->gemm(be, 1, 0, 4 * C, C, BT, 1.0f, t.big, 4 * C, t.x, C,
                                            1.0f, t.w4, C, NULL));
    RECORD("gemm LM head (BT,Vp,C)", op->gemm(be, 0, 1, BT, s->Vp, C, 1.0f, t.x, C, t.params, C,
                                              0.0f, t.logits, s->Vp, NULL));
    RECORD("gemm attention QK^T", op->gemm(be, 0, 1, T, T, hs, 0.125f, t.qkv, 3 * C,
                                           dptr_at(t.qkv, (size_t)C), 3 * C, 0.0f, t.att, T, &qk));
    RECORD("add_bias (BT,4C)", op->add_bias(be, t.big, t.bias, BT, 4 * C));
    RECORD("col_sums (BT,4C)", op->col_sums(be, t.bias, t.big, BT, 4 * C));
    RECORD("row_sums (B,T)", op->row_sums(be, t.scale, t.losses, s->B, T));
    RECORD("encoder_forward", op->encoder_forward(be, t.x, t.tokens, t.params, t.w, s->B, T, C));
    RECORD("encoder_backward", op->encoder_backward(be, t.grads, t.w, t.x, t.tokens, s->B, T, C));
    RECORD("layernorm_forward", op->layernorm_forward(be, t.y, t.mean, t.rstd, t.x, t.bias,
                                                      t.bias, BT, C));
    RECORD("layernorm_backward", op->layernorm_backward(be, t.y, t.w, t.w4, t.x, t.x, t.bias,
                                                        t.mean, t.rstd, BT, C));
    RECORD("gelu_forward (BT,4C)", op->gelu_forward(be, t.big2, t.big, (size_t)BT * 4 * C));
    RECORD("gelu_backward (BT,4C)", op->gelu_backward(be, t.big2, t.big, t.big2,
                                                      (size_t)BT * 4 * C));
    RECORD("softmax_causal_forward", op->softmax_causal_forward(be, t.att, t.att, s->B * NH, T));
    RECORD("softmax_causal_backward", op->softmax_causal_backward(be, t.att, t.att, t.att,
                                                                  s->B * NH, T));
    RECORD("embedding_forward", op->embedding_forward(be, t.x, t.tokens, t.params, BT, C));
    RECORD("embedding_backward", op->embedding_backward(be, t.grads, t.x, t.tokens, BT, C));
    RECORD("rmsnorm_forward", op->rmsnorm_forward(be, t.y, t.rstd, t.x, t.bias, BT, C, 1e-5f));
    RECORD("rmsnorm_backward", op->rmsnorm_backward(be, t.y, t.w, t.x, t.x, t.bias, t.rstd, BT,
                                                    C));
    RECORD("rope_forward (q, k)",
           (op->rope_forward(be, t.qkv, t.freqs, s->B, T, NH, hs, 3 * C),
            op->rope_forward(be, dptr_at(t.qkv, (size_t)C), t.freqs, s->B, T, NH, hs, 3 * C)));
    RECORD("rope_backward (q, k)",
           (op->rope_backward(be, t.qkv, t.freqs, s->B, T, NH, hs, 3 * C),
            op->rope_backward(be, dptr_at(t.qkv, (size_t)C), t.freqs, s->B, T, NH, hs, 3 * C)));
    RECORD("swiglu_forward (BT,2C)", op->swiglu_forward(be, t.big2, t.big, BT, 2 * C));
    RECORD("swiglu_backward (BT,2C)", op->swiglu_backward(be, t.big2, t.big, t.qkv, BT, 2 * C));
    op->fill(be, t.scale, 1.0f / (float)BT, (size_t)s->B);
    RECORD("crossentropy_forward", op->crossentropy_forward(be, t.losses, t.lse, t.logits,
                                                            t.targets, BT, s->V, s->Vp));
    RECORD("crossentropy_backward", op->crossentropy_backward(be, t.logits, t.logits, t.lse,
                                                              t.targets, t.scale, T, BT, s->V,
                                                              s->Vp));
    RECORD("adamw (124M)", op->adamw(be, t.params, t.grads, t.m, t.v, t.nparams, &aw));
    volatile double sink = 0;
    RECORD("sum_squares (124M)", sink += op->sum_squares(be, t.grads, t.nparams));
    (void)sink;
#undef RECORD
    *nops = k;
    backend_release_ptr(be, base);
    return be->failed ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct shape s = { 4, 64, 768, 12, 50257, 50304 };
    int reps = 5, threads = 0, device = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            printf("usage: bench_ops [--batch 4] [--seq 64] [--channels 768] [--heads 12]\n"
                   "                 [--vocab 50257] [--reps 5] [--threads 0] [--device 0]\n");
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_ops: %s needs a value\n", argv[i]);
            return 2;
        }
        const char *a = argv[i];
        int v = atoi(argv[++i]);
        if (!strcmp(a, "--batch")) s.B = v;
        else if (!strcmp(a, "--seq")) s.T = v;
        else if (!strcmp(a, "--channels")) s.C = v;
        else if (!strcmp(a, "--heads")) s.NH = v;
        else if (!strcmp(a, "--vocab")) s.V = v;
        else if (!strcmp(a, "--reps")) reps = v;
        else if (!strcmp(a, "--threads")) threads = v;
        else if (!strcmp(a, "--device")) device = v;
        else {
            fprintf(stderr, "bench_ops: unknown flag %s\n", a);
            return 2;
        }
    }
    if (s.B < 1 || s.T < 1 || s.C < 1 || s.NH < 1 || s.C % s.NH || (s.C / s.NH) % 2 ||
        s.V < 2 || reps < 1) {
        fprintf(stderr, "bench_ops: bad sizes (need positive values, channels divisible by heads, "
                        "an even head size for RoPE)\n");
        return 2;
    }
    s.Vp = (s.V + 127) / 128 * 128;
    const char *names[MAX_BACKENDS] = { "cpu", "opencl" };
    struct op_timer ops[MAX_OPS];
    memset(ops, 0, sizeof ops);
    double peak[MAX_BACKENDS] = { 0 };
    int have[MAX_BACKENDS] = { 0 }, nops = 0;
    printf("GPT-2 layer shapes: B=%d T=%d C=%d NH=%d V=%d (Vp %d); median of %d runs after a warm-up\n",
           s.B, s.T, s.C, s.NH, s.V, s.Vp, reps);
    for (int b = 0; b < MAX_BACKENDS; b++) {
        struct herr err;
        struct backend *be = backend_create(&(struct backend_options){ .name = names[b],
                                                                        .threads = threads,
                                                                        .device = device },
                                            &err);
        if (!be) {
            printf("%s: not measured (%s)\n", names[b], err.msg);
            continue;
        }
        peak[b] = gemm_rate_measure(be, 1024, 3);
        printf("%s: %s; sgemm 1024^3 %.1f GFLOP/s\n", names[b], be->device, peak[b]);
        if (bench_backend(be, &s, reps, b, ops, &nops)) {
            struct herr e2;
            backend_check(be, &e2);
            printf("%s: failed: %s\n", names[b], e2.msg);
        } else {
            have[b] = 1;
        }
        be->ops->destroy(be);
    }
    printf("\n%-26s %12s %12s %10s\n", "op", "cpu ms", "opencl ms", "ocl/cpu");
    for (int i = 0; i < nops; i++) {
        printf("%-26s", ops[i].name);
        for (int b = 0; b < MAX_BACKENDS; b++)
            if (have[b])
                printf(" %12.3f", ops[i].ms[b]);
            else
                printf(" %12s", "-");
        if (have[0] && have[1])
            printf(" %10.2f", ops[i].ms[1] / ops[i].ms[0]);
        printf("\n");
    }
    return 0;
}
