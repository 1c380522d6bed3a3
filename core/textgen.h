/* core/textgen.h — generating tokens from a model of any family.
 *
 * Two ways to get the next token's logits, behind one handle:
 *  - the KV cache (models/nn/generate.h): each token costs one position;
 *  - the full forward (the training forward, models/model.h) over a window
 *    of the tokens so far, padded to its length, recomputed for every token,
 *    as llm.c samples: the reference the cache is checked against (the same
 *    tokens at temperature 0) and timed against (bench/bench_sample.c).
 * Prompt tokens whose logits nobody asks for cost the full forward nothing
 * (it runs when logits are wanted). */
#ifndef HEFT_CORE_TEXTGEN_H
#define HEFT_CORE_TEXTGEN_H

#include <stdint.h>

#include "backends/backend.h"
#include "core/sampling.h"
#include "models/model_config.h"

struct textgen;

/* A generator for up to `window` tokens (prompt + new, <= the model's
 * max_seq_len) over a device copy of the host parameters params;
 * kv_cache = 0 takes the full-forward way. */
int textgen_create(struct textgen **tg, struct backend *be, const struct model_config *cfg,
                   const float *params, int window, int kv_cache, struct herr *err);
/* The same with the KV cache over parameters already on the device
 * (borrowed: a training run's), which must outlive it. */
int textgen_create_on(struct textgen **tg, struct backend *be, const struct model_config *cfg,
                      dptr params, int window, struct herr *err);
void textgen_destroy(struct textgen *tg);

int textgen_vocab(const struct textgen *tg);
int textgen_window(const struct textgen *tg);
/* Starts a new sequence. */
void textgen_reset(struct textgen *tg);
/* Appends token; with logits != NULL, writes the V logits of the next token. */
int textgen_push(struct textgen *tg, int32_t token, float *logits, struct herr *err);

/* Called with each new token as it is picked (streaming output); nonzero
 * stops the generation. */
typedef int (*textgen_token_fn)(void *ctx, int32_t token);

/* A fresh sequence: the prompt (np >= 1 ids), then up to max_new tokens
 * picked by the sampler, stopping before `stop` (-1: never) or at the end of
 * the window. The new ids go to out (max_new), their count to *n. */
int textgen_run(struct textgen *tg, const int32_t *prompt, int np, int max_new,
                struct sampler *smp, int32_t stop, int32_t *out, int *n, textgen_token_fn cb,
                void *ctx, struct herr *err);

#endif
