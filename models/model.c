/* models/model.c — the model handle over a family (see model.h). */
#include "models/model.h"

#include <string.h>

#include "models/family.h"
#include "models/nn/decoder.h"

int model_create_mem(struct model *m, struct backend *be, const struct model_config *cfg, int B,
                     int T, const struct model_memory *mem, struct herr *err)
{
    memset(m, 0, sizeof *m);
    if (model_config_validate(cfg, err))
        return -1;
    struct decoder_spec s;
    cfg->family->spec(cfg, &s);
    struct decoder *d;
    if (decoder_create(&d, be, &s, B, T, mem, err))
        return -1;
    struct param_span spans[MODEL_MAX_SPANS];
    int n = cfg->family->spans(cfg, spans);
    model_wrap_decoder(m, d, cfg, B, T, spans, n);
    return 0;
}

int model_create(struct model *m, struct backend *be, const struct model_config *cfg, int B,
                 int T, struct herr *err)
{
    return model_create_mem(m, be, cfg, B, T, NULL, err);
}

void model_destroy(struct model *m)
{
    if (m->ops)
        m->ops->destroy(m->impl);
    memset(m, 0, sizeof *m);
}

void model_init_params(const struct model *m, uint64_t seed, float *host)
{
    m->config.family->init_params(&m->config, seed, host);
}

void decoder_spec_of(const struct model_config *cfg, struct decoder_spec *out)
{
    cfg->family->spec(cfg, out);
}

/* ---- decoder-based families ------------------------------------------------ */

static int d_forward(void *impl, const int32_t *in, const int32_t *tg, struct herr *err)
{
    return decoder_forward(impl, in, tg, err);
}
static int d_sums(void *impl, float *sums, struct herr *err)
{
    return decoder_row_loss_sums(impl, sums, err);
}
static void d_zero(void *impl) { decoder_zero_grads(impl); }
static int d_backward(void *impl, const float *scale, struct herr *err)
{
    return decoder_backward(impl, scale, err);
}
static int d_down(void *impl, float *host, struct herr *err)
{
    return decoder_download_params(impl, host, err);
}
static int d_up(void *impl, const float *host, struct herr *err)
{
    return decoder_upload_params(impl, host, err);
}
static int d_grads(void *impl, float *host, struct herr *err)
{
    return decoder_download_grads(impl, host, err);
}
static int d_logits(void *impl, float *host, struct herr *err)
{
    return decoder_download_logits(impl, host, err);
}
static int d_losses(void *impl, float *host, struct herr *err)
{
    return decoder_download_token_losses(impl, host, err);
}
static void d_hooks(void *impl, const struct param_hooks *hooks)
{
    decoder_set_hooks(impl, hooks);
}
static void d_destroy(void *impl) { decoder_destroy(impl); }

static const struct model_ops decoder_model_ops = {
    .forward = d_forward,
    .row_loss_sums = d_sums,
    .zero_grads = d_zero,
    .backward = d_backward,
    .download_params = d_down,
    .upload_params = d_up,
    .download_grads = d_grads,
    .download_logits = d_logits,
    .download_token_losses = d_losses,
    .set_hooks = d_hooks,
    .destroy = d_destroy,
};

void model_wrap_decoder(struct model *m, struct decoder *d, const struct model_config *cfg, int B,
                        int T, const struct param_span *spans, int nspans)
{
    memset(m, 0, sizeof *m);
    m->ops = &decoder_model_ops;
    m->impl = d;
    m->family = cfg->family->name;
    m->config = *cfg;
    m->B = B;
    m->T = T;
    m->num_params = model_config_num_params(cfg);
    m->params = decoder_params(d);
    m->grads = decoder_grads(d);
    m->nspans = nspans < MODEL_MAX_SPANS ? nspans : MODEL_MAX_SPANS;
    memcpy(m->spans, spans, (size_t)m->nspans * sizeof *spans);
    m->flops_per_step = model_config_flops_per_step(cfg, B, T);
}
