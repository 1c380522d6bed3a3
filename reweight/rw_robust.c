/* reweight/rw_robust.c — the two guards against what raw losses mislead a
 * loss-shape rule into (reweight.h): the outlier cut, per sample or per
 * domain (unlearnable samples keep the highest loss and would get the most
 * weight), and domain centering (an easy domain always looks "low loss" and
 * would be starved). */
#include "reweight/rw_internal.h"

/* 1.4826 = 1 / Phi^-1(3/4): the MAD times this estimates the standard
 * deviation of normally distributed values. */
static const double MAD_TO_SD = 1.4826;

double rw_outlier_cut(double *sorted, int n, double k)
{
    double m = rw_quantile(sorted, n, 0.5);
    for (int i = 0; i < n; i++)
        sorted[i] = fabs(sorted[i] - m);
    rw_sort_ascending(sorted, n);
    double mad = rw_quantile(sorted, n, 0.5);
    if (!(mad > 0))
        return HUGE_VAL;
    return m + k * (MAD_TO_SD * mad);
}

/* How fast a domain's running outlier share follows its calls (reweight.h):
 * about the last 10 calls count. */
static const double OUTLIER_SHARE_DECAY = 0.9;

uint64_t rw_outlier_domains(struct rw_state *st, double cut, const double *losses,
                            const int *ntokens, const int *domains, int num_domains, int N)
{
    int above[RW_MAX_DOMAINS] = { 0 }, count[RW_MAX_DOMAINS] = { 0 };
    for (int i = 0; i < N; i++) {
        if (!rw_sample_valid(losses, ntokens, i))
            continue;
        count[domains[i]]++;
        above[domains[i]] += losses[i] > cut;
    }
    uint64_t mask = 0;
    for (int d = 0; d < num_domains; d++) {
        uint64_t bit = (uint64_t)1 << d;
        if (count[d] > 0) {
            double share = (double)above[d] / count[d];
            if (st->outlier_seen & bit)
                st->outlier_share[d] = OUTLIER_SHARE_DECAY * st->outlier_share[d] +
                                       (1.0 - OUTLIER_SHARE_DECAY) * share;
            else
                st->outlier_share[d] = share;
            st->outlier_seen |= bit;
        }
        if ((st->outlier_seen & bit) && st->outlier_share[d] > 0.5)
            mask |= bit;
    }
    return mask;
}

/* Mean loss of every domain over this call's valid samples (index order);
 * count[d] = 0 for a domain without one. */
static void call_means(const double *losses, const int *ntokens, const int *domains,
                       int num_domains, int N, double *mean, int *count)
{
    for (int d = 0; d < num_domains; d++) {
        mean[d] = 0.0;
        count[d] = 0;
    }
    for (int i = 0; i < N; i++) {
        if (!rw_sample_valid(losses, ntokens, i))
            continue;
        mean[domains[i]] += losses[i];
        count[domains[i]]++;
    }
    for (int d = 0; d < num_domains; d++)
        if (count[d] > 0)
            mean[d] /= count[d];
}

static int seen(const struct rw_state *st, int d)
{
    return (int)((st->domain_seen >> d) & 1u);
}

void rw_domain_scores(const struct rw_state *st, const double *losses, const int *ntokens,
                      const int *domains, int num_domains, int N, const struct rw_scan *act,
                      double *x, double *xmin, double *xmax)
{
    double mean[RW_MAX_DOMAINS];
    int count[RW_MAX_DOMAINS];
    call_means(losses, ntokens, domains, num_domains, N, mean, count);
    int first = 1;
    for (int i = 0; i < N; i++) {
        if (!rw_sample_active(losses, ntokens, act, i)) {
            x[i] = 0.0;
            continue;
        }
        int d = domains[i];
        x[i] = losses[i] - (seen(st, d) ? st->domain_mean[d] : mean[d]);
        if (first || x[i] < *xmin)
            *xmin = x[i];
        if (first || x[i] > *xmax)
            *xmax = x[i];
        first = 0;
    }
}

void rw_domain_update(struct rw_state *st, double ema, const double *losses,
                      const int *ntokens, const int *domains, int num_domains, int N)
{
    double mean[RW_MAX_DOMAINS];
    int count[RW_MAX_DOMAINS];
    call_means(losses, ntokens, domains, num_domains, N, mean, count);
    for (int d = 0; d < num_domains; d++) {
        if (count[d] == 0)
            continue;
        if (seen(st, d))
            st->domain_mean[d] = ema * st->domain_mean[d] + (1.0 - ema) * mean[d];
        else
            st->domain_mean[d] = mean[d];
        st->domain_seen |= (uint64_t)1 << d;
    }
}
