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

/* What one pass over the valid losses finds; filled by rw_scan_losses(). */
struct rw_scan {
    int n_valid, n_empty, n_nonfinite;
    double lmin, lmax;   /* 0 when n_valid == 0 */
    double mean;         /* index-order sum / n_valid, clamped into [lmin, lmax] */
};
void rw_scan_losses(const double *losses, const int *ntokens, int N, struct rw_scan *out);

/* The weight rules, one per family. Each writes all N weights, 0 for invalid
 * samples, valid ones summing to 1; each needs n_valid >= 1 and lmax > lmin
 * (rw_compute handles the uniform cases before calling them). */
void rw_weights_uniform(const double *losses, const int *ntokens, int N, int n_valid, double *w);
void rw_weights_shape(enum rw_strategy s, double r, const double *losses, const int *ntokens,
                      int N, const struct rw_scan *sc, double *w);
void rw_weights_infobatch(double prune, uint64_t *rng, const double *losses, const int *ntokens,
                          int N, const struct rw_scan *sc, double *w);
/* threshold = the k-th largest valid loss; n_above = valid losses > threshold. */
void rw_weights_topq(int k, double threshold, int n_above, const double *losses,
                     const int *ntokens, int N, double *w);
void rw_weights_dro(double tau, const double *losses, const int *ntokens, int N,
                    const struct rw_scan *sc, double *w);

/* Statistics, in two parts because the sorted losses live in the weights'
 * memory until the weights are written: first the quantiles from the n valid
 * losses in ascending order, then everything else from the finished weights. */
void rw_stats_quantiles(struct rw_stats *st, const double *sorted, int n);
void rw_stats_fill(struct rw_stats *st, const struct rw_scan *sc, const struct rw_schedule *sch,
                   const double *losses, const int *ntokens, const int *domains, int num_domains,
                   int N, const double *w);

#endif
