/* tests/test_mpi_tracecmp.c — compares `heft train --trace` files
 * (core/train_trace.c), for the MPI equivalence and resume tests
 * (tests/test_mpi.sh) and for backend parity runs.
 *
 *   test_mpi_tracecmp A B [--rtol X] [--wtol X] [--exact] [--exact-first]
 *       A and B must hold the same steps and reweighting calls, with the same
 *       token counts and domains per sample (the same data in the same order).
 *       Losses (per sample and per step) must agree within relative tolerance
 *       rtol (default 1e-5), weights within wtol (default rtol). --exact: every
 *       number bit for bit. --exact-first: the first reweighting call's losses
 *       and weights bit for bit (before the first update nothing has been
 *       summed in a different order yet).
 *       With reference losses (--ref-losses runs) both must have the same ones,
 *       bit for bit: every rank looks up the same windows.
 *   test_mpi_tracecmp --recompute A
 *       every call's weights must be, bit for bit, what rw_compute() gives for
 *       its losses (and reference losses) over the whole set: the weights a
 *       single process holding the global batch computes. Not for the
 *       strategies with a state that the trace does not hold (infobatch's
 *       RNG, learnability's EMAs) or top-q.
 *   test_mpi_tracecmp --loss-is-ref A [--rtol X]
 *       for a run that starts from the reference model itself (--init-from
 *       the model `heft score` scored with): in the first call every sample
 *       with a reference loss has it as its own loss (within rtol), and at
 *       least one has one: the trainer looked up each row's own window.
 * Prints one summary line; exits 0 when everything holds, 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reweight/reweight.h"

struct call {
    long step;
    int call, n;
    char strategy[32];
    double r;
    double *losses, *weights;
    double *ref; /* NULL when the trace has no reference losses */
    int *ntok, *dom;
};

struct stepline {
    long step;
    double v[5]; /* loss, loss_weighted, grad_norm, clip, lr */
};

struct trace {
    struct call *calls;
    int ncalls;
    struct stepline *steps;
    int nsteps;
};

static const char *const step_keys[5] = { "loss", "loss_weighted", "grad_norm", "clip", "lr" };

static const char *find_key(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    return p ? p + strlen(pat) : NULL;
}

static double parse_num(const char **p)
{
    if (!strncmp(*p, "null", 4)) {
        *p += 4;
        return NAN;
    }
    char *end;
    double v = strtod(*p, &end);
    *p = end;
    return v;
}

static int get_num(const char *line, const char *key, double *v)
{
    const char *p = find_key(line, key);
    if (!p)
        return -1;
    *v = parse_num(&p);
    return 0;
}

/* Reads an array of numbers; returns its length or -1. */
static int get_array(const char *line, const char *key, double **out)
{
    const char *p = find_key(line, key);
    if (!p || *p != '[')
        return -1;
    p++;
    int n = 0, cap = 64;
    double *v = malloc((size_t)cap * sizeof *v);
    while (v && *p != ']') {
        if (n == cap) {
            cap *= 2;
            double *w = realloc(v, (size_t)cap * sizeof *v);
            if (!w)
                break;
            v = w;
        }
        v[n++] = parse_num(&p);
        if (*p == ',')
            p++;
        else if (*p != ']') {
            free(v);
            return -1;
        }
    }
    *out = v;
    return v ? n : -1;
}

static int *to_ints(const double *v, int n)
{
    int *o = malloc((size_t)(n ? n : 1) * sizeof *o);
    for (int i = 0; o && i < n; i++)
        o[i] = (int)v[i];
    return o;
}

static int load(const char *path, struct trace *t)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "test_mpi_tracecmp: cannot open %s\n", path);
        return -1;
    }
    memset(t, 0, sizeof *t);
    size_t cap = 1 << 16;
    char *line = malloc(cap);
    int rc = 0, lineno = 0;
    while (rc == 0 && line && fgets(line, (int)cap, f)) {
        lineno++;
        while (!strchr(line, '\n') && !feof(f)) { /* a long line: grow and read on */
            size_t len = strlen(line);
            char *bigger = realloc(line, 2 * cap);
            if (!bigger)
                break;
            line = bigger;
            cap *= 2;
            if (!fgets(line + len, (int)(cap - len), f))
                break;
        }
        double v = 0.0;
        if (strstr(line, "\"type\":\"step\"")) {
            t->steps = realloc(t->steps, (size_t)(t->nsteps + 1) * sizeof *t->steps);
            struct stepline *s = &t->steps[t->nsteps++];
            if (get_num(line, "step", &v))
                rc = -1;
            s->step = (long)v;
            for (int k = 0; k < 5; k++)
                if (get_num(line, step_keys[k], &s->v[k]))
                    rc = -1;
        } else if (strstr(line, "\"type\":\"weights\"")) {
            t->calls = realloc(t->calls, (size_t)(t->ncalls + 1) * sizeof *t->calls);
            struct call *c = &t->calls[t->ncalls++];
            memset(c, 0, sizeof *c);
            double *nt = NULL, *dm = NULL;
            double step = 0, call = 0, n = 0; /* set by get_num; initialized for -Wmaybe-uninitialized */
            const char *st = find_key(line, "strategy");
            if (get_num(line, "step", &step) || get_num(line, "call", &call) ||
                get_num(line, "n", &n) || get_num(line, "r", &c->r) || !st ||
                sscanf(st, "\"%31[a-z]\"", c->strategy) != 1)
                rc = -1;
            c->step = (long)step;
            c->call = (int)call;
            c->n = (int)n;
            if (rc == 0 && (get_array(line, "losses", &c->losses) != c->n ||
                            get_array(line, "weights", &c->weights) != c->n ||
                            get_array(line, "ntokens", &nt) != c->n ||
                            get_array(line, "domains", &dm) != c->n))
                rc = -1;
            if (rc == 0 && find_key(line, "ref_losses") &&
                get_array(line, "ref_losses", &c->ref) != c->n)
                rc = -1;
            if (rc == 0) {
                c->ntok = to_ints(nt, c->n);
                c->dom = to_ints(dm, c->n);
            }
            free(nt);
            free(dm);
        }
        if (rc)
            fprintf(stderr, "test_mpi_tracecmp: %s:%d: not a trace line\n", path, lineno);
    }
    free(line);
    fclose(f);
    return rc;
}

