/* models/model.h — what the trainer sees of a model.
 *
 * The trainer (core/) drives any model family through this handle: forward
 * with per-token losses, each row's loss sum, backward seeded with one scale
 * per row, and the flat parameter/gradient buffers as named spans. It never
 * looks inside a family: the config is opaque (models/model_config.h) and the
 * family is found through the registry (models/family.h). */
#ifndef HEFT_MODEL_H
#define HEFT_MODEL_H

#include <stdint.h>

#include "backends/backend.h"
#include "models/model_config.h"
#include "models/param_span.h"

#define MODEL_MAX_SPANS 32

struct model_ops {
    int (*forward)(void *impl, const int32_t *inputs, const int32_t *targets, struct herr *err);
    int (*row_loss_sums)(void *impl, float *sums, struct herr *err);
    void (*zero_grads)(void *impl);
    int (*backward)(void *impl, const float *row_scale, struct herr *err);
    int (*download_params)(void *impl, float *host, struct herr *err);
    int (*upload_params)(void *impl, const float *host, struct herr *err);
    int (*download_grads)(void *impl, float *host, struct herr *err);
    /* the last forward's logits (B, T, Vp), valid until backward */
    int (*download_logits)(void *impl, float *host, struct herr *err);
    /* the last forward's per-token losses (B, T) */
    int (*download_token_losses)(void *impl, float *host, struct herr *err);
    void (*destroy)(void *impl);
};

struct model {
    const struct model_ops *ops;
    void *impl;
    const char *family;         /* "gpt2", "llama" */
    struct model_config config; /* the family's hyper-parameters */
    int B, T;                   /* rows and tokens per forward */
    size_t num_params;
    dptr params, grads;         /* (num_params) on the device */
    int nspans;
    struct param_span spans[MODEL_MAX_SPANS];
    double flops_per_step;      /* forward + backward over B*T tokens */
};

/* The model of cfg's family for batches of B rows of T tokens on backend be,
 * keeping every activation for the backward. */
int model_create(struct model *m, struct backend *be, const struct model_config *cfg, int B,
                 int T, struct herr *err);
/* The same, with what the backward recomputes instead (model_config.h);
 * mem NULL = keep everything. */
int model_create_mem(struct model *m, struct backend *be, const struct model_config *cfg, int B,
                     int T, const struct model_memory *mem, struct herr *err);
void model_destroy(struct model *m);

/* Deterministic initial parameters of the model's family into host memory. */
void model_init_params(const struct model *m, uint64_t seed, float *host);

struct decoder;
struct decoder_spec;
/* The decoder spec of cfg's family (its layers and where each tensor sits
 * in the flat buffer), for code that walks the layers itself: the KV-cache
 * generator (models/nn/generate.h), benchmarks. */
void decoder_spec_of(const struct model_config *cfg, struct decoder_spec *out);

/* For families built on models/nn/decoder.h: fills m around a created
 * decoder (which m then owns). */
void model_wrap_decoder(struct model *m, struct decoder *d, const struct model_config *cfg, int B,
                        int T, const struct param_span *spans, int nspans);

#endif
