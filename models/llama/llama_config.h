/* models/llama/llama_config.h — LLaMA-2/3's hyper-parameters and heft's
 * parameter layout for them.
 *
 * One flat float32 buffer, tensor-major and layer-major inside a tensor (as
 * GPT-2's), with hs = C / NH, KVD = KVH * hs, QKV = C + 2 KVD:
 *
 *   wte       (Vp, C)      token embedding (no position table: RoPE)
 *   attn_norm (L, C)       RMSNorm gain before attention
 *   wqkv      (L, QKV, C)  rows [0, C) q_proj, [C, C+KVD) k_proj, [C+KVD, QKV) v_proj
 *   wo        (L, C, C)    o_proj
 *   ffn_norm  (L, C)       RMSNorm gain before the MLP
 *   w13       (L, 2F, C)   rows [0, F) gate_proj (w1), [F, 2F) up_proj (w3)
 *   w2        (L, C, F)    down_proj
 *   norm      (C)          final RMSNorm gain
 *   lm_head   (Vp, C)      absent when tied to wte
 *
 * Linear layers store W as (out, in) and have no biases. The q/k rows are in
 * Hugging Face's rotary layout (RoPE rotates pairs i and i + hs/2), so HF's
 * LlamaForCausalLM weights map to these by concatenation alone. Rows V..Vp-1
 * of wte and lm_head are padding (kept zero).
 */
#ifndef HEFT_LLAMA_CONFIG_H
#define HEFT_LLAMA_CONFIG_H

#include <stddef.h>

#include "core/error.h"
#include "models/param_span.h"

struct llama_config {
    int max_seq_len;       /* maxT: the longest window (RoPE has no table limit) */
    int vocab_size;        /* V */
    int padded_vocab_size; /* Vp >= V */
    int num_layers;        /* L */
    int num_heads;         /* NH; C % NH == 0, hs even */
    int num_kv_heads;      /* KVH; NH % KVH == 0 (KVH == NH: multi-head) */
    int channels;          /* C */
    int ffn;               /* F: SwiGLU width */
    int tied;              /* 1: the LM head is wte */
    float norm_eps;        /* RMSNorm eps (1e-5) */
    float rope_theta;      /* 10000 (LLaMA-2) or 500000 (LLaMA-3) */
};

enum llama_tensor {
    LLAMA_WTE, LLAMA_ATTN_NORM, LLAMA_WQKV, LLAMA_WO, LLAMA_FFN_NORM, LLAMA_W13, LLAMA_W2,
    LLAMA_NORM, LLAMA_LM_HEAD, LLAMA_NUM_TENSORS
};

/* Element counts (lm_head 0 when tied) and start offsets in the flat buffer. */
void llama_tensor_sizes(const struct llama_config *cfg, size_t sizes[LLAMA_NUM_TENSORS]);
void llama_tensor_offsets(const struct llama_config *cfg, size_t off[LLAMA_NUM_TENSORS]);
size_t llama_num_params(const struct llama_config *cfg);
const char *llama_tensor_name(enum llama_tensor t);
/* Weight decay for matrices and embeddings, not for RMSNorm gains. */
int llama_tensor_decays(enum llama_tensor t);
/* The tensors present as spans (lm_head left out when tied); returns the count. */
int llama_config_spans(const struct llama_config *cfg, struct param_span spans[LLAMA_NUM_TENSORS]);

/* Meta's reference rule: 2/3 of 4C, rounded up to a multiple of 256. */
int llama_ffn_width(int channels);

int llama_config_validate(const struct llama_config *cfg, struct herr *err);

/* "llama-tiny" (tests, quick runs), "llama-120m" (benchmarks: GPT-2 124M's
 * width and depth), "llama-1.4b" and "llama-7b" (the paper's fms-fsdp shapes).
 * vocab_size comes from the caller; padded as GPT-2's. */
int llama_preset(const char *name, int vocab_size, struct llama_config *cfg, struct herr *err);
const char *llama_preset_names(void);

#endif