static int same_bits(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* relative difference, 0 for equal (NaN with NaN) */
static double rel(double a, double b)
{
    if (same_bits(a, b))
        return 0.0;
    if (isnan(a) || isnan(b))
        return INFINITY;
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) / (scale > 0 ? scale : 1.0);
}

static int compare(const struct trace *a, const struct trace *b, double rtol, double wtol,
                   int exact, int exact_first)
{
    if (a->nsteps != b->nsteps || a->ncalls != b->ncalls || a->nsteps == 0) {
        printf("FAIL: %d steps and %d reweighting calls against %d and %d\n", a->nsteps,
               a->ncalls, b->nsteps, b->ncalls);
        return 1;
    }
    double d_step = 0, d_loss = 0, d_w = 0, d_other = 0;
    int fail = 0, identical = 0;
    for (int i = 0; i < a->nsteps; i++) {
        if (a->steps[i].step != b->steps[i].step) {
            printf("FAIL: step line %d is step %ld against %ld\n", i, a->steps[i].step,
                   b->steps[i].step);
            return 1;
        }
        double d = rel(a->steps[i].v[0], b->steps[i].v[0]);
        d_step = d > d_step ? d : d_step;
        for (int k = 1; k < 5; k++) {
            double e = rel(a->steps[i].v[k], b->steps[i].v[k]);
            d_other = e > d_other ? e : d_other;
            if (exact && e > 0) {
                printf("FAIL: step %ld: %s %.17g against %.17g\n", a->steps[i].step,
                       step_keys[k], a->steps[i].v[k], b->steps[i].v[k]);
                fail = 1;
            }
        }
    }
    for (int i = 0; i < a->ncalls; i++) {
        const struct call *x = &a->calls[i], *y = &b->calls[i];
        if (x->step != y->step || x->n != y->n || strcmp(x->strategy, y->strategy) != 0) {
            printf("FAIL: call %d: step %ld, %d samples, %s against step %ld, %d, %s\n", i,
                   x->step, x->n, x->strategy, y->step, y->n, y->strategy);
            return 1;
        }
        if (!x->ref != !y->ref) {
            printf("FAIL: step %ld: reference losses in one trace only\n", x->step);
            return 1;
        }
        int bits = 1;
        for (int j = 0; j < x->n; j++) {
            if (x->ref && !same_bits(x->ref[j], y->ref[j])) {
                printf("FAIL: step %ld sample %d: reference loss %.17g against %.17g (not the "
                       "same window)\n", x->step, j, x->ref[j], y->ref[j]);
                return 1;
            }
            if (x->ntok[j] != y->ntok[j] || x->dom[j] != y->dom[j]) {
                printf("FAIL: step %ld sample %d: %d tokens of domain %d against %d of %d "
                       "(not the same data order)\n",
                       x->step, j, x->ntok[j], x->dom[j], y->ntok[j], y->dom[j]);
                return 1;
            }
            double dl = rel(x->losses[j], y->losses[j]), dw = rel(x->weights[j], y->weights[j]);
            d_loss = dl > d_loss ? dl : d_loss;
            d_w = dw > d_w ? dw : d_w;
            bits = bits && dl == 0 && dw == 0;
        }
        identical += bits;
        if (!bits && (exact || (exact_first && i == 0))) {
            printf("FAIL: step %ld call %d: losses or weights not bit-identical\n", x->step,
                   x->call);
            fail = 1;
        }
    }
    if (d_step > rtol || d_loss > rtol || d_w > wtol)
        fail = 1;
    printf("%s: %d steps, %d reweighting calls (%d bit-identical); max relative difference: "
           "step loss %.3g, sample loss %.3g, weight %.3g (tolerances %.3g, %.3g); "
           "grad norm/clip/lr %.3g\n",
           fail ? "FAIL" : "ok", a->nsteps, a->ncalls, identical, d_step, d_loss, d_w, rtol,
           wtol, d_other);
    return fail;
}

