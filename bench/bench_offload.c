/* bench/bench_offload.c — heft's OpenCL backend against a trainer that only
 * offloads the matrix products, on the same device, in one run.
 *
 * The "offload" trainer is built here from heft's own parts, so the two
 * differ in one thing only: everything except GEMM runs on the CPU backend,
 * and every GEMM copies its operands to the OpenCL device, runs CLBlast there
 * and copies the result back (what llm.c's OpenCL fork does). heft's OpenCL
 * backend keeps the whole step on the device. Both run the same GPT-2 step
 * (bench/step_timer.c); the ratio of their tokens/s is the figure.
 *
 *   bench_offload [--model gpt2] [--vocab 50257] [--batch 4] [--seq 64]
 *                 [--steps 3] [--device 0] [--threads 0]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_internal.h"
#include "bench/step_timer.h"

#ifdef HAVE_OPENCL

/* A backend whose ops are the CPU backend's, except gemm (see above). The
 * struct backend comes first so the ops, given a struct backend *, can reach
 * the rest. */
struct offload {
    struct backend be;
    struct backend_ops ops; /* the CPU backend's table with gemm replaced */
    struct backend *cpu, *ocl;
    dptr a, b, c;           /* device staging for one product's operands */
    size_t cap;             /* floats each staging buffer holds */
};

/* Elements of X spanned by a batch of (rows x cols) row-major views with
 * leading dimension ld, from the first problem's start. */
static size_t span(int rows, int cols, int ld, const struct gemm_batch *g, size_t outer,
                   size_t inner)
{
    size_t one = (size_t)(rows - 1) * ld + cols;
    if (!g)
        return one;
    return (size_t)(g->outer - 1) * outer + (size_t)(g->inner - 1) * inner + one;
}

static void offload_gemm(struct backend *be, int ta, int tb, int m, int n, int k, float alpha,
                         dptr a, int lda, dptr b, int ldb, float beta, dptr c, int ldc,
                         const struct gemm_batch *g)
{
    struct offload *o = (struct offload *)be;
    size_t na = span(ta ? k : m, ta ? m : k, lda, g, g ? g->a_outer : 0, g ? g->a_inner : 0);
    size_t nb = span(tb ? n : k, tb ? k : n, ldb, g, g ? g->b_outer : 0, g ? g->b_inner : 0);
    size_t nc = span(m, n, ldc, g, g ? g->c_outer : 0, g ? g->c_inner : 0);
    if (na > o->cap || nb > o->cap || nc > o->cap) {
        backend_fail(be, "offload staging of %zu floats is too small for a GEMM of %zu", o->cap,
                     na > nb ? (na > nc ? na : nc) : (nb > nc ? nb : nc));
        return;
    }
    /* the CPU backend's buffers are host memory: copy straight from and to them */
    struct backend *ocl = o->ocl;
    ocl->ops->upload(ocl, o->a, cpu_f(a), na * sizeof(float));
    ocl->ops->upload(ocl, o->b, cpu_f(b), nb * sizeof(float));
    if (beta != 0.0f)
        ocl->ops->upload(ocl, o->c, cpu_f(c), nc * sizeof(float));
    ocl->ops->gemm(ocl, ta, tb, m, n, k, alpha, o->a, lda, o->b, ldb, beta, o->c, ldc, g);
    ocl->ops->download(ocl, cpu_f(c), o->c, nc * sizeof(float));
    if (ocl->failed)
        backend_fail(be, "OpenCL: %s", ocl->error);
}

static void offload_destroy(struct backend *be)
{
    struct offload *o = (struct offload *)be;
    backend_release_ptr(o->ocl, o->a);
    backend_release_ptr(o->ocl, o->b);
    backend_release_ptr(o->ocl, o->c);
    o->ocl->ops->destroy(o->ocl);
    o->cpu->ops->destroy(o->cpu);
    free(o);
}

static struct backend *offload_create(int device, int threads, size_t cap, struct herr *err)
{
    struct offload *o = calloc(1, sizeof *o);
    if (!o) {
        herr_set(err, "out of memory");
        return NULL;
    }
    o->cpu = backend_create(&(struct backend_options){ .name = "cpu", .threads = threads }, err);
    o->ocl = o->cpu ? backend_create(&(struct backend_options){ .name = "opencl", .device = device },
                                     err)
                    : NULL;
    if (!o->ocl) {
        if (o->cpu)
            o->cpu->ops->destroy(o->cpu);
        free(o);
        return NULL;
    }
    o->cap = cap;
    o->a = backend_alloc_floats(o->ocl, cap);
    o->b = backend_alloc_floats(o->ocl, cap);
    o->c = backend_alloc_floats(o->ocl, cap);
    o->ops = *o->cpu->ops;
    o->ops.gemm = offload_gemm;
    o->ops.destroy = offload_destroy;
    o->be = *o->cpu; /* CPU ops read their thread count from impl */
    o->be.ops = &o->ops;
    o->be.name = "offload";
    snprintf(o->be.device, sizeof o->be.device, "CPU ops + GEMMs copied to %.200s", o->ocl->device);
    if (backend_check(o->ocl, err)) {
        offload_destroy(&o->be);
        return NULL;
    }
    return &o->be;
}

