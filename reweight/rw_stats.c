/* reweight/rw_stats.c — what the metrics log reports about one step's weights. */
#include "reweight/rw_internal.h"

double rw_quantile(const double *sorted, int n, double p)
{
    double pos = p * (double)(n - 1);
    int lo = (int)floor(pos);
    if (lo >= n - 1)
        return sorted[n - 1];
    double frac = pos - (double)lo;
    return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

void rw_stats_quantiles(struct rw_stats *st, const double *sorted, int n)
{
    static const double levels[5] = { 0.10, 0.25, 0.50, 0.75, 0.90 };
    for (int q = 0; q < 5; q++)
        st->loss_q[q] = rw_quantile(sorted, n, levels[q]);
}

void rw_stats_fill(struct rw_stats *st, const struct rw_scan *sc, const struct rw_scan *act,
                   double cut, const struct rw_schedule *sch,
                   const double *losses, const int *ntokens, const int *domains, int num_domains,
                   int N, const double *w)
{
    st->n = N;
    st->n_valid = sc->n_valid;
    st->n_empty = sc->n_empty;
    st->n_nonfinite = sc->n_nonfinite;
    st->n_outliers = act->n_cut;
    st->outlier_cut = cut;
    st->strategy_used = sch->strategy;
    st->r_used = sch->r;
    st->num_domains = domains != NULL ? num_domains : 0;
    if (sc->n_valid == 0)
        return;

    double nv = (double)sc->n_valid;
    double wsum2 = 0.0, wmax = 0.0, wmin = HUGE_VAL, lw = 0.0, ent = 0.0, lsum = 0.0;
    for (int i = 0; i < N; i++) {
        if (!rw_sample_valid(losses, ntokens, i))
            continue;
        lsum += losses[i];
        lw += w[i] * losses[i];
        wsum2 += w[i] * w[i];
        wmax = fmax(wmax, w[i]);
        wmin = fmin(wmin, w[i]);
        if (w[i] > 0)
            ent -= w[i] * log(w[i]);
        else
            st->n_zero_weight++;
        if (domains != NULL) {
            struct rw_domain_stats *d = &st->domain[domains[i]];
            d->count++;
            d->loss_mean += losses[i];  /* sums for now; divided below */
            d->weight_sum += w[i];
        }
    }
    st->loss_mean = lsum / nv;
    st->loss_weighted = lw;
    st->loss_min = sc->lmin;
    st->loss_max = sc->lmax;
    st->ess = (1.0 / wsum2) / nv;
    st->w_max = nv * wmax;
    st->w_min = nv * wmin;
    st->entropy = ent;
    for (int d = 0; domains != NULL && d < num_domains; d++) {
        struct rw_domain_stats *ds = &st->domain[d];
        if (ds->count == 0)
            continue;
        ds->loss_mean /= ds->count;
        ds->weight_mean = nv * ds->weight_sum / ds->count;
    }
}

void rw_stats_ref(struct rw_stats *st, const double *losses, const double *ref,
                  const int *ntokens, const int *domains, int N)
{
    for (int i = 0; domains != NULL && ref != NULL && i < N; i++) {
        if (!rw_sample_valid(losses, ntokens, i) || !isfinite(ref[i]))
            continue;
        struct rw_domain_stats *d = &st->domain[domains[i]];
        d->ref_count++;
        d->ref_mean += ref[i]; /* a sum for now; divided below */
    }
    for (int d = 0; d < st->num_domains; d++)
        if (st->domain[d].ref_count > 0)
            st->domain[d].ref_mean /= st->domain[d].ref_count;
}
