/* bench/bench_step.c — how fast one training step of a GPT-2 runs on a
 * backend, against the GEMM ceiling measured in the same run.
 *
 * A step here is what the trainer does per optimizer step on one rank:
 * forward, per-row loss sums to the host, backward with per-row scales,
 * gradient norm, AdamW. Tokens are random ids (speed does not depend on
 * them). For each sequence length it prints ms/step (median of the timed
 * steps), tokens/s, model FLOPs/s and MFU = model FLOPs/s / measured sgemm
 * rate, plus the split of a step into forward / backward / optimizer.
 *
 *   bench_step [--model gpt2] [--vocab 50257] [--batch 4] [--seq 64,256]
 *              [--steps 5] [--backend cpu] [--threads 0] [--layers N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_backend.h"
#include "core/gemm_rate.h"
#include "core/optim.h"
#include "core/prng.h"
#include "models/gpt2.h"

struct opts {
    const char *model, *backend, *seqs;
    int vocab, batch, steps, threads, layers, device;
};

static int parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ "gpt2", "cpu", "64,256", 50257, 4, 5, 0, 0, 0 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) {
            printf("usage: bench_step [--model gpt2] [--vocab 50257] [--batch 4] [--seq 64,256]\n"
                   "                  [--steps 5] [--backend cpu|opencl] [--device N]\n"
                   "                  [--threads N] [--layers N]\n");
            exit(0);
        }
        if (!v) {
            fprintf(stderr, "bench_step: %s needs a value\n", a);
            return -1;
        }
        if (!strcmp(a, "--model")) o->model = v;
        else if (!strcmp(a, "--backend")) o->backend = v;
        else if (!strcmp(a, "--seq")) o->seqs = v;
        else if (!strcmp(a, "--vocab")) o->vocab = atoi(v);
        else if (!strcmp(a, "--batch")) o->batch = atoi(v);
        else if (!strcmp(a, "--steps")) o->steps = atoi(v);
        else if (!strcmp(a, "--threads")) o->threads = atoi(v);
        else if (!strcmp(a, "--layers")) o->layers = atoi(v);
        else if (!strcmp(a, "--device")) o->device = atoi(v);
        else {
            fprintf(stderr, "bench_step: unknown flag %s\n", a);
            return -1;
        }
        i++;
    }
    if (o->batch < 1 || o->steps < 1 || o->vocab < 2) {
        fprintf(stderr, "bench_step: --batch, --steps must be >= 1 and --vocab >= 2\n");
        return -1;
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times `steps` steps after one warm-up step; fills the median phase times. */
static int run_seq(struct backend *be, const struct gpt2_config *cfg, int B, int T, int steps,
                   double *fwd_ms, double *bwd_ms, double *opt_ms, struct herr *err)
{
    struct gpt2 *m;
    if (gpt2_create(&m, be, cfg, B, T, err))
        return -1;
    size_t P = gpt2_param_count(m);
    float *host = malloc(P * sizeof(float));
    int32_t *in = malloc((size_t)B * T * sizeof(int32_t)), *tg = malloc((size_t)B * T * sizeof(int32_t));
    float *sums = malloc((size_t)B * sizeof(float)), *scale = malloc((size_t)B * sizeof(float));
    double *tf = calloc((size_t)steps, sizeof(double)), *tb = calloc((size_t)steps, sizeof(double));
    double *to = calloc((size_t)steps, sizeof(double));
    int rc = -1;
    struct adamw opt = { 0 };
    if (!host || !in || !tg || !sums || !scale || !tf || !tb || !to) {
        herr_set(err, "out of memory");
        goto done;
    }
    gpt2_init_params(cfg, 1, host);
    if (gpt2_upload_params(m, host, err) || adamw_create(&opt, be, 0, P, err))
        goto done;
    struct prng g;
    prng_seed(&g, 7);
    for (int i = 0; i < B * T; i++) {
        in[i] = (int32_t)prng_below(&g, (uint64_t)cfg->vocab_size);
        tg[i] = (int32_t)prng_below(&g, (uint64_t)cfg->vocab_size);
    }
    for (int b = 0; b < B; b++)
        scale[b] = 1.0f / (float)(B * T);
    struct optim_config oc;
    optim_config_default(&oc);
    struct param_span spans[GPT2_NUM_TENSORS];
    gpt2_param_spans(m, spans);
    for (int s = -1; s < steps; s++) { /* s = -1 warms up (kernel compiles, page faults) */
        double t0 = gemm_rate_clock();
        if (gpt2_forward(m, in, tg, err) || gpt2_row_loss_sums(m, sums, err))
            goto done;
        double t1 = gemm_rate_clock();
        gpt2_zero_grads(m);
        if (gpt2_backward(m, scale, err))
            goto done;
        be->ops->finish(be);
        double t2 = gemm_rate_clock();
        double norm = sqrt(be->ops->sum_squares(be, gpt2_grads(m), P));
        if (adamw_update(&opt, gpt2_params(m), gpt2_grads(m), spans, GPT2_NUM_TENSORS, &oc, 1e-4,
                         optim_clip_scale(norm, 1.0), err))
            goto done;
        be->ops->finish(be);
        double t3 = gemm_rate_clock();
        if (s >= 0) {
            tf[s] = (t1 - t0) * 1e3;
            tb[s] = (t2 - t1) * 1e3;
            to[s] = (t3 - t2) * 1e3;
        }
    }
    qsort(tf, (size_t)steps, sizeof(double), cmp_double);
    qsort(tb, (size_t)steps, sizeof(double), cmp_double);
    qsort(to, (size_t)steps, sizeof(double), cmp_double);
    *fwd_ms = tf[steps / 2];
    *bwd_ms = tb[steps / 2];
    *opt_ms = to[steps / 2];
    rc = 0;
done:
    adamw_destroy(&opt);
    free(host); free(in); free(tg); free(sums); free(scale); free(tf); free(tb); free(to);
    gpt2_destroy(m);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse(argc, argv, &o))
        return 2;
    struct herr err;
    struct gpt2_config cfg;
    if (gpt2_preset(o.model, o.vocab, &cfg, &err)) {
        fprintf(stderr, "bench_step: %s\n", err.msg);
        return 2;
    }
    if (o.layers > 0)
        cfg.num_layers = o.layers;
    struct backend *be = backend_create(&(struct backend_options){ .name = o.backend,
                                                                    .device = o.device,
                                                                    .threads = o.threads },
                                        &err);
    if (!be) {
        fprintf(stderr, "bench_step: %s\n", err.msg);
        return 1;
    }
    int C = cfg.channels;
    /* the ceilings, measured now on this backend: a square sgemm and the
     * model's own largest product (the LM head at the first sequence length) */
    double peak_sq = gemm_rate_measure(be, 1024, 3);
    printf("backend %s: %s\n", be->name, be->device);
    if (!strcmp(be->name, "cpu"))
        printf("OpenBLAS core: %s%s\n", cpu_blas_core(),
               cpu_blas_core_is_fallback() ? " (generic fallback: set OPENBLAS_CORETYPE)" : "");
    printf("sgemm 1024x1024x1024: %.1f GFLOP/s (the MFU ceiling)\n", peak_sq);
    printf("model %s: L=%d C=%d NH=%d V=%d (padded %d), %zu parameters; B=%d, %d timed steps\n\n",
           o.model, cfg.num_layers, C, cfg.num_heads, cfg.vocab_size, cfg.padded_vocab_size,
           gpt2_num_params(&cfg), o.batch, o.steps);
    printf("%6s %10s %10s %9s %9s %9s %12s %8s %14s\n", "T", "ms/step", "tokens/s", "fwd ms",
           "bwd ms", "opt ms", "model GF/s", "MFU", "LM-head GF/s");
    char seqs[256];
    snprintf(seqs, sizeof seqs, "%s", o.seqs);
    for (char *tok = strtok(seqs, ","); tok; tok = strtok(NULL, ",")) {
        int T = atoi(tok);
        if (T < 1 || T > cfg.max_seq_len) {
            fprintf(stderr, "bench_step: --seq %d out of range [1, %d]\n", T, cfg.max_seq_len);
            return 2;
        }
        double head = gemm_rate_measure_shape(be, o.batch * T, cfg.padded_vocab_size, C, 2);
        double f, b, op;
        if (run_seq(be, &cfg, o.batch, T, o.steps, &f, &b, &op, &err)) {
            fprintf(stderr, "bench_step: T=%d: %s\n", T, err.msg);
            return 1;
        }
        double ms = f + b + op, flops = gpt2_flops_per_step(&cfg, o.batch, T);
        double gfs = flops / (ms * 1e-3) / 1e9;
        printf("%6d %10.1f %10.1f %9.1f %9.1f %9.1f %12.1f %7.1f%% %14.1f\n", T, ms,
               o.batch * T / (ms * 1e-3), f, b, op, gfs, 100.0 * gfs / peak_sq, head);
    }
    be->ops->destroy(be);
    return 0;
}
