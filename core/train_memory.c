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

int train_layer_buffers(const struct zero_layout *z)
{
    int L = z->ngroups - 1;
    return L < TRAIN_LAYER_BUFFERS ? L : TRAIN_LAYER_BUFFERS;
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
        out->gathered_params = z->outer_floats + train_layer_buffers(z) * z->layer_floats;
    out->gathered_grads = z->outer_floats + z->layer_floats;
    if (K > 1)
        out->host_acc = stage_floats / (size_t)W;
    if (stage == 3) { /* W rounds of the largest layer's part, at most the stage's round */
        size_t round = stage_floats / (size_t)W, part = 0;
        for (int g = 0; g < z->ngroups - 1; g++) /* the layers, not the outer group */
            if (z->groups[g].pieces > part)
                part = z->groups[g].pieces;
        out->host_prefetch = (size_t)W * (part < round ? part : round);
    }
}

/* Stage 3: the floats of layer gathers in one step (each layer's part of a
 * shard, once per gather), replaying the model's requests against the
 * layer buffers. */
static double layer_gathers(const struct zero_layout *z, int K, int normalize_step)
{
    int L = z->ngroups - 1, held[TRAIN_LAYER_BUFFERS];
    for (int b = 0; b < TRAIN_LAYER_BUFFERS; b++)
        held[b] = -1;
    /* the passes in order: 'f'orward and 'b'ackward */
    int passes = 2 * K + (normalize_step && K > 1 ? K - 1 : 0);
    double floats = 0;
    for (int i = 0; i < passes; i++) {
        int backward;
        if (normalize_step && K > 1) /* K forwards; then B, and (F B) K - 1 times */
            backward = i >= K && (i - K) % 2 == 0;
        else
            backward = i % 2 == 1;
        for (int j = 0; j < L; j++) {
            int l = backward ? L - 1 - j : j, b = train_layer_buffer(l);
            if (held[b] != l) {
                floats += (double)z->groups[l].pieces;
                held[b] = l;
            }
        }
    }
    return floats;
}

double train_exchange_bytes(int stage, int W, int K, int normalize_step, size_t P,
                            const struct zero_layout *z)
{
    const double f = sizeof(float), w1 = W - 1;
    if (stage < 2) {
        if (W == 1)
            return 0.0;
        if (stage == 0)
            return 2.0 * w1 / W * (double)P * f;
        size_t lo, hi;
        train_shard_range(P, W, 0, &lo, &hi);
        return 2.0 * w1 * (double)(hi - lo) * f; /* reduce-scatter + all-gather rounds */
    }
    double S = (double)z->shard_floats;
    if (stage == 2) /* a reduce-scatter per backward, one all-gather of the update */
        return w1 * (K + 1) * S * f;
    double outer = (double)z->groups[z->ngroups - 1].pieces; /* gathered once per step */
    return w1 * (K * S + outer + layer_gathers(z, K, normalize_step)) * f;
}
