/* models/gpt2/gpt2_hf.c — GPT-2 as Hugging Face's GPT2LMHeadModel sees it:
 * its tensor names and shapes, and its GPT2Config.
 *
 * transformers' GPT-2 uses Conv1D layers, which store W as (in, out) and
 * compute x W + b; heft's linear stores (out, in) and computes x W^T + b. So
 * the four weight matrices of a block are the transposes of heft's:
 *   attn.c_attn.weight (C, 3C)   heft qkvw    (3C, C)
 *   attn.c_proj.weight (C, C)    heft attprojw (C, C)
 *   mlp.c_fc.weight    (C, 4C)   heft fcw     (4C, C)
 *   mlp.c_proj.weight  (4C, C)   heft fcprojw (C, 4C)
 * Everything else (embeddings, biases, LayerNorms) is the same array. The LM
 * head is wte (tie_word_embeddings), so no lm_head.weight is written.
 * wte has V rows in the file and Vp in heft: the padding rows stay zero. */
#include "models/gpt2/gpt2_hf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/family.h"
#include "models/gpt2/gpt2_config.h"
#include "models/hf.h"

static const struct gpt2_config *ccfg_of(const struct model_config *c)
{
    return model_config_cbody(c);
}

/* Not parameters: the causal mask buffers of older transformers versions,
 * and the head, which transformers ties to wte whatever the file holds. */
const char *const gpt2_hf_ignored[] = { ".attn.bias", ".attn.masked_bias", "lm_head.weight",
                                        NULL };

static void add(struct hf_tensor *out, int *n, const char *name, int64_t d0, int64_t d1,
                size_t offset, int transposed)
{
    if (out) {
        struct hf_tensor *t = &out[*n];
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", name);
        t->ndim = d1 ? 2 : 1;
        t->shape[0] = d0;
        t->shape[1] = d1;
        t->offset = offset;
        t->transposed = transposed;
    }
    (*n)++;
}

int gpt2_hf_tensors(const struct model_config *cfg, struct hf_tensor *out)
{
    const struct gpt2_config *c = ccfg_of(cfg);
    size_t off[GPT2_NUM_TENSORS];
    gpt2_tensor_offsets(c, off);
    const int64_t C = c->channels, L = c->num_layers;
    int n = 0;
    char name[HF_NAME_MAX];
    add(out, &n, "transformer.wte.weight", c->vocab_size, C, off[GPT2_WTE], 0);
    add(out, &n, "transformer.wpe.weight", c->max_seq_len, C, off[GPT2_WPE], 0);
    for (int64_t l = 0; l < L; l++) {
        /* one row per tensor: HF suffix, shape, heft tensor, its size per layer, transposed */
        const struct {
            const char *suffix;
            int64_t d0, d1;
            enum gpt2_tensor t;
            int64_t per_layer;
            int transposed;
        } rows[] = {
            { "ln_1.weight", C, 0, GPT2_LN1W, C, 0 },
            { "ln_1.bias", C, 0, GPT2_LN1B, C, 0 },
            { "attn.c_attn.weight", C, 3 * C, GPT2_QKVW, 3 * C * C, 1 },
            { "attn.c_attn.bias", 3 * C, 0, GPT2_QKVB, 3 * C, 0 },
            { "attn.c_proj.weight", C, C, GPT2_ATTPROJW, C * C, 1 },
            { "attn.c_proj.bias", C, 0, GPT2_ATTPROJB, C, 0 },
            { "ln_2.weight", C, 0, GPT2_LN2W, C, 0 },
            { "ln_2.bias", C, 0, GPT2_LN2B, C, 0 },
            { "mlp.c_fc.weight", C, 4 * C, GPT2_FCW, 4 * C * C, 1 },
            { "mlp.c_fc.bias", 4 * C, 0, GPT2_FCB, 4 * C, 0 },
            { "mlp.c_proj.weight", 4 * C, C, GPT2_FCPROJW, 4 * C * C, 1 },
            { "mlp.c_proj.bias", C, 0, GPT2_FCPROJB, C, 0 },
        };
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            snprintf(name, sizeof name, "transformer.h.%lld.%s", (long long)l, rows[r].suffix);
            add(out, &n, name, rows[r].d0, rows[r].d1,
                off[rows[r].t] + (size_t)(l * rows[r].per_layer), rows[r].transposed);
        }
    }
    add(out, &n, "transformer.ln_f.weight", C, 0, off[GPT2_LNFW], 0);
    add(out, &n, "transformer.ln_f.bias", C, 0, off[GPT2_LNFB], 0);
    return n;
}

