/* tools/cmd_weights.c — `heft weights`: per-sample losses in, weights and
 * statistics out, exactly as a training step would compute them. Front-end
 * code: it reads files and prints; the weights come from reweight/. */
#include "tools/cmd_weights.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"

#include "reweight/reweight.h"

enum { EXIT_USAGE = 2 };

static const char usage[] =
    "usage: heft weights [options] [FILE]\n"
    "\n"
    "Reads one sample per line from FILE (or stdin, or '-'):\n"
    "    LOSS [NTOKENS [DOMAIN [REF]]]\n"
    "(mean token loss; target tokens, default 1, 0 = empty row; domain id 0..63;\n"
    "reference loss for reducible, nan or absent = none; blank lines and lines\n"
    "starting with '#' are skipped), computes the weights\n"
    "one training step would give those samples, and prints per sample\n"
    "    index loss ntokens domain weight N*w\n"
    "(N = valid samples, so N*w = 1 is a uniform share), then '#'-prefixed\n"
    "statistics. The whole input is one normalization set (one optimizer step).\n"
    "\n"
    "options:\n"
    "  --strategy NAME        uniform, linupper, quadratic, extremes, linear,\n"
    "                         infobatch, topq, dro, reducible (needs REF) or\n"
    "                         learnability (needs DOMAIN; one input has no\n"
    "                         history yet, so it gives uniform) (default uniform)\n"
    "  --r X                  softmax temperature, > 0 (default 0.4)\n"
    "  --step N               training step the weights are for (default 0)\n"
    "  --rw-warmup K          warm-up steps (default 0)\n"
    "  --rw-warmup-mode M     uniform, r-step or r-linear (default uniform)\n"
    "  --r-start X            temperature at step 0 in the r-modes (default 100)\n"
    "  --infobatch-prune P    share of below-mean samples dropped, [0,1) (default 0.5)\n"
    "  --topq-q Q             share of samples top-q keeps, (0,1] (default 0.5)\n"
    "  --dro-tau T            DRO temperature, > 0 (default 1)\n"
    "  --seed S               InfoBatch RNG seed (default 1234)\n"
    "  --outlier-k K          weight 0 for losses above median + K * 1.4826 MAD,\n"
    "                         the rest weighed without them (default 0 = off)\n"
    "  --outlier-domains      the cut removes whole domains, those with more than\n"
    "                         half their samples above it (needs domain ids)\n"
    "  --domain-ema E         shape rules measure each loss against its domain's\n"
    "                         mean (one call: this input's); needs domain ids,\n"
    "                         E in [0,1) (default 0 = off)\n"
    "  -h, --help             this text\n";

struct samples {
    double *loss;  /* (n) */
    int *ntokens;  /* (n) */
    int *domain;   /* (n) */
    double *ref;   /* (n) NaN = none */
    int n, cap;
    int has_ref;          /* some line has a REF column */
    int num_domains;      /* max id + 1, 0 if no line has a domain */
    int first_without;    /* 1-based line of the first sample lacking a domain, 0 if none */
    int first_with;       /* ... and of the first with one */
};

/* Prints "heft weights: <message>" on stderr and returns the usage exit code. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "heft weights: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_USAGE;
}

static int parse_double(const char *flag, const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno == ERANGE)
        return fail("%s: '%s' is not a number", flag, s);
    *out = v;
    return 0;
}

static int parse_long(const char *flag, const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE)
        return fail("%s: '%s' is not an integer", flag, s);
    *out = v;
    return 0;
}

/* What the options set. */
struct options {
    struct rw_config cfg;
    long step;
};

enum opt_kind { OPT_STRATEGY, OPT_WARMUP_MODE, OPT_DOUBLE, OPT_LONG, OPT_SEED, OPT_FLAG };

