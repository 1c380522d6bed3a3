/* models/llama/llama_family.c — LLaMA as a composition of the shared layers
 * (the decoder with RMSNorm, no biases, rotary positions, grouped-query
 * attention, SwiGLU, an untied or tied head) behind the family interface. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/prng.h"
#include "models/family.h"
#include "models/llama/llama_config.h"
#include "models/llama/llama_hf.h"
#include "models/model.h"
#include "models/nn/decoder.h"

/* heft's LLaMA model file: [0] magic, [1] version, [2..10] ints, [11] norm_eps
 * and [12] rope_theta as float32 bits (docs/FORMATS.md) */
#define LLAMA_FILE_MAGIC 20241210
#define LLAMA_FILE_VERSION 1

_Static_assert(sizeof(struct llama_config) <= MODEL_CONFIG_BYTES, "llama_config fits");
_Static_assert(LLAMA_NUM_TENSORS <= MODEL_MAX_SPANS, "llama spans fit");

static struct llama_config *cfg_of(struct model_config *c) { return model_config_body(c); }
static const struct llama_config *ccfg_of(const struct model_config *c)
{
    return model_config_cbody(c);
}

static void llama_spec(const struct llama_config *c, struct decoder_spec *s)
{
    memset(s, 0, sizeof *s);
    s->name = "LLaMA";
    s->L = c->num_layers;
    s->C = c->channels;
    s->NH = c->num_heads;
    s->KVH = c->num_kv_heads;
    s->F = c->ffn;
    s->V = c->vocab_size;
    s->Vp = c->padded_vocab_size;
    s->maxT = c->max_seq_len;
    s->norm.kind = NN_RMSNORM;
    s->norm.eps = c->norm_eps;
    s->act = NN_SWIGLU;
    s->rope = 1;
    s->rope_theta = c->rope_theta;
    size_t off[LLAMA_NUM_TENSORS];
    llama_tensor_offsets(c, off);
    for (int t = 0; t < DEC_NUM_TENSORS; t++)
        s->off[t] = DEC_ABSENT;
    s->off[DEC_WTE] = off[LLAMA_WTE];
    s->off[DEC_N1W] = off[LLAMA_ATTN_NORM];
    s->off[DEC_QKVW] = off[LLAMA_WQKV];
    s->off[DEC_PROJW] = off[LLAMA_WO];
    s->off[DEC_N2W] = off[LLAMA_FFN_NORM];
    s->off[DEC_FCW] = off[LLAMA_W13];
    s->off[DEC_FCPROJW] = off[LLAMA_W2];
    s->off[DEC_NFW] = off[LLAMA_NORM];
    s->off[DEC_HEAD] = c->tied ? DEC_ABSENT : off[LLAMA_LM_HEAD];
    s->num_params = llama_num_params(c);
}

static int preset(const char *name, int vocab, struct model_config *cfg, struct herr *err)
{
    return llama_preset(name, vocab, cfg_of(cfg), err);
}

static int override(struct model_config *cfg, const struct model_overrides *ov, struct herr *err)
{
    (void)err; /* every LLaMA override is meaningful; validate() checks the result */
    struct llama_config *c = cfg_of(cfg);
    if (ov->layers)
        c->num_layers = ov->layers;
    if (ov->heads) {
        /* a new head count keeps multi-head attention multi-head, unless
         * --kv-heads says otherwise */
        if (c->num_kv_heads == c->num_heads)
            c->num_kv_heads = ov->heads;
        c->num_heads = ov->heads;
    }
    if (ov->kv_heads)
        c->num_kv_heads = ov->kv_heads;
    if (ov->channels) {
        c->channels = ov->channels;
        if (!ov->ffn)
            c->ffn = llama_ffn_width(ov->channels);
    }
    if (ov->ffn)
        c->ffn = ov->ffn;
    if (ov->max_seq_len)
        c->max_seq_len = ov->max_seq_len;
    if (ov->rope_theta != 0)
        c->rope_theta = (float)ov->rope_theta;
    if (ov->norm_eps != 0)
        c->norm_eps = (float)ov->norm_eps;
    if (ov->tie_embeddings)
        c->tied = 1;
    return 0;
}

static int validate(const struct model_config *cfg, struct herr *err)
{
    return llama_config_validate(ccfg_of(cfg), err);
}

static void dims(const struct model_config *cfg, struct model_dims *d)
{
    const struct llama_config *c = ccfg_of(cfg);
    *d = (struct model_dims){ c->vocab_size, c->padded_vocab_size, c->max_seq_len,
                              c->num_layers, c->num_heads, c->channels, 2 * c->ffn };
}

static void describe(const struct model_config *cfg, char *buf, size_t cap)
{
    const struct llama_config *c = ccfg_of(cfg);
    snprintf(buf, cap, "L=%d C=%d NH=%d KVH=%d F=%d V=%d/%d maxT=%d theta=%g eps=%g %s",
             c->num_layers, c->channels, c->num_heads, c->num_kv_heads, c->ffn, c->vocab_size,
             c->padded_vocab_size, c->max_seq_len, (double)c->rope_theta, (double)c->norm_eps,
             c->tied ? "tied" : "untied");
}

