/* models/gpt2/gpt2_family.c — GPT-2 behind the family interface
 * (models/family.h): presets, overrides, fields, llm.c's model-file header. */
#include <stdio.h>
#include <string.h>

#include "models/family.h"
#include "models/gpt2/gpt2.h"
#include "models/gpt2/gpt2_hf.h"
#include "models/model.h"
#include "models/nn/decoder.h"

/* llm.c's model file: magic, then version 3 = fp32 parameters (5 = bf16) */
#define GPT2_FILE_MAGIC 20240326
#define GPT2_FILE_VERSION_FP32 3
#define GPT2_FILE_VERSION_BF16 5

_Static_assert(sizeof(struct gpt2_config) <= MODEL_CONFIG_BYTES, "gpt2_config fits");
_Static_assert(GPT2_NUM_TENSORS <= MODEL_MAX_SPANS, "gpt2 spans fit");

static struct gpt2_config *cfg_of(struct model_config *c) { return model_config_body(c); }
static const struct gpt2_config *ccfg_of(const struct model_config *c)
{
    return model_config_cbody(c);
}

static int preset(const char *name, int vocab, struct model_config *cfg, struct herr *err)
{
    return gpt2_preset(name, vocab, cfg_of(cfg), err);
}

static int override(struct model_config *cfg, const struct model_overrides *ov, struct herr *err)
{
    struct gpt2_config *c = cfg_of(cfg);
    if (ov->kv_heads)
        return herr_set(err, "--kv-heads: GPT-2 has no grouped-query attention (LLaMA models do)");
    if (ov->ffn)
        return herr_set(err, "--ffn: GPT-2's MLP is 4 x channels wide; --ffn is for LLaMA models");
    if (ov->rope_theta != 0)
        return herr_set(err, "--rope-theta: GPT-2 has learned positions, not rotary ones");
    if (ov->norm_eps != 0)
        return herr_set(err, "--norm-eps: GPT-2's LayerNorm eps is fixed at 1e-5");
    /* tie_embeddings: GPT-2's head is always tied */
    if (ov->layers)
        c->num_layers = ov->layers;
    if (ov->heads)
        c->num_heads = ov->heads;
    if (ov->channels)
        c->channels = ov->channels;
    if (ov->max_seq_len)
        c->max_seq_len = ov->max_seq_len;
    return 0;
}

static int validate(const struct model_config *cfg, struct herr *err)
{
    return gpt2_config_validate(ccfg_of(cfg), err);
}

static void dims(const struct model_config *cfg, struct model_dims *d)
{
    const struct gpt2_config *c = ccfg_of(cfg);
    *d = (struct model_dims){ c->vocab_size, c->padded_vocab_size, c->max_seq_len,
                              c->num_layers, c->num_heads, c->channels, 4 * c->channels };
}

static void describe(const struct model_config *cfg, char *buf, size_t cap)
{
    const struct gpt2_config *c = ccfg_of(cfg);
    snprintf(buf, cap, "L=%d C=%d NH=%d V=%d/%d maxT=%d", c->num_layers, c->channels,
             c->num_heads, c->vocab_size, c->padded_vocab_size, c->max_seq_len);
}

/* The names checkpoints have always used for GPT-2. */
static int fields(const struct model_config *cfg, struct model_field f[MODEL_MAX_FIELDS])
{
    const struct gpt2_config *c = ccfg_of(cfg);
    int n = 0;
    f[n++] = (struct model_field){ "max_seq_len", c->max_seq_len, 1 };
    f[n++] = (struct model_field){ "vocab_size", c->vocab_size, 1 };
    f[n++] = (struct model_field){ "padded_vocab_size", c->padded_vocab_size, 1 };
    f[n++] = (struct model_field){ "num_layers", c->num_layers, 1 };
    f[n++] = (struct model_field){ "num_heads", c->num_heads, 1 };
    f[n++] = (struct model_field){ "channels", c->channels, 1 };
    return n;
}

static void init_params(const struct model_config *cfg, uint64_t seed, float *host)
{
    gpt2_init_params(ccfg_of(cfg), seed, host);
}

static int header_read(const int32_t h[MODEL_FILE_HEADER_INTS], struct model_config *cfg,
                       struct herr *err)
{
    if (h[1] == GPT2_FILE_VERSION_BF16)
        return herr_set(err, "version 5 (bf16 parameters, as llm.c's CUDA trainer writes) is not "
                             "supported yet; heft reads version 3 (fp32)");
    if (h[1] != GPT2_FILE_VERSION_FP32)
        return herr_set(err, "unsupported version %d (heft reads version %d, fp32)", (int)h[1],
                        GPT2_FILE_VERSION_FP32);
    struct gpt2_config *c = cfg_of(cfg);
    c->max_seq_len = h[2];
    c->vocab_size = h[3];
    c->num_layers = h[4];
    c->num_heads = h[5];
    c->channels = h[6];
    c->padded_vocab_size = h[7];
    return 0;
}

static void header_write(const struct model_config *cfg, int32_t h[MODEL_FILE_HEADER_INTS])
{
    const struct gpt2_config *c = ccfg_of(cfg);
    h[1] = GPT2_FILE_VERSION_FP32;
    h[2] = c->max_seq_len;
    h[3] = c->vocab_size;
    h[4] = c->num_layers;
    h[5] = c->num_heads;
    h[6] = c->channels;
    h[7] = c->padded_vocab_size;
}

static void spec(const struct model_config *cfg, struct decoder_spec *out)
{
    gpt2_spec(ccfg_of(cfg), out);
}

static int spans(const struct model_config *cfg, struct param_span *out)
{
    gpt2_config_spans(ccfg_of(cfg), out);
    return GPT2_NUM_TENSORS;
}

const struct model_family gpt2_family = {
    .name = "gpt2",
    .file_name = "llm.c GPT-2",
    .file_magic = GPT2_FILE_MAGIC,
    .preset_names = gpt2_preset_names,
    .default_vocab = 50257,
    .preset = preset,
    .override = override,
    .validate = validate,
    .dims = dims,
    .describe = describe,
    .fields = fields,
    .init_params = init_params,
    .header_read = header_read,
    .header_write = header_write,
    .spec = spec,
    .spans = spans,
    .from_fields = gpt2_from_fields,
    .hf_model_type = "gpt2",
    .hf_architecture = "GPT2LMHeadModel",
    .hf_name_prefix = "transformer.",
    .hf_ignored = gpt2_hf_ignored,
    .hf_config_write = gpt2_hf_config_write,
    .hf_config_read = gpt2_hf_config_read,
    .hf_tensors = gpt2_hf_tensors,
};
