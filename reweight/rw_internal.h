/* reweight/rw_internal.h — helpers shared by the reweight/ sources; not public.
 *
 * Every file that computes weights includes this header first, so the pragma
 * below covers it: a fused multiply-add rounds once instead of twice, so a
 * compiler free to contract a*b+c (clang's default) would give weights that
 * differ in the last bit between machines with and without FMA. GCC already
 * never contracts in ISO C mode (-std=c11) and does not know the pragma.
 */
#ifndef HEFT_REWEIGHT_INTERNAL_H
#define HEFT_REWEIGHT_INTERNAL_H

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <math.h>
#include <stdint.h>

#include "reweight/reweight.h"

/* A sample takes part in the step iff it has tokens and a finite loss. */
static inline int rw_sample_valid(const double *losses, const int *ntokens, int i)
{
    return (ntokens == NULL || ntokens[i] > 0) && isfinite(losses[i]);
}

/* e^x to within about 1 ulp, computed with IEEE-754 +, -, *, / and ldexp only,
 * so it gives the same bits everywhere (libm's exp differs between C libraries
 * and versions). Returns 0 below -745.2 and +inf above 709.8. */
double rw_exp(double x);

/* splitmix64: advances *state and returns a uniform double in [0, 1) with 53
 * random bits. */
double rw_rng_uniform(uint64_t *state);

/* Number of samples top-q keeps: ceil(q * n) in [1, n] for n >= 1, computed so
 * that a decimal q such as 0.07 of n = 100 gives 7, not 8 (0.07 * 100 rounds up). */
int rw_topq_count(double q, int n);

/* Which valid samples a cut leaves out: those with a loss above `cut`
 * (HUGE_VAL: none), and those whose domain has its bit in `domains`
 * (0: none; then ids may be NULL). */
struct rw_cut {
    double cut;
    uint64_t domains;
    const int *ids;   /* (N) domain id of each sample */
};

static inline int rw_cut_keeps(const struct rw_cut *c, const double *losses, int i)
{
    return losses[i] <= c->cut && !(c->domains && ((c->domains >> c->ids[i]) & 1u));
}

/* What one pass over the losses finds; filled by rw_scan_losses(). The
 * samples it describes are the "active" ones: valid and kept by the cut. */
struct rw_scan {
    int n_valid, n_empty, n_nonfinite;  /* n_valid: active samples */
    int n_cut;           /* valid samples the cut leaves out */
    struct rw_cut cut;
    double lmin, lmax;   /* 0 when n_valid == 0 */
    double mean;         /* index-order sum / n_valid, clamped into [lmin, lmax] */
};
void rw_scan_losses(const double *losses, const int *ntokens, const struct rw_cut *cut, int N,
                    struct rw_scan *out);

static inline int rw_sample_active(const double *losses, const int *ntokens,
                                   const struct rw_scan *sc, int i)
{
    return rw_sample_valid(losses, ntokens, i) && rw_cut_keeps(&sc->cut, losses, i);
}

/* Sorts a (n) ascending in place, without allocating (a training step must not). */
void rw_sort_ascending(double *a, int n);
/* Quantile p of n ascending values, linear between order statistics
 * (position p*(n-1); numpy's default "linear" method). */
double rw_quantile(const double *sorted, int n, double p);

/* The outlier cut m + k * 1.4826 * MAD of the n valid losses in `sorted`
 * (ascending; overwritten), or HUGE_VAL when the MAD is 0. */
double rw_outlier_cut(double *sorted, int n, double k);
/* The cut by domain: updates the state's running outlier shares with this
 * call's samples above `cut` and returns the mask of domains to cut. */
uint64_t rw_outlier_domains(struct rw_state *st, double cut, const double *losses,
                            const int *ntokens, const int *domains, int num_domains, int N);

/* Domain centering (reweight.h). rw_domain_scores writes x_i = l_i - mu_d(i)
 * into x for the active samples (0 for the others) and their min and max;
 * rw_domain_update moves the state's means toward this call's domain means. */