static int measure(struct backend *be, const struct model_config *cfg, int B, int T, int steps,
                   double *tok_s)
{
    struct herr err;
    struct step_times st;
    if (step_timer_run(be, cfg, B, T, steps, &st, &err)) {
        fprintf(stderr, "bench_offload: %s: %s\n", be->name, err.msg);
        return -1;
    }
    double ms = st.fwd_ms + st.bwd_ms + st.opt_ms;
    *tok_s = B * T / (ms * 1e-3);
    printf("%-8s %10.1f ms/step (fwd %.1f, bwd %.1f, opt %.1f)  %8.2f tokens/s   [%s]\n",
           be->name, ms, st.fwd_ms, st.bwd_ms, st.opt_ms, *tok_s, be->device);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const char *model = "gpt2";
    int vocab = 50257, B = 4, T = 64, steps = 3, device = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            printf("usage: bench_offload [--model gpt2] [--vocab 50257] [--batch 4] [--seq 64]\n"
                   "                     [--steps 3] [--device 0] [--threads 0]\n");
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_offload: %s needs a value\n", argv[i]);
            return 2;
        }
        const char *a = argv[i], *v = argv[++i];
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--vocab")) vocab = atoi(v);
        else if (!strcmp(a, "--batch")) B = atoi(v);
        else if (!strcmp(a, "--seq")) T = atoi(v);
        else if (!strcmp(a, "--steps")) steps = atoi(v);
        else if (!strcmp(a, "--device")) device = atoi(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else {
            fprintf(stderr, "bench_offload: unknown flag %s\n", a);
            return 2;
        }
    }
    struct herr err;
    struct model_config cfg;
    struct model_dims d = { 0 };
    err.msg[0] = '\0';
    int bad = model_config_preset(model, vocab, &cfg, &err);
    if (!bad)
        model_config_dims(&cfg, &d);
    if (bad || B < 1 || T < 1 || T > d.max_seq_len || steps < 1) {
        fprintf(stderr, "bench_offload: bad settings%s%s\n", err.msg[0] ? ": " : "", err.msg);
        return 2;
    }
    /* staging big enough for the largest operand: the LM head's (B*T, Vp)
     * logits, the (Vp, C) embedding, or the MLP's (B*T or C, mlp_width) */
    size_t bt = (size_t)B * T, cap = bt * d.padded_vocab_size;
    if ((size_t)d.padded_vocab_size * d.channels > cap)
        cap = (size_t)d.padded_vocab_size * d.channels;
    size_t widest = (bt > (size_t)d.channels ? bt : (size_t)d.channels) * d.mlp_width;
    if (widest > cap)
        cap = widest;
    printf("%s %s (V=%d), B=%d, T=%d: one step = forward + backward + AdamW, median of %d\n",
           model_config_family(&cfg), model, d.vocab_size, B, T, steps);
    struct backend *ocl = backend_create(&(struct backend_options){ .name = "opencl",
                                                                     .device = device },
                                         &err);
    if (!ocl) {
        fprintf(stderr, "bench_offload: %s\n", err.msg);
        return 1;
    }
    double full = 0, off = 0;
    int rc = measure(ocl, &cfg, B, T, steps, &full);
    ocl->ops->destroy(ocl);
    struct backend *hyb = rc ? NULL : offload_create(device, threads, cap, &err);
    if (!rc && !hyb) {
        fprintf(stderr, "bench_offload: %s\n", err.msg);
        return 1;
    }
    if (!rc)
        rc = measure(hyb, &cfg, B, T, steps, &off);
    if (hyb)
        hyb->ops->destroy(hyb);
    if (rc)
        return 1;
    printf("heft OpenCL / matmul-offload throughput: %.2fx\n", full / off);
    return 0;
}

#else

int main(void)
{
    fprintf(stderr, "bench_offload: this heft is built without OpenCL\n");
    return 1;
}

#endif
