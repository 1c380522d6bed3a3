/* bench/linreg.c — the paper's toy problem: minibatch SGD on linear regression
 * with every reweighting strategy of reweight/, on training sets whose samples
 * differ in usefulness.
 *
 * A training set mixes three groups (the shares depend on the design):
 *   informative  x ~ N(0, S^2), y = <theta*, x>
 *   redundant    near-duplicates: x = p_j + 0.05 N(0, S^2) around a few
 *                prototypes p_j ~ N(0, S^2), y = <theta*, x>
 *   noisy        x ~ N(0, S^2), y = <theta*, x> + 3 eps  (bad labels)
 * with S = diag(1 ... 0.1) (condition number 100) and theta* ~ N(0, I). The
 * test set is clean: y = <theta*, x>, x ~ N(0, S^2). Per-sample loss
 * l_i = (x_i.theta - y_i)^2 / 2; one step is theta -= lr * sum_i w_i grad l_i
 * with w from rw_compute over the batch (domain = group, for the weight
 * statistics and learnability). reducible's reference loss is the loss of
 * theta* itself on the sample, 0.5 (label noise)^2: a perfect reference
 * model, the best case of the rule. For each seed, the data and the batch order are the same for
 * every strategy, so the strategies differ only in their weights.
 *
 * Prints, per design, final test loss (mean +- std over seeds), the steps each
 * strategy needs to reach uniform's final test loss (on the seed-mean curve)
 * and the mean weight (as N*w) each group received; writes every curve to a
 * CSV for bench/linreg_plot.py.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reweight/reweight.h"

enum { GROUP_INFORMATIVE, GROUP_REDUNDANT, GROUP_NOISY, NUM_GROUPS };

struct design {
    const char *name;
    double share[NUM_GROUPS];        /* of the training set */
    double label_noise[NUM_GROUPS];  /* std of the target noise */
    int prototypes;                  /* redundant points cluster around this many */
};

/* Clean labels are exact, so without noisy rows the problem interpolates (the
 * setting of the paper's convergence analysis) and the test loss keeps falling:
 * "steps to reach uniform's final loss" then measures speed, not a noise floor. */
static const struct design designs[] = {
    { "clean", { 1.0, 0.0, 0.0 }, { 0.0, 0.0, 3.0 }, 10 },
    { "redundant", { 0.2, 0.8, 0.0 }, { 0.0, 0.0, 3.0 }, 10 },
    { "noisy", { 0.7, 0.0, 0.3 }, { 0.0, 0.0, 3.0 }, 10 },
    { "mixed", { 0.3, 0.5, 0.2 }, { 0.0, 0.0, 3.0 }, 10 },
};
enum { NUM_DESIGNS = sizeof designs / sizeof designs[0] };

enum { MAX_LRS = 16 };

struct options {
    int d, n_train, n_test, batch, steps, seeds, eval_every;
    double lrs[MAX_LRS];  /* learning rates tried; each strategy reports its best */
    int n_lrs;
    const char *design;   /* a name or "all" */
    const char *csv;      /* curves; NULL = none */
    struct rw_config rw;  /* strategy is set per run */
};

/* ------------------------------------------------------------ random numbers */

/* splitmix64 again, but the benchmark's own: its streams must not depend on
 * reweight/'s internals. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *s)
{
    return ((double)(next_u64(s) >> 11) + 0.5) * 0x1.0p-53; /* (0, 1) */
}

