/* models/gpt2/gpt2_config.h — GPT-2's hyper-parameters and parameter layout.
 *
 * The layout is llm.c's (so its model files load as is): 16 parameter tensors
 * in one flat float32 buffer, in this order, layer-major inside each tensor:
 *
 *   wte      (Vp, C)      token embedding, also the (tied) LM head
 *   wpe      (maxT, C)    position embedding
 *   ln1w     (L, C)       ln1b     (L, C)
 *   qkvw     (L, 3C, C)   qkvb     (L, 3C)
 *   attprojw (L, C, C)    attprojb (L, C)
 *   ln2w     (L, C)       ln2b     (L, C)
 *   fcw      (L, 4C, C)   fcb      (L, 4C)
 *   fcprojw  (L, C, 4C)   fcprojb  (L, C)
 *   lnfw     (C)          lnfb     (C)
 *
 * Linear layers store W as (out, in) and compute y = x W^T + b. Rows V..Vp-1 of
 * wte are padding (kept zero): they make the LM head GEMM a friendly size.
 */
#ifndef HEFT_GPT2_CONFIG_H
#define HEFT_GPT2_CONFIG_H

#include <stddef.h>

#include "core/error.h"
#include "models/param_span.h"

struct gpt2_config {
    int max_seq_len;       /* maxT: rows of wpe */
    int vocab_size;        /* V: real tokens */
    int padded_vocab_size; /* Vp >= V: rows of wte */
    int num_layers;        /* L */
    int num_heads;         /* NH; C % NH == 0 */
    int channels;          /* C */
};

enum gpt2_tensor {
    GPT2_WTE, GPT2_WPE, GPT2_LN1W, GPT2_LN1B, GPT2_QKVW, GPT2_QKVB, GPT2_ATTPROJW,
    GPT2_ATTPROJB, GPT2_LN2W, GPT2_LN2B, GPT2_FCW, GPT2_FCB, GPT2_FCPROJW, GPT2_FCPROJB,
    GPT2_LNFW, GPT2_LNFB, GPT2_NUM_TENSORS
};

/* Element counts of the 16 tensors, and their start offsets in the flat buffer. */
void gpt2_tensor_sizes(const struct gpt2_config *cfg, size_t sizes[GPT2_NUM_TENSORS]);
void gpt2_tensor_offsets(const struct gpt2_config *cfg, size_t offsets[GPT2_NUM_TENSORS]);
/* Total number of parameters (including wte's padding rows). */
size_t gpt2_num_params(const struct gpt2_config *cfg);
/* Name of a tensor as used in llm.c and in heft's messages ("qkvw"). */
const char *gpt2_tensor_name(enum gpt2_tensor t);
/* 1 if AdamW weight decay applies to this tensor (matrices and embeddings),
 * 0 for biases and layer-norm gains, as in GPT-2/nanoGPT practice. */
int gpt2_tensor_decays(enum gpt2_tensor t);

/* The tensors as named spans of the flat buffer, with weight-decay flags. */
void gpt2_config_spans(const struct gpt2_config *cfg, struct param_span spans[GPT2_NUM_TENSORS]);

/* Validates sizes (positive, C divisible by NH, Vp >= V, no overflow of the
 * parameter count); names the offending field on failure. */
int gpt2_config_validate(const struct gpt2_config *cfg, struct herr *err);

/* Named sizes: "tiny" (tests and the built-in quick start), "small", and
 * GPT-2's own "gpt2" (124M), "gpt2-medium" (350M), "gpt2-large" (774M),
 * "gpt2-xl" (1558M). vocab_size is left for the caller (it comes from the
 * data); padded_vocab_size is set from it with gpt2_pad_vocab. */
int gpt2_preset(const char *name, int vocab_size, struct gpt2_config *cfg, struct herr *err);
/* Space-separated preset names, for help and messages. */
const char *gpt2_preset_names(void);

/* Smallest multiple of `multiple` that is >= V (llm.c pads 50257 to 50304). */
int gpt2_pad_vocab(int V, int multiple);

#endif
