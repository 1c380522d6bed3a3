/* models/llama/llama_hf.c — LLaMA as Hugging Face's LlamaForCausalLM sees it:
 * its tensor names and shapes, and its LlamaConfig.
 *
 * heft's layout was made for this (llama_config.h): its q and k rows are in
 * transformers' rotary layout (rotate_half), and linears are (out, in) as in
 * PyTorch, so every Hugging Face tensor is a contiguous block of heft's
 * buffer, no transpose and no permutation:
 *   self_attn.q_proj / k_proj / v_proj   rows [0, C), [C, C+KVD), [C+KVD, QKV) of wqkv
 *   mlp.gate_proj / up_proj              rows [0, F), [F, 2F) of w13
 *   embed_tokens, lm_head                the first V of Vp rows (padding stays zero)
 * lm_head is absent when tied (tie_word_embeddings). */
#include "models/llama/llama_hf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/family.h"
#include "models/gpt2/gpt2_config.h" /* gpt2_pad_vocab: one padding rule */
#include "models/hf.h"
#include "models/llama/llama_config.h"

static const struct llama_config *ccfg_of(const struct model_config *c)
{
    return model_config_cbody(c);
}

/* Not parameters: the rotary inverse frequencies older versions saved, and
 * the head of a tied model (transformers ties it to embed_tokens). */
const char *const llama_hf_ignored[] = { ".rotary_emb.inv_freq", "lm_head.weight", NULL };

static void add(struct hf_tensor *out, int *n, const char *name, int64_t d0, int64_t d1,
                size_t offset)
{
    if (out) {
        struct hf_tensor *t = &out[*n];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", name);
        t->ndim = d1 ? 2 : 1;
        t->shape[0] = d0;
        t->shape[1] = d1;
        t->offset = offset;
    }
    (*n)++;
}

int llama_hf_tensors(const struct model_config *cfg, struct hf_tensor *out)
{
    const struct llama_config *c = ccfg_of(cfg);
    size_t off[LLAMA_NUM_TENSORS];
    llama_tensor_offsets(c, off);
    const int64_t C = c->channels, F = c->ffn, V = c->vocab_size;
    const int64_t KVD = (int64_t)c->num_kv_heads * (C / c->num_heads), QKV = C + 2 * KVD;
    int n = 0;
    char name[HF_NAME_MAX];
    add(out, &n, "model.embed_tokens.weight", V, C, off[LLAMA_WTE]);
    for (int64_t l = 0; l < c->num_layers; l++) {
        const size_t qkv = off[LLAMA_WQKV] + (size_t)(l * QKV * C);
        const size_t w13 = off[LLAMA_W13] + (size_t)(l * 2 * F * C);
        const struct {
            const char *suffix;
            int64_t d0, d1;
            size_t offset;
        } rows[] = {
            { "input_layernorm.weight", C, 0, off[LLAMA_ATTN_NORM] + (size_t)(l * C) },
            { "self_attn.q_proj.weight", C, C, qkv },
            { "self_attn.k_proj.weight", KVD, C, qkv + (size_t)(C * C) },
            { "self_attn.v_proj.weight", KVD, C, qkv + (size_t)((C + KVD) * C) },
            { "self_attn.o_proj.weight", C, C, off[LLAMA_WO] + (size_t)(l * C * C) },
            { "post_attention_layernorm.weight", C, 0, off[LLAMA_FFN_NORM] + (size_t)(l * C) },
            { "mlp.gate_proj.weight", F, C, w13 },
            { "mlp.up_proj.weight", F, C, w13 + (size_t)(F * C) },
            { "mlp.down_proj.weight", C, F, off[LLAMA_W2] + (size_t)(l * C * F) },
        };
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            snprintf(name, sizeof name, "model.layers.%lld.%s", (long long)l, rows[r].suffix);
            add(out, &n, name, rows[r].d0, rows[r].d1, rows[r].offset);
        }
    }
    add(out, &n, "model.norm.weight", C, 0, off[LLAMA_NORM]);
    if (!c->tied)
        add(out, &n, "lm_head.weight", V, C, off[LLAMA_LM_HEAD]);
    return n;
}

