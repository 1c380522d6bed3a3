/* reweight/rw_schedule.c — the strategy and temperature of one step (warm-up). */
#include "reweight/rw_internal.h"

void rw_schedule_at(const struct rw_config *c, long step, struct rw_schedule *out)
{
    if (step < 0)  /* rw_compute rejects it; here it simply means "not started" */
        step = 0;
    int warm = step < c->warmup_steps;
    out->strategy = c->strategy;
    out->r = 0.0;
    if (c->strategy == RW_UNIFORM)
        return;
    /* Without a temperature there is nothing to anneal: peers start uniform. */
    if (warm && (c->warmup_mode == RW_WARMUP_UNIFORM || !rw_strategy_uses_r(c->strategy))) {
        out->strategy = RW_UNIFORM;
        return;
    }
    if (c->strategy == RW_DRO) {
        out->r = c->dro_tau;
        return;
    }
    if (!rw_strategy_uses_r(c->strategy))
        return;
    out->r = c->r;
    if (warm && c->warmup_mode == RW_WARMUP_R_STEP)
        out->r = c->r_start;
    else if (warm && c->warmup_mode == RW_WARMUP_R_LINEAR)
        out->r = c->r_start + (c->r - c->r_start) * ((double)step / (double)c->warmup_steps);
}