void gpt2_hf_config_write(const struct model_config *cfg, struct hf_config *out)
{
    const struct gpt2_config *c = ccfg_of(cfg);
    hf_put_int(out, "vocab_size", c->vocab_size);
    hf_put_int(out, "n_positions", c->max_seq_len);
    hf_put_int(out, "n_embd", c->channels);
    hf_put_int(out, "n_layer", c->num_layers);
    hf_put_int(out, "n_head", c->num_heads);
    hf_put_null(out, "n_inner"); /* 4 * n_embd */
    /* heft's GELU is the tanh approximation, transformers' "gelu_new" */
    hf_put_str(out, "activation_function", "gelu_new");
    hf_put_float(out, "layer_norm_epsilon", 1e-5f);
    hf_put_bool(out, "tie_word_embeddings", 1);
    hf_put_bool(out, "scale_attn_weights", 1);
    /* heft trains without dropout */
    hf_put_real(out, "embd_pdrop", 0.0);
    hf_put_real(out, "attn_pdrop", 0.0);
    hf_put_real(out, "resid_pdrop", 0.0);
    hf_put_real(out, "initializer_range", 0.02);
}

int gpt2_hf_config_read(const struct hf_config *in, struct model_config *cfg, struct herr *err)
{
    struct gpt2_config *c = model_config_body(cfg);
    static const char *const gelu_tanh[] = { "gelu_new", "gelu_pytorch_tanh", NULL };
    int n_inner, tie, scale;
    double eps;
    if (hf_get_int(in, "vocab_size", 2, 1 << 24, &c->vocab_size, err) ||
        hf_get_int(in, "n_embd", 1, 65536, &c->channels, err) ||
        hf_get_int(in, "n_layer", 1, 1024, &c->num_layers, err) ||
        hf_get_int(in, "n_head", 1, 65536, &c->num_heads, err))
        return -1;
    /* n_positions; very old files name it n_ctx */
    int ctx;
    if (hf_get_int_or(in, "n_ctx", 1024, 1, 1 << 20, &ctx, err) ||
        hf_get_int_or(in, "n_positions", ctx, 1, 1 << 20, &c->max_seq_len, err) ||
        hf_get_int_or(in, "n_inner", 4 * c->channels, 1, 1 << 20, &n_inner, err) ||
        hf_expect_str(in, "activation_function", "gelu_new", gelu_tanh, err) ||
        hf_get_real_or(in, "layer_norm_epsilon", 1e-5, &eps, err) ||
        hf_get_bool_or(in, "tie_word_embeddings", 1, &tie, err) ||
        hf_get_bool_or(in, "scale_attn_weights", 1, &scale, err) ||
        hf_expect_unset(in, "scale_attn_by_inverse_layer_idx",
                        "heft scales attention scores by 1/sqrt(head size) in every layer", err) ||
        hf_expect_unset(in, "add_cross_attention", "heft's GPT-2 is a decoder only", err))
        return -1;
    if (n_inner != 4 * c->channels)
        return herr_set(err, "config.json: n_inner is %d; heft's GPT-2 MLP is 4 x n_embd = %d wide",
                        n_inner, 4 * c->channels);
    if ((float)eps != 1e-5f)
        return herr_set(err, "config.json: layer_norm_epsilon is %g; heft's GPT-2 LayerNorm uses "
                             "1e-5", eps);
    if (!tie)
        return herr_set(err, "config.json: tie_word_embeddings is false; heft's GPT-2 head is "
                             "always the token embedding");
    if (!scale)
        return herr_set(err, "config.json: scale_attn_weights is false; heft scales attention "
                             "scores by 1/sqrt(head size)");
    /* the padding heft's presets use for this vocabulary */
    c->padded_vocab_size = gpt2_pad_vocab(c->vocab_size, c->vocab_size > 4096 ? 128 : 64);
    return 0;
}

int gpt2_from_fields(struct model_config *cfg, const struct model_field *f, int n,
                     struct herr *err)
{
    struct gpt2_config *c = model_config_body(cfg);
    struct { const char *name; int *dst; } map[] = {
        { "max_seq_len", &c->max_seq_len }, { "vocab_size", &c->vocab_size },
        { "padded_vocab_size", &c->padded_vocab_size }, { "num_layers", &c->num_layers },
        { "num_heads", &c->num_heads }, { "channels", &c->channels },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        double v;
        if (model_field_get(f, n, map[i].name, &v, err))
            return -1;
        if (v != floor(v) || v < 0 || v > 1e9)
            return herr_set(err, "model field %s = %g is not a size", map[i].name, v);
        *map[i].dst = (int)v;
    }
    return 0;
}
