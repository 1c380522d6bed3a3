/* reweight/reweight.h — per-sample losses -> per-sample weights (+ statistics).
 *
 * The method is ../shared/METHOD.md's (Sow et al., ICLR 2025): at every step each
 * sample i of the batch gets a weight w_i from its current mean token loss l_i, and
 * the trainer minimizes sum_i w_i l_i. This module only computes the weights: pure
 * host C on doubles, no backend, no MPI, no I/O, no threads, no allocation.
 *
 * WHICH SAMPLES ONE CALL NORMALIZES OVER
 *   Exactly the N samples passed to rw_compute(), no more. l_min, l_max, the
 *   InfoBatch mean, the top-q cut and the sum-to-1 all refer to that set. heft's
 *   trainer passes the whole optimizer step: the all-gathered losses of every rank
 *   and every gradient-accumulation micro-batch (W * A * B samples); every rank
 *   computes the same weights and keeps its own slice. Passing one micro-batch
 *   instead reproduces the published code's per-micro-batch normalization.
 *
 * VALID SAMPLES
 *   Sample i is valid when ntokens[i] > 0 and losses[i] is finite. Invalid
 *   samples get weight exactly 0 and are counted (n_empty: ntokens == 0, whatever
 *   the loss; n_nonfinite: ntokens > 0 but loss NaN or +-inf). All statistics and
 *   normalizations use valid samples only; the valid weights sum to 1. With no
 *   valid sample every weight is 0 and every statistic is 0 except the counts:
 *   this is defined behaviour, not an error (the step then has nothing to learn).
 *
 * STRATEGIES (N_v = number of valid samples)
 *   uniform    w = 1/N_v exactly (no softmax).
 *   linupper, quadratic, extremes, linear  (METHOD.md's loss-shape strategies):
 *              h_i = (2 l_i - l_max - l_min) / max(l_max - l_min, 1e-6)  in [-1, 1]
 *              f = min(h+1, 1) | 1 - h^2 | |h| | 0.5 h + 0.5
 *              w_i = exp((f_i - max f)/r) / sum_k exp((f_k - max f)/r)
 *              so max w / min w <= e^(1/r).
 *   infobatch  each valid sample with l_i < mean(l) is dropped (w = 0) with
 *              probability infobatch_prune, drawn from the state's RNG in index
 *              order; kept below-mean samples count 1/(1 - prune), the others 1;
 *              then normalized to sum 1.
 *   topq       Ordered SGD: the k = ceil(topq_q * N_v) highest losses get 1/k each,
 *              the rest 0; among equal losses at the cut the lower index wins.
 *   dro        w_i = exp((l_i - l_max)/dro_tau) / sum_k exp((l_k - l_max)/dro_tau).
 *   reducible  (RHO-LOSS: what is still learnable; needs reference losses)
 *              x_i = l_i - lref_i, lref_i the loss a small reference model
 *              trained on held-out data gives the same window (`heft score`);
 *              a sample without a finite reference loss gets x_i = the median
 *              x of the active samples that have one, so it is weighed like a
 *              typical sample and does not set x_min or x_max; then h from x
 *              as above, f = 0.5 h + 0.5 (monotone: the most reducible loss
 *              gets the most weight), softmax with r. No sample with a
 *              reference loss: every x is equal, uniform. Why: high loss is
 *              mostly irreducible on real text (noise, names, numbers), and
 *              the reference model has that loss too; a low l - lref means
 *              learned already (or unlearnable), a high one learnable now.
 *   learnability  (ADO-style, reference-free; needs domain ids)
 *              Per domain d the state keeps a fast and a slow EMA of its mean
 *              loss per call (decays learn_fast < learn_slow) and a slow EMA
 *              s_d of its mean N_v w (1 = uniform share). An EMA of decay e
 *              trails a linear trend by e/(1-e) calls, so
 *                  g_d = (slow_d - fast_d) / (lag_slow - lag_fast)
 *              is the domain's recent loss decrease per call, and
 *                  lambda_d = g_d / max(s_d, 1e-3)
 *              its decrease per unit of weight (ADO measures the gain per
 *              sample of the domain: a domain given more weight falls faster,
 *              and per unit of weight the rule does not feed on its own
 *              choice); with learn_raw, lambda_d = g_d (the division is a
 *              delayed negative feedback: a domain given less weight soon
 *              looks more learnable per unit of it, and the weights
 *              oscillate with the slow EMA's lag, docs/RESULTS.md). Over the domains of the active samples that have a
 *              history (seen in an earlier call):
 *                  f_d = max(lambda_d, 0) / max_d' max(lambda_d', 0),
 *              i.e. h_d = 2 f_d - 1 in [-1, 1] with -1 = "not falling" (not
 *              the batch minimum: when every domain learns alike all get
 *              f = 1, uniform); a domain without a history gets the median f
 *              of those with one; no positive lambda: uniform. Every sample
 *              of d gets f_d; softmax with r. After every successful call,
 *              warm-up included, each domain with valid samples updates
 *              fast, slow (with this call's mean loss; set to it on the first
 *              appearance) and s_d (with the mean N_v w this call gave it).
 *   If all valid losses are equal every loss-based strategy gives 1/N_v (f is
 *   constant; no sample is below the mean; the top-q cut is a pure tie);
 *   reducible and learnability score other things and give 1/N_v when their
 *   scores are all equal.
 *
 * OUTLIER CUT (outlier_k > 0; every strategy)
 *   Let m be the median of the valid losses and s = 1.4826 median_i |l_i - m|
 *   (the MAD, scaled to estimate a standard deviation). A valid sample with
 *   l_i > m + outlier_k * s is an outlier: its weight is exactly 0, and every
 *   rule above (l_min, l_max, the mean, the top-q cut, N_v of uniform, the
 *   sum to 1) works on the other valid samples, the "active" ones, as if the
 *   outliers were not there. s = 0 (half the losses or more equal) cuts
 *   nothing. Why: a sample whose loss sits far above the rest (random bytes,
 *   corrupt text) is unlearnable, yet linupper, linear, topq and dro give it
 *   the largest weight. Only the high side is cut. The median and MAD have a
 *   breakdown point of 50 %, so the cut holds however many outliers a batch
 *   has, up to half. Caveat: a learnable group whose losses stay that far
 *   above the rest is cut too and gets no gradient while it is; pick a k the
 *   spread of the real data does not reach, or cut by domain (below).
 *   Statistics count the cut samples in n_outliers (and n_zero_weight) and
 *   report the cut m + k s.
 *
 *   outlier_by_domain (needs domain ids): the cut then acts on whole domains.
 *   Each call, every domain d with valid samples updates a running share of
 *   its samples above m + k s: p_d <- 0.9 p_d + 0.1 (this call's share), or
 *   this call's share on its first appearance. Every sample of a domain with
 *   p_d > 1/2 is cut, whatever its own loss, and no other sample is. Why: a
 *   per-sample cut removes the high-loss tail of real data at every step, and
 *   what is never trained on keeps its high loss, so it stays cut (measured:
 *   docs/RESULTS.md); a domain whose samples are mostly outliers (random bytes)
 *   is unlearnable as a whole, while a real domain is never mostly outliers.
 *   Once cut, a domain's loss rises (nothing trains it), so it stays cut; a
 *   domain that falls back below the cut is readmitted after about 7 calls.
 *
 * DOMAIN CENTERING (domain_ema > 0; the loss-shape strategies; needs domain ids)
 *   The loss-shape strategies use x_i = l_i - mu_d(i) instead of l_i in h
 *   (x_min, x_max over the active samples): each loss is measured against a
 *   running mean mu_d of its own domain's loss, kept in the state. A domain
 *   not seen before uses its mean over this call's valid samples. After every
 *   successful call, warm-up included (so the means are ready when
 *   reweighting starts), each domain d with valid samples in the call is
 *   updated: mu_d <- e mu_d + (1 - e) (their mean loss), e = domain_ema, or
 *   set to that mean on its first appearance. Why: with raw losses an
 *   intrinsically easy domain always looks "low loss" and is starved, and an
 *   unlearnable one is chased; centered, only differences within a domain
 *   move weight, and every domain keeps a mean weight near 1. rw_compute
 *   fails when domain_ema > 0 and no domain ids are given.
 *
 * WARM-UP (steps count from 0; step < warmup_steps is "in warm-up")
 *   RW_WARMUP_UNIFORM   uniform weights during warm-up.
 *   RW_WARMUP_R_STEP    temperature r_start during warm-up, r after.
 *   RW_WARMUP_R_LINEAR  temperature r_start + (r - r_start) * step / warmup_steps
 *                       during warm-up, r from step warmup_steps on.
 *   The r-modes act on the temperature of the loss-shape strategies (and of
 *   reducible and learnability, which also use r); infobatch,
 *   topq and dro have no r and are uniform during warm-up in every mode.
 *
 * DETERMINISM
 *   Sums run in index order, the exponential is rw_exp() (own code, see
 *   rw_internal.h) rather than libm's, and floating-point contraction is off, so
 *   the same inputs, config and state give bit-identical weights on every rank and
 *   every IEEE-754 machine. Only the entropy statistic uses libm's log.
 */
