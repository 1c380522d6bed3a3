/* core/val_iter.h — one deterministic pass over validation windows.
 *
 * The validation windows of one domain (or of all, domain = -1) are taken in
 * file order (core/dataset.h: shard by shard, window by window), in global
 * batches of N = world * B rows; rank k fills rows [k*B, (k+1)*B) of each
 * global batch, like the training loader. The last batch is padded with rows
 * that contribute nothing (inputs EOT, targets -1, domain -1), so every rank
 * runs the same number of batches (collectives stay matched) and summing
 * per-token losses over all ranks counts every window exactly once.
 */
#ifndef HEFT_CORE_VAL_ITER_H
#define HEFT_CORE_VAL_ITER_H

#include <stdint.h>

#include "core/dataset.h"
#include "core/error.h"

struct val_iter {
    struct window_index windows;
    int B, T, rank, world;
    uint64_t next_batch; /* global batch index */
};

int val_iter_init(struct val_iter *it, const struct dataset *ds, int domain, int B, int T,
                  int rank, int world, struct herr *err);
void val_iter_free(struct val_iter *it);

/* Windows in the pass, and global batches (ceil(windows / (world*B))). */
uint64_t val_iter_num_windows(const struct val_iter *it);
uint64_t val_iter_num_batches(const struct val_iter *it);

/* Fills this rank's rows of the next batch: inputs (B, T), targets (B, T),
 * domains (B); *real_rows (may be NULL) gets the number of rows holding a
 * window. Returns 1 when a batch was filled, 0 when the pass is over, -1 on a
 * token id outside the vocabulary. */
int val_iter_next(struct val_iter *it, int32_t *inputs, int32_t *targets, int32_t *domains,
                  int *real_rows, struct herr *err);

/* Starts the pass again. */
void val_iter_rewind(struct val_iter *it);

#endif
