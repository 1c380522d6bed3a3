/* bench/bench_reweight.c — what loss-based reweighting adds to a training
 * step, measured as a ratio inside one run.
 *
 * One trainer (the real step code: gather, reweight/, per-row scales,
 * backward, AdamW) alternates a uniform step and a reweighted step, so both
 * see the same machine load; the medians of each kind and their ratio are
 * printed. The host-side weight computation alone is also timed for larger
 * global batches (many ranks x rows), where it would start to matter.
 *
 *   bench_reweight [--strategy linupper] [--steps 40] [--model tiny] [--batch 8]
 *                  [--seq 128] [--backend cpu] [--threads 0]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/gemm_rate.h"
#include "core/prng.h"
#include "core/train_internal.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Microseconds per rw_compute call over N samples (host only). */
static double time_rw_compute(enum rw_strategy s, int N)
{
    double *loss = malloc((size_t)N * sizeof *loss), *w = malloc((size_t)N * sizeof *w);
    int *ntok = malloc((size_t)N * sizeof *ntok), *dom = malloc((size_t)N * sizeof *dom);
    struct prng g;
    prng_seed(&g, 3);
    for (int i = 0; i < N; i++) {
        loss[i] = 1.0 + (double)(prng_next(&g) >> 11) * 0x1.0p-53 * 3.0;
        ntok[i] = 128;
        dom[i] = i % 5;
    }
    struct rw_config cfg;
    struct rw_state st;
    struct rw_stats stats;
    struct herr err;
    rw_config_default(&cfg);
    cfg.strategy = s;
    rw_state_init(&st, &cfg);
    int reps = 0;
    double t0 = gemm_rate_clock(), t = 0.0;
    while ((t = gemm_rate_clock() - t0) < 0.2) {
        rw_compute(&cfg, &st, 1000, loss, ntok, dom, 5, N, w, &stats, &err);
        reps++;
    }
    free(loss);
    free(w);
    free(ntok);
    free(dom);
    return t / reps * 1e6;
}

int main(int argc, char **argv)
{
    struct train_config cfg;
    train_config_default(&cfg);
    const char *strategy = "linupper";
    int steps = 40;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            printf("usage: bench_reweight [--strategy NAME] [--steps N] [--model NAME] [--batch B]\n"
                   "                      [--seq T] [--backend cpu|opencl] [--threads N]\n");
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "bench_reweight: %s needs a value\n", argv[i]);
            return 2;
        }
        const char *a = argv[i], *v = argv[++i];
        if (!strcmp(a, "--strategy")) strategy = v;
        else if (!strcmp(a, "--steps")) steps = atoi(v);
        else if (!strcmp(a, "--model")) snprintf(cfg.model, sizeof cfg.model, "%s", v);
        else if (!strcmp(a, "--batch")) cfg.batch = atoi(v);
        else if (!strcmp(a, "--seq")) cfg.seq = atoi(v);
        else if (!strcmp(a, "--backend")) snprintf(cfg.backend, sizeof cfg.backend, "%s", v);
        else if (!strcmp(a, "--threads")) cfg.threads = atoi(v);
        else {
            fprintf(stderr, "bench_reweight: unknown flag %s\n", a);
            return 2;
        }
    }
    if (steps < 4) {
        fprintf(stderr, "bench_reweight: --steps must be >= 4\n");
        return 2;
    }
    struct herr err;
    enum rw_strategy rw;
    if (rw_strategy_parse(strategy, &rw, &err)) {
        fprintf(stderr, "bench_reweight: %s\n", err.msg);
        return 2;
    }
    char dir[] = "/tmp/heft-bench-reweight.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("bench_reweight: mkdtemp");
        return 1;
    }
    snprintf(cfg.out, sizeof cfg.out, "%s", dir);
    cfg.steps = steps + 1;
    cfg.quiet = 1;
    struct comm *comm;
    struct trainer t;
    if (comm_init(&comm, &argc, &argv, &err) ||
        trainer_setup(&t, &cfg, 0, NULL, 0, comm, NULL, &err)) {
        fprintf(stderr, "bench_reweight: %s\n", err.msg);
        return 1;
    }
    double *tu = calloc((size_t)steps, sizeof(double)), *tr = calloc((size_t)steps, sizeof(double));
    int nu = 0, nr = 0;
    struct step_report rep;
    /* one untimed step first; then alternate, so both kinds see the same load */
    for (int s = -1; s < steps; s++) {
        int reweighted = s >= 0 && s % 2 == 1;
        t.rwcfg.strategy = reweighted ? rw : RW_UNIFORM;
        if (trainer_step(&t, &rep, &err)) {
            fprintf(stderr, "bench_reweight: %s\n", err.msg);
            return 1;
        }
        if (s < 0)
            continue;
        if (reweighted)
            tr[nr++] = rep.seconds * 1e3;
        else
            tu[nu++] = rep.seconds * 1e3;
    }
    double mu = median(tu, nu), mr = median(tr, nr);
    printf("backend %s (%s); model %s, B=%d, T=%d; %d + %d alternating steps\n", t.be->name,
           t.be->device, cfg.model, cfg.batch, cfg.seq, nu, nr);
    printf("median step: uniform %.3f ms, %s %.3f ms: ratio %.4f (overhead %+.2f%%)\n", mu,
           strategy, mr, mr / mu, 100.0 * (mr / mu - 1.0));
    printf("\nhost-side rw_compute alone (weights + all statistics), microseconds per call:\n");
    printf("%10s %12s %12s\n", "samples", "uniform", strategy);
    for (int N = 8; N <= 65536; N *= 8)
        printf("%10d %12.2f %12.2f\n", N, time_rw_compute(RW_UNIFORM, N), time_rw_compute(rw, N));
    trainer_teardown(&t);
    comm_finalize(comm);
    free(tu);
    free(tr);
    /* the bench's run directory holds only a metrics file */
    char path[sizeof dir + 32];
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}