#ifndef HEFT_REWEIGHT_H
#define HEFT_REWEIGHT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Domains reported separately in rw_stats. */
#define RW_MAX_DOMAINS 64
/* Bytes written by rw_state_serialize() (format version 3; versions 1, 28
 * bytes, and 2, 1068 bytes, are still read). */
#define RW_STATE_SERIAL_SIZE 2612

enum rw_strategy {
    RW_UNIFORM, RW_LINUPPER, RW_QUADRATIC, RW_EXTREMES, RW_LINEAR,
    RW_INFOBATCH, RW_TOPQ, RW_DRO,
    RW_REDUCIBLE, RW_LEARNABILITY,
    RW_NUM_STRATEGIES
};

enum rw_warmup_mode { RW_WARMUP_UNIFORM, RW_WARMUP_R_STEP, RW_WARMUP_R_LINEAR, RW_NUM_WARMUP_MODES };

/* "linupper" <-> RW_LINUPPER etc. Parsing an unknown name fails with a message
 * that lists the valid names. */
int rw_strategy_parse(const char *name, enum rw_strategy *out, struct herr *err);
const char *rw_strategy_name(enum rw_strategy s);
/* "uniform" | "r-step" | "r-linear". */
int rw_warmup_mode_parse(const char *name, enum rw_warmup_mode *out, struct herr *err);
const char *rw_warmup_mode_name(enum rw_warmup_mode m);
/* 1 for the strategies that use h and the temperature r: the four loss-shape
 * ones, reducible and learnability. */
