/* core/train_memory.h — how much memory a training run allocates, defined
 * once for the trainer (core/train_setup.c allocates by it) and for the
 * planner (core/plan.c predicts by it), so the two cannot drift apart.
 *
 * Device memory is the model's (parameters, gradients, activations) and the
 * optimizer's (Adam's m and v, sharded under ZeRO-1). Host memory is what
 * this header sizes: the per-step staging, one stage buffer through which
 * gradients, parameters and checkpoint sections travel between ranks, and
 * buffers that live only for a moment (a whole host copy of the parameters
 * to initialize or export the model). On the CPU backend device memory is
 * host memory too, so a process's peak resident size is the sum. */
#ifndef HEFT_CORE_TRAIN_MEMORY_H
#define HEFT_CORE_TRAIN_MEMORY_H

#include <stddef.h>

/* The stage holds at most this many floats (32 MiB): large enough that a
 * reduction runs near the link's bandwidth, small next to a model. */
#define TRAIN_STAGE_MAX_FLOATS ((size_t)1 << 23)

/* ZeRO-1 shards start on multiples of this many floats (64 bytes). */
#define TRAIN_SHARD_ALIGN 16

struct train_host_sizes {
    size_t staging_bytes; /* per-step buffers: tokens, per-sample losses, gathers */
    size_t stage_floats;  /* the stage */
    size_t init_bytes;    /* the host copy of the parameters at start-up and export */
    size_t ckpt_bytes;    /* the checkpoint writer's or reader's chunk buffer */
};

/* Host memory of a run with W ranks, K micro-batches of B rows of T tokens
 * per step, and P parameters. */
void train_host_sizes(int W, int K, int B, int T, size_t P, struct train_host_sizes *out);

/* Rank k's ZeRO-1 shard of P parameters over W ranks: [*lo, *hi). Shards are
 * consecutive in rank order; the last ones may be shorter or empty. */
void train_shard_range(size_t P, int W, int k, size_t *lo, size_t *hi);

#endif
