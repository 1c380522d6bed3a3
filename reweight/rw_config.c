/* reweight/rw_config.c — defaults and validation of struct rw_config. */
#include "reweight/rw_internal.h"

void rw_config_default(struct rw_config *c)
{
    c->strategy = RW_UNIFORM;
    c->r = 0.4;
    c->warmup_steps = 0;
    c->warmup_mode = RW_WARMUP_UNIFORM;
    c->r_start = 100.0;
    c->infobatch_prune = 0.5;
    c->topq_q = 0.5;
    c->dro_tau = 1.0;
    c->seed = 1234;
    c->outlier_k = 0.0;
    c->outlier_by_domain = 0;
    c->domain_ema = 0.0;
    /* lags of 9 and 49 calls: a slope over about 40 calls, long enough to
     * average the few samples a domain has per call, short enough to follow
     * a 600-step run */
    c->learn_fast = 0.9;
    c->learn_slow = 0.98;
    c->learn_raw = 0;
}

/* Every field is checked whatever the strategy, so that a config which is
 * valid now stays valid when only its strategy is changed later. */
int rw_config_validate(const struct rw_config *c, struct herr *err)
{
    if (c == NULL)
        return herr_set(err, "reweight config: NULL");
    if ((unsigned)c->strategy >= RW_NUM_STRATEGIES)
        return herr_set(err, "reweight config: strategy = %d is not a strategy", (int)c->strategy);
    if (!(isfinite(c->r) && c->r > 0))
        return herr_set(err, "reweight config: r = %g must be a finite temperature > 0 "
                        "(0.4 and 1.0 are the paper's values; large r approaches uniform)", c->r);
    if (c->warmup_steps < 0)
        return herr_set(err, "reweight config: warmup_steps = %ld must be >= 0", c->warmup_steps);
    if ((unsigned)c->warmup_mode >= RW_NUM_WARMUP_MODES)
        return herr_set(err, "reweight config: warmup_mode = %d is not a warm-up mode",
                        (int)c->warmup_mode);
    if (!(isfinite(c->r_start) && c->r_start > 0))
        return herr_set(err, "reweight config: r_start = %g must be a finite temperature > 0",
                        c->r_start);
    if (!(c->infobatch_prune >= 0 && c->infobatch_prune < 1))
        return herr_set(err, "reweight config: infobatch_prune = %g must be in [0, 1)",
                        c->infobatch_prune);
    if (!(c->topq_q > 0 && c->topq_q <= 1))
        return herr_set(err, "reweight config: topq_q = %g must be in (0, 1]", c->topq_q);
    if (!(isfinite(c->dro_tau) && c->dro_tau > 0))
        return herr_set(err, "reweight config: dro_tau = %g must be a finite temperature > 0",
                        c->dro_tau);
    if (!(isfinite(c->outlier_k) && c->outlier_k >= 0))
        return herr_set(err, "reweight config: outlier_k = %g must be >= 0 (robust standard "
                        "deviations above the median; 0 = no outlier cut)", c->outlier_k);
    if (c->outlier_by_domain != 0 && c->outlier_by_domain != 1)
        return herr_set(err, "reweight config: outlier_by_domain = %d must be 0 or 1",
                        c->outlier_by_domain);
    if (!(c->domain_ema >= 0 && c->domain_ema < 1))
        return herr_set(err, "reweight config: domain_ema = %g must be in [0, 1) (0 = no "
                        "domain centering)", c->domain_ema);
    if (!(c->learn_fast >= 0 && c->learn_slow < 1 && c->learn_fast < c->learn_slow))
        return herr_set(err, "reweight config: learn_fast = %g and learn_slow = %g must satisfy "
                        "0 <= learn_fast < learn_slow < 1 (the two EMA decays whose lag "
                        "difference measures learnability's loss slope)", c->learn_fast,
                        c->learn_slow);
    if (c->learn_raw != 0 && c->learn_raw != 1)
        return herr_set(err, "reweight config: learn_raw = %d must be 0 or 1", c->learn_raw);
    return 0;
}