static const struct {
    const char *flag;
    enum opt_kind kind;
    size_t offset; /* of the field in struct options */
} option_table[] = {
    { "--strategy", OPT_STRATEGY, offsetof(struct options, cfg.strategy) },
    { "--r", OPT_DOUBLE, offsetof(struct options, cfg.r) },
    { "--step", OPT_LONG, offsetof(struct options, step) },
    { "--rw-warmup", OPT_LONG, offsetof(struct options, cfg.warmup_steps) },
    { "--rw-warmup-mode", OPT_WARMUP_MODE, offsetof(struct options, cfg.warmup_mode) },
    { "--r-start", OPT_DOUBLE, offsetof(struct options, cfg.r_start) },
    { "--infobatch-prune", OPT_DOUBLE, offsetof(struct options, cfg.infobatch_prune) },
    { "--topq-q", OPT_DOUBLE, offsetof(struct options, cfg.topq_q) },
    { "--dro-tau", OPT_DOUBLE, offsetof(struct options, cfg.dro_tau) },
    { "--seed", OPT_SEED, offsetof(struct options, cfg.seed) },
    { "--outlier-k", OPT_DOUBLE, offsetof(struct options, cfg.outlier_k) },
    { "--outlier-domains", OPT_FLAG, offsetof(struct options, cfg.outlier_by_domain) },
    { "--domain-ema", OPT_DOUBLE, offsetof(struct options, cfg.domain_ema) },
};
enum { NUM_OPTIONS = sizeof option_table / sizeof option_table[0] };

static int find_option(const char *flag)
{
    for (int i = 0; i < NUM_OPTIONS; i++)
        if (strcmp(option_table[i].flag, flag) == 0)
            return i;
    return -1;
}

/* Stores option k's value into o; returns 0 or an exit code. */
static int apply_option(int k, const char *val, struct options *o)
{
    const char *flag = option_table[k].flag;
    void *field = (char *)o + option_table[k].offset;
    struct herr err;
    long l = 0; /* set by parse_long; initialized for -Wmaybe-uninitialized at -O3 */
    switch (option_table[k].kind) {
    case OPT_STRATEGY:
        if (rw_strategy_parse(val, field, &err))
            return fail("%s: %s", flag, err.msg);
        return 0;
    case OPT_WARMUP_MODE:
        if (rw_warmup_mode_parse(val, field, &err))
            return fail("%s: %s", flag, err.msg);
        return 0;
    case OPT_DOUBLE:
        return parse_double(flag, val, field);
    case OPT_LONG:
        return parse_long(flag, val, field);
    case OPT_SEED:
        if (parse_long(flag, val, &l))
            return EXIT_USAGE;
        if (l < 0)
            return fail("%s: '%s' must be >= 0", flag, val);
        *(uint64_t *)field = (uint64_t)l;
        return 0;
    case OPT_FLAG:
        *(int *)field = 1;
        return 0;
    }
    return fail("%s: internal error: unknown option kind", flag);
}

static int add_sample(struct samples *s, double loss, int ntokens, int domain, double ref)
{
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 256;
        double *l = realloc(s->loss, (size_t)cap * sizeof *l);
        if (l)
            s->loss = l;
        int *t = realloc(s->ntokens, (size_t)cap * sizeof *t);
        if (t)
            s->ntokens = t;
        int *d = realloc(s->domain, (size_t)cap * sizeof *d);
        if (d)
            s->domain = d;
        double *r = realloc(s->ref, (size_t)cap * sizeof *r);
        if (r)
            s->ref = r;
        if (!l || !t || !d || !r || cap <= s->cap)
            return -1;
        s->cap = cap;
    }
    s->loss[s->n] = loss;
    s->ntokens[s->n] = ntokens;
    s->domain[s->n] = domain;
    s->ref[s->n] = ref;
    s->n++;
    return 0;
}

/* One input line: LOSS [NTOKENS [DOMAIN [REF]]]. Returns 0, 1 for a line to skip,
 * or an exit code (after printing the error). */
