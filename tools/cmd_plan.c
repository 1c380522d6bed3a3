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
#include "core/train_memory.h"

/* `heft plan` takes `heft train`'s flags (so a training command line plans
 * as it is; --model may list several presets) plus its own below. */
struct plan_settings {
    char ranks[OPT_STRING_MAX]; /* comma-separated rank counts */
    char zero[OPT_STRING_MAX];  /* comma-separated ZeRO stages; "" = heft train's --zero */
    char device_mem[OPT_STRING_MAX]; /* "24G"; "" = no fit check */
    double gemm_gflops, efficiency, link_gbps;
};

#define F(field) offsetof(struct plan_settings, field)

static const struct opt_spec plan_options[] = {
    OPT_HEADING("Planning (heft plan's own; all of heft train's flags apply too)"),
    { "ranks", OPT_STRING, F(ranks), 1, 0, "LIST", "data-parallel ranks, comma-separated" },
    { "zero", OPT_STRING, F(zero), 1, 0, "LIST",
      "ZeRO stages, comma-separated (0,1,2,3; as heft train's --zero)" },
    { "device-mem", OPT_STRING, F(device_mem), 1, 0, "SIZE",
      "memory of one device (24G = 24 GiB; M, T too): whether the run fits, and the headroom" },
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
            "usage: heft plan [heft train's flags] [--ranks LIST] [--zero LIST] [--device-mem SIZE]\n"
            "                 [--gemm-gflops X] ...\n\n"
            "Predicts, without training, what `heft train` with the same flags needs per\n"
            "rank: weights, gradients, the Adam state (each whole, or this rank's shard\n"
            "under --zero 1, 2, 3), the layer buffers ZeRO-2/3 gather into, activations\n"
            "and the recompute workspace, and the trainer's host buffers; whether that\n"
            "fits --device-mem; FLOPs and the exchange's bytes per step; and a step time\n"
            "from the GEMM rate measured on this backend. The vocabulary is the model's\n"
            "own (GPT-2: 50257) unless --vocab gives the data's (heft's built-in data:\n"
            "257); the data is not opened. With lists (--model gpt2,gpt2-xl --ranks 1,8\n"
            "--zero 0,3), one table row per combination.\nmodels: %s\n",
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

static const char *const stage_words[] = {
    "0 (all-reduce)", "1 (Adam state sharded)", "2 (Adam state, gradients sharded)",
    "3 (Adam state, gradients, weights sharded)",
};

static void print_detail(const struct plan_request *q, const struct plan *p, const char *rate_src)
{
    const struct model_shape *m = &p->shape;
    int sharded = p->zero >= 1;
    char label[160];
    printf("heft plan: %s (%s: %s), %.1fM parameters\n", m->name, m->family, m->summary,
           (double)m->num_params / 1e6);
    printf("  %d rank%s x batch %d x seq %d x grad-accum %d = %.0f tokens/step; ZeRO %s; "
           "recompute %s\n\n",
           q->ranks, q->ranks == 1 ? "" : "s", q->batch, q->seq, q->grad_accum,
           p->tokens_per_step, stage_words[p->zero], model_recompute_name(q->mem.recompute));
    printf("memory per rank (MiB)\n");
    line(p->zero == 3 ? "weights (fp32, this rank's pieces)" : "weights (fp32)", mib(p->weights),
         "%12.1f");
    line(p->zero >= 2 ? "gradients (fp32, this rank's pieces)" : "gradients (fp32)",
         mib(p->grads), "%12.1f");
    line(sharded ? "Adam m + v (fp32, this rank's shard)" : "Adam m + v (fp32)",
         mib(p->optimizer), "%12.1f");
    if (p->zero == 3) {
        snprintf(label, sizeof label, "gathered weights: outer group + %d layer%s",
                 p->layer_buffers, p->layer_buffers == 1 ? "" : "s");
        line(label, mib(p->gathered_weights), "%12.1f");
    }
    if (p->zero >= 2) {
        line("gathered gradients: outer group + 1 layer", mib(p->gathered_grads), "%12.1f");
        snprintf(label, sizeof label, "  (one layer %.1f MiB, outer group %.1f MiB)",
                 mib(p->layer_weights), mib(p->outer_weights));
        printf("  %s\n", label);
    }
    snprintf(label, sizeof label, "activations (B=%d, T=%d, recompute %s)", q->batch, q->seq,
             model_recompute_name(q->mem.recompute));
    line(label, mib(p->activations), "%12.1f");
    if (q->mem.recompute != MODEL_RECOMPUTE_NONE) {
        line("  of which the recompute workspace", mib(p->recompute_workspace), "%12.1f");
        line("  (saved against keeping everything)", mib(p->activations_saved), "%12.1f");
    }
    line("= device memory", mib(p->device_total), "%12.1f");
    if (q->device_mem > 0) {
        snprintf(label, sizeof label, "%s a %.0f GiB device: headroom (MiB, %%)",
                 p->fits ? "FITS" : "DOES NOT FIT", q->device_mem / 1073741824.0);
        printf("  %-44s%12.1f  %+.1f %%\n", label, mib(p->headroom),
               100.0 * p->headroom / q->device_mem);
    }
    line("host: step staging", mib(p->host_staging), "%12.1f");
    line("host: exchange stage (buckets, rounds)", mib(p->host_stage), "%12.1f");
    if (p->host_acc > 0)
        line("host: gradient accumulation round", mib(p->host_acc), "%12.1f");
    if (p->host_prefetch > 0)
        line("host: prefetch stage (ZeRO-3, if it runs)", mib(p->host_prefetch), "%12.1f");
    line("host: parameter copy (start, export)", mib(p->host_transient), "%12.1f");
    line("host: process baseline (measured)", mib(q->baseline_bytes), "%12.1f");
    line("= host memory", mib(p->host_total), "%12.1f");
    line("peak resident on the CPU backend, rank 0", mib(p->cpu_peak_rss), "%12.1f");
    if (q->ranks > 1)
        line("peak resident on the CPU backend, others", mib(p->cpu_peak_rss_others),
             "%12.1f");
    printf("\nwork per optimizer step\n");
    line("FLOPs per rank", p->flops_rank, "%12.4g");
    line("FLOPs, all ranks", p->flops_total, "%12.4g");
    line("exchange per rank, MiB sent (as much received)", mib(p->comm_bytes), "%12.4f");
    if (q->ranks > 1 && p->comm_bytes_dp > 0)
        line("  x plain data parallelism's", p->comm_bytes / p->comm_bytes_dp, "%12.2f");
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

static void print_row_header(int fit)
{
    printf("%-12s %5s %4s %6s %9s %9s %9s %9s %9s %10s %8s %10s %10s %11s %9s %9s %9s\n",
           "model", "ranks", "zero", "params", "weights", "grads", "adam", "gathered", "acts",
           "device", fit ? "fits" : "", "host", "cpu-peak", "GFLOP/step", "exch", "step-s",
           "tok/s");
    printf("%-12s %5s %4s %6s %9s %9s %9s %9s %9s %10s %8s %10s %10s %11s %9s %9s %9s\n", "", "",
           "", "(M)", "(MiB)", "(MiB)", "(MiB)", "(MiB)", "(MiB)", "(MiB)",
           fit ? "(GiB)" : "", "(MiB)", "(MiB)", "(per rank)", "(MiB)", "", "");
}

static void print_row(const struct plan_request *q, const struct plan *p)
{
    char fit[32] = "";
    if (q->device_mem > 0)
        snprintf(fit, sizeof fit, "%s%+.1f", p->fits ? "" : "NO", p->headroom / 1073741824.0);
    printf("%-12s %5d %4d %6.0f %9.0f %9.0f %9.0f %9.0f %9.0f %10.0f %8s %10.0f %10.0f %11.1f "
           "%9.0f %9.3f %9.0f\n",
           p->shape.name, q->ranks, p->zero, (double)p->shape.num_params / 1e6, mib(p->weights),
           mib(p->grads), mib(p->optimizer), mib(p->gathered_weights + p->gathered_grads),
           mib(p->activations), mib(p->device_total), fit, mib(p->host_total),
           mib(p->cpu_peak_rss), p->flops_rank / 1e9, mib(p->comm_bytes), p->step_s,
           p->tokens_per_s);
}

/* "24G" (GiB), "512M", "1.5T", or bytes -> bytes; -1 when it is none of them. */
static double parse_size(const char *text)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || !(v > 0))
        return -1;
    double unit = 1;
    switch (*end) {
    case 'K': case 'k': unit = 1024.0; end++; break;
    case 'M': case 'm': unit = 1048576.0; end++; break;
    case 'G': case 'g': unit = 1073741824.0; end++; break;
    case 'T': case 't': unit = 1099511627776.0; end++; break;
    default: break;
    }
    if (*end == 'i')
        end++;
    if (*end == 'B' || *end == 'b')
        end++;
    return *end ? -1 : v * unit;
}

