/* core/optim.h — AdamW over a model's flat parameter buffer, gradient-norm
 * clipping and the learning-rate schedule.
 *
 * The optimizer knows parameters only as spans of one flat buffer (see
 * models/param_span.h), so it serves any model. Under ZeRO-1 a rank owns the
 * optimizer state of the element range [shard_lo, shard_hi) only and updates
 * just those parameters; without it the range is the whole buffer. */
#ifndef HEFT_CORE_OPTIM_H
#define HEFT_CORE_OPTIM_H

#include "backends/backend.h"
#include "models/param_span.h"

enum lr_schedule { LR_COSINE, LR_LINEAR, LR_CONSTANT };

struct optim_config {
    double lr;            /* peak learning rate */
    double min_lr_frac;   /* final lr as a fraction of the peak (cosine/linear) */
    long warmup_steps;    /* linear warm-up from lr/warmup to lr */
    long total_steps;     /* length of the decay */
    enum lr_schedule schedule;
    double beta1, beta2, eps, weight_decay;
    double grad_clip;     /* max global gradient norm; 0 = no clipping */
};

void optim_config_default(struct optim_config *c);
int optim_config_validate(const struct optim_config *c, struct herr *err);
int lr_schedule_parse(const char *name, enum lr_schedule *out, struct herr *err);
const char *lr_schedule_name(enum lr_schedule s);

/* Learning rate for (0-based) step. */
double optim_lr_at(const struct optim_config *c, long step);

/* clip_grad_norm_ semantics: the factor to multiply gradients by. */
double optim_clip_scale(double grad_norm, double max_norm);

struct adamw {
    struct backend *be;
    dptr m, v;        /* (shard_hi - shard_lo) each */
    size_t shard_lo, shard_hi;
    long t;           /* updates done so far */
};

/* Allocates and zeroes the state for elements [lo, hi) of the flat buffer. */
int adamw_create(struct adamw *opt, struct backend *be, size_t lo, size_t hi, struct herr *err);
void adamw_destroy(struct adamw *opt);

/* One update of the parameters in the shard: each span's part inside
 * [shard_lo, shard_hi) is updated with its weight decay flag. grads is the
 * full flat gradient buffer (or at least valid on the shard). */
int adamw_update(struct adamw *opt, dptr params, dptr grads, const struct param_span *spans,
                 int nspans, const struct optim_config *cfg, double lr, double grad_scale,
                 struct herr *err);

/* A run of elements of one update in three buffers that need not share a
 * layout: the parameters at `param` of theirs, the gradients at `grad`, the
 * moments at `state` of m and v. Under ZeRO-2 a rank updates the pieces it
 * owns of the flat parameters from its gradient shard, under ZeRO-3 its
 * parameter shard (core/train_zero.h): one span per owned piece, more than a
 * model has tensors, so the caller passes an array of any length. */
struct optim_span {
    size_t param, grad, state, count;
    int decays; /* 1 if weight decay applies */
};

/* The same update as adamw_update, over spans; the state is all of [0,
 * shard_hi - shard_lo) that the spans name. */
int adamw_update_spans(struct adamw *opt, dptr params, dptr grads,
                       const struct optim_span *spans, size_t nspans,
                       const struct optim_config *cfg, double lr, double grad_scale,
                       struct herr *err);

#endif
