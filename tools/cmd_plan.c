/* tools/cmd_plan.c — `heft plan`: the front end of core/plan.h. Measures the
 * GEMM rate of the chosen backend (unless given one) and the resident size
 * of a process before any model (libraries, MPI, the backend), then prints
 * one plan in detail, or a table row per model and rank count when given
 * lists. */
#include "tools/cmd_plan.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "backends/backend.h"
#include "core/comm.h"
#include "core/gemm_rate.h"
#include "core/options.h"
#include "core/plan.h"
#include "core/train_config.h"

/* `heft plan` takes `heft train`'s flags (so a training command line plans
 * as it is; --model may list several presets) plus its own below. */
struct plan_settings {
    char ranks[OPT_STRING_MAX]; /* comma-separated rank counts */
    double gemm_gflops, efficiency, link_gbps;
};

#define F(field) offsetof(struct plan_settings, field)

static const struct opt_spec plan_options[] = {
    OPT_HEADING("Planning (heft plan's own; all of heft train's flags apply too)"),
    { "ranks", OPT_STRING, F(ranks), 1, 0, "LIST", "data-parallel ranks, comma-separated" },
    { "gemm-gflops", OPT_DOUBLE, F(gemm_gflops), 0, 1e9, "X",
      "GEMM rate per rank in GFLOP/s instead of measuring it (0 = measure)" },
    { "efficiency", OPT_DOUBLE, F(efficiency), 1e-3, 1, "X",
      "share of the GEMM rate a whole step reaches (see docs/RESULTS.md)" },
    { "link-gbps", OPT_DOUBLE, F(link_gbps), 1e-6, 1e9, "X",
      "GB/s per rank for the gradient exchange (10 ~ 100 Gb/s InfiniBand)" },
    OPT_END,
};

static void defaults(struct plan_settings *s, struct train_config *tc)
{
    memset(s, 0, sizeof *s);
    strcpy(s->ranks, "1");
    s->efficiency = 0.5;
    s->link_gbps = 10.0;
    train_config_default(tc);
}

static void usage(FILE *out, const struct plan_settings *s, const struct train_config *tc)
{
    char presets[512];
    model_plan_presets(presets, sizeof presets);
    fprintf(out,
            "usage: heft plan [heft train's flags] [--ranks LIST] [--gemm-gflops X] ...\n\n"
            "Predicts, without training, what `heft train` with the same flags needs per\n"
            "rank: weights, gradients, the Adam state (1/W of it with --zero1),\n"
            "activations and the trainer's host buffers; FLOPs per step; and a step time\n"
            "from the GEMM rate measured on this backend. The vocabulary is the model's\n"
            "own (GPT-2: 50257) unless --vocab gives the data's (heft's built-in data:\n"
            "257); the data is not opened. With lists (--model gpt2,gpt2-xl --ranks 1,8),\n"
            "one table row per combination.\nmodels: %s\n",
            presets);
    opts_print_help(out, plan_options, s);
    opts_print_help(out, train_options(), tc);
}

/* Routes each flag (and its value) to the table that knows it. */
static int split_argv(int argc, char **argv, char **mine, int *nmine, char **train, int *ntrain,
                      struct herr *err)
{
    *nmine = *ntrain = 1;
    mine[0] = train[0] = argv[0];
    for (int i = 1; i < argc; i++) {
        char name[128];
        const char *a = argv[i], *eq = strchr(a, '=');
        if (strncmp(a, "--", 2) != 0)
            return herr_set(err, "unexpected argument '%s' (see heft plan --help)", a);
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1),
                 a + 2);
        const struct opt_spec *s = opts_find(plan_options, name);
        char **to = s ? mine : train;
        int *n = s ? nmine : ntrain;
        if (!s)
            s = opts_find(train_options(), name);
        to[(*n)++] = argv[i];
        /* a value in the next word goes along (config files: train's) */
        if (!eq && i + 1 < argc && (!s || s->type != OPT_FLAG) &&
            (s || !strcmp(name, "config")))
            to[(*n)++] = argv[++i];
    }
    return 0;
}

static double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

static double peak_rss_bytes(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss * 1024.0 : 0.0;
}

static int plan_all(struct plan_settings *s, struct train_config *tc);

static void line(const char *label, double value, const char *fmt)
{
    printf("  %-44s", label);
    printf(fmt, value);
    putchar('\n');
}