int rw_strategy_uses_r(enum rw_strategy s);

struct rw_config {
    enum rw_strategy strategy;
    double r;                        /* softmax temperature, > 0 */
    long warmup_steps;               /* >= 0 */
    enum rw_warmup_mode warmup_mode;
    double r_start;                  /* temperature at step 0 for the r-modes, > 0 */
    double infobatch_prune;          /* in [0, 1): probability of dropping a below-mean sample */
    double topq_q;                   /* in (0, 1]: fraction of samples kept by topq */
    double dro_tau;                  /* > 0: DRO temperature */
    uint64_t seed;                   /* seeds the state's RNG (InfoBatch) */
    double outlier_k;                /* >= 0: outlier cut in robust std devs (0 = off) */
    int outlier_by_domain;           /* 1: the cut removes whole domains (needs domain ids) */
    double domain_ema;               /* in [0, 1): decay of the domain means (0 = off) */
    double learn_fast, learn_slow;   /* learnability's EMA decays, 0 <= fast < slow < 1 */
    int learn_raw;                   /* 1: learnability's lambda is the slope itself,
                                        not divided by the domain's weight share */
};

/* uniform, r = 0.4 (the paper's GPT-2 choice), no warm-up (mode uniform),
 * r_start = 100, infobatch_prune = 0.5, topq_q = 0.5, dro_tau = 1, seed = 1234,
 * no outlier cut, no domain centering, learn_fast = 0.9 and learn_slow =
 * 0.98 (lags of 9 and 49 calls: a slope over about 40 calls), learn_raw = 0. */
void rw_config_default(struct rw_config *c);
/* Fails naming the field and its value: r <= 0, q outside (0,1], ... */
int rw_config_validate(const struct rw_config *c, struct herr *err);

/* What must survive a restart. Plain data; save it with rw_state_serialize. */
struct rw_state {
    uint64_t rng;    /* splitmix64 counter, advanced only by InfoBatch draws */
    uint64_t calls;  /* successful rw_compute() calls with this state */
    uint64_t domain_seen;               /* bit d: domain_mean[d] is set (centering) */
    uint64_t outlier_seen;              /* bit d: outlier_share[d] is set */
    double domain_mean[RW_MAX_DOMAINS]; /* running mean loss per domain (centering) */
    double outlier_share[RW_MAX_DOMAINS]; /* running share of outliers (cut by domain) */
    uint64_t learn_seen;                /* bit d: the learnability EMAs of d are set */
    double learn_fast[RW_MAX_DOMAINS];  /* fast EMA of the domain's mean loss */
    double learn_slow[RW_MAX_DOMAINS];  /* slow EMA of the same */
    double learn_share[RW_MAX_DOMAINS]; /* slow EMA of the domain's mean N_v w */
};

