/* core/val_iter.c — see val_iter.h. */
#include "core/val_iter.h"

#include <string.h>

int val_iter_init(struct val_iter *it, const struct dataset *ds, int domain, int B, int T,
                  int rank, int world, struct herr *err)
{
    memset(it, 0, sizeof *it);
    if (batch_slice_check("validation", B, rank, world, err))
        return -1;
    if (domain >= dataset_num_domains(ds))
        return herr_set(err, "validation: no domain %d in dataset %s (it has %d)", domain,
                        dataset_source(ds), dataset_num_domains(ds));
    if (window_index_build(&it->windows, ds, DATA_VAL, domain, T, err))
        return herr_wrap(err, "validation: ");
    it->B = B;
    it->T = T;
    it->rank = rank;
    it->world = world;
    return 0;
}

void val_iter_free(struct val_iter *it)
{
    window_index_free(&it->windows);
}

uint64_t val_iter_num_windows(const struct val_iter *it)
{
    return window_index_count(&it->windows);
}

uint64_t val_iter_num_batches(const struct val_iter *it)
{
    uint64_t N = (uint64_t)it->world * (uint64_t)it->B;
    return (val_iter_num_windows(it) + N - 1) / N;
}

int val_iter_next(struct val_iter *it, int32_t *inputs, int32_t *targets, int32_t *domains,
                  int *real_rows, struct herr *err)
{
    if (it->next_batch >= val_iter_num_batches(it))
        return 0;
    const uint64_t M = val_iter_num_windows(it);
    const uint64_t N = (uint64_t)it->world * (uint64_t)it->B;
    const uint64_t first = it->next_batch * N + (uint64_t)it->rank * (uint64_t)it->B;
    int real = 0;
    for (int b = 0; b < it->B; b++) {
        size_t off = (size_t)b * (size_t)it->T;
        uint64_t w = first + (uint64_t)b;
        if (w < M) {
            if (window_index_fill(&it->windows, w, inputs + off, targets + off, &domains[b],
                                  err) < 0)
                return -1;
            real++;
        } else {
            dataset_fill_empty_row(it->windows.ds, it->T, inputs + off, targets + off,
                                   &domains[b]);
        }
    }
    it->next_batch++;
    if (real_rows)
        *real_rows = real;
    return 1;
}

void val_iter_rewind(struct val_iter *it)
{
    it->next_batch = 0;
}
