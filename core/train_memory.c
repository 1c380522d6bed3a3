/* core/train_memory.c — see train_memory.h. */
#include "core/train_memory.h"

#include <stdint.h>
#include <string.h>

#include "core/zero_layout.h"

/* core/checkpoint.c moves section data in chunks of 8 MiB through one buffer */
#define CKPT_CHUNK_BYTES ((size_t)8 << 20)

void train_host_sizes(int W, int K, int B, int T, size_t P, struct train_host_sizes *out)
{
    size_t rows = (size_t)K * B, all = (size_t)W * rows;
    out->staging_bytes = 2 * rows * T * sizeof(int32_t) /* inputs, targets */
                         + rows * sizeof(int32_t)       /* domains */
                         + 2 * (size_t)B * sizeof(float) /* row sums, row scales */
                         + rows * (sizeof(double) + sizeof(int32_t)) /* local loss, n_i */
                         + 3 * rows * sizeof(double)    /* gather send */
                         + 3 * all * sizeof(double)     /* gather receive */
                         + all * (2 * sizeof(double) + 2 * sizeof(int32_t)) /* _all, weights */
                         + 3 * (size_t)W * sizeof(size_t)   /* shard table, counts */
                         + (size_t)B * T * sizeof(int32_t); /* the model's copy of targets */
    out->stage_floats = P < TRAIN_STAGE_MAX_FLOATS ? P : TRAIN_STAGE_MAX_FLOATS;
    if (out->stage_floats < (size_t)W) /* ZeRO-1 rounds need a float per rank */
        out->stage_floats = (size_t)W;
    out->init_bytes = P * sizeof(float);
    out->ckpt_bytes = CKPT_CHUNK_BYTES;
}

void train_shard_range(size_t P, int W, int k, size_t *lo, size_t *hi)
{
    size_t S = (P + (size_t)W - 1) / (size_t)W;
    S = (S + TRAIN_SHARD_ALIGN - 1) / TRAIN_SHARD_ALIGN * TRAIN_SHARD_ALIGN;
    size_t a = (size_t)k * S;
    *lo = a < P ? a : P;
    *hi = P - *lo < S ? P : *lo + S;
}

void train_device_sizes(int stage, int W, int K, size_t P, const struct zero_layout *z,
                        size_t stage_floats, struct train_device_sizes *out)
{
    memset(out, 0, sizeof *out);
    if (stage < 2) {
        size_t lo = 0, hi = P;
        if (stage == 1 && W > 1)
            train_shard_range(P, W, 0, &lo, &hi); /* rank 0's is the largest */
        out->params = out->grads = P;
        out->optimizer = 2 * (hi - lo);
        return;
    }
    out->params = stage == 3 ? z->shard_floats : P;
    out->grads = z->shard_floats;
    out->optimizer = 2 * z->shard_floats;
    if (stage == 3)
        out->gathered_params = z->outer_floats + TRAIN_LAYER_BUFFERS * z->layer_floats;
    out->gathered_grads = z->outer_floats + z->layer_floats;
    if (K > 1)
        out->host_acc = stage_floats / (size_t)W;
}