static int recompute(const struct trace *a)
{
    int fail = 0;
    for (int i = 0; i < a->ncalls; i++) {
        const struct call *c = &a->calls[i];
        struct rw_config cfg;
        struct rw_state st;
        struct herr err;
        rw_config_default(&cfg);
        if (rw_strategy_parse(c->strategy, &cfg.strategy, &err) ||
            cfg.strategy == RW_INFOBATCH || cfg.strategy == RW_TOPQ ||
            cfg.strategy == RW_LEARNABILITY) {
            printf("FAIL: step %ld: cannot recompute strategy %s from a trace\n", c->step,
                   c->strategy);
            return 1;
        }
        if (cfg.strategy == RW_DRO)
            cfg.dro_tau = c->r;
        else if (rw_strategy_uses_r(cfg.strategy))
            cfg.r = c->r;
        rw_state_init(&st, &cfg);
        double *w = malloc((size_t)c->n * sizeof *w);
        if (!w || rw_compute_ref(&cfg, &st, 0, c->losses, c->ref, c->ntok, c->dom,
                                 RW_MAX_DOMAINS, c->n, w, NULL, &err)) {
            printf("FAIL: step %ld: rw_compute: %s\n", c->step, w ? err.msg : "out of memory");
            free(w);
            return 1;
        }
        for (int j = 0; j < c->n; j++)
            if (!same_bits(w[j], c->weights[j])) {
                printf("FAIL: step %ld sample %d: weight %.17g in the trace, %.17g recomputed "
                       "over the whole set\n",
                       c->step, j, c->weights[j], w[j]);
                fail = 1;
                break;
            }
        free(w);
    }
    if (!fail)
        printf("ok: the weights of all %d reweighting calls are those of the whole set, bit "
               "for bit\n", a->ncalls);
    return fail;
}

static int loss_is_ref(const struct trace *a, double rtol)
{
    if (a->ncalls == 0 || !a->calls[0].ref) {
        printf("FAIL: no reweighting call with reference losses in the trace\n");
        return 1;
    }
    const struct call *c = &a->calls[0];
    int with = 0;
    double worst = 0.0;
    for (int j = 0; j < c->n; j++) {
        if (isnan(c->ref[j]))
            continue;
        with++;
        double d = rel(c->losses[j], c->ref[j]);
        worst = d > worst ? d : worst;
        if (d > rtol) {
            printf("FAIL: sample %d: loss %.9g but reference loss %.9g (another window's?)\n", j,
                   c->losses[j], c->ref[j]);
            return 1;
        }
    }
    if (with == 0) {
        printf("FAIL: none of the %d samples of the first call has a reference loss\n", c->n);
        return 1;
    }
    printf("ok: %d of %d samples carry their own loss as reference loss (max relative "
           "difference %.3g)\n", with, c->n, worst);
    return 0;
}

static void free_trace(struct trace *t)
{
    for (int i = 0; i < t->ncalls; i++) {
        free(t->calls[i].losses);
        free(t->calls[i].weights);
        free(t->calls[i].ref);
        free(t->calls[i].ntok);
        free(t->calls[i].dom);
    }
    free(t->calls);
    free(t->steps);
}

int main(int argc, char **argv)
{
    const char *files[2] = { NULL, NULL };
    int nfiles = 0, exact = 0, exact_first = 0, recomp = 0, lossref = 0;
    double rtol = 1e-5, wtol = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rtol") && i + 1 < argc)
            rtol = atof(argv[++i]);
        else if (!strcmp(argv[i], "--wtol") && i + 1 < argc)
            wtol = atof(argv[++i]);
        else if (!strcmp(argv[i], "--exact"))
            exact = 1;
        else if (!strcmp(argv[i], "--exact-first"))
            exact_first = 1;
        else if (!strcmp(argv[i], "--recompute"))
            recomp = 1;
        else if (!strcmp(argv[i], "--loss-is-ref"))
            lossref = 1;
        else if (argv[i][0] != '-' && nfiles < 2)
            files[nfiles++] = argv[i];
        else {
            fprintf(stderr, "usage: test_mpi_tracecmp A B [--rtol X] [--wtol X] [--exact] "
                            "[--exact-first] | --recompute A | --loss-is-ref A [--rtol X]\n");
            return 2;
        }
    }
    if (wtol < 0)
        wtol = rtol;
    int one = recomp || lossref;
    if (nfiles != (one ? 1 : 2)) {
        fprintf(stderr, "test_mpi_tracecmp: expected %d trace file(s)\n", one ? 1 : 2);
        return 2;
    }
    struct trace a, b;
    if (load(files[0], &a))
        return 1;
    int rc;
    if (recomp) {
        rc = recompute(&a);
    } else if (lossref) {
        rc = loss_is_ref(&a, rtol);
    } else {
        if (load(files[1], &b))
            return 1;
        rc = compare(&a, &b, rtol, wtol, exact, exact_first);
        free_trace(&b);
    }
    free_trace(&a);
    return rc;
}
