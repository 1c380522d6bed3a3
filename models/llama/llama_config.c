/* models/llama/llama_config.c — see llama_config.h. */
#include "models/llama/llama_config.h"

#include <math.h>
#include <string.h>

#include "models/gpt2/gpt2_config.h" /* gpt2_pad_vocab: one padding rule */

static const char *const tensor_names[LLAMA_NUM_TENSORS] = {
    "wte", "attn_norm", "wqkv", "wo", "ffn_norm", "w13", "w2", "norm", "lm_head",
};

const char *llama_tensor_name(enum llama_tensor t)
{
    return (t >= 0 && t < LLAMA_NUM_TENSORS) ? tensor_names[t] : "?";
}

int llama_tensor_decays(enum llama_tensor t)
{
    return !(t == LLAMA_ATTN_NORM || t == LLAMA_FFN_NORM || t == LLAMA_NORM);
}

void llama_tensor_sizes(const struct llama_config *c, size_t s[LLAMA_NUM_TENSORS])
{
    size_t Vp = (size_t)c->padded_vocab_size, C = (size_t)c->channels;
    size_t L = (size_t)c->num_layers, F = (size_t)c->ffn;
    size_t hs = c->num_heads > 0 ? C / (size_t)c->num_heads : 0;
    size_t QKV = C + 2 * (size_t)c->num_kv_heads * hs;
    s[LLAMA_WTE] = Vp * C;
    s[LLAMA_ATTN_NORM] = L * C;
    s[LLAMA_WQKV] = L * QKV * C;
    s[LLAMA_WO] = L * C * C;
    s[LLAMA_FFN_NORM] = L * C;
    s[LLAMA_W13] = L * 2 * F * C;
    s[LLAMA_W2] = L * C * F;
    s[LLAMA_NORM] = C;
    s[LLAMA_LM_HEAD] = c->tied ? 0 : Vp * C;
}

void llama_tensor_offsets(const struct llama_config *c, size_t off[LLAMA_NUM_TENSORS])
{
    size_t s[LLAMA_NUM_TENSORS], acc = 0;
    llama_tensor_sizes(c, s);
    for (int i = 0; i < LLAMA_NUM_TENSORS; i++) {
        off[i] = acc;
        acc += s[i];
    }
}

size_t llama_num_params(const struct llama_config *c)
{
    size_t s[LLAMA_NUM_TENSORS], n = 0;
    llama_tensor_sizes(c, s);
    for (int i = 0; i < LLAMA_NUM_TENSORS; i++)
        n += s[i];
    return n;
}

int llama_config_spans(const struct llama_config *c, struct param_span spans[LLAMA_NUM_TENSORS])
{
    size_t s[LLAMA_NUM_TENSORS], off[LLAMA_NUM_TENSORS];
    llama_tensor_sizes(c, s);
    llama_tensor_offsets(c, off);
    int n = 0;
    for (int t = 0; t < LLAMA_NUM_TENSORS; t++) {
        if (!s[t])
            continue;
        spans[n].name = llama_tensor_name((enum llama_tensor)t);
        spans[n].offset = off[t];
        spans[n].count = s[t];
        spans[n].decays = llama_tensor_decays((enum llama_tensor)t);
        n++;
    }
    return n;
}

int llama_ffn_width(int C)
{
    long hidden = 2L * (4L * C) / 3; /* int(2 * 4C / 3), as the reference code truncates */
    return (int)(((hidden + 255) / 256) * 256);
}

int llama_config_validate(const struct llama_config *c, struct herr *err)
{
    if (c->num_layers < 1 || c->num_layers > 1024)
        return herr_set(err, "model: num_layers %d out of range [1, 1024]", c->num_layers);
    if (c->channels < 2 || c->channels > 65536)
        return herr_set(err, "model: channels %d out of range [2, 65536]", c->channels);
    if (c->num_heads < 1 || c->num_heads > c->channels)
        return herr_set(err, "model: num_heads %d out of range [1, channels=%d]", c->num_heads,
                        c->channels);
    if (c->channels % c->num_heads != 0)
        return herr_set(err, "model: channels %d not divisible by num_heads %d", c->channels,
                        c->num_heads);
    if ((c->channels / c->num_heads) % 2 != 0)
        return herr_set(err, "model: head size %d (channels / num_heads) must be even for "
                             "rotary embeddings", c->channels / c->num_heads);
    if (c->num_kv_heads < 1 || c->num_kv_heads > c->num_heads ||
        c->num_heads % c->num_kv_heads != 0)
        return herr_set(err, "model: num_kv_heads %d must divide num_heads %d", c->num_kv_heads,
                        c->num_heads);
    if (c->ffn < 1 || c->ffn > 1 << 20)
        return herr_set(err, "model: ffn %d out of range [1, 1048576]", c->ffn);
    if (c->vocab_size < 2 || c->vocab_size > 1 << 24)
        return herr_set(err, "model: vocab_size %d out of range [2, 16777216]", c->vocab_size);
    if (c->padded_vocab_size < c->vocab_size || c->padded_vocab_size > 1 << 24)
        return herr_set(err, "model: padded_vocab_size %d must be >= vocab_size %d and <= 16777216",
                        c->padded_vocab_size, c->vocab_size);
    if (c->max_seq_len < 1 || c->max_seq_len > 1 << 20)
        return herr_set(err, "model: max_seq_len %d out of range [1, 1048576]", c->max_seq_len);
    if (c->tied != 0 && c->tied != 1)
        return herr_set(err, "model: tied %d must be 0 or 1", c->tied);
    if (!(c->norm_eps > 0 && c->norm_eps < 1))
        return herr_set(err, "model: norm_eps %g out of range (0, 1)", (double)c->norm_eps);
    if (!(c->rope_theta >= 1 && c->rope_theta <= 1e12))
        return herr_set(err, "model: rope_theta %g out of range [1, 1e12]", (double)c->rope_theta);
    size_t n = llama_num_params(c);
    if (n > ((size_t)1 << 36))
        return herr_set(err, "model: %zu parameters is more than heft supports (2^36)", n);
    return 0;
}

struct preset {
    const char *name;
    int layers, heads, kv_heads, channels, ffn, max_seq_len;
};

static const struct preset presets[] = {
    { "llama-tiny", 2, 4, 2, 48, 128, 256 },
    { "llama-120m", 12, 12, 12, 768, 2048, 1024 },
    { "llama-1.4b", 24, 16, 16, 2048, 5632, 4096 },
    { "llama-7b", 32, 32, 32, 4096, 11008, 4096 },
};

const char *llama_preset_names(void) { return "llama-tiny llama-120m llama-1.4b llama-7b"; }

int llama_preset(const char *name, int vocab_size, struct llama_config *cfg, struct herr *err)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        const struct preset *p = &presets[i];
        if (strcmp(p->name, name) != 0)
            continue;
        memset(cfg, 0, sizeof *cfg);
        cfg->num_layers = p->layers;
        cfg->num_heads = p->heads;
        cfg->num_kv_heads = p->kv_heads;
        cfg->channels = p->channels;
        cfg->ffn = p->ffn;
        cfg->max_seq_len = p->max_seq_len;
        cfg->vocab_size = vocab_size;
        cfg->padded_vocab_size = gpt2_pad_vocab(vocab_size, vocab_size > 4096 ? 128 : 64);
        cfg->tied = 0;
        cfg->norm_eps = 1e-5f;
        cfg->rope_theta = 10000.0f;
        return 0;
    }
    return herr_set(err, "unknown model '%s' (presets: %s)", name, llama_preset_names());
}
