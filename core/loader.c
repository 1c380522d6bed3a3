/* core/loader.c — see loader.h. */
#include "core/loader.h"

#include <stdlib.h>

#include "core/prng.h"

struct loader {
    struct window_index windows; /* the train windows, 0..M-1 */
    uint64_t M;
    int B, T, rank, world;
    uint64_t seed;
    struct loader_pos pos;
    /* The permutation of one epoch, rebuilt when a row of another epoch is
     * needed (windows are indexed by uint32 to halve its memory). */
    uint32_t *perm; /* (M) */
    uint64_t perm_epoch;
    int perm_valid;
};

static void build_permutation(struct loader *ld, uint64_t epoch)
{
    struct prng g;
    prng_seed(&g, prng_mix(ld->seed, epoch));
    for (uint64_t i = 0; i < ld->M; i++)
        ld->perm[i] = (uint32_t)i;
    for (uint64_t i = ld->M - 1; i >= 1; i--) {
        uint64_t j = prng_below(&g, i + 1);
        uint32_t t = ld->perm[i];
        ld->perm[i] = ld->perm[j];
        ld->perm[j] = t;
    }
    ld->perm_epoch = epoch;
    ld->perm_valid = 1;
}

int loader_create(struct loader **out, const struct dataset *ds, int B, int T, int rank,
                  int world, uint64_t seed, struct herr *err)
{
    *out = NULL;
    if (batch_slice_check("loader", B, rank, world, err))
        return -1;
    struct loader *ld = calloc(1, sizeof *ld);
    if (!ld)
        return herr_set(err, "loader: out of memory");
    if (window_index_build(&ld->windows, ds, DATA_TRAIN, -1, T, err)) {
        free(ld);
        return herr_wrap(err, "loader: ");
    }
    ld->M = window_index_count(&ld->windows);
    if (ld->M == 0) {
        loader_destroy(ld);
        return herr_set(err, "loader: dataset %s has no training window (needs a train shard "
                        "of at least 2 tokens)", dataset_source(ds));
    }
    const uint64_t M = ld->M;
    if (M > UINT32_MAX) {
        loader_destroy(ld);
        return herr_set(err, "loader: dataset %s has %llu training windows of T = %d, more than "
                        "the 2^32-1 the loader indexes; use a larger T", dataset_source(ds),
                        (unsigned long long)M, T);
    }
    ld->perm = malloc((size_t)M * sizeof *ld->perm);
    if (!ld->perm) {
        loader_destroy(ld);
        return herr_set(err, "loader: out of memory for %llu window indices",
                        (unsigned long long)M);
    }
    ld->B = B;
    ld->T = T;
    ld->rank = rank;
    ld->world = world;
    ld->seed = seed;
    *out = ld;
    return 0;
}

void loader_destroy(struct loader *ld)
{
    if (!ld)
        return;
    window_index_free(&ld->windows);
    free(ld->perm);
    free(ld);
}

/* The window of row r counted from the start of epoch `epoch` (rows at or
 * past M belong to later epochs). */
static uint64_t window_of(struct loader *ld, uint64_t epoch, uint64_t r)
{
    epoch += r / ld->M;
    if (!ld->perm_valid || ld->perm_epoch != epoch)
        build_permutation(ld, epoch);
    return ld->perm[r % ld->M];
}

void loader_windows(struct loader *ld, struct loader_pos pos, uint64_t n, uint64_t *out)
{
    for (uint64_t i = 0; i < n; i++)
        out[i] = window_of(ld, pos.epoch, pos.row + i);
}

int loader_next(struct loader *ld, int32_t *inputs, int32_t *targets, int32_t *domains,
                struct herr *err)
{
    const uint64_t M = ld->M;
    const uint64_t N = (uint64_t)ld->world * (uint64_t)ld->B;
    /* This rank's first row, counted from the start of the current epoch. */
    const uint64_t first = ld->pos.row + (uint64_t)ld->rank * (uint64_t)ld->B;
    for (int b = 0; b < ld->B; b++) {
        uint64_t w = window_of(ld, ld->pos.epoch, first + (uint64_t)b);
        size_t off = (size_t)b * (size_t)ld->T;
        if (window_index_fill(&ld->windows, w, inputs + off, targets + off, &domains[b],
                              err) < 0)
            return -1;
    }
    uint64_t next = ld->pos.row + N;
    ld->pos.epoch += next / M;
    ld->pos.row = next % M;
    return 0;
}

struct loader_pos loader_tell(const struct loader *ld)
{
    return ld->pos;
}

int loader_seek(struct loader *ld, struct loader_pos pos, struct herr *err)
{
    if (pos.row >= ld->M)
        return herr_set(err, "loader: position row %llu is past the %llu training windows of "
                        "an epoch (a checkpoint of another dataset or sequence length?)",
                        (unsigned long long)pos.row, (unsigned long long)ld->M);
    ld->pos = pos;
    return 0;
}

uint64_t loader_num_windows(const struct loader *ld)
{
    return ld->M;
}