/* Splits a comma-separated list in place; returns the number of items, or
 * -1 with a message for an empty item ("1,,2", "1,") or more than cap. */
static int split(const char *flag, char *list, char **items, int cap)
{
    char shown[OPT_STRING_MAX];
    snprintf(shown, sizeof shown, "%s", list);
    int n = 0;
    for (char *p = list;; n++) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p) {
            fprintf(stderr, "heft plan: %s '%s': item %d is empty\n", flag, shown, n + 1);
            return -1;
        }
        if (n == cap) {
            fprintf(stderr, "heft plan: %s '%s': more than %d items\n", flag, shown, cap);
            return -1;
        }
        items[n] = p;
        if (!comma)
            return n + 1;
        p = comma + 1;
    }
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

/* One plan per model, rank count and stage. */
static int plan_all(struct plan_settings *s, struct train_config *tc)
{
    char *models[64], *ranks[64], *stages[8], zero_word[16];
    struct herr cfg_err = { { 0 } };
    if (train_config_resolve_zero(tc, &cfg_err)) {
        fprintf(stderr, "heft plan: %s\n", cfg_err.msg);
        return 2;
    }
    if (!s->zero[0]) {
        snprintf(zero_word, sizeof zero_word, "%d", tc->zero);
        snprintf(s->zero, sizeof s->zero, "%s", zero_word);
    }
    int nm = split("--model", tc->model, models, 64), nr = split("--ranks", s->ranks, ranks, 64);
    int nz = split("--zero", s->zero, stages, 8);
    if (nm < 0 || nr < 0 || nz < 0)
        return 2;
    double device_mem = 0;
    if (s->device_mem[0] && (device_mem = parse_size(s->device_mem)) <= 0) {
        fprintf(stderr, "heft plan: --device-mem '%s': expected a size such as 24G, 64G or "
                        "512M\n", s->device_mem);
        return 2;
    }
    struct model_memory mem = { .recompute = MODEL_RECOMPUTE_NONE, .attn_chunk = tc->attn_chunk,
                                .attn_heads = tc->attn_heads };
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
    int table = nm * nr * nz > 1;
    if (table)
        print_row_header(device_mem > 0);
    for (int i = 0; i < nm; i++)
        for (int j = 0; j < nr; j++)
            for (int k = 0; k < nz; k++) {
                char *end;
                long w = strtol(ranks[j], &end, 10);
                if (*end || w < 1 || w > 1 << 20) {
                    fprintf(stderr, "heft plan: --ranks: '%s' is not a rank count\n", ranks[j]);
                    return 2;
                }
                long z = strtol(stages[k], &end, 10);
                if (*end || z < 0 || z > 3) {
                    fprintf(stderr, "heft plan: --zero: '%s' is not a stage (0, 1, 2 or 3)\n",
                            stages[k]);
                    return 2;
                }
                struct model_overrides ov = tc->shape;
                ov.vocab = tc->vocab;
                struct plan_request q = {
                    .model = models[i],
                    .ov = ov,
                    .ranks = (int)w, .batch = tc->batch, .seq = tc->seq,
                    .grad_accum = tc->grad_accum, .zero = (int)z,
                    .normalize_step = !strcmp(tc->rw_normalize, "step"), .mem = mem,
                    .zero_prefetch = strcmp(tc->zero_prefetch, "off") != 0,
                    .device_mem = device_mem,
                    .no_export = tc->stop_after > 0 && tc->stop_after < tc->steps,
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
                if (table)
                    print_row(&q, &p);
                else
                    print_detail(&q, &p, src);
            }
    return 0;
}
