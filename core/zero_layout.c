/* core/zero_layout.c — see zero_layout.h. */
#include "core/zero_layout.h"

#include <stdlib.h>
#include <string.h>

#include "core/train_memory.h"

static size_t piece_of(size_t n, int W)
{
    size_t p = (n + (size_t)W - 1) / (size_t)W;
    return (p + TRAIN_SHARD_ALIGN - 1) / TRAIN_SHARD_ALIGN * TRAIN_SHARD_ALIGN;
}

size_t zero_piece_valid(const struct zero_slice *s, int k)
{
    size_t a = (size_t)k * s->piece;
    if (a >= s->count)
        return 0;
    return s->count - a < s->piece ? s->count - a : s->piece;
}

static int alloc_layout(struct zero_layout *z, int nslices, int ngroups, int W, struct herr *err)
{
    memset(z, 0, sizeof *z);
    z->W = W;
    z->slices = calloc((size_t)nslices, sizeof *z->slices);
    z->flat_order = calloc((size_t)nslices, sizeof *z->flat_order);
    z->groups = calloc((size_t)ngroups, sizeof *z->groups);
    if (!z->slices || !z->flat_order || !z->groups) {
        zero_layout_free(z);
        return herr_set(err, "out of host memory for the sharding layout");
    }
    return 0;
}

/* Pieces, shard offsets and the group totals, once the slices are in. */
static void place(struct zero_layout *z)
{
    size_t shard = 0;
    for (int g = 0; g < z->ngroups; g++) {
        struct zero_group *grp = &z->groups[g];
        grp->shard = shard;
        for (int i = grp->first; i < grp->first + grp->count; i++) {
            struct zero_slice *s = &z->slices[i];
            s->piece = piece_of(s->count, z->W);
            s->shard = shard;
            s->group = g;
            shard += s->piece;
            grp->pieces += s->piece;
            grp->floats += s->count;
        }
        if (grp->pieces > z->max_pieces)
            z->max_pieces = grp->pieces;
        if (g < z->ngroups - 1 && grp->floats > z->layer_floats)
            z->layer_floats = grp->floats;
    }
    z->outer_floats = z->groups[z->ngroups - 1].floats;
    z->shard_floats = shard;
}

struct flat_key {
    size_t flat;
    int slice;
};

static int by_flat(const void *a, const void *b)
{
    size_t fa = ((const struct flat_key *)a)->flat, fb = ((const struct flat_key *)b)->flat;
    return fa < fb ? -1 : fa > fb;
}

/* flat_order: the slices sorted by where they start in the flat buffer. */
static int order_by_flat(struct zero_layout *z, struct herr *err)
{
    struct flat_key *keys = malloc((size_t)z->nslices * sizeof *keys);
    if (!keys)
        return herr_set(err, "out of host memory for the sharding layout");
    for (int i = 0; i < z->nslices; i++) {
        keys[i].flat = z->slices[i].flat;
        keys[i].slice = i;
    }
    qsort(keys, (size_t)z->nslices, sizeof *keys, by_flat);
    for (int i = 0; i < z->nslices; i++)
        z->flat_order[i] = keys[i].slice;
    free(keys);
    return 0;
}

int zero_layout_build(struct zero_layout *z, const struct model_config *cfg, int W,
                      struct herr *err)
{
    int ngroups = model_config_num_groups(cfg);
    if (alloc_layout(z, ngroups * PARAM_GROUP_MAX_SLICES, ngroups, W, err))
        return -1;
    z->ngroups = ngroups;
    for (int g = 0; g < ngroups; g++) {
        struct param_slice sl[PARAM_GROUP_MAX_SLICES];
        size_t floats;
        int n = model_config_group_slices(cfg, g, sl, &floats);
        z->groups[g].first = z->nslices;
        z->groups[g].count = n;
        for (int i = 0; i < n; i++) {
            struct zero_slice *s = &z->slices[z->nslices++];
            s->flat = sl[i].flat;
            s->count = sl[i].count;
            s->local = sl[i].local;
        }
    }
    place(z);
    if (order_by_flat(z, err)) {
        zero_layout_free(z);
        return -1;
    }
    size_t next = 0;
    for (int i = 0; i < z->nslices; i++) {
        const struct zero_slice *s = &z->slices[z->flat_order[i]];
        if (s->flat != next)
            break;
        next += s->count;
    }
    z->num_params = model_config_num_params(cfg);
    if (next != z->num_params) {
        zero_layout_free(z);
        return herr_set(err, "the model's parameter groups cover %zu of its %zu parameters in "
                             "order; ZeRO-2/3 cannot shard it", next,
                        model_config_num_params(cfg));
    }
    return 0;
}

int zero_layout_whole(struct zero_layout *z, size_t P, int W, struct herr *err)
{
    if (alloc_layout(z, 1, 1, W, err))
        return -1;
    z->nslices = z->ngroups = 1;
    z->slices[0].count = P;
    z->groups[0].count = 1;
    place(z);
    z->num_params = P;
    return 0;
}

void zero_layout_free(struct zero_layout *z)
{
    free(z->slices);
    free(z->flat_order);
    free(z->groups);
    memset(z, 0, sizeof *z);
}
