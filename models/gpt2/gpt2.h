/* models/gpt2/gpt2.h — GPT-2: the shared decoder (models/nn/decoder.h) with
 * GPT-2's choices, and this family's direct API (used by the tests that
 * compare it with PyTorch; the trainer sees it through models/model.h).
 *
 * The model owns three device allocations planned up front from (config, B, T):
 * the parameters, their gradients (both flat, llm.c order, see gpt2_config.h)
 * and one activation arena carved into named tensors. Nothing is allocated in
 * forward or backward, so a training step never allocates.
 *
 * Loss and reweighting: forward computes the cross-entropy of every token
 * (target < 0 = ignored). The caller reads back each row's loss sum (B floats),
 * turns them into per-sample losses and weights on the host, and calls
 * backward with one scale per row; token t of row i then contributes
 * row_scale[i] * dCE(i,t) to the gradient. row_scale[i] = w_i / n_i gives the
 * gradient of sum_i w_i * l_i with l_i the mean loss over the row's n_i kept
 * tokens; the plain mean loss of B rows is w_i = 1/B.
 */
#ifndef HEFT_GPT2_H
#define HEFT_GPT2_H

#include <stdint.h>

#include "backends/backend.h"
#include "models/gpt2/gpt2_config.h"
#include "models/param_span.h"

struct gpt2;
struct decoder_spec;

/* GPT-2 as a decoder spec: LayerNorm, biases, learned positions, GELU, tied head. */
void gpt2_spec(const struct gpt2_config *cfg, struct decoder_spec *spec);

/* Plans and allocates everything for batches of B rows of T tokens. */
int gpt2_create(struct gpt2 **out, struct backend *be, const struct gpt2_config *cfg, int B,
                int T, struct herr *err);
void gpt2_destroy(struct gpt2 *m);

const struct gpt2_config *gpt2_config_of(const struct gpt2 *m);
size_t gpt2_param_count(const struct gpt2 *m);
dptr gpt2_params(const struct gpt2 *m); /* (P) on the device */
dptr gpt2_grads(const struct gpt2 *m);  /* (P) on the device */

/* The parameter tensors as spans of the flat buffer, with their weight-decay
 * flags, for the optimizer and for messages. Fills GPT2_NUM_TENSORS spans. */
void gpt2_param_spans(const struct gpt2 *m, struct param_span spans[GPT2_NUM_TENSORS]);

/* Bytes of device memory the model needs for (cfg, B, T): parameters,
 * gradients and activations (the optimizer state is the optimizer's). */
size_t gpt2_activation_floats(const struct gpt2_config *cfg, int B, int T);

/* GPT-2's initialization (normal(0, 0.02); residual projections scaled by
 * 1/sqrt(2L); biases 0; layer-norm gains 1; wte padding rows 0) into host
 * memory of gpt2_num_params(cfg) floats, deterministically from seed. */
void gpt2_init_params(const struct gpt2_config *cfg, uint64_t seed, float *host);

/* Forward pass over B rows: inputs, targets (B, T) int32 on the host. Ids must
 * be in [0, V) (targets may be < 0 = ignored); checked here. */
int gpt2_forward(struct gpt2 *m, const int32_t *inputs, const int32_t *targets,
                 struct herr *err);

/* After forward: each row's sum of token losses (B floats) to the host. */
int gpt2_row_loss_sums(struct gpt2 *m, float *sums, struct herr *err);

/* Sets every gradient to zero (start of an optimizer step). */
void gpt2_zero_grads(struct gpt2 *m);

/* Backward pass of the last forward, seeded with one scale per row (B floats);
 * accumulates into the gradients, so micro-batches add up. */
int gpt2_backward(struct gpt2 *m, const float *row_scale, struct herr *err);

/* Host copies, for checkpoints and tests. */
int gpt2_download_params(struct gpt2 *m, float *host, struct herr *err);
int gpt2_upload_params(struct gpt2 *m, const float *host, struct herr *err);
int gpt2_download_grads(struct gpt2 *m, float *host, struct herr *err);
/* logits (B, T, Vp) of the last forward; only valid before backward, which
 * overwrites them with their gradient. */
int gpt2_download_logits(struct gpt2 *m, float *host, struct herr *err);
/* per-token losses (B, T) of the last forward. */
int gpt2_download_token_losses(struct gpt2 *m, float *host, struct herr *err);

#endif
