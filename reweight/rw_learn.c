/* reweight/rw_learn.c — the two rules that aim at what can still be learned
 * (reweight.h): reducible (loss minus a reference model's loss, RHO-LOSS)
 * and learnability (each domain's recent loss decrease per unit of weight,
 * ADO-style). Both turn a score into f in [0, 1] and share the softmax of
 * the loss-shape rules, so the cap max w / min w <= e^(1/r) holds. */
#include "reweight/rw_internal.h"

/* A reference loss a sample can be judged by: finite. The trainer passes NaN
 * for a window the side file does not cover. */
static int has_ref(const double *ref, int i)
{
    return ref != NULL && isfinite(ref[i]);
}

int rw_reducible_scores(const double *losses, const double *ref, const int *ntokens, int N,
                        const struct rw_scan *act, double *x, double *xmin, double *xmax)
{
    /* the median of the reducible losses first: compacted into x's front and
     * sorted there (no allocation), then x is written in index order */
    int k = 0;
    for (int i = 0; i < N; i++)
        if (rw_sample_active(losses, ntokens, act, i) && has_ref(ref, i))
            x[k++] = losses[i] - ref[i];
    rw_sort_ascending(x, k);
    double median = k > 0 ? rw_quantile(x, k, 0.5) : 0.0;
    int missing = 0, first = 1;
    *xmin = *xmax = 0.0;
    for (int i = 0; i < N; i++) {
        if (!rw_sample_active(losses, ntokens, act, i)) {
            x[i] = 0.0;
            continue;
        }
        if (!has_ref(ref, i)) {
            /* the median lies within [xmin, xmax] of the others: it moves no end */
            x[i] = median;
            missing++;
            continue;
        }
        x[i] = losses[i] - ref[i];
        if (first || x[i] < *xmin)
            *xmin = x[i];
        if (first || x[i] > *xmax)
            *xmax = x[i];
        first = 0;
    }
    return missing;
}

/* Calls an EMA of decay e trails a linear trend by. */
static double ema_lag(double e)
{
    return e / (1.0 - e);
}

/* A domain's share estimate below this is treated as this: a domain the cut
 * removed has weight 0 and would otherwise divide by zero. */
static const double MIN_SHARE = 1e-3;

static int learn_seen(const struct rw_state *st, int d)
{
    return (int)((st->learn_seen >> d) & 1u);
}

void rw_learn_lambdas(const struct rw_state *st, const struct rw_config *c, int num_domains,
                      double *lambda, int *has)
{
    double lag = ema_lag(c->learn_slow) - ema_lag(c->learn_fast);
    for (int d = 0; d < num_domains; d++) {
        has[d] = learn_seen(st, d);
        lambda[d] = 0.0;
        if (!has[d])
            continue;
        double g = (st->learn_slow[d] - st->learn_fast[d]) / lag;
        lambda[d] = c->learn_raw ? g : g / fmax(st->learn_share[d], MIN_SHARE);
    }
}

void rw_learn_scores(const struct rw_state *st, const struct rw_config *c, const double *losses,
                     const int *ntokens, const int *domains, int num_domains, int N,
                     const struct rw_scan *act, double *f, double *lambda, int *has)
{
    int present[RW_MAX_DOMAINS] = { 0 };
    for (int i = 0; i < N; i++)
        if (rw_sample_active(losses, ntokens, act, i))
            present[domains[i]] = 1;
    rw_learn_lambdas(st, c, num_domains, lambda, has);
    double top = 0.0; /* the largest positive lambda among the present domains */
    for (int d = 0; d < num_domains; d++)
        if (present[d] && has[d] && lambda[d] > top)
            top = lambda[d];
    /* f per present domain with a history; the others get their median */
    double fd[RW_MAX_DOMAINS], sorted[RW_MAX_DOMAINS];
    int n = 0;
    for (int d = 0; d < num_domains; d++) {
        fd[d] = 1.0; /* every f equal (all 1) gives uniform weights */
        if (!present[d] || !has[d] || !(top > 0))
            continue;
        fd[d] = fmax(lambda[d], 0.0) / top;
        sorted[n++] = fd[d];
    }
    if (n > 0) {
        rw_sort_ascending(sorted, n);
        double median = rw_quantile(sorted, n, 0.5);
        for (int d = 0; d < num_domains; d++)
            if (present[d] && !has[d])
                fd[d] = median;
    }
    for (int i = 0; i < N; i++)
        f[i] = rw_sample_active(losses, ntokens, act, i) ? fd[domains[i]] : 0.0;
}

void rw_learn_update(struct rw_state *st, const struct rw_config *c, const double *losses,
                     const int *ntokens, const int *domains, int num_domains, int N,
                     const double *w)
{
    double loss[RW_MAX_DOMAINS] = { 0 }, wsum[RW_MAX_DOMAINS] = { 0 };
    int count[RW_MAX_DOMAINS] = { 0 }, nvalid = 0;
    for (int i = 0; i < N; i++) {
        if (!rw_sample_valid(losses, ntokens, i))
            continue;
        loss[domains[i]] += losses[i];
        wsum[domains[i]] += w[i];
        count[domains[i]]++;
        nvalid++;
    }
    const double ef = c->learn_fast, es = c->learn_slow;
    for (int d = 0; d < num_domains; d++) {
        if (count[d] == 0)
            continue;
        double m = loss[d] / count[d];
        /* its mean N_v w: 1 is a uniform share, as in the statistics */
        double share = (double)nvalid * wsum[d] / count[d];
        if (learn_seen(st, d)) {
            st->learn_fast[d] = ef * st->learn_fast[d] + (1.0 - ef) * m;
            st->learn_slow[d] = es * st->learn_slow[d] + (1.0 - es) * m;
            st->learn_share[d] = es * st->learn_share[d] + (1.0 - es) * share;
        } else {
            st->learn_fast[d] = st->learn_slow[d] = m;
            st->learn_share[d] = share;
            st->learn_seen |= (uint64_t)1 << d;
        }
    }
}
