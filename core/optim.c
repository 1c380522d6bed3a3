/* core/optim.c — see optim.h. */
#include "core/optim.h"

#include <math.h>
#include <string.h>

void optim_config_default(struct optim_config *c)
{
    c->lr = 6e-4;
    c->min_lr_frac = 0.1;
    c->warmup_steps = 0;
    c->total_steps = 0;
    c->schedule = LR_COSINE;
    c->beta1 = 0.9;
    c->beta2 = 0.95;
    c->eps = 1e-8;
    c->weight_decay = 0.1;
    c->grad_clip = 1.0;
}

int optim_config_validate(const struct optim_config *c, struct herr *err)
{
    if (!(c->lr > 0.0 && c->lr < 10.0))
        return herr_set(err, "--lr %g out of range (0, 10)", c->lr);
    if (!(c->min_lr_frac >= 0.0 && c->min_lr_frac <= 1.0))
        return herr_set(err, "--min-lr-frac %g out of range [0, 1]", c->min_lr_frac);
    if (c->warmup_steps < 0)
        return herr_set(err, "--warmup %ld must be >= 0", c->warmup_steps);
    if (!(c->beta1 >= 0.0 && c->beta1 < 1.0))
        return herr_set(err, "--beta1 %g out of range [0, 1)", c->beta1);
    if (!(c->beta2 >= 0.0 && c->beta2 < 1.0))
        return herr_set(err, "--beta2 %g out of range [0, 1)", c->beta2);
    if (!(c->eps > 0.0 && c->eps < 1.0))
        return herr_set(err, "--adam-eps %g out of range (0, 1)", c->eps);
    if (!(c->weight_decay >= 0.0 && c->weight_decay < 10.0))
        return herr_set(err, "--weight-decay %g out of range [0, 10)", c->weight_decay);
    if (!(c->grad_clip >= 0.0) || isinf(c->grad_clip))
        return herr_set(err, "--grad-clip %g must be >= 0 (0 disables clipping)", c->grad_clip);
    return 0;
}

static const char *const schedule_names[] = { "cosine", "linear", "constant" };

int lr_schedule_parse(const char *name, enum lr_schedule *out, struct herr *err)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, schedule_names[i]) == 0) {
            *out = (enum lr_schedule)i;
            return 0;
        }
    return herr_set(err, "unknown learning-rate schedule '%s' (expected cosine, linear or constant)",
                    name);
}

const char *lr_schedule_name(enum lr_schedule s) { return schedule_names[s]; }

double optim_lr_at(const struct optim_config *c, long step)
{
    if (c->warmup_steps > 0 && step < c->warmup_steps)
        return c->lr * (double)(step + 1) / (double)c->warmup_steps;
    if (c->schedule == LR_CONSTANT || c->total_steps <= c->warmup_steps)
        return c->lr;
    double progress = (double)(step - c->warmup_steps) / (double)(c->total_steps - c->warmup_steps);
    if (progress > 1.0)
        progress = 1.0;
    double min_lr = c->lr * c->min_lr_frac;
    double shape = c->schedule == LR_COSINE ? 0.5 * (1.0 + cos(M_PI * progress)) : 1.0 - progress;
    return min_lr + (c->lr - min_lr) * shape;
}

double optim_clip_scale(double grad_norm, double max_norm)
{
    if (max_norm <= 0.0)
        return 1.0;
    double s = max_norm / (grad_norm + 1e-6);
    return s < 1.0 ? s : 1.0;
}

int adamw_create(struct adamw *opt, struct backend *be, size_t lo, size_t hi, struct herr *err)
{
    memset(opt, 0, sizeof *opt);
    opt->be = be;
    opt->shard_lo = lo;
    opt->shard_hi = hi;
    opt->m = backend_alloc_named(be, hi - lo, "AdamW first moments m");
    opt->v = backend_alloc_named(be, hi - lo, "AdamW second moments v");
    if (backend_check(be, err)) {
        adamw_destroy(opt);
        return herr_wrap(err, "allocating AdamW state (2 x %zu floats): ", hi - lo);
    }
    be->ops->fill(be, opt->m, 0.0f, hi - lo);
    be->ops->fill(be, opt->v, 0.0f, hi - lo);
    return 0;
}

void adamw_destroy(struct adamw *opt)
{
    if (opt->be) {
        backend_release_ptr(opt->be, opt->m);
        backend_release_ptr(opt->be, opt->v);
    }
    memset(opt, 0, sizeof *opt);
}

int adamw_update(struct adamw *opt, dptr params, dptr grads, const struct param_span *spans,
                 int nspans, const struct optim_config *cfg, double lr, double grad_scale,
                 struct herr *err)
{
    struct backend *be = opt->be;
    opt->t++;
    struct adamw_args args = {
        .lr = (float)lr,
        .beta1 = (float)cfg->beta1,
        .beta2 = (float)cfg->beta2,
        .eps = (float)cfg->eps,
        .grad_scale = (float)grad_scale,
        .bias_correction1 = (float)(1.0 - pow(cfg->beta1, (double)opt->t)),
        .bias_correction2 = (float)(1.0 - pow(cfg->beta2, (double)opt->t)),
    };
    for (int s = 0; s < nspans; s++) {
        size_t lo = spans[s].offset, hi = spans[s].offset + spans[s].count;
        if (lo < opt->shard_lo)
            lo = opt->shard_lo;
        if (hi > opt->shard_hi)
            hi = opt->shard_hi;
        if (lo >= hi)
            continue;
        args.weight_decay = spans[s].decays ? (float)cfg->weight_decay : 0.0f;
        size_t k = lo - opt->shard_lo;
        be->ops->adamw(be, dptr_at(params, lo), dptr_at(grads, lo), dptr_at(opt->m, k),
                       dptr_at(opt->v, k), hi - lo, &args);
    }
    if (backend_check(be, err))
        return herr_wrap(err, "AdamW update %ld: ", opt->t);
    return 0;
}