void llama_hf_config_write(const struct model_config *cfg, struct hf_config *out)
{
    const struct llama_config *c = ccfg_of(cfg);
    hf_put_int(out, "vocab_size", c->vocab_size);
    hf_put_int(out, "hidden_size", c->channels);
    hf_put_int(out, "intermediate_size", c->ffn);
    hf_put_int(out, "num_hidden_layers", c->num_layers);
    hf_put_int(out, "num_attention_heads", c->num_heads);
    hf_put_int(out, "num_key_value_heads", c->num_kv_heads);
    hf_put_int(out, "head_dim", c->channels / c->num_heads);
    hf_put_int(out, "max_position_embeddings", c->max_seq_len);
    hf_put_float(out, "rms_norm_eps", c->norm_eps);
    hf_put_float(out, "rope_theta", c->rope_theta);
    hf_put_null(out, "rope_scaling");
    hf_put_str(out, "hidden_act", "silu");
    hf_put_bool(out, "attention_bias", 0);
    hf_put_bool(out, "mlp_bias", 0);
    hf_put_bool(out, "tie_word_embeddings", c->tied);
    hf_put_real(out, "attention_dropout", 0.0);
    hf_put_int(out, "pretraining_tp", 1);
    hf_put_real(out, "initializer_range", 0.02);
}

int llama_hf_config_read(const struct hf_config *in, struct model_config *cfg, struct herr *err)
{
    struct llama_config *c = model_config_body(cfg);
    static const char *const silu[] = { "silu", NULL };
    double eps, theta;
    int head_dim;
    if (hf_get_int(in, "vocab_size", 2, 1 << 24, &c->vocab_size, err) ||
        hf_get_int(in, "hidden_size", 2, 65536, &c->channels, err) ||
        hf_get_int(in, "intermediate_size", 1, 1 << 20, &c->ffn, err) ||
        hf_get_int(in, "num_hidden_layers", 1, 1024, &c->num_layers, err) ||
        hf_get_int(in, "num_attention_heads", 1, 65536, &c->num_heads, err) ||
        hf_get_int_or(in, "num_key_value_heads", c->num_heads, 1, 65536, &c->num_kv_heads,
                      err) ||
        /* LlamaConfig's defaults where a key is absent */
        hf_get_int_or(in, "max_position_embeddings", 2048, 1, 1 << 20, &c->max_seq_len, err) ||
        hf_get_real_or(in, "rms_norm_eps", 1e-6, &eps, err) ||
        hf_get_real_or(in, "rope_theta", 10000.0, &theta, err) ||
        hf_get_bool_or(in, "tie_word_embeddings", 0, &c->tied, err) ||
        hf_get_int_or(in, "head_dim", c->channels / c->num_heads, 1, 65536, &head_dim, err) ||
        hf_expect_str(in, "hidden_act", "silu", silu, err) ||
        hf_expect_unset(in, "attention_bias", "heft's LLaMA linears have no biases", err) ||
        hf_expect_unset(in, "mlp_bias", "heft's LLaMA linears have no biases", err) ||
        hf_expect_unset(in, "rope_scaling", "heft's RoPE is the plain one (no scaling)", err))
        return -1;
    if (c->channels % c->num_heads != 0 || head_dim != c->channels / c->num_heads)
        return herr_set(err, "config.json: head_dim %d is not hidden_size / num_attention_heads "
                             "(%d / %d); heft's heads split the width", head_dim, c->channels,
                        c->num_heads);
    c->norm_eps = (float)eps;
    c->rope_theta = (float)theta;
    c->padded_vocab_size = gpt2_pad_vocab(c->vocab_size, c->vocab_size > 4096 ? 128 : 64);
    return 0;
}

int llama_from_fields(struct model_config *cfg, const struct model_field *f, int n,
                      struct herr *err)
{
    struct llama_config *c = model_config_body(cfg);
    struct { const char *name; int *dst; } ints[] = {
        { "max_seq_len", &c->max_seq_len }, { "vocab_size", &c->vocab_size },
        { "padded_vocab_size", &c->padded_vocab_size }, { "num_layers", &c->num_layers },
        { "num_heads", &c->num_heads }, { "num_kv_heads", &c->num_kv_heads },
        { "channels", &c->channels }, { "ffn", &c->ffn }, { "tied", &c->tied },
    };
    double v;
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if (model_field_get(f, n, ints[i].name, &v, err))
            return -1;
        if (v != floor(v) || v < 0 || v > 1e9)
            return herr_set(err, "model field %s = %g is not a size", ints[i].name, v);
        *ints[i].dst = (int)v;
    }
    if (model_field_get(f, n, "norm_eps", &v, err))
        return -1;
    c->norm_eps = (float)v;
    if (model_field_get(f, n, "rope_theta", &v, err))
        return -1;
    c->rope_theta = (float)v;
    return 0;
}