static void print_detail(const struct plan_request *q, const struct plan *p, const char *rate_src)
{
    const struct model_shape *m = &p->shape;
    int sharded = q->zero1 && q->ranks > 1;
    char label[128];
    printf("heft plan: %s (%s: %s), %.1fM parameters\n", m->name, m->family, m->summary,
           (double)m->num_params / 1e6);
    printf("  %d rank%s x batch %d x seq %d x grad-accum %d = %.0f tokens/step; ZeRO-1 %s; "
           "recompute %s\n\n",
           q->ranks, q->ranks == 1 ? "" : "s", q->batch, q->seq, q->grad_accum,
           p->tokens_per_step, sharded ? "on" : "off", model_recompute_name(q->mem.recompute));
    printf("memory per rank (MiB)\n");
    line("weights (fp32)", mib(p->weights), "%12.1f");
    line("gradients (fp32)", mib(p->grads), "%12.1f");
    line(sharded ? "Adam m + v (fp32, this rank's 1/W shard)" : "Adam m + v (fp32)",
         mib(p->optimizer), "%12.1f");
    snprintf(label, sizeof label, "activations (B=%d, T=%d, recompute %s)", q->batch, q->seq,
             model_recompute_name(q->mem.recompute));
    line(label, mib(p->activations), "%12.1f");
    if (q->mem.recompute != MODEL_RECOMPUTE_NONE)
        line("  (saved against keeping everything)", mib(p->activations_saved), "%12.1f");
    line("= device memory", mib(p->device_total), "%12.1f");
    line("host: step staging", mib(p->host_staging), "%12.1f");
    line("host: gradient/parameter stage", mib(p->host_stage), "%12.1f");
    line("host: parameter copy (start, export)", mib(p->host_transient), "%12.1f");
    line("host: process baseline (measured)", mib(q->baseline_bytes), "%12.1f");
    line("= host memory", mib(p->host_total), "%12.1f");
    line("peak resident on the CPU backend (both)", mib(p->cpu_peak_rss), "%12.1f");
    printf("\nwork per optimizer step\n");
    line("FLOPs per rank", p->flops_rank, "%12.4g");
    line("FLOPs, all ranks", p->flops_total, "%12.4g");
    line("gradient exchange per rank (MiB)", mib(p->comm_bytes), "%12.1f");
    if (q->gemm_gflops <= 0)
        return;
    snprintf(label, sizeof label, "GEMM rate, GFLOP/s (%s)", rate_src);
    line(label, q->gemm_gflops, "%12.1f");
    line("compute at the GEMM rate, s (a lower bound)", p->compute_s, "%12.4g");
    snprintf(label, sizeof label, "compute at %g%% of it, s (--efficiency)", 100 * q->efficiency);
    line(label, p->compute_s / q->efficiency, "%12.4g");
    snprintf(label, sizeof label, "exchange at %g GB/s, s (--link-gbps)", q->link_gbps);
    line(label, p->comm_s, "%12.4g");
    line("step time estimate, s", p->step_s, "%12.4g");
    line("tokens/s estimate, all ranks", p->tokens_per_s, "%12.0f");
}

static void print_row_header(void)
{
    printf("%-12s %5s %6s %9s %9s %9s %9s %10s %10s %10s %11s %9s %9s\n", "model", "ranks",
           "params", "weights", "grads", "adam", "acts", "device", "host", "cpu-peak",
           "GFLOP/step", "step-s", "tok/s");
    printf("%-12s %5s %6s %9s %9s %9s %9s %10s %10s %10s %11s %9s %9s\n", "", "", "(M)", "(MiB)",
           "(MiB)", "(MiB)", "(MiB)", "(MiB)", "(MiB)", "(MiB)", "(per rank)", "", "");
}

static void print_row(const struct plan_request *q, const struct plan *p)
{
    printf("%-12s %5d %6.0f %9.0f %9.0f %9.0f %9.0f %10.0f %10.0f %10.0f %11.1f %9.3f %9.0f\n",
           p->shape.name, q->ranks, (double)p->shape.num_params / 1e6, mib(p->weights),
           mib(p->grads), mib(p->optimizer), mib(p->activations), mib(p->device_total),
           mib(p->host_total), mib(p->cpu_peak_rss), p->flops_rank / 1e9, p->step_s,
           p->tokens_per_s);
}

/* Splits a comma-separated list in place; returns the number of items. */
static int split(char *list, char **items, int cap)
{
    int n = 0;
    for (char *tok = strtok(list, ","); tok && n < cap; tok = strtok(NULL, ","))
        items[n++] = tok;
    return n;
}

/* The GEMM rate of the backend and the process's resident size before it. */
/* The GEMM rate, and the resident size of a trainer process before its model:
 * `baseline` for one rank (no MPI: a heft started without a launcher does not
 * initialize it), `mpi_extra` on top for a rank under MPI (its runtime's
 * buffers; 0 when heft has no MPI or no plan has more than one rank). */
