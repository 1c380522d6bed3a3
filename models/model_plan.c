/* models/model_plan.c — see model_plan.h. */
#include "models/model_plan.h"

#include <stdio.h>
#include <string.h>

#include "models/gpt2.h"
#include "models/gpt2_config.h"

/* GPT-2's BPE vocabulary, the presets' own */
#define GPT2_VOCAB 50257

static int gpt2_shape(const char *name, const struct model_overrides *ov, int B, int T,
                      struct model_shape *out, struct herr *err)
{
    struct gpt2_config c;
    if (gpt2_preset(name, ov->vocab ? ov->vocab : GPT2_VOCAB, &c, err))
        return -1;
    if (ov->layers)
        c.num_layers = ov->layers;
    if (ov->heads)
        c.num_heads = ov->heads;
    if (ov->channels)
        c.channels = ov->channels;
    if (ov->max_seq_len)
        c.max_seq_len = ov->max_seq_len;
    if (gpt2_config_validate(&c, err))
        return -1;
    if (T > c.max_seq_len)
        return herr_set(err, "--seq %d is longer than the model's max_seq_len %d", T,
                        c.max_seq_len);
    snprintf(out->family, sizeof out->family, "gpt2");
    snprintf(out->summary, sizeof out->summary, "L=%d C=%d NH=%d V=%d/%d maxT=%d",
             c.num_layers, c.channels, c.num_heads, c.vocab_size, c.padded_vocab_size,
             c.max_seq_len);
    out->num_params = gpt2_num_params(&c);
    out->activation_floats = gpt2_activation_floats(&c, B, T);
    out->flops_per_step = gpt2_flops_per_step(&c, B, T);
    out->matmul_params = (double)c.num_layers * 12.0 * c.channels * c.channels +
                         (double)c.padded_vocab_size * c.channels;
    return 0;
}

struct family {
    const char *name;
    const char *(*presets)(void);
    int (*shape)(const char *name, const struct model_overrides *ov, int B, int T,
                 struct model_shape *out, struct herr *err);
};

static const struct family families[] = {
    { "gpt2", gpt2_preset_names, gpt2_shape },
};

enum { NUM_FAMILIES = sizeof families / sizeof families[0] };

/* 1 if `name` is one of the space-separated words of `list` */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

int model_plan_shape(const char *name, const struct model_overrides *ov, int B, int T,
                     struct model_shape *out, struct herr *err)
{
    memset(out, 0, sizeof *out);
    if (B < 1 || T < 1)
        return herr_set(err, "batch %d x seq %d: both must be at least 1", B, T);
    for (int f = 0; f < NUM_FAMILIES; f++) {
        if (!in_list(families[f].presets(), name))
            continue;
        if (families[f].shape(name, ov, B, T, out, err))
            return herr_wrap(err, "%s: ", name);
        snprintf(out->name, sizeof out->name, "%s", name);
        return 0;
    }
    char known[512];
    model_plan_presets(known, sizeof known);
    return herr_set(err, "unknown model '%s' (known: %s)", name, known);
}

void model_plan_presets(char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int f = 0; f < NUM_FAMILIES && used < cap; f++) {
        int n = snprintf(buf + used, cap - used, "%s%s: %s", f ? "; " : "", families[f].name,
                         families[f].presets());
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
