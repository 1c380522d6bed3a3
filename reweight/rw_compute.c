/* reweight/rw_compute.c — one step: check the inputs, pick the rule, fill stats. */
#include "reweight/rw_internal.h"

#include <string.h>

void rw_scan_losses(const double *losses, const int *ntokens, int N, struct rw_scan *out)
{
    memset(out, 0, sizeof *out);
    double sum = 0.0;
    for (int i = 0; i < N; i++) {
        if (ntokens != NULL && ntokens[i] == 0) {
            out->n_empty++;
        } else if (!isfinite(losses[i])) {
            out->n_nonfinite++;
        } else {
            if (out->n_valid == 0 || losses[i] < out->lmin)
                out->lmin = losses[i];
            if (out->n_valid == 0 || losses[i] > out->lmax)
                out->lmax = losses[i];
            sum += losses[i];
            out->n_valid++;
        }
    }
    if (out->n_valid > 0) {
        /* Rounding can push the computed mean of nearly equal losses past lmax
         * (three losses of 0.1 sum to 0.30000000000000004); clamped, "below the
         * mean" never includes the largest loss. */
        out->mean = fmin(fmax(sum / out->n_valid, out->lmin), out->lmax);
    }
}

/* Sorts a (n) ascending in place: a heapsort, because glibc's qsort allocates
 * for arrays over 1 KiB and a training step must not. Equal values (only -0.0
 * and +0.0 differ in bits) are interchangeable for every use of the sorted
 * copy: the quantiles' a + t (b - a) and the top-q cut's comparisons. */
static void sift_down(double *a, int root, int n)
{
    for (int child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && a[child + 1] > a[child])
            child++;
        if (!(a[child] > a[root]))
            return;
        double t = a[root];
        a[root] = a[child];
        a[child] = t;
    }
}

static void sort_ascending(double *a, int n)
{
    for (int i = n / 2 - 1; i >= 0; i--)
        sift_down(a, i, n);
    for (int end = n - 1; end > 0; end--) {
        double t = a[0];
        a[0] = a[end];
        a[end] = t;
        sift_down(a, 0, end);
    }
}

/* Everything that can fail, checked before anything is written. */
static int check_inputs(const struct rw_config *cfg, const struct rw_state *state, long step,
                        const double *losses, const int *ntokens, const int *domains,
                        int num_domains, int N, const double *weights, struct herr *err)
{
    if (rw_config_validate(cfg, err))
        return -1;
    if (state == NULL)
        return herr_set(err, "reweight: no state given (initialize one with rw_state_init)");
    if (N < 0)
        return herr_set(err, "reweight: N = %d samples is negative", N);
    if (N > 0 && (losses == NULL || weights == NULL))
        return herr_set(err, "reweight: %s array is NULL for N = %d samples",
                        losses == NULL ? "losses" : "weights", N);
    if (step < 0)
        return herr_set(err, "reweight: step %ld is negative (steps count from 0)", step);
    for (int i = 0; ntokens != NULL && i < N; i++)
        if (ntokens[i] < 0)
            return herr_set(err, "reweight: sample %d has a negative token count (%d)", i,
                            ntokens[i]);
    if (domains == NULL)
        return 0;
    if (num_domains < 1 || num_domains > RW_MAX_DOMAINS)
        return herr_set(err, "reweight: num_domains = %d must be in [1, %d] when domain ids "
                        "are given", num_domains, RW_MAX_DOMAINS);
    for (int i = 0; i < N; i++)
        if (domains[i] < 0 || domains[i] >= num_domains)
            return herr_set(err, "reweight: sample %d has domain id %d, outside [0, %d)", i,
                            domains[i], num_domains);
    return 0;
}

int rw_compute(const struct rw_config *cfg, struct rw_state *state, long step,
               const double *losses, const int *ntokens, const int *domains,
               int num_domains, int N, double *weights, struct rw_stats *stats,
               struct herr *err)
{
    if (check_inputs(cfg, state, step, losses, ntokens, domains, num_domains, N, weights, err))
        return -1;

    if (stats != NULL)
        memset(stats, 0, sizeof *stats);  /* rw_stats_fill only sets what applies */
    struct rw_scan sc;
    rw_scan_losses(losses, ntokens, N, &sc);
    struct rw_schedule sch;
    rw_schedule_at(cfg, step, &sch);

    /* Quantiles and the top-q cut need the valid losses sorted; the weights'
     * memory holds them until the weights are written (no allocation). */
    int k = 0, n_above = 0;
    double threshold = 0.0;
    if (sc.n_valid > 0 && (stats != NULL || sch.strategy == RW_TOPQ)) {
        double *sorted = weights; /* (n_valid) */
        int n = 0;
        for (int i = 0; i < N; i++)
            if (rw_sample_valid(losses, ntokens, i))
                sorted[n++] = losses[i];
        sort_ascending(sorted, n);
        if (stats != NULL)
            rw_stats_quantiles(stats, sorted, n);
        k = rw_topq_count(cfg->topq_q, n);
        threshold = sorted[n - k];
        for (int j = n - 1; j >= 0 && sorted[j] > threshold; j--)
            n_above++;
    }

    if (sc.n_valid == 0) {
        for (int i = 0; i < N; i++)
            weights[i] = 0.0;
    } else if (sch.strategy == RW_UNIFORM || sc.lmax == sc.lmin) {
        rw_weights_uniform(losses, ntokens, N, sc.n_valid, weights);
    } else if (rw_strategy_uses_r(sch.strategy)) {
        rw_weights_shape(sch.strategy, sch.r, losses, ntokens, N, &sc, weights);
    } else if (sch.strategy == RW_INFOBATCH) {
        rw_weights_infobatch(cfg->infobatch_prune, &state->rng, losses, ntokens, N, &sc, weights);
    } else if (sch.strategy == RW_TOPQ) {
        rw_weights_topq(k, threshold, n_above, losses, ntokens, N, weights);
    } else {
        rw_weights_dro(sch.r, losses, ntokens, N, &sc, weights);
    }
    state->calls++;

    if (stats != NULL)
        rw_stats_fill(stats, &sc, &sch, losses, ntokens, domains, num_domains, N, weights);
    return 0;
}
