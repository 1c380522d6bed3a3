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

/* ZeRO shards and pieces start on multiples of this many floats (64 bytes). */
#define TRAIN_SHARD_ALIGN 16

/* ZeRO-3 gathers a layer's weights into one of this many buffers, used in
 * turn (layer l in buffer l % 2): the backward then finds the forward's last
 * two layers still gathered, and a prefetch of the next layer has a buffer to
 * land in (core/train_zero.c). */
#define TRAIN_LAYER_BUFFERS 2

/* The buffer layer l is gathered into. */
static inline int train_layer_buffer(int l) { return l % TRAIN_LAYER_BUFFERS; }

struct train_host_sizes {
    size_t staging_bytes; /* per-step buffers: tokens, per-sample losses, gathers */
    size_t stage_floats;  /* the stage */
    size_t init_bytes;    /* the host copy of the parameters at start-up and export */
    size_t ckpt_bytes;    /* the checkpoint writer's or reader's chunk buffer */
};

/* Host memory of a run with W ranks, K micro-batches of B rows of T tokens
 * per step, and P parameters. */
void train_host_sizes(int W, int K, int B, int T, size_t P, struct train_host_sizes *out);

struct zero_layout;

/* Layer buffers ZeRO-3 uses: TRAIN_LAYER_BUFFERS, or one per layer when the
 * model has fewer layers. */
int train_layer_buffers(const struct zero_layout *z);

/* Device floats per rank of the parameters, gradients and optimizer under a
 * ZeRO stage (core/train_zero.h), as core/train_setup.c and core/train_zero.c
 * allocate them. */
struct train_device_sizes {
    size_t params;          /* the flat parameters (stages 0-2) or the shard (3) */
    size_t grads;           /* the flat gradients (0, 1) or the shard (2, 3) */
    size_t optimizer;       /* Adam's m + v: all P, ZeRO-1's range, or the shard */
    size_t gathered_params; /* stage 3: the outer group + train_layer_buffers layers */
    size_t gathered_grads;  /* stages 2, 3: the outer group's + one layer's gradients */
    size_t host_acc;        /* stages 2, 3 with K > 1: host floats that add a reduced
                               round into the gradient shard */
    size_t host_prefetch;   /* stage 3: host floats of the prefetch's own stage, allocated
                               when the prefetch is on (core/train_prefetch.c) */
};

/* For a run at `stage` on W ranks with K micro-batches and P parameters; z
 * is the model's layout over W (zero_layout_build) for stages 2 and 3, unused
 * otherwise; stage_floats as train_host_sizes gives. ZeRO-1 on one rank is
 * plain (nothing to shard); stages 2 and 3 run their hooks on one rank too. */
void train_device_sizes(int stage, int W, int K, size_t P, const struct zero_layout *z,
                        size_t stage_floats, struct train_device_sizes *out);

/* Bytes one rank moves in one optimizer step's exchange, as the trainer
 * counts them (metrics: exchange_mib): what it sends, and as much again it
 * receives. An all-reduce of n floats is counted 2 (W-1)/W n (a ring's
 * reduce-scatter plus all-gather), an all-gather or reduce-scatter of W
 * blocks of n floats (W-1) n. Stage 3 gathers layers as the model asks
 * (forward 0..L-1, backward L-1..0; K micro-batches, normalized per
 * micro-batch or, step = 1, over the step: all forwards first, then each
 * backward after a re-forward), skipping a layer its buffer still holds, as
 * core/train_zero.c does. z as for train_device_sizes; ZeRO-1's shard is
 * train_shard_range's. */
double train_exchange_bytes(int stage, int W, int K, int normalize_step, size_t P,
                            const struct zero_layout *z);

/* Rank k's ZeRO-1 shard of P parameters over W ranks: [*lo, *hi). Shards are
 * consecutive in rank order; the last ones may be shorter or empty. */
void train_shard_range(size_t P, int W, int k, size_t *lo, size_t *hi);

#endif
