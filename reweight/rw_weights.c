/* reweight/rw_weights.c — the weight rules (see reweight.h for the formulas).
 *
 * Every rule writes 0 for samples that are not active (invalid, or cut as
 * outliers), computes a non-negative score for the active ones and divides by
 * the scores' index-order sum. Each rule gives the highest-scoring sample a
 * score of at least 1 (or 1/k), so the sum is never 0.
 */
#include "reweight/rw_internal.h"

/* w_i /= sum of w over active samples (index order: the same bits everywhere). */
static void normalize(const double *losses, const int *ntokens, int N, const struct rw_scan *sc,
                      double *w)
{
    double sum = 0.0;
    for (int i = 0; i < N; i++)
        if (rw_sample_active(losses, ntokens, sc, i))
            sum += w[i];
    for (int i = 0; i < N; i++)
        if (rw_sample_active(losses, ntokens, sc, i))
            w[i] /= sum;
}

void rw_weights_uniform(const double *losses, const int *ntokens, int N,
                        const struct rw_scan *sc, double *w)
{
    double u = 1.0 / (double)sc->n_valid;
    for (int i = 0; i < N; i++)
        w[i] = rw_sample_active(losses, ntokens, sc, i) ? u : 0.0;
}

/* f(h) of the loss-shape strategies, h in [-1, 1]. */
static double shape(enum rw_strategy s, double h)
{
    switch (s) {
    case RW_LINUPPER:  return h + 1.0 < 1.0 ? h + 1.0 : 1.0;
    case RW_QUADRATIC: return 1.0 - h * h;
    case RW_EXTREMES:  return fabs(h);
    case RW_LINEAR:    return 0.5 * h + 0.5;
    case RW_REDUCIBLE: return 0.5 * h + 0.5;  /* linear in the reducible loss */
    default:           return 0.0; /* not a shape strategy; rw_compute never asks */
    }
}

void rw_weights_softmax(double r, const double *losses, const int *ntokens, const double *f,
                        int N, const struct rw_scan *sc, double *w)
{
    double fmax = -HUGE_VAL;
    for (int i = 0; i < N; i++)
        if (rw_sample_active(losses, ntokens, sc, i) && f[i] > fmax)
            fmax = f[i];
    for (int i = 0; i < N; i++)
        w[i] = rw_sample_active(losses, ntokens, sc, i) ? rw_exp((f[i] - fmax) / r) : 0.0;
    normalize(losses, ntokens, N, sc, w);
}

void rw_weights_shape(enum rw_strategy s, double r, const double *losses, const int *ntokens,
                      const double *scores, double smin, double smax, int N,
                      const struct rw_scan *sc, double *w)
{
    double range = smax - smin;
    if (range < 1e-6)
        range = 1e-6;
    for (int i = 0; i < N; i++) {
        if (!rw_sample_active(losses, ntokens, sc, i)) {
            w[i] = 0.0;
            continue;
        }
        /* (x - smin) + (x - smax) is 2x - smax - smin without cancelling
         * against the large smax + smin; it gives h = +-1 exactly at the ends. */
        double h = ((scores[i] - smin) + (scores[i] - smax)) / range;
        w[i] = shape(s, h);
    }
    rw_weights_softmax(r, losses, ntokens, w, N, sc, w);
}

void rw_weights_infobatch(double prune, uint64_t *rng, const double *losses, const int *ntokens,
                          int N, const struct rw_scan *sc, double *w)
{
    double keep_scale = 1.0 / (1.0 - prune);
    for (int i = 0; i < N; i++) {
        w[i] = 0.0;
        if (!rw_sample_active(losses, ntokens, sc, i))
            continue;
        if (losses[i] < sc->mean)   /* sc->mean <= lmax: the top sample always stays */
            w[i] = rw_rng_uniform(rng) < prune ? 0.0 : keep_scale;
        else
            w[i] = 1.0;
    }
    normalize(losses, ntokens, N, sc, w);
}

int rw_topq_count(double q, int n)
{
    /* q*n carries the rounding of the decimal q and of the product, a few 1e-16
     * relative (0.07 * 100 is 7.000000000000001); 1e-12 forgives that and
     * nothing a user could mean. */
    double x = q * (double)n;
    double k = ceil(x - 1e-12 * x);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return (int)k;
}

void rw_weights_topq(int k, double threshold, int n_above, const double *losses,
                     const int *ntokens, int N, const struct rw_scan *sc, double *w)
{
    int ties_left = k - n_above;   /* samples at the threshold still to keep */
    double share = 1.0 / (double)k;
    for (int i = 0; i < N; i++) {
        w[i] = 0.0;
        if (!rw_sample_active(losses, ntokens, sc, i))
            continue;
        if (losses[i] > threshold) {
            w[i] = share;
        } else if (losses[i] == threshold && ties_left > 0) {
            w[i] = share;
            ties_left--;
        }
    }
}

void rw_weights_dro(double tau, const double *losses, const int *ntokens, int N,
                    const struct rw_scan *sc, double *w)
{
    for (int i = 0; i < N; i++)
        w[i] = rw_sample_active(losses, ntokens, sc, i) ? rw_exp((losses[i] - sc->lmax) / tau)
                                                        : 0.0;
    normalize(losses, ntokens, N, sc, w);
}