static int measure(const struct plan_settings *s, const struct train_config *tc, int many_ranks,
                   double *gflops, double *baseline, double *mpi_extra, char *src, size_t cap)
{
    struct herr err = { { 0 } };
    struct backend_options bo = { .name = tc->backend, .device = tc->device,
                                  .threads = tc->threads };
    struct backend *be = backend_create(&bo, &err);
    if (!be) {
        fprintf(stderr, "heft plan: --backend %s: %s\n", tc->backend, err.msg);
        return 1;
    }
    *baseline = peak_rss_bytes();
    *mpi_extra = 0;
    struct comm *comm = NULL;
    if (many_ranks)
        setenv("HEFT_MPI", "1", 1); /* initialize MPI here as a launched rank would */
    if (comm_init(&comm, NULL, NULL, &err)) {
        fprintf(stderr, "heft plan: %s\n", err.msg);
        be->ops->destroy(be);
        return 1;
    }
    if (many_ranks)
        *mpi_extra = peak_rss_bytes() - *baseline;
    if (s->gemm_gflops > 0) {
        *gflops = s->gemm_gflops;
        snprintf(src, cap, "given");
    } else {
        *gflops = gemm_rate_measure(be, 1024, 3);
        snprintf(src, cap, "%s, measured", be->name);
    }
    be->ops->destroy(be);
    comm_finalize(comm);
    return 0;
}

int cmd_plan(int argc, char **argv)
{
    struct plan_settings s;
    struct train_config tc;
    defaults(&s, &tc);
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout, &s, &tc);
            return 0;
        }
    struct herr err = { { 0 } };
    char **mine = calloc((size_t)argc + 1, sizeof *mine);
    char **train = calloc((size_t)argc + 1, sizeof *train);
    int nmine = 0, ntrain = 0, rc = 2;
    if (!mine || !train)
        fprintf(stderr, "heft plan: out of memory\n");
    else if (split_argv(argc, argv, mine, &nmine, train, &ntrain, &err) ||
             opts_parse_argv(plan_options, &s, nmine, mine, 1, "plan", &err) ||
             opts_parse_argv(train_options(), &tc, ntrain, train, 1, "plan", &err))
        fprintf(stderr, "heft plan: %s\n", err.msg);
    else
        rc = plan_all(&s, &tc);
    free(mine);
    free(train);
    return rc;
}

/* One plan per model and rank count. */
static int plan_all(struct plan_settings *s, struct train_config *tc)
{
    char *models[64], *ranks[64];
    int nm = split(tc->model, models, 64), nr = split(s->ranks, ranks, 64);
    if (nm == 0 || nr == 0) {
        fprintf(stderr, "heft plan: --model and --ranks need at least one value\n");
        return 2;
    }
    struct model_memory mem = { MODEL_RECOMPUTE_NONE, tc->attn_chunk };
    struct herr rc_err = { { 0 } };
    if (model_recompute_parse(tc->recompute, &mem.recompute, &rc_err)) {
        fprintf(stderr, "heft plan: %s\n", rc_err.msg);
        return 2;
    }
    int many_ranks = 0;
    for (int j = 0; j < nr; j++)
        many_ranks |= atoi(ranks[j]) > 1;
    double gflops = 0, baseline = 0, mpi_extra = 0;
    char src[64];
    if (measure(s, tc, many_ranks, &gflops, &baseline, &mpi_extra, src, sizeof src))
        return 1;
    if (nm * nr > 1)
        print_row_header();
    for (int i = 0; i < nm; i++)
        for (int j = 0; j < nr; j++) {
            char *end;
            long w = strtol(ranks[j], &end, 10);
            if (*end || w < 1 || w > 1 << 20) {
                fprintf(stderr, "heft plan: --ranks: '%s' is not a rank count\n", ranks[j]);
                return 2;
            }
            struct model_overrides ov = tc->shape;
            ov.vocab = tc->vocab;
            struct plan_request q = {
                .model = models[i],
                .ov = ov,
                .ranks = (int)w, .batch = tc->batch, .seq = tc->seq,
                .grad_accum = tc->grad_accum, .zero1 = tc->zero1, .mem = mem,
                .gemm_gflops = gflops,
                .efficiency = s->efficiency, .link_gbps = s->link_gbps,
                .baseline_bytes = baseline + (w > 1 ? mpi_extra : 0),
            };
            struct plan p;
            struct herr err = { { 0 } };
            if (plan_compute(&q, &p, &err)) {
                fprintf(stderr, "heft plan: %s\n", err.msg);
                return 2;
            }
            if (nm * nr > 1)
                print_row(&q, &p);
            else
                print_detail(&q, &p, src);
        }
    return 0;
}
