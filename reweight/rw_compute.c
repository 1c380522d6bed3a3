/* reweight/rw_compute.c — one step: check the inputs, pick the rule, fill stats. */
#include "reweight/rw_internal.h"

#include <string.h>

void rw_scan_losses(const double *losses, const int *ntokens, const struct rw_cut *cut, int N,
                    struct rw_scan *out)
{
    memset(out, 0, sizeof *out);
    out->cut = *cut;
    double sum = 0.0;
    for (int i = 0; i < N; i++) {
        if (ntokens != NULL && ntokens[i] == 0) {
            out->n_empty++;
        } else if (!isfinite(losses[i])) {
            out->n_nonfinite++;
        } else if (!rw_cut_keeps(cut, losses, i)) {
            out->n_cut++;
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

/* A heapsort, because glibc's qsort allocates for arrays over 1 KiB. Equal values (only -0.0
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

void rw_sort_ascending(double *a, int n)
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
                        const double *losses, const double *ref, const int *ntokens,
                        const int *domains, int num_domains, int N, const double *weights,
                        struct herr *err)
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
    if (domains == NULL && cfg->domain_ema > 0)
        return herr_set(err, "reweight: domain centering (domain_ema = %g) needs the samples' "
                        "domain ids, and none were given", cfg->domain_ema);
    if (domains == NULL && cfg->outlier_k > 0 && cfg->outlier_by_domain)
        return herr_set(err, "reweight: the outlier cut by domain needs the samples' domain "
                        "ids, and none were given");
    if (domains == NULL && cfg->strategy == RW_LEARNABILITY)
        return herr_set(err, "reweight: learnability weighs domains and needs the samples' "
                        "domain ids, and none were given");
    if (ref == NULL && cfg->strategy == RW_REDUCIBLE)
        return herr_set(err, "reweight: reducible needs each sample's reference loss (heft "
                        "train --ref-losses FILE, made by heft score), and none were given");
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

/* Copies the active losses (n of them) into sorted and sorts them. */
static int sorted_active(const double *losses, const int *ntokens, const struct rw_scan *sc,
                         int N, double *sorted)
{
    int n = 0;
    for (int i = 0; i < N; i++)
        if (rw_sample_active(losses, ntokens, sc, i))
            sorted[n++] = losses[i];
    rw_sort_ascending(sorted, n);
    return n;
}

int rw_compute(const struct rw_config *cfg, struct rw_state *state, long step,
               const double *losses, const int *ntokens, const int *domains,
               int num_domains, int N, double *weights, struct rw_stats *stats,
               struct herr *err)
{
    return rw_compute_ref(cfg, state, step, losses, NULL, ntokens, domains, num_domains, N,
                          weights, stats, err);
}

/* The strategies whose score is not the loss: equal losses do not make their
 * weights uniform. */
static int scores_other_than_loss(enum rw_strategy s)
{
    return s == RW_REDUCIBLE || s == RW_LEARNABILITY;
}

int rw_compute_ref(const struct rw_config *cfg, struct rw_state *state, long step,
                   const double *losses, const double *ref, const int *ntokens,
                   const int *domains, int num_domains, int N, double *weights,
                   struct rw_stats *stats, struct herr *err)
{
    if (check_inputs(cfg, state, step, losses, ref, ntokens, domains, num_domains, N, weights,
                     err))
        return -1;

    if (stats != NULL)
        memset(stats, 0, sizeof *stats);  /* rw_stats_fill only sets what applies */
    struct rw_scan all, act;   /* every valid sample; the active ones (after the cut) */
    struct rw_cut none = { HUGE_VAL, 0, NULL }, cut = none;
    rw_scan_losses(losses, ntokens, &none, N, &all);
    struct rw_schedule sch;
    rw_schedule_at(cfg, step, &sch);

    /* Quantiles, the outlier cut and the top-q cut need sorted losses; the
     * weights' memory holds them until the weights are written (no allocation). */
    double *sorted = weights; /* (n_valid) */
    double threshold_cut = HUGE_VAL;
    if (all.n_valid > 0 && (stats != NULL || cfg->outlier_k > 0)) {
        int n = sorted_active(losses, ntokens, &all, N, sorted);
        if (stats != NULL)
            rw_stats_quantiles(stats, sorted, n);
        if (cfg->outlier_k > 0)
            threshold_cut = rw_outlier_cut(sorted, n, cfg->outlier_k);
    }
    if (cfg->outlier_k > 0 && cfg->outlier_by_domain) {
        cut.domains = rw_outlier_domains(state, threshold_cut, losses, ntokens, domains,
                                         num_domains, N);
        cut.ids = domains;
    } else {
        cut.cut = threshold_cut;
    }
    rw_scan_losses(losses, ntokens, &cut, N, &act);

    int k = 0, n_above = 0;
    double threshold = 0.0;
    if (act.n_valid > 0 && sch.strategy == RW_TOPQ) {
        int n = sorted_active(losses, ntokens, &act, N, sorted);
        k = rw_topq_count(cfg->topq_q, n);
        threshold = sorted[n - k];
        for (int j = n - 1; j >= 0 && sorted[j] > threshold; j--)
            n_above++;
    }

    int n_noref = 0;
    double lambda[RW_MAX_DOMAINS];
    int has_lambda[RW_MAX_DOMAINS] = { 0 };
    if (act.n_valid == 0) {
        for (int i = 0; i < N; i++)
            weights[i] = 0.0;
    } else if (sch.strategy == RW_UNIFORM ||
               (act.lmax == act.lmin && !scores_other_than_loss(sch.strategy))) {
        rw_weights_uniform(losses, ntokens, N, &act, weights);
    } else if (sch.strategy == RW_REDUCIBLE) {
        double xmin, xmax;
        n_noref = rw_reducible_scores(losses, ref, ntokens, N, &act, weights, &xmin, &xmax);
        rw_weights_shape(RW_REDUCIBLE, sch.r, losses, ntokens, weights, xmin, xmax, N, &act,
                         weights);
    } else if (sch.strategy == RW_LEARNABILITY) {
        rw_learn_scores(state, cfg, losses, ntokens, domains, num_domains, N, &act, weights,
                        lambda, has_lambda);
        rw_weights_softmax(sch.r, losses, ntokens, weights, N, &act, weights);
    } else if (rw_strategy_uses_r(sch.strategy) && cfg->domain_ema > 0) {
        double xmin, xmax;
        rw_domain_scores(state, losses, ntokens, domains, num_domains, N, &act, weights, &xmin,
                         &xmax);
        rw_weights_shape(sch.strategy, sch.r, losses, ntokens, weights, xmin, xmax, N, &act,
                         weights);
    } else if (rw_strategy_uses_r(sch.strategy)) {
        rw_weights_shape(sch.strategy, sch.r, losses, ntokens, losses, act.lmin, act.lmax, N,
                         &act, weights);
    } else if (sch.strategy == RW_INFOBATCH) {
        rw_weights_infobatch(cfg->infobatch_prune, &state->rng, losses, ntokens, N, &act, weights);
    } else if (sch.strategy == RW_TOPQ) {
        rw_weights_topq(k, threshold, n_above, losses, ntokens, N, &act, weights);
    } else {
        rw_weights_dro(sch.r, losses, ntokens, N, &act, weights);
    }
    if (cfg->domain_ema > 0)
        rw_domain_update(state, cfg->domain_ema, losses, ntokens, domains, num_domains, N);
    if (stats != NULL && cfg->strategy == RW_LEARNABILITY && sch.strategy != RW_LEARNABILITY)
        rw_learn_lambdas(state, cfg, num_domains, lambda, has_lambda); /* in warm-up: logged */
    if (cfg->strategy == RW_LEARNABILITY)
        rw_learn_update(state, cfg, losses, ntokens, domains, num_domains, N, weights);
    state->calls++;

    if (stats != NULL) {
        rw_stats_fill(stats, &all, &act, threshold_cut, &sch, losses, ntokens, domains,
                      num_domains, N, weights);
        stats->n_noref = n_noref;
        rw_stats_ref(stats, losses, ref, ntokens, domains, N); /* any strategy: logged */
        for (int d = 0; cfg->strategy == RW_LEARNABILITY && d < num_domains; d++) {
            stats->domain[d].has_learn = has_lambda[d];
            stats->domain[d].learn = has_lambda[d] ? lambda[d] : 0.0;
        }
    }
    return 0;
}