static int fields(const struct model_config *cfg, struct model_field f[MODEL_MAX_FIELDS])
{
    const struct llama_config *c = ccfg_of(cfg);
    int n = 0;
    f[n++] = (struct model_field){ "max_seq_len", c->max_seq_len, 1 };
    f[n++] = (struct model_field){ "vocab_size", c->vocab_size, 1 };
    f[n++] = (struct model_field){ "padded_vocab_size", c->padded_vocab_size, 1 };
    f[n++] = (struct model_field){ "num_layers", c->num_layers, 1 };
    f[n++] = (struct model_field){ "num_heads", c->num_heads, 1 };
    f[n++] = (struct model_field){ "num_kv_heads", c->num_kv_heads, 1 };
    f[n++] = (struct model_field){ "channels", c->channels, 1 };
    f[n++] = (struct model_field){ "ffn", c->ffn, 1 };
    f[n++] = (struct model_field){ "tied", c->tied, 1 };
    f[n++] = (struct model_field){ "norm_eps", c->norm_eps, 0 };
    f[n++] = (struct model_field){ "rope_theta", c->rope_theta, 0 };
    return n;
}

/* normal(0, 0.02) for matrices and embeddings, residual projections (wo, w2)
 * scaled by 1/sqrt(2L), RMSNorm gains 1, padding rows 0. */
static void init_params(const struct model_config *cfg, uint64_t seed, float *host)
{
    const struct llama_config *c = ccfg_of(cfg);
    size_t sizes[LLAMA_NUM_TENSORS], off[LLAMA_NUM_TENSORS];
    llama_tensor_sizes(c, sizes);
    llama_tensor_offsets(c, off);
    double resid_std = 0.02 / sqrt(2.0 * c->num_layers);
    size_t real_rows = (size_t)c->vocab_size * c->channels;
    for (int t = 0; t < LLAMA_NUM_TENSORS; t++) {
        struct prng g;
        prng_seed(&g, prng_mix(seed, (uint64_t)t));
        float *p = host + off[t];
        if (t == LLAMA_ATTN_NORM || t == LLAMA_FFN_NORM || t == LLAMA_NORM) {
            for (size_t i = 0; i < sizes[t]; i++)
                p[i] = 1.0f;
            continue;
        }
        int padded = t == LLAMA_WTE || t == LLAMA_LM_HEAD;
        size_t n = padded && sizes[t] ? real_rows : sizes[t];
        double std = (t == LLAMA_WO || t == LLAMA_W2) ? resid_std : 0.02;
        for (size_t i = 0; i < n; i++)
            p[i] = (float)(std * prng_normal(&g));
        memset(p + n, 0, (sizes[t] - n) * sizeof(float));
    }
}

static uint32_t float_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(int32_t i)
{
    float f;
    memcpy(&f, &i, sizeof f);
    return f;
}

static int header_read(const int32_t h[MODEL_FILE_HEADER_INTS], struct model_config *cfg,
                       struct herr *err)
{
    if (h[1] != LLAMA_FILE_VERSION)
        return herr_set(err, "unsupported LLaMA file version %d (heft reads version %d)",
                        (int)h[1], LLAMA_FILE_VERSION);
    struct llama_config *c = cfg_of(cfg);
    c->max_seq_len = h[2];
    c->vocab_size = h[3];
    c->num_layers = h[4];
    c->num_heads = h[5];
    c->channels = h[6];
    c->padded_vocab_size = h[7];
    c->num_kv_heads = h[8];
    c->ffn = h[9];
    c->tied = h[10];
    c->norm_eps = bits_float(h[11]);
    c->rope_theta = bits_float(h[12]);
    return 0;
}

static void header_write(const struct model_config *cfg, int32_t h[MODEL_FILE_HEADER_INTS])
{
    const struct llama_config *c = ccfg_of(cfg);
    h[1] = LLAMA_FILE_VERSION;
    h[2] = c->max_seq_len;
    h[3] = c->vocab_size;
    h[4] = c->num_layers;
    h[5] = c->num_heads;
    h[6] = c->channels;
    h[7] = c->padded_vocab_size;
    h[8] = c->num_kv_heads;
    h[9] = c->ffn;
    h[10] = c->tied;
    h[11] = (int32_t)float_bits(c->norm_eps);
    h[12] = (int32_t)float_bits(c->rope_theta);
}

static void spec(const struct model_config *cfg, struct decoder_spec *out)
{
    llama_spec(ccfg_of(cfg), out);
}

static int spans(const struct model_config *cfg, struct param_span *out)
{
    return llama_config_spans(ccfg_of(cfg), out);
}

const struct model_family llama_family = {
    .name = "llama",
    .file_name = "heft LLaMA",
    .file_magic = LLAMA_FILE_MAGIC,
    .preset_names = llama_preset_names,
    .default_vocab = 32000,
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
    .from_fields = llama_from_fields,
    .hf_model_type = "llama",
    .hf_architecture = "LlamaForCausalLM",
    .hf_name_prefix = NULL,
    .hf_ignored = llama_hf_ignored,
    .hf_config_write = llama_hf_config_write,
    .hf_config_read = llama_hf_config_read,
    .hf_tensors = llama_hf_tensors,
};
