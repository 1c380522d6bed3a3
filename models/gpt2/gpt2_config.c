/* models/gpt2/gpt2_config.c — see gpt2_config.h. */
#include "models/gpt2/gpt2_config.h"

#include <stdint.h>
#include <string.h>

static const char *const tensor_names[GPT2_NUM_TENSORS] = {
    "wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb",
    "ln2w", "ln2b", "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb",
};

const char *gpt2_tensor_name(enum gpt2_tensor t)
{
    return (t >= 0 && t < GPT2_NUM_TENSORS) ? tensor_names[t] : "?";
}

int gpt2_tensor_decays(enum gpt2_tensor t)
{
    switch (t) {
    case GPT2_WTE: case GPT2_WPE: case GPT2_QKVW: case GPT2_ATTPROJW: case GPT2_FCW:
    case GPT2_FCPROJW:
        return 1;
    default:
        return 0;
    }
}

void gpt2_tensor_sizes(const struct gpt2_config *cfg, size_t s[GPT2_NUM_TENSORS])
{
    size_t Vp = (size_t)cfg->padded_vocab_size, C = (size_t)cfg->channels;
    size_t L = (size_t)cfg->num_layers, maxT = (size_t)cfg->max_seq_len;
    s[GPT2_WTE] = Vp * C;
    s[GPT2_WPE] = maxT * C;
    s[GPT2_LN1W] = L * C;
    s[GPT2_LN1B] = L * C;
    s[GPT2_QKVW] = L * 3 * C * C;
    s[GPT2_QKVB] = L * 3 * C;
    s[GPT2_ATTPROJW] = L * C * C;
    s[GPT2_ATTPROJB] = L * C;
    s[GPT2_LN2W] = L * C;
    s[GPT2_LN2B] = L * C;
    s[GPT2_FCW] = L * 4 * C * C;
    s[GPT2_FCB] = L * 4 * C;
    s[GPT2_FCPROJW] = L * C * 4 * C;
    s[GPT2_FCPROJB] = L * C;
    s[GPT2_LNFW] = C;
    s[GPT2_LNFB] = C;
}

void gpt2_tensor_offsets(const struct gpt2_config *cfg, size_t off[GPT2_NUM_TENSORS])
{
    size_t s[GPT2_NUM_TENSORS], acc = 0;
    gpt2_tensor_sizes(cfg, s);
    for (int i = 0; i < GPT2_NUM_TENSORS; i++) {
        off[i] = acc;
        acc += s[i];
    }
}

size_t gpt2_num_params(const struct gpt2_config *cfg)
{
    size_t s[GPT2_NUM_TENSORS], n = 0;
    gpt2_tensor_sizes(cfg, s);
    for (int i = 0; i < GPT2_NUM_TENSORS; i++)
        n += s[i];
    return n;
}

int gpt2_pad_vocab(int V, int multiple)
{
    return ((V + multiple - 1) / multiple) * multiple;
}

int gpt2_config_validate(const struct gpt2_config *c, struct herr *err)
{
    /* Limits keep every product below 2^62 and every int index in range. */
    if (c->num_layers < 1 || c->num_layers > 1024)
        return herr_set(err, "model: num_layers %d out of range [1, 1024]", c->num_layers);
    if (c->channels < 1 || c->channels > 65536)
        return herr_set(err, "model: channels %d out of range [1, 65536]", c->channels);
    if (c->num_heads < 1 || c->num_heads > c->channels)
        return herr_set(err, "model: num_heads %d out of range [1, channels=%d]",
                        c->num_heads, c->channels);
    if (c->channels % c->num_heads != 0)
        return herr_set(err, "model: channels %d not divisible by num_heads %d",
                        c->channels, c->num_heads);
    if (c->vocab_size < 2 || c->vocab_size > 1 << 24)
        return herr_set(err, "model: vocab_size %d out of range [2, 16777216]", c->vocab_size);
    if (c->padded_vocab_size < c->vocab_size || c->padded_vocab_size > 1 << 24)
        return herr_set(err, "model: padded_vocab_size %d must be >= vocab_size %d and <= 16777216",
                        c->padded_vocab_size, c->vocab_size);
    if (c->max_seq_len < 1 || c->max_seq_len > 1 << 20)
        return herr_set(err, "model: max_seq_len %d out of range [1, 1048576]", c->max_seq_len);
    size_t n = gpt2_num_params(c);
    if (n > ((size_t)1 << 36))
        return herr_set(err, "model: %zu parameters is more than heft supports (2^36)", n);
    return 0;
}

struct preset {
    const char *name;
    int layers, heads, channels, max_seq_len;
};

static const struct preset presets[] = {
    { "tiny", 4, 4, 128, 256 },
    { "small", 6, 6, 384, 512 },
    { "gpt2", 12, 12, 768, 1024 },
    { "gpt2-medium", 24, 16, 1024, 1024 },
    { "gpt2-large", 36, 20, 1280, 1024 },
    { "gpt2-xl", 48, 25, 1600, 1024 },
};

const char *gpt2_preset_names(void)
{
    return "tiny small gpt2 gpt2-medium gpt2-large gpt2-xl";
}

int gpt2_preset(const char *name, int vocab_size, struct gpt2_config *cfg, struct herr *err)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) {
        if (strcmp(presets[i].name, name) != 0)
            continue;
        cfg->num_layers = presets[i].layers;
        cfg->num_heads = presets[i].heads;
        cfg->channels = presets[i].channels;
        cfg->max_seq_len = presets[i].max_seq_len;
        cfg->vocab_size = vocab_size;
        /* 128 for GPT-2's BPE vocabulary (50257 -> 50304, as llm.c), 64 for
         * small vocabularies such as bytes (257 -> 320) */
        cfg->padded_vocab_size = gpt2_pad_vocab(vocab_size, vocab_size > 4096 ? 128 : 64);
        return 0;
    }
    return herr_set(err, "unknown model '%s' (presets: %s)", name, gpt2_preset_names());
}

void gpt2_config_spans(const struct gpt2_config *cfg, struct param_span spans[GPT2_NUM_TENSORS])
{
    size_t sizes[GPT2_NUM_TENSORS], off[GPT2_NUM_TENSORS];
    gpt2_tensor_sizes(cfg, sizes);
    gpt2_tensor_offsets(cfg, off);
    for (int t = 0; t < GPT2_NUM_TENSORS; t++) {
        spans[t].name = gpt2_tensor_name((enum gpt2_tensor)t);
        spans[t].offset = off[t];
        spans[t].count = sizes[t];
        spans[t].decays = gpt2_tensor_decays((enum gpt2_tensor)t);
    }
}