static int parse_line(char *line, int lineno, const char *name, struct samples *s)
{
    char *fields[5], *save = NULL;
    int nf = 0;
    for (char *tok = strtok_r(line, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save))
        if (nf < 5)
            fields[nf++] = tok;
        else
            nf = 6;
    if (nf == 0 || fields[0][0] == '#')
        return 1;
    char where[600];
    snprintf(where, sizeof where, "%s: line %d", name, lineno);
    if (nf > 4)
        return fail("%s: expected 'LOSS [NTOKENS [DOMAIN [REF]]]', found %s fields", where,
                    nf > 5 ? "more than 5" : "5");
    double loss;
    long ntok = 1, dom = -1;
    char *end;
    loss = strtod(fields[0], &end);
    if (end == fields[0] || *end != '\0')
        return fail("%s: cannot read the loss '%s' as a number", where, fields[0]);
    if (nf >= 2) {
        errno = 0;
        ntok = strtol(fields[1], &end, 10);
        if (end == fields[1] || *end != '\0' || errno || ntok < 0 || ntok > INT_MAX)
            return fail("%s: token count '%s' is not an integer >= 0", where, fields[1]);
    }
    double ref = NAN;
    if (nf == 4) {
        ref = strtod(fields[3], &end);
        if (end == fields[3] || *end != '\0')
            return fail("%s: cannot read the reference loss '%s' as a number (nan = none)",
                        where, fields[3]);
        s->has_ref = 1;
    }
    if (nf >= 3) {
        errno = 0;
        dom = strtol(fields[2], &end, 10);
        if (end == fields[2] || *end != '\0' || errno || dom < 0 || dom >= RW_MAX_DOMAINS)
            return fail("%s: domain id '%s' is not an integer in [0, %d)", where, fields[2],
                        RW_MAX_DOMAINS);
        if (dom + 1 > s->num_domains)
            s->num_domains = (int)dom + 1;
        if (!s->first_with)
            s->first_with = lineno;
    } else if (!s->first_without) {
        s->first_without = lineno;
    }
    if (add_sample(s, loss, (int)ntok, (int)dom, ref))
        return fail("%s: out of memory", where);
    return 0;
}

/* A sample line is a few dozen bytes; a longer one is not a file of losses
 * (and reading /dev/zero must not grow a line for ever). */
enum { LINE_MAX_BYTES = 4096 };

static int read_samples(FILE *in, const char *name, struct samples *s)
{
    char line[LINE_MAX_BYTES];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, in)) {
        ++lineno;
        /* no newline before the end of the text: too long, or a NUL byte in it */
        if (!strchr(line, '\n') && !feof(in)) {
            rc = fail("%s: line %d is longer than %d bytes or holds a NUL byte: not a file of "
                      "losses", name, lineno, LINE_MAX_BYTES - 1);
            break;
        }
        int r = parse_line(line, lineno, name, s);
        rc = r == 1 ? 0 : r;
    }
    if (rc == 0 && ferror(in))
        rc = fail("%s: read error: %s", name, strerror(errno));
    if (rc == 0 && s->first_with && s->first_without) {
        rc = fail("%s: line %d has a domain id but line %d has none (give every line one or "
                  "none)", name, s->first_with, s->first_without);
    }
    return rc;
}

static void print_results(const struct rw_config *cfg, long step, const struct samples *s,
                          const double *w, const struct rw_stats *st)
{
    printf("# strategy %s, step %ld: used %s", rw_strategy_name(cfg->strategy), step,
           rw_strategy_name(st->strategy_used));
    if (st->r_used > 0)
        printf(" at temperature %g", st->r_used);
    printf("\n# index loss ntokens domain weight N*w\n");
    for (int i = 0; i < s->n; i++) {
        printf("%d %.17g %d ", i, s->loss[i], s->ntokens[i]);
        if (s->num_domains)
            printf("%d", s->domain[i]);
        else
            printf("-");
        printf(" %.17g %.6f\n", w[i], st->n_valid * w[i]);
    }
    printf("# samples %d: valid %d, non-finite loss %d, no tokens %d, valid with weight 0 %d\n",
           st->n, st->n_valid, st->n_nonfinite, st->n_empty, st->n_zero_weight);
    if (cfg->outlier_k > 0)
        printf("# outlier cut %.6g: %d outliers\n", st->outlier_cut, st->n_outliers);
    if (cfg->strategy == RW_REDUCIBLE)
        printf("# reference losses: %d active sample%s without one (weighed as the median "
               "reducible loss)\n", st->n_noref, st->n_noref == 1 ? "" : "s");
    printf("# loss mean %.6g, weighted %.6g, min %.6g, max %.6g\n", st->loss_mean,
           st->loss_weighted, st->loss_min, st->loss_max);
    printf("# loss quantiles 10/25/50/75/90%%: %.6g %.6g %.6g %.6g %.6g\n", st->loss_q[0],
           st->loss_q[1], st->loss_q[2], st->loss_q[3], st->loss_q[4]);
    printf("# weights (as N*w): max %.6g, min %.6g; ess %.6g; entropy %.6g nats (uniform %.6g)\n",
           st->w_max, st->w_min, st->ess, st->entropy, st->n_valid ? log(st->n_valid) : 0.0);
    for (int d = 0; d < st->num_domains; d++) {
        const struct rw_domain_stats *ds = &st->domain[d];
        if (ds->count == 0)
            printf("# domain %d: no valid samples\n", d);
        else
            printf("# domain %d: samples %d, loss mean %.6g, weight mean (N*w) %.6g, share %.6g\n",
                   d, ds->count, ds->loss_mean, ds->weight_mean, ds->weight_sum);
    }
}

