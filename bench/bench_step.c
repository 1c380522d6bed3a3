/* bench/bench_step.c — how fast one training step of a model runs on a
 * backend, against the GEMM ceiling measured in the same run.
 *
 * A step here is what the trainer does per optimizer step on one rank:
 * forward, per-row loss sums to the host, backward with per-row scales,
 * gradient norm, AdamW. Tokens are random ids (speed does not depend on
 * them). For each model and sequence length it prints ms/step (median of
 * the timed steps), tokens/s, model FLOPs/s and MFU = model FLOPs/s /
 * measured sgemm rate, the split of a step into forward / backward /
 * optimizer, and the share of the step spent in the family's elementwise
 * layer ops (LayerNorm + GELU, or RMSNorm + RoPE + SwiGLU), timed alone at
 * the model's shapes. Several models in one run (--model gpt2,llama-120m)
 * give ratios taken on the same machine state.
 *
 *   bench_step [--model gpt2[,llama-120m]] [--vocab 50257] [--batch 4]
 *              [--seq 64,256] [--steps 5] [--backend cpu] [--threads 0]
 *              [--layers N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/layer_ops.h"
#include "bench/step_timer.h"
#include "core/gemm_rate.h"

struct opts {
    const char *models, *backend, *seqs;
    int vocab, batch, steps, threads, layers, device;
};

static int parse(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ "gpt2", "cpu", "64,256", 50257, 4, 5, 0, 0, 0 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help")) {
            printf("usage: bench_step [--model gpt2[,llama-120m,...]] [--vocab 50257] [--batch 4]\n"
                   "                  [--seq 64,256] [--steps 5] [--backend cpu|opencl]\n"
                   "                  [--device N] [--threads N] [--layers N]\n");
            exit(0);
        }
        if (!v) {
            fprintf(stderr, "bench_step: %s needs a value\n", a);
            return -1;
        }
        if (!strcmp(a, "--model")) o->models = v;
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

/* One model: a line per sequence length. */
static int bench_model(struct backend *be, const char *name, const struct opts *o,
                       double peak_sq)
{
    struct herr err;
    struct model_config cfg;
    struct model_overrides ov = { .layers = o->layers > 0 ? o->layers : 0 };
    if (model_config_preset(name, o->vocab, &cfg, &err) ||
        model_config_override(&cfg, &ov, &err)) {
        fprintf(stderr, "bench_step: %s\n", err.msg);
        return 2;
    }
    struct model_dims d;
    model_config_dims(&cfg, &d);
    char shape[256];
    model_config_describe(&cfg, shape, sizeof shape);
    printf("model %s (%s): %s, %zu parameters; B=%d, %d timed steps\n", name,
           model_config_family(&cfg), shape, model_config_num_params(&cfg), o->batch, o->steps);
    printf("%6s %10s %10s %9s %9s %9s %12s %8s %14s %16s\n", "T", "ms/step", "tokens/s",
           "fwd ms", "bwd ms", "opt ms", "model GF/s", "MFU", "LM-head GF/s", "layer ops ms (%)");
    char seqs[256];
    snprintf(seqs, sizeof seqs, "%s", o->seqs);
    for (char *tok = strtok(seqs, ","); tok; tok = strtok(NULL, ",")) {
        int T = atoi(tok);
        if (T < 1 || T > d.max_seq_len) {
            fprintf(stderr, "bench_step: --seq %d out of range [1, %d]\n", T, d.max_seq_len);
            return 2;
        }
        double head = gemm_rate_measure_shape(be, o->batch * T, d.padded_vocab_size, d.channels,
                                              2);
        struct step_times st;
        double ops_ms;
        if (step_timer_run(be, &cfg, o->batch, T, o->steps, &st, &err) ||
            layer_ops_time(be, &cfg, o->batch, T, o->steps, &ops_ms, &err)) {
            fprintf(stderr, "bench_step: %s T=%d: %s\n", name, T, err.msg);
            return 1;
        }
        double f = st.fwd_ms, b = st.bwd_ms, op = st.opt_ms;
        double ms = f + b + op, flops = model_config_flops_per_step(&cfg, o->batch, T);
        double gfs = flops / (ms * 1e-3) / 1e9;
        printf("%6d %10.1f %10.1f %9.1f %9.1f %9.1f %12.1f %7.1f%% %14.1f %9.1f (%4.1f%%)\n", T,
               ms, o->batch * T / (ms * 1e-3), f, b, op, gfs, 100.0 * gfs / peak_sq, head,
               ops_ms, 100.0 * ops_ms / ms);
        fflush(stdout);
    }
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    if (parse(argc, argv, &o))
        return 2;
    struct herr err;
    struct backend *be = backend_create(&(struct backend_options){ .name = o.backend,
                                                                    .device = o.device,
                                                                    .threads = o.threads },
                                        &err);
    if (!be) {
        fprintf(stderr, "bench_step: %s\n", err.msg);
        return 1;
    }
    /* the ceiling, measured now on this backend: a square sgemm (each model
     * line adds its own largest product, the LM head) */
    double peak_sq = gemm_rate_measure(be, 1024, 3);
    printf("backend %s: %s\n", be->name, be->device); /* the CPU's names its OpenBLAS core */
    printf("sgemm 1024x1024x1024: %.1f GFLOP/s (the MFU ceiling)\n\n", peak_sq);
    char models[512];
    snprintf(models, sizeof models, "%s", o.models);
    int rc = 0;
    char *save = NULL;
    for (char *m = strtok_r(models, ",", &save); m && !rc; m = strtok_r(NULL, ",", &save))
        rc = bench_model(be, m, &o, peak_sq);
    be->ops->destroy(be);
    return rc;
}