/* Box-Muller; discards the second value to stay stateless. */
static double next_normal(uint64_t *s)
{
    double u = next_unit(s), v = next_unit(s);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* ------------------------------------------------------------ data */

struct dataset {
    int n, d;
    double *x;   /* (n, d) */
    double *y;   /* (n) */
    int *group;  /* (n) */
    double *ref; /* (n) the loss theta* itself has on the sample: 0.5 noise^2, the
                    reference loss of a perfect reference model (reducible) */
};

static double dot(const double *a, const double *b, int d)
{
    double s = 0.0;
    for (int j = 0; j < d; j++)
        s += a[j] * b[j];
    return s;
}

static int dataset_alloc(struct dataset *ds, int n, int d)
{
    ds->n = n;
    ds->d = d;
    ds->x = malloc((size_t)n * d * sizeof *ds->x);
    ds->y = malloc((size_t)n * sizeof *ds->y);
    ds->group = malloc((size_t)n * sizeof *ds->group);
    ds->ref = malloc((size_t)n * sizeof *ds->ref);
    return ds->x && ds->y && ds->group && ds->ref ? 0 : -1;
}

static void dataset_free(struct dataset *ds)
{
    free(ds->x);
    free(ds->y);
    free(ds->group);
    free(ds->ref);
}

/* Feature j has standard deviation 10^(-j/(d-1)), from 1 down to 0.1: a
 * condition number of 100, so SGD needs hundreds of steps on the weak
 * directions and no run reaches the rounding floor within the budget. */
static double feature_scale(int j, int d)
{
    return d > 1 ? pow(10.0, -(double)j / (d - 1)) : 1.0;
}

/* Fills ds with the groups of `share` in blocks (the sampler shuffles).
 * label_noise is the std of the target noise per group; protos (prototypes, d)
 * are the centres of the redundant points. */
static void make_data(struct dataset *ds, const double share[NUM_GROUPS],
                      const double label_noise[NUM_GROUPS], const double *protos, int prototypes,
                      const double *theta_star, uint64_t *rng)
{
    int d = ds->d;
    int n_inf = (int)lround(share[GROUP_INFORMATIVE] * ds->n);
    int n_red = (int)lround(share[GROUP_REDUNDANT] * ds->n);
    for (int i = 0; i < ds->n; i++) {
        double *x = ds->x + (size_t)i * d;
        int g = i < n_inf ? GROUP_INFORMATIVE : i < n_inf + n_red ? GROUP_REDUNDANT : GROUP_NOISY;
        const double *p = protos + (size_t)(i % prototypes) * d;
        for (int j = 0; j < d; j++) {
            double z = feature_scale(j, d) * next_normal(rng);
            x[j] = g == GROUP_REDUNDANT ? p[j] + 0.05 * z : z;
        }
        double noise = label_noise[g] * next_normal(rng);
        ds->y[i] = dot(theta_star, x, d) + noise;
        ds->ref[i] = 0.5 * noise * noise;
        ds->group[i] = g;
    }
}

/* Mean of (x.theta - y)^2 / 2 over the set. */
static double mean_loss(const struct dataset *ds, const double *theta)
{
    double s = 0.0;
    for (int i = 0; i < ds->n; i++) {
        double r = dot(ds->x + (size_t)i * ds->d, theta, ds->d) - ds->y[i];
        s += 0.5 * r * r;
    }
    return s / ds->n;
}

/* ------------------------------------------------------------ training */

/* Scratch of one run, allocated once per design. */
struct work {
    double *theta, *grad;                  /* (d) */
    double *loss, *resid, *weight, *ref;   /* (batch) */
    int *dom, *idx;                        /* (batch): group, training-set index */
    int *perm;                             /* (n_train) */
};

/* SGD from theta = 0 under strategy s at learning rate lr. Batches are consecutive slices of a
 * permutation of the training set, reshuffled every epoch from sample_seed.
 * Writes the test loss at steps 0, eval_every, ..., steps into curve and the
 * average N*w each group received (NAN if it never appeared) into group_w. */
static int train(const struct options *o, enum rw_strategy s, double lr, const struct dataset *tr,
                 const struct dataset *te, uint64_t sample_seed, struct work *wk, double *curve,
                 double group_w[NUM_GROUPS], struct herr *err)
{
    int d = tr->d, B = o->batch, pos = tr->n;
    uint64_t sampler = sample_seed;
    struct rw_config cfg = o->rw;
    struct rw_state state;
    double wsum[NUM_GROUPS] = { 0 };
    long wcount[NUM_GROUPS] = { 0 };
    cfg.strategy = s;
    rw_state_init(&state, &cfg);
    memset(wk->theta, 0, (size_t)d * sizeof *wk->theta);
    for (int i = 0; i < tr->n; i++)
        wk->perm[i] = i;
    curve[0] = mean_loss(te, wk->theta);
    for (int step = 0; step < o->steps; step++) {
        for (int b = 0; b < B; b++, pos++) {
            if (pos == tr->n) { /* new epoch: Fisher-Yates */
                for (int i = tr->n - 1; i > 0; i--) {
                    int j = (int)(next_u64(&sampler) % (uint64_t)(i + 1));
                    int t = wk->perm[i];
                    wk->perm[i] = wk->perm[j];
                    wk->perm[j] = t;
                }
                pos = 0;
            }
            int i = wk->perm[pos];
            wk->resid[b] = dot(tr->x + (size_t)i * d, wk->theta, d) - tr->y[i];
            wk->loss[b] = 0.5 * wk->resid[b] * wk->resid[b];
            wk->ref[b] = tr->ref[i];
            wk->dom[b] = tr->group[i];
            wk->idx[b] = i;
        }
        struct rw_stats st;
        if (rw_compute_ref(&cfg, &state, step, wk->loss, wk->ref, NULL, wk->dom, NUM_GROUPS, B,
                           wk->weight, &st, err))
            return -1;
        for (int g = 0; g < NUM_GROUPS; g++) {
            if (st.domain[g].count > 0) {
                wsum[g] += st.domain[g].weight_mean;
                wcount[g]++;
            }
        }
        /* grad = sum_b w_b * resid_b * x_b */
        memset(wk->grad, 0, (size_t)d * sizeof *wk->grad);
        for (int b = 0; b < B; b++) {
            const double *x = tr->x + (size_t)wk->idx[b] * d;
            for (int j = 0; j < d; j++)
                wk->grad[j] += wk->weight[b] * wk->resid[b] * x[j];
        }
        for (int j = 0; j < d; j++)
            wk->theta[j] -= lr * wk->grad[j];
        if ((step + 1) % o->eval_every == 0)
            curve[(step + 1) / o->eval_every] = mean_loss(te, wk->theta);
    }
    for (int g = 0; g < NUM_GROUPS; g++)
        group_w[g] = wcount[g] ? wsum[g] / wcount[g] : NAN;
    return 0;
}

/* ------------------------------------------------------------ one design */

/* All results of one design: test-loss curves and group weights per
 * (strategy, learning rate, seed). */
struct results {
    int n_evals, seeds, n_lrs;
    double *curve;  /* (S, n_lrs, seeds, n_evals) */
    double *gw;     /* (S, n_lrs, seeds, NUM_GROUPS) */
};

static double *curve_of(const struct results *r, int s, int l, int seed)
{
    return r->curve + (((size_t)s * r->n_lrs + l) * r->seeds + seed) * r->n_evals;
}

/* Seed mean of (s, l)'s test loss at evaluation e. */
static double mean_at(const struct results *r, int s, int l, int e)
{
    double m = 0.0;
    for (int seed = 0; seed < r->seeds; seed++)
        m += curve_of(r, s, l, seed)[e];
    return m / r->seeds;
}

struct summary {
    int best_lr;                   /* index of the lr with the lowest final mean test loss */
    double final_mean, final_std;  /* test loss at the last step, over seeds, at that lr */
    long steps_to_target;          /* first step the seed-mean curve <= target; -1: never */
    double group_w[NUM_GROUPS];    /* mean over seeds of the run's average N*w */
};

static void summarize(const struct options *o, const struct results *r, struct summary *sm)
{
    int last = r->n_evals - 1;
    for (int s = 0; s < RW_NUM_STRATEGIES; s++) {
        int b = 0; /* a diverged run (inf or NaN) is never the best */
        for (int l = 1; l < r->n_lrs; l++)
            if (mean_at(r, s, l, last) < mean_at(r, s, b, last) || !isfinite(mean_at(r, s, b, last)))
                b = l;
        double m = mean_at(r, s, b, last), v = 0.0;
        for (int seed = 0; seed < r->seeds; seed++)
            v += (curve_of(r, s, b, seed)[last] - m) * (curve_of(r, s, b, seed)[last] - m);
        sm[s].best_lr = b;
        sm[s].final_mean = m;
        sm[s].final_std = r->seeds > 1 ? sqrt(v / (r->seeds - 1)) : 0.0;
        for (int g = 0; g < NUM_GROUPS; g++) {
            double a = 0.0;
            for (int seed = 0; seed < r->seeds; seed++)
                a += r->gw[(((size_t)s * r->n_lrs + b) * r->seeds + seed) * NUM_GROUPS + g];
            sm[s].group_w[g] = a / r->seeds;
        }
    }
    double target = sm[RW_UNIFORM].final_mean;
    for (int s = 0; s < RW_NUM_STRATEGIES; s++) {
        sm[s].steps_to_target = -1;
        for (int e = 0; e < r->n_evals && sm[s].steps_to_target < 0; e++)
            if (mean_at(r, s, sm[s].best_lr, e) <= target)
                sm[s].steps_to_target = (long)e * o->eval_every;
    }
}

static void print_table(const struct options *o, const struct design *dz, const struct summary *sm)
{
    printf("\n== design %s: %.0f%% informative, %.0f%% near-duplicates of %d points, "
           "%.0f%% noisy labels (std 3)\n", dz->name, 100 * dz->share[GROUP_INFORMATIVE],
           100 * dz->share[GROUP_REDUNDANT], dz->prototypes, 100 * dz->share[GROUP_NOISY]);
    printf("   d %d, n %d, batch %d, r %g, %d steps, %d seeds; each strategy at its best lr of",
           o->d, o->n_train, o->batch, o->rw.r, o->steps, o->seeds);
    for (int l = 0; l < o->n_lrs; l++)
        printf(" %g", o->lrs[l]);
    printf("\n   target = uniform's final test loss %.4g\n", sm[RW_UNIFORM].final_mean);
    printf("%-12s %6s %-22s %9s %12s %9s   %s\n", "strategy", "lr", "final test loss", "/ unif",
           "steps to tgt", "speed-up", "mean N*w: informative redundant noisy");
    long base = sm[RW_UNIFORM].steps_to_target;
    for (int s = 0; s < RW_NUM_STRATEGIES; s++) {
        char tgt[32], spd[32], fin[48];
        if (isfinite(sm[s].final_mean))
            snprintf(fin, sizeof fin, "%.4g +- %.2g", sm[s].final_mean, sm[s].final_std);
        else
            snprintf(fin, sizeof fin, "diverged");
        if (sm[s].steps_to_target < 0) {
            snprintf(tgt, sizeof tgt, "never");
            snprintf(spd, sizeof spd, "-");
        } else {
            snprintf(tgt, sizeof tgt, "%ld", sm[s].steps_to_target);
            snprintf(spd, sizeof spd, "%+.0f%%",
                     100.0 * (1.0 - (double)sm[s].steps_to_target / (double)base));
        }
        printf("%-12s %6g %-22s %8.3gx %12s %9s  ", rw_strategy_name((enum rw_strategy)s),
               o->lrs[sm[s].best_lr], fin, sm[s].final_mean / sm[RW_UNIFORM].final_mean, tgt, spd);
        for (int g = 0; g < NUM_GROUPS; g++) {
            if (isnan(sm[s].group_w[g]))
                printf(" %11s", "-");
            else
                printf(" %11.2f", sm[s].group_w[g]);
        }
        printf("\n");
    }
}

/* CSV rows: every curve, with best = 1 on each strategy's chosen lr. */
static void write_csv(FILE *csv, const struct options *o, const struct design *dz,
                      const struct results *r, const struct summary *sm)
{
    for (int s = 0; s < RW_NUM_STRATEGIES; s++)
        for (int l = 0; l < r->n_lrs; l++)
            for (int seed = 0; seed < r->seeds; seed++)
                for (int e = 0; e < r->n_evals; e++)
                    fprintf(csv, "%s,%s,%g,%d,%d,%d,%.9g\n", dz->name,
                            rw_strategy_name((enum rw_strategy)s), o->lrs[l],
                            l == sm[s].best_lr, seed, e * o->eval_every,
                            curve_of(r, s, l, seed)[e]);
}

/* All strategies, learning rates and seeds of one design. */
static int run_design(const struct options *o, const struct design *dz, FILE *csv,
                      struct herr *err)
{
    int d = o->d, rc = -1;
    struct results r = { o->steps / o->eval_every + 1, o->seeds, o->n_lrs, NULL, NULL };
    size_t runs = (size_t)RW_NUM_STRATEGIES * o->n_lrs * o->seeds;
    r.curve = malloc(runs * r.n_evals * sizeof *r.curve);
    r.gw = malloc(runs * NUM_GROUPS * sizeof *r.gw);
    double *theta_star = malloc((size_t)d * sizeof *theta_star);
    double *protos = malloc((size_t)dz->prototypes * d * sizeof *protos);
    struct work wk = {
        .theta = malloc((size_t)d * sizeof(double)), .grad = malloc((size_t)d * sizeof(double)),
        .loss = malloc((size_t)o->batch * sizeof(double)),
        .resid = malloc((size_t)o->batch * sizeof(double)),
        .weight = malloc((size_t)o->batch * sizeof(double)),
        .ref = malloc((size_t)o->batch * sizeof(double)),
        .dom = malloc((size_t)o->batch * sizeof(int)), .idx = malloc((size_t)o->batch * sizeof(int)),
        .perm = malloc((size_t)o->n_train * sizeof(int)),
    };
    struct dataset tr = { 0 }, te = { 0 };
    if (!r.curve || !r.gw || !theta_star || !protos || !wk.theta || !wk.grad || !wk.loss ||
        !wk.resid || !wk.weight || !wk.ref || !wk.dom || !wk.idx || !wk.perm ||
        dataset_alloc(&tr, o->n_train, d) || dataset_alloc(&te, o->n_test, d)) {
        herr_set(err, "design %s: out of memory", dz->name);
        goto out;
    }
    static const double clean[NUM_GROUPS] = { 0.0, 0.0, 0.0 };
    static const double test_share[NUM_GROUPS] = { 1.0, 0.0, 0.0 };
    for (int seed = 0; seed < o->seeds; seed++) {
        uint64_t rng = 0xD47A0000u + 1000u * (uint64_t)seed + (uint64_t)(dz - designs);
        for (int j = 0; j < d; j++)
            theta_star[j] = next_normal(&rng);
        for (int j = 0; j < dz->prototypes * d; j++)
            protos[j] = feature_scale(j % d, d) * next_normal(&rng);
        make_data(&tr, dz->share, dz->label_noise, protos, dz->prototypes, theta_star, &rng);
        make_data(&te, test_share, clean, protos, dz->prototypes, theta_star, &rng);
        uint64_t sample_seed = next_u64(&rng);
        for (int s = 0; s < RW_NUM_STRATEGIES; s++) {
            for (int l = 0; l < o->n_lrs; l++) {
                size_t run = ((size_t)s * o->n_lrs + l) * o->seeds + seed;
                if (train(o, (enum rw_strategy)s, o->lrs[l], &tr, &te, sample_seed, &wk,
                          curve_of(&r, s, l, seed), r.gw + run * NUM_GROUPS, err)) {
                    herr_wrap(err, "design %s, %s, lr %g, seed %d: ", dz->name,
                              rw_strategy_name((enum rw_strategy)s), o->lrs[l], seed);
                    goto out;
                }
            }
        }
    }
    struct summary sm[RW_NUM_STRATEGIES];
    summarize(o, &r, sm);
    print_table(o, dz, sm);
    if (csv)
        write_csv(csv, o, dz, &r, sm);
    rc = 0;
out:
    free(r.curve);
    free(r.gw);
    free(theta_star);
    free(protos);
    free(wk.theta);
    free(wk.grad);
    free(wk.loss);
    free(wk.resid);
    free(wk.weight);
    free(wk.ref);
    free(wk.dom);
    free(wk.idx);
    free(wk.perm);
    dataset_free(&tr);
    dataset_free(&te);
    return rc;
}

/* ------------------------------------------------------------ main */

static const char usage[] =
    "usage: linreg [options]\n"
    "  --design NAME   clean, redundant, noisy, mixed or all (default all)\n"
    "  --steps N       SGD steps (default 1000)      --eval-every N  (default 10)\n"
    "  --seeds N       seeds (default 5)             --batch N       (default 32)\n"
    "  --lr X[,X...]   learning rates; each strategy is reported at its best\n"
    "                  (lowest final test loss; default 0.05 to 1.6 in factors of\n"
    "                  sqrt(2))\n"
    "  --r X           temperature (default 1, the paper's toy setting)\n"
    "  --d N           dimension (default 20)        --n N           training samples (default 2000)\n"
    "  --csv PATH      write every curve (design,strategy,lr,best,seed,step,test_loss)\n";

/* "0.01,0.02" into o->lrs; 0 or -1. */
static int parse_lrs(const char *v, struct options *o)
{
    o->n_lrs = 0;
    for (const char *p = v; *p;) {
        char *end;
        double x = strtod(p, &end);
        if (end == p || !(x > 0) || o->n_lrs == MAX_LRS || (*end != ',' && *end != '\0'))
            return -1;
        o->lrs[o->n_lrs++] = x;
        p = *end == ',' ? end + 1 : end;
    }
    return o->n_lrs > 0 ? 0 : -1;
}

/* Parses "--flag value" pairs into o; returns 0, 1 after --help, or 2 after
 * printing what is wrong. */
static int parse_args(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "-h") == 0 || strcmp(f, "--help") == 0) {
            fputs(usage, stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "linreg: %s needs a value (see --help)\n", f);
            return 2;
        }
        const char *v = argv[++i];
        char *end;
        double x = strtod(v, &end);
        int numeric = end != v && *end == '\0';
        if (strcmp(f, "--design") == 0) {
            o->design = v;
        } else if (strcmp(f, "--csv") == 0) {
            o->csv = v;
        } else if (strcmp(f, "--lr") == 0) {
            if (parse_lrs(v, o)) {
                fprintf(stderr, "linreg: --lr: '%s' is not a list of up to %d rates > 0\n", v,
                        MAX_LRS);
                return 2;
            }
        } else if (!numeric) {
            fprintf(stderr, "linreg: %s: '%s' is not a number\n", f, v);
            return 2;
        } else if (strcmp(f, "--steps") == 0) {
            o->steps = (int)x;
        } else if (strcmp(f, "--eval-every") == 0) {
            o->eval_every = (int)x;
        } else if (strcmp(f, "--seeds") == 0) {
            o->seeds = (int)x;
        } else if (strcmp(f, "--batch") == 0) {
            o->batch = (int)x;
        } else if (strcmp(f, "--r") == 0) {
            o->rw.r = x;
        } else if (strcmp(f, "--d") == 0) {
            o->d = (int)x;
        } else if (strcmp(f, "--n") == 0) {
            o->n_train = (int)x;
        } else {
            fprintf(stderr, "linreg: unknown option '%s' (see --help)\n", f);
            return 2;
        }
    }
    if (o->steps < 1 || o->eval_every < 1 || o->steps % o->eval_every || o->seeds < 1 ||
        o->batch < 1 || o->d < 1 || o->n_train < o->batch) {
        fprintf(stderr, "linreg: need steps, eval-every, seeds, batch, d >= 1, steps a multiple "
                "of eval-every and n >= batch\n");
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = { .d = 20, .n_train = 2000, .n_test = 1000, .batch = 32, .steps = 1000,
                         .seeds = 5, .eval_every = 10, .design = "all",
                         /* factors of sqrt(2) from 0.05 to the stability edge of uniform SGD
                          * on the clean design (about 1.7) */
                         .lrs = { 0.05, 0.07, 0.1, 0.14, 0.2, 0.28, 0.4, 0.57, 0.8, 1.13, 1.6 },
                         .n_lrs = 11 };
    struct herr err;
    rw_config_default(&o.rw);
    o.rw.r = 1.0; /* the paper's toy problem (its Figure 7) uses r = 1 */
    int prc = parse_args(argc, argv, &o);
    if (prc)
        return prc == 1 ? 0 : 2;
    if (rw_config_validate(&o.rw, &err)) {
        fprintf(stderr, "linreg: %s\n", err.msg);
        return 2;
    }
    FILE *csv = NULL;
    if (o.csv) {
        csv = fopen(o.csv, "w");
        if (!csv) {
            fprintf(stderr, "linreg: cannot write '%s'\n", o.csv);
            return 1;
        }
        fprintf(csv, "design,strategy,lr,best,seed,step,test_loss\n");
    }
    printf("linear regression, SGD with per-sample loss reweighting (reweight/); peers at "
           "infobatch_prune %g, topq_q %g, dro_tau %g\n", o.rw.infobatch_prune, o.rw.topq_q,
           o.rw.dro_tau);
    int found = 0, rc = 0;
    for (int k = 0; k < NUM_DESIGNS && rc == 0; k++) {
        if (strcmp(o.design, "all") != 0 && strcmp(o.design, designs[k].name) != 0)
            continue;
        found = 1;
        if (run_design(&o, &designs[k], csv, &err)) {
            fprintf(stderr, "linreg: %s\n", err.msg);
            rc = 1;
        }
    }
    if (!found) {
        fprintf(stderr, "linreg: unknown design '%s' (clean, redundant, noisy, mixed or all)\n",
                o.design);
        rc = 2;
    }
    if (csv && fclose(csv) != 0) {
        fprintf(stderr, "linreg: error writing '%s'\n", o.csv);
        rc = 1;
    }
    return rc;
}
