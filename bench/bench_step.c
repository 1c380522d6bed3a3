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

#include "core/gemm_rate.h"
#include "bench/step_timer.h"
#include "models/gpt2/gpt2.h"

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
    printf("backend %s: %s\n", be->name, be->device); /* the CPU's names its OpenBLAS core */
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
        struct step_times st;
        if (step_timer_run(be, &cfg, o.batch, T, o.steps, &st, &err)) {
            fprintf(stderr, "bench_step: T=%d: %s\n", T, err.msg);
            return 1;
        }
        double f = st.fwd_ms, b = st.bwd_ms, op = st.opt_ms;
        double ms = f + b + op, flops = gpt2_flops_per_step(&cfg, o.batch, T);
        double gfs = flops / (ms * 1e-3) / 1e9;
        printf("%6d %10.1f %10.1f %9.1f %9.1f %9.1f %12.1f %7.1f%% %14.1f\n", T, ms,
               o.batch * T / (ms * 1e-3), f, b, op, gfs, 100.0 * gfs / peak_sq, head);
    }
    be->ops->destroy(be);
    return 0;
}