void rw_domain_scores(const struct rw_state *st, const double *losses, const int *ntokens,
                      const int *domains, int num_domains, int N, const struct rw_scan *act,
                      double *x, double *xmin, double *xmax);
void rw_domain_update(struct rw_state *st, double ema, const double *losses,
                      const int *ntokens, const int *domains, int num_domains, int N);

/* reducible: writes x_i = l_i - ref_i into x for the active samples with a
 * finite reference loss, the median of those x for the other active samples,
 * 0 for the rest; their min and max (both 0 when no active sample has a
 * reference loss); returns the number of active samples without one. x may
 * be the weights' memory (it also holds the median's sort). ref may be NULL
 * (no sample has one). */
int rw_reducible_scores(const double *losses, const double *ref, const int *ntokens, int N,
                        const struct rw_scan *act, double *x, double *xmin, double *xmax);
/* learnability: each domain's lambda from the state (has[d] = 1 when d has
 * a history, else lambda[d] = 0). */
void rw_learn_lambdas(const struct rw_state *st, const struct rw_config *c, int num_domains,
                      double *lambda, int *has);
/* learnability: writes f_d(i) into f for the active samples (0 for the
 * others) and each domain's lambda into lambda (has[d] = 1 when d has a
 * history); see reweight.h. */
void rw_learn_scores(const struct rw_state *st, const struct rw_config *c, const double *losses,
                     const int *ntokens, const int *domains, int num_domains, int N,
                     const struct rw_scan *act, double *f, double *lambda, int *has);
/* learnability's state update after a call that gave the weights w. */
void rw_learn_update(struct rw_state *st, const struct rw_config *c, const double *losses,
                     const int *ntokens, const int *domains, int num_domains, int N,
                     const double *w);

/* The weight rules, one per family. Each writes all N weights, 0 for samples
 * that are not active, active ones summing to 1; each needs n_valid >= 1 and
 * lmax > lmin in sc (rw_compute handles the uniform cases before calling them). */
void rw_weights_uniform(const double *losses, const int *ntokens, int N,
                        const struct rw_scan *sc, double *w);
/* The score of sample i is scores[i] (the loss, or its centered value), in
 * [smin, smax] over the active samples; scores may be w itself (each w[i] is
 * written after scores[i] is read). */
void rw_weights_shape(enum rw_strategy s, double r, const double *losses, const int *ntokens,
                      const double *scores, double smin, double smax, int N,
                      const struct rw_scan *sc, double *w);
/* w_i = exp((f_i - max f)/r) / sum over the active samples, f_i given (f may
 * be w itself); 0 for the others. */
void rw_weights_softmax(double r, const double *losses, const int *ntokens, const double *f,
                        int N, const struct rw_scan *sc, double *w);
void rw_weights_infobatch(double prune, uint64_t *rng, const double *losses, const int *ntokens,
                          int N, const struct rw_scan *sc, double *w);
/* threshold = the k-th largest active loss; n_above = active losses > threshold. */
void rw_weights_topq(int k, double threshold, int n_above, const double *losses,
                     const int *ntokens, int N, const struct rw_scan *sc, double *w);
void rw_weights_dro(double tau, const double *losses, const int *ntokens, int N,
                    const struct rw_scan *sc, double *w);

/* Statistics, in two parts because the sorted losses live in the weights'
 * memory until the weights are written: first the quantiles from the n valid
 * losses in ascending order, then everything else from the finished weights. */
void rw_stats_quantiles(struct rw_stats *st, const double *sorted, int n);
/* sc describes all valid samples (no cut); act the active ones; cut is the
 * outlier threshold m + k s (HUGE_VAL when off). */
void rw_stats_fill(struct rw_stats *st, const struct rw_scan *sc, const struct rw_scan *act,
                   double cut, const struct rw_schedule *sch,
                   const double *losses, const int *ntokens, const int *domains, int num_domains,
                   int N, const double *w);
/* The per-domain reference losses (reducible) into the statistics. */
void rw_stats_ref(struct rw_stats *st, const double *losses, const double *ref,
                  const int *ntokens, const int *domains, int N);

#endif
