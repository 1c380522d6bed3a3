/* models/param_groups.h — a model's parameters in groups, and the hooks
 * through which a trainer that shards them (ZeRO-2/3, core/train_zero.h)
 * lends the model its weights and takes its gradients.
 *
 * Group g < L holds layer g's tensors; group L, the last, the "outer" ones
 * (token and position embeddings, final norm, LM head). A group is a list of
 * slices: one tensor of one layer each, a range of the flat buffer (the
 * family's layout, which model and checkpoint files keep). A group also has
 * its own buffer layout, the slices one after another (`local`), in which a
 * trainer hands the model one layer's weights without the others. */
#ifndef HEFT_PARAM_GROUPS_H
#define HEFT_PARAM_GROUPS_H

#include <stddef.h>

#include "backends/backend.h"
#include "core/error.h"

/* A decoder layer has at most 12 tensors, the outer group 5. */
#define PARAM_GROUP_MAX_SLICES 16

struct param_slice {
    size_t flat;  /* first element in the flat buffer */
    size_t count; /* elements */
    size_t local; /* first element in its group's own buffer */
};

/* Set by the trainer on a model created with hooked parameters or gradients
 * (struct model_memory). Every call returns 0, or -1 with err set. The model
 * calls them in the order of its computation:
 *   forward:  params(L), then params(l) before layer l's forward, l = 0..L-1;
 *   backward: grads(L); params(l) before layer l's backward (and before its
 *             recomputed forward, which uses the same weights), grads(l),
 *             layer l's backward, grads_done(l), l = L-1..0; grads_done(L).
 * params(L)'s buffer must stay valid until the backward ends; params(l)'s
 * until the next params call for another layer. */
struct param_hooks {
    void *ctx;
    /* Group g's weights in a buffer laid out as its slices' `local` say.
     * NULL: the model has a flat parameter buffer and reads it. */
    int (*params)(void *ctx, int g, dptr *base, struct herr *err);
    /* A zeroed buffer for group g's gradients (local layout), filled (+=) by
     * the backward until grads_done(g). */
    int (*grads)(void *ctx, int g, dptr *base, struct herr *err);
    /* Group g's gradients of this backward are complete. */
    int (*grads_done)(void *ctx, int g, struct herr *err);
};

#endif
