/* models/gpt2/gpt2.c — GPT-2 as a composition of the shared layers: the
 * decoder (models/nn/decoder.h) with LayerNorm, biased linears, learned
 * positions, multi-head attention, a GELU MLP and the LM head tied to wte. */
#include "models/gpt2/gpt2.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/prng.h"
#include "models/nn/decoder.h"

struct gpt2 {
    struct decoder *d;
    struct gpt2_config cfg;
};

void gpt2_spec(const struct gpt2_config *c, struct decoder_spec *s)
{
    memset(s, 0, sizeof *s);
    s->name = "GPT-2";
    s->L = c->num_layers;
    s->C = c->channels;
    s->NH = s->KVH = c->num_heads;
    s->F = 4 * c->channels;
    s->V = c->vocab_size;
    s->Vp = c->padded_vocab_size;
    s->maxT = c->max_seq_len;
    s->norm.kind = NN_LAYERNORM;
    s->norm.eps = 1e-5f;
    s->act = NN_GELU;
    size_t off[GPT2_NUM_TENSORS];
    gpt2_tensor_offsets(c, off);
    /* GPT-2's 16 tensors are the decoder's first 16, in the same order */
    for (int t = 0; t < GPT2_NUM_TENSORS; t++)
        s->off[t] = off[t];
    s->off[DEC_HEAD] = DEC_ABSENT; /* tied: the head is wte */
    s->num_params = gpt2_num_params(c);
}

size_t gpt2_activation_floats(const struct gpt2_config *cfg, int B, int T)
{
    struct decoder_spec s;
    gpt2_spec(cfg, &s);
    return decoder_activation_floats(&s, B, T, NULL);
}

int gpt2_create(struct gpt2 **out, struct backend *be, const struct gpt2_config *cfg, int B,
                int T, struct herr *err)
{
    *out = NULL;
    if (gpt2_config_validate(cfg, err))
        return -1;
    struct gpt2 *m = calloc(1, sizeof *m);
    if (!m)
        return herr_set(err, "out of host memory");
    m->cfg = *cfg;
    struct decoder_spec s;
    gpt2_spec(cfg, &s);
    if (decoder_create(&m->d, be, &s, B, T, NULL, err)) {
        free(m);
        return -1;
    }
    *out = m;
    return 0;
}

void gpt2_destroy(struct gpt2 *m)
{
    if (!m)
        return;
    decoder_destroy(m->d);
    free(m);
}

const struct gpt2_config *gpt2_config_of(const struct gpt2 *m) { return &m->cfg; }
size_t gpt2_param_count(const struct gpt2 *m) { return gpt2_num_params(&m->cfg); }
dptr gpt2_params(const struct gpt2 *m) { return decoder_params(m->d); }
dptr gpt2_grads(const struct gpt2 *m) { return decoder_grads(m->d); }

void gpt2_param_spans(const struct gpt2 *m, struct param_span spans[GPT2_NUM_TENSORS])
{
    gpt2_config_spans(&m->cfg, spans);
}

/* ------------------------------------------------------------------------ */
/* initialization                                                             */

void gpt2_init_params(const struct gpt2_config *cfg, uint64_t seed, float *host)
{
    size_t sizes[GPT2_NUM_TENSORS], off[GPT2_NUM_TENSORS];
    gpt2_tensor_sizes(cfg, sizes);
    gpt2_tensor_offsets(cfg, off);
    /* GPT-2: residual projections scaled by 1/sqrt(2L) so the residual
     * stream's variance does not grow with depth. */
    double resid_std = 0.02 / sqrt(2.0 * cfg->num_layers);
    for (int t = 0; t < GPT2_NUM_TENSORS; t++) {
        struct prng g;
        prng_seed(&g, prng_mix(seed, (uint64_t)t)); /* per tensor: stable under layout changes */
        float *p = host + off[t];
        switch ((enum gpt2_tensor)t) {
        case GPT2_LN1W: case GPT2_LN2W: case GPT2_LNFW:
            for (size_t i = 0; i < sizes[t]; i++)
                p[i] = 1.0f;
            break;
        case GPT2_LN1B: case GPT2_LN2B: case GPT2_LNFB: case GPT2_QKVB: case GPT2_ATTPROJB:
        case GPT2_FCB: case GPT2_FCPROJB:
            memset(p, 0, sizes[t] * sizeof(float));
            break;
        case GPT2_WTE: {
            size_t real = (size_t)cfg->vocab_size * cfg->channels;
            for (size_t i = 0; i < real; i++)
                p[i] = (float)(0.02 * prng_normal(&g));
            memset(p + real, 0, (sizes[t] - real) * sizeof(float)); /* padding rows */
            break;
        }
        default: {
            double std = (t == GPT2_ATTPROJW || t == GPT2_FCPROJW) ? resid_std : 0.02;
            for (size_t i = 0; i < sizes[t]; i++)
                p[i] = (float)(std * prng_normal(&g));
        }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* the decoder does the work                                                  */

int gpt2_forward(struct gpt2 *m, const int32_t *inputs, const int32_t *targets,
                 struct herr *err)
{
    return decoder_forward(m->d, inputs, targets, err);
}

int gpt2_row_loss_sums(struct gpt2 *m, float *sums, struct herr *err)
{
    return decoder_row_loss_sums(m->d, sums, err);
}

void gpt2_zero_grads(struct gpt2 *m) { decoder_zero_grads(m->d); }

int gpt2_backward(struct gpt2 *m, const float *row_scale, struct herr *err)
{
    return decoder_backward(m->d, row_scale, err);
}

int gpt2_download_params(struct gpt2 *m, float *host, struct herr *err)
{
    return decoder_download_params(m->d, host, err);
}

int gpt2_upload_params(struct gpt2 *m, const float *host, struct herr *err)
{
    return decoder_upload_params(m->d, host, err);
}

int gpt2_download_grads(struct gpt2 *m, float *host, struct herr *err)
{
    return decoder_download_grads(m->d, host, err);
}

int gpt2_download_logits(struct gpt2 *m, float *host, struct herr *err)
{
    return decoder_download_logits(m->d, host, err);
}

int gpt2_download_token_losses(struct gpt2 *m, float *host, struct herr *err)
{
    return decoder_download_token_losses(m->d, host, err);
}
