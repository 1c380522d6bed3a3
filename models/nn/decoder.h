/* models/nn/decoder.h — a decoder-only transformer composed of the shared
 * layers (nn.h), described by a `struct decoder_spec`. GPT-2 and LLaMA are two
 * specs: which norm, whether linears have biases, learned positions or rotary
 * ones, multi-head or grouped-query attention, GELU or SwiGLU, tied or untied
 * LM head. The families own their parameter layouts (the offsets below) and
 * their model files; the walk through the layers is this one.
 *
 * The decoder owns three device allocations planned up front from (spec, B,
 * T): the parameters, their gradients (both flat, the family's layout) and one
 * activation arena carved into named tensors. Nothing is allocated in forward
 * or backward, so a training step never allocates.
 *
 * Loss and reweighting: forward computes the cross-entropy of every token
 * (target < 0 = ignored). The caller reads back each row's loss sum (B floats),
 * turns them into per-sample losses and weights on the host, and calls
 * backward with one scale per row; token t of row i then contributes
 * row_scale[i] * dCE(i,t) to the gradient. row_scale[i] = w_i / n_i gives the
 * gradient of sum_i w_i * l_i with l_i the mean loss over the row's n_i kept
 * tokens; the plain mean loss of B rows is w_i = 1/B. */
#ifndef HEFT_NN_DECODER_H
#define HEFT_NN_DECODER_H

#include <stdint.h>

#include "models/model_config.h"
#include "models/nn/nn.h"
#include "models/param_groups.h"

/* The parameter tensors a decoder may have. Per-layer tensors hold all L
 * layers, layer-major: layer l starts at off + l * (size / L). */
enum dec_tensor {
    DEC_WTE, DEC_WPE, DEC_N1W, DEC_N1B, DEC_QKVW, DEC_QKVB, DEC_PROJW, DEC_PROJB, DEC_N2W,
    DEC_N2B, DEC_FCW, DEC_FCB, DEC_FCPROJW, DEC_FCPROJB, DEC_NFW, DEC_NFB, DEC_HEAD,
    DEC_NUM_TENSORS
};
#define DEC_ABSENT ((size_t)-1)

struct decoder_spec {
    const char *name;      /* "GPT-2", "LLaMA": for messages */
    int L, C, NH, KVH, F;  /* layers, width, query heads, key/value heads, MLP width */
    int V, Vp, maxT;       /* vocabulary, padded rows of the embedding and head */
    struct nn_norm norm;
    enum nn_mlp_act act;
    int rope;              /* rotary positions (else a learned position table) */
    double rope_theta;
    /* where each tensor starts in the flat buffer; DEC_ABSENT if the family
     * has none (biases, positions, the head when it is tied to wte) */
    size_t off[DEC_NUM_TENSORS];
    size_t num_params;
};

/* Floats of the activation arena for B rows of T tokens and a recompute mode
 * (planner and model). */
size_t decoder_activation_floats(const struct decoder_spec *s, int B, int T,
                                 const struct model_memory *mem);
/* Of those, the workspace the recomputation works in (0 for none): one
 * layer's activations and an attention chunk's probabilities and their
 * gradient (layer), or the chunk alone (attn). For the planner. */
size_t decoder_recompute_workspace_floats(const struct decoder_spec *s, int B, int T,
                                          const struct model_memory *mem);
/* One attention pass when the probabilities are recomputed: rows of the batch
 * (in [1, B]) and key/value heads of each row (in [1, KVH], each with its
 * query heads). mem's attn_chunk and attn_heads, or as much as fits 64 MiB:
 * whole rows while one fits, else one row and as many heads as fit. */
struct decoder_attn_chunk {
    int rows, kv_heads;
};
struct decoder_attn_chunk decoder_attention_chunk(const struct decoder_spec *s, int B, int T,
                                                  const struct model_memory *mem);
/* FLOPs of one forward + backward: 6 * matmul parameters * tokens + causal
 * attention's 12 * L * T * C * tokens (counted over the full T x T). */
double decoder_flops_per_step(const struct decoder_spec *s, int B, int T);
double decoder_matmul_params(const struct decoder_spec *s);

/* The parameter groups (models/param_groups.h): one per layer, then the
 * outer group (wte, wpe, final norm, head; those the family has). */
int decoder_num_groups(const struct decoder_spec *s);
/* Group g's slices (returns how many) and its buffer's size in floats. */
int decoder_group_slices(const struct decoder_spec *s, int g,
                         struct param_slice out[PARAM_GROUP_MAX_SLICES], size_t *floats);

struct decoder;

int decoder_create(struct decoder **out, struct backend *be, const struct decoder_spec *s, int B,
                   int T, const struct model_memory *mem, struct herr *err);
void decoder_destroy(struct decoder *d);

/* The flat buffers; NN_NONE (no buffer) for those mem->hook_* left out. */
dptr decoder_params(const struct decoder *d);
dptr decoder_grads(const struct decoder *d);
/* Where a decoder created with hooked parameters or gradients finds them
 * (models/param_groups.h); copied. NULL clears. */
void decoder_set_hooks(struct decoder *d, const struct param_hooks *hooks);

/* inputs, targets (B, T) int32 on the host; ids checked against [0, V). */
int decoder_forward(struct decoder *d, const int32_t *inputs, const int32_t *targets,
                    struct herr *err);
int decoder_row_loss_sums(struct decoder *d, float *sums, struct herr *err);
void decoder_zero_grads(struct decoder *d);
int decoder_backward(struct decoder *d, const float *row_scale, struct herr *err);

/* Host copies: parameters, gradients, the last forward's logits (B, T, Vp;
 * valid until backward) and per-token losses (B, T). */
int decoder_download_params(struct decoder *d, float *host, struct herr *err);
int decoder_upload_params(struct decoder *d, const float *host, struct herr *err);
int decoder_download_grads(struct decoder *d, float *host, struct herr *err);
int decoder_download_logits(struct decoder *d, float *host, struct herr *err);
int decoder_download_token_losses(struct decoder *d, float *host, struct herr *err);

#endif