void rw_state_init(struct rw_state *s, const struct rw_config *c);
/* Writes the state in a versioned little-endian format with a checksum and
 * returns its size (RW_STATE_SERIAL_SIZE). Writes nothing if cap is too small
 * (buf may then be NULL) but still returns the size needed. */
size_t rw_state_serialize(const struct rw_state *s, unsigned char *buf, size_t cap);
/* Reads what rw_state_serialize wrote, or an older state: version 1 (no
 * domain means) or 2 (no learnability EMAs), which read as those being
 * unset. A buffer of the wrong size for its version, a wrong magic, an
 * unknown version or a checksum mismatch fails and leaves s as it was. */
int rw_state_deserialize(struct rw_state *s, const unsigned char *buf, size_t len, struct herr *err);

/* The strategy and temperature one step actually uses, after warm-up. */
struct rw_schedule {
    enum rw_strategy strategy;  /* RW_UNIFORM during a uniform warm-up */
    double r;                   /* softmax temperature applied: r for the loss-shape
                                   strategies, dro_tau for dro, 0 where none is */
};
void rw_schedule_at(const struct rw_config *c, long step, struct rw_schedule *out);

struct rw_domain_stats {
    int count;           /* valid samples of this domain */
    double loss_mean;    /* their mean loss */
    double weight_mean;  /* their mean of N_v * w (1 = uniform share) */
    double weight_sum;   /* their sum of w: the domain's share of the step */
    int ref_count;       /* reducible: its valid samples with a finite reference loss */
    double ref_mean;     /* ... and the mean of those reference losses (0 if none) */
    int has_learn;       /* learnability: 1 when the domain has a history */
    double learn;        /* ... and its lambda_d (loss decrease per call per unit
                            of weight) that this call's weights used */
};

struct rw_stats {
    double loss_mean;      /* unweighted mean over valid samples */
    double loss_weighted;  /* sum_i w_i l_i: the objective of this step */
    double loss_min, loss_max;
    double loss_q[5];      /* 10, 25, 50, 75, 90 % quantiles, linear interpolation
                              between order statistics (numpy's default) */
    double ess;            /* (1 / sum w^2) / N_v: 1 for uniform, 1/N_v for one-hot */
    double w_max, w_min;   /* N_v * max w, N_v * min w over valid samples */
    double entropy;        /* -sum w ln w in nats (ln N_v for uniform) */
    double r_used;         /* see struct rw_schedule */
    enum rw_strategy strategy_used;
    int n, n_valid, n_nonfinite, n_empty;
    int n_zero_weight;     /* valid samples given weight 0 (infobatch, topq, outliers,
                              underflow) */
    int n_outliers;        /* valid samples left out by the outlier cut */
    double outlier_cut;    /* the cut m + k s; +inf when off or s = 0 */
    int n_noref;           /* reducible: active samples without a finite reference
                              loss (weighed as the median reducible loss) */
    int num_domains;       /* 0 when no domain ids were given */
    struct rw_domain_stats domain[RW_MAX_DOMAINS];
};

/* Computes the N weights (and, if stats is not NULL, the statistics) of one step.
 *   losses   (N)  mean token loss of each sample
 *   ntokens  (N)  non-ignored target tokens of each sample, >= 0; NULL = all > 0
 *   domains  (N)  domain id of each sample in [0, num_domains), or NULL
 *   weights  (N)  output
 * Fails (weights and state untouched) on an invalid config, N < 0, step < 0, a
 * negative token count, an out-of-range domain id, domain centering, a cut by
 * domain or learnability without domain ids, or reducible (rw_compute_ref)
 * without reference losses. Advances the state's RNG (infobatch only), its
 * call counter, and its domain means, outlier shares and learnability EMAs
 * when those are on. */
int rw_compute(const struct rw_config *cfg, struct rw_state *state, long step,
               const double *losses, const int *ntokens, const int *domains,
               int num_domains, int N, double *weights, struct rw_stats *stats,
               struct herr *err);
/* The same with each sample's reference loss (N; NaN where a sample has
 * none), which only reducible uses; rw_compute passes NULL. */
int rw_compute_ref(const struct rw_config *cfg, struct rw_state *state, long step,
                   const double *losses, const double *ref_losses, const int *ntokens,
                   const int *domains, int num_domains, int N, double *weights,
                   struct rw_stats *stats, struct herr *err);

#endif