/* Everything after the options: read, weigh, print. */
static int run(const struct rw_config *cfg, long step, const char *path)
{
    FILE *in = stdin;
    const char *name = "stdin";
    if (path && strcmp(path, "-") != 0) {
        /* a named file must be a regular one (a FIFO would wait for a writer,
         * /dev/zero never ends); stdin may be anything */
        int fd;
        struct herr err;
        if (open_regular_file(path, "input", &fd, NULL, &err))
            return fail("%s (pipe other sources into heft weights on stdin)", err.msg);
        in = fdopen(fd, "r");
        if (!in) {
            close(fd);
            return fail("cannot open '%s': %s", path, strerror(errno));
        }
        name = path;
    }
    struct samples s = { 0 };
    int rc = read_samples(in, name, &s);
    if (in != stdin)
        fclose(in);
    double *w = rc == 0 ? malloc(((size_t)s.n + 1) * sizeof *w) : NULL;
    struct rw_stats *st = rc == 0 ? malloc(sizeof *st) : NULL;
    if (rc == 0 && (!w || !st))
        rc = fail("%s: out of memory for %d samples", name, s.n);
    if (rc == 0) {
        struct rw_state state;
        struct herr err;
        rw_state_init(&state, cfg);
        if (cfg->strategy == RW_REDUCIBLE && !s.has_ref)
            rc = fail("%s: --strategy reducible needs reference losses: a fourth column REF "
                      "(LOSS NTOKENS DOMAIN REF; nan = none)", name);
        else if (rw_compute_ref(cfg, &state, step, s.loss, s.has_ref ? s.ref : NULL, s.ntokens,
                                s.num_domains ? s.domain : NULL, s.num_domains, s.n, w, st,
                                &err))
            rc = fail("%s", err.msg);
        else
            print_results(cfg, step, &s, w, st);
    }
    free(w);
    free(st);
    free(s.loss);
    free(s.ntokens);
    free(s.domain);
    free(s.ref);
    return rc;
}

int cmd_weights(int argc, char **argv)
{
    struct options o = { .step = 0 };
    struct herr err;
    const char *path = NULL;
    rw_config_default(&o.cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (path)
                return fail("more than one input file ('%s' and '%s')", path, a);
            path = a;
            continue;
        }
        /* --flag=value or --flag value */
        const char *eq = strchr(a, '=');
        int len = eq ? (int)(eq - a) : (int)strlen(a);
        char flag[64];
        snprintf(flag, sizeof flag, "%.*s", len, a);
        int k = find_option(flag);
        if (k < 0)
            return fail("unknown option '%s' (see heft weights --help)", flag);
        if (option_table[k].kind == OPT_FLAG) {
            if (eq)
                return fail("%s takes no value", flag);
            apply_option(k, NULL, &o);
            continue;
        }
        if (!eq && i + 1 >= argc)
            return fail("%s needs a value (see heft weights --help)", flag);
        int rc = apply_option(k, eq ? eq + 1 : argv[++i], &o);
        if (rc)
            return rc;
    }
    if (rw_config_validate(&o.cfg, &err))
        return fail("%s", err.msg);
    return run(&o.cfg, o.step, path);
}
