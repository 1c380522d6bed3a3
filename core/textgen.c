/* core/textgen.c — see textgen.h. */
#include "core/textgen.h"

#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "models/nn/decoder.h"
#include "models/nn/generate.h"

struct textgen {
    struct backend *be;
    int V, Vp, window;
    /* KV cache */
    struct generator *gen;
    dptr own_params; /* the device copy it made (NN_NONE when borrowed) */
    /* full forward */
    int full;
    struct model model;
    int32_t *tokens, *targets; /* (window) */
    float *all_logits;         /* (window, Vp) */
    int n;
};

static int alloc_full(struct textgen *tg, const struct model_config *cfg, const float *params,
                      struct herr *err)
{
    const size_t W = (size_t)tg->window;
    tg->tokens = calloc(W, sizeof *tg->tokens);
    tg->targets = malloc(W * sizeof *tg->targets);
    tg->all_logits = malloc(W * (size_t)tg->Vp * sizeof *tg->all_logits);
    if (!tg->tokens || !tg->targets || !tg->all_logits)
        return herr_set(err, "out of host memory for a window of %d tokens", tg->window);
    for (size_t i = 0; i < W; i++)
        tg->targets[i] = -1; /* no loss wanted */
    if (model_create(&tg->model, tg->be, cfg, 1, tg->window, err))
        return -1;
    return tg->model.ops->upload_params(tg->model.impl, params, err);
}

static int create(struct textgen **out, struct backend *be, const struct model_config *cfg,
                  const float *params, dptr dev_params, int window, int kv_cache,
                  struct herr *err)
{
    *out = NULL;
    struct model_dims d;
    model_config_dims(cfg, &d);
    if (window < 1 || window > d.max_seq_len)
        return herr_set(err, "%d tokens of context do not fit the model (max_seq_len %d)",
                        window, d.max_seq_len);
    struct textgen *tg = calloc(1, sizeof *tg);
    if (!tg)
        return herr_set(err, "out of host memory");
    tg->be = be;
    tg->V = d.vocab_size;
    tg->Vp = d.padded_vocab_size;
    tg->window = window;
    tg->full = !kv_cache;
    int rc;
    if (tg->full) {
        rc = alloc_full(tg, cfg, params, err);
    } else {
        struct decoder_spec spec;
        decoder_spec_of(cfg, &spec);
        if (params) {
            tg->own_params = backend_alloc_floats(be, spec.num_params);
            if (!backend_check(be, err))
                be->ops->upload(be, tg->own_params, params, spec.num_params * sizeof *params);
            dev_params = tg->own_params;
        }
        rc = backend_check(be, err) ||
             generator_create(&tg->gen, be, &spec, dev_params, window, err);
    }
    if (rc) {
        textgen_destroy(tg);
        return -1;
    }
    *out = tg;
    return 0;
}

int textgen_create(struct textgen **tg, struct backend *be, const struct model_config *cfg,
                   const float *params, int window, int kv_cache, struct herr *err)
{
    return create(tg, be, cfg, params, NN_NONE, window, kv_cache, err);
}

int textgen_create_on(struct textgen **tg, struct backend *be, const struct model_config *cfg,
                      dptr params, int window, struct herr *err)
{
    return create(tg, be, cfg, NULL, params, window, 1, err);
}

void textgen_destroy(struct textgen *tg)
{
    if (!tg)
        return;
    generator_destroy(tg->gen);
    if (tg->own_params.buf)
        backend_release_ptr(tg->be, tg->own_params);
    if (tg->model.ops)
        model_destroy(&tg->model);
    free(tg->tokens);
    free(tg->targets);
    free(tg->all_logits);
    free(tg);
}

int textgen_vocab(const struct textgen *tg) { return tg->V; }
int textgen_window(const struct textgen *tg) { return tg->window; }

void textgen_reset(struct textgen *tg)
{
    tg->n = 0;
    if (tg->gen)
        generator_reset(tg->gen);
}

int textgen_push(struct textgen *tg, int32_t token, float *logits, struct herr *err)
{
    if (!tg->full)
        return generator_step(tg->gen, token, logits, err);
    if (token < 0 || token >= tg->V)
        return herr_set(err, "token id %d is outside the vocabulary [0, %d)", token, tg->V);
    if (tg->n >= tg->window)
        return herr_set(err, "the sequence is full (%d tokens)", tg->window);
    tg->tokens[tg->n++] = token;
    if (!logits)
        return 0;
    /* positions past n hold earlier tokens or 0: causal attention keeps
     * them out of position n-1's logits */
    const struct model_ops *op = tg->model.ops;
    if (op->forward(tg->model.impl, tg->tokens, tg->targets, err) ||
        op->download_logits(tg->model.impl, tg->all_logits, err))
        return -1;
    memcpy(logits, tg->all_logits + (size_t)(tg->n - 1) * tg->Vp, (size_t)tg->V * sizeof *logits);
    return 0;
}

int textgen_run(struct textgen *tg, const int32_t *prompt, int np, int max_new,
                struct sampler *smp, int32_t stop, int32_t *out, int *n, textgen_token_fn cb,
                void *ctx, struct herr *err)
{
    *n = 0;
    if (np < 1)
        return herr_set(err, "generation needs at least one prompt token");
    if (np > tg->window)
        return herr_set(err, "the prompt's %d tokens do not fit the window of %d", np,
                        tg->window);
    float *logits = malloc((size_t)tg->V * sizeof *logits);
    if (!logits)
        return herr_set(err, "out of host memory");
    textgen_reset(tg);
    int rc = 0;
    for (int i = 0; i < np && rc == 0; i++)
        rc = textgen_push(tg, prompt[i], i == np - 1 ? logits : NULL, err);
    for (int k = 0; k < max_new && rc == 0; k++) {
        int32_t next = sampler_pick(smp, logits);
        if (next == stop)
            break;
        out[(*n)++] = next;
        if (cb && cb(ctx, next))
            break;
        /* the last token's successor is never needed, nor one past the window */
        if (k + 1 < max_new && np + *n <= tg->window)
            rc = textgen_push(tg, next, logits, err);
        else
            break;
    }
    free(logits);
    return rc;
}
