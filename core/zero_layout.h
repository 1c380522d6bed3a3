/* core/zero_layout.h — how ZeRO cuts a model's parameters over W ranks,
 * computed once from the model and the rank count, for the trainer
 * (core/train_zero.c; the checkpoint rounds of core/train_comm.c) and the
 * planner (core/train_memory.h).
 *
 * The unit is a slice (models/param_groups.h: one tensor of one layer, or one
 * of the outer tensors). A slice of n elements is cut into W pieces of
 * `piece` = ceil(n / W) elements, rounded up to TRAIN_SHARD_ALIGN; rank k
 * owns piece k, elements [k piece, min((k+1) piece, n)) of the slice (the
 * last pieces may be short or empty). A rank keeps its pieces in a shard
 * buffer, group by group and slice by slice, each `piece` long (the tail past
 * the slice's end stays zero), so the buffer has the same size and layout on
 * every rank and one group's pieces are one range of it: what one all-gather
 * (or reduce-scatter) per layer moves.
 *
 * Within a slice the owners follow one another in rank order, as ZeRO-1's
 * shards do over the whole flat buffer; ZeRO-1 is the layout of one slice,
 * [0, P) (zero_layout_whole), so the checkpoint rounds serve both. */
#ifndef HEFT_CORE_ZERO_LAYOUT_H
#define HEFT_CORE_ZERO_LAYOUT_H

#include <stddef.h>

#include "core/error.h"
#include "models/model_config.h"

struct zero_slice {
    size_t flat, count; /* the slice in the flat buffer */
    size_t local;       /* where it starts in its group's gathered buffer */
    size_t piece;       /* elements of every rank's piece (padded) */
    size_t shard;       /* where the pieces start in a shard buffer */
    int group;
};

struct zero_group {
    int first, count; /* its slices: slices[first, first + count) */
    size_t shard;     /* where its pieces start in a shard buffer */
    size_t pieces;    /* one rank's part: the sum of its slices' pieces */
    size_t floats;    /* its gathered buffer: the sum of its slices' counts */
};

struct zero_layout {
    int W, nslices, ngroups;
    struct zero_slice *slices; /* group by group: the shard buffer's order */
    int *flat_order;           /* slice indices by increasing flat offset */
    struct zero_group *groups; /* layers 0..L-1, then the outer group */
    size_t num_params;         /* the slices cover [0, num_params) */
    size_t shard_floats;       /* a shard buffer */
    size_t layer_floats;       /* the largest layer's gathered buffer */
    size_t outer_floats;       /* the outer group's gathered buffer */
    size_t max_pieces;         /* the largest group's part of a shard */
};

/* The layout of cfg's parameter groups over W ranks; fails when the groups
 * do not cover the flat buffer exactly once (a family with a tensor the
 * decoder does not know). */
int zero_layout_build(struct zero_layout *z, const struct model_config *cfg, int W,
                      struct herr *err);
/* One slice and one group, [0, P): ZeRO-1's shards (train_shard_range). */
int zero_layout_whole(struct zero_layout *z, size_t P, int W, struct herr *err);
void zero_layout_free(struct zero_layout *z);

/* How many elements of rank k's piece of s lie inside the slice. */
size_t zero_piece_valid(const struct zero_slice *s, int k);

#endif
