/* core/loader.h — training rows: which window each rank reads at each step.
 *
 * Order. All train windows of the dataset (core/dataset.h, over all shards
 * and domains, in manifest order) are numbered 0..M-1. Epoch e visits them in
 * the order of a permutation P_e: Fisher-Yates driven by xoshiro256** seeded
 * with prng_mix(seed, e) (core/prng.h):
 *     P = identity; for i = M-1 down to 1: j = prng_below(i + 1); swap P[i], P[j]
 * so the order depends only on (seed, epoch, M), never on the machine.
 *
 * Global rows. Global row r of the run is P_{r / M}[r mod M]: epochs follow one
 * another without a gap, and a batch that crosses the end of an epoch takes
 * its remaining rows from the start of the next epoch's permutation. Global
 * step s consumes rows [s*N, (s+1)*N) with N = world * B, and rank k of world
 * W reads rows [s*N + k*B, s*N + (k+1)*B). Hence one rank with W*B rows and
 * W ranks with B rows each see exactly the same data, in the same order.
 *
 * Position. The loader's position (epoch, row within the epoch) is the first
 * global row of the next step, identical on every rank: it is all a
 * checkpoint needs to resume the exact sequence of batches (even with another
 * world size, as long as the global row stream is what is wanted).
 */
#ifndef HEFT_CORE_LOADER_H
#define HEFT_CORE_LOADER_H

#include <stdint.h>

#include "core/dataset.h"
#include "core/error.h"

struct loader_pos {
    uint64_t epoch;
    uint64_t row; /* global row within the epoch, < loader_num_windows() */
};

struct loader;

/* B rows of T tokens per rank per step; rank in [0, world). Fails when the
 * dataset has no train window or has more than 2^32-1 of them. The dataset
 * must outlive the loader. */
int loader_create(struct loader **ld, const struct dataset *ds, int B, int T, int rank,
                  int world, uint64_t seed, struct herr *err);
void loader_destroy(struct loader *ld);

/* Fills this rank's rows of the next step and advances by world*B rows:
 * inputs (B, T) token ids, targets (B, T) ids or -1 (ignored), domains (B).
 * Fails only when a row holds a token id outside the vocabulary. */
int loader_next(struct loader *ld, int32_t *inputs, int32_t *targets, int32_t *domains,
                struct herr *err);

/* The windows (0..M-1) of the n global rows from position pos on, in global
 * row order: what loader_next hands out from there, rank by rank. Every
 * rank can name every rank's rows, so a trainer can look up a per-window
 * quantity of its whole global batch without exchanging it. */
void loader_windows(struct loader *ld, struct loader_pos pos, uint64_t n, uint64_t *out);

struct loader_pos loader_tell(const struct loader *ld);
/* Continues from a position returned by loader_tell (e.g. from a checkpoint). */
int loader_seek(struct loader *ld, struct loader_pos pos, struct herr *err);

/* Train windows per epoch (M). */
uint64_t loader_num_windows(const struct loader *ld);

#endif
