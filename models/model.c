/* models/model.c — the GPT-2 family behind the model handle. */
#include "models/model.h"

#include <string.h>

#include "models/gpt2.h"

static int g_forward(void *impl, const int32_t *in, const int32_t *tg, struct herr *err)
{
    return gpt2_forward(impl, in, tg, err);
}
static int g_sums(void *impl, float *sums, struct herr *err)
{
    return gpt2_row_loss_sums(impl, sums, err);
}
static void g_zero(void *impl) { gpt2_zero_grads(impl); }
static int g_backward(void *impl, const float *scale, struct herr *err)
{
    return gpt2_backward(impl, scale, err);
}
static int g_down(void *impl, float *host, struct herr *err)
{
    return gpt2_download_params(impl, host, err);
}
static int g_up(void *impl, const float *host, struct herr *err)
{
    return gpt2_upload_params(impl, host, err);
}
static void g_destroy(void *impl) { gpt2_destroy(impl); }

static const struct model_ops gpt2_model_ops = {
    .forward = g_forward,
    .row_loss_sums = g_sums,
    .zero_grads = g_zero,
    .backward = g_backward,
    .download_params = g_down,
    .upload_params = g_up,
    .destroy = g_destroy,
};

int model_create_gpt2(struct model *m, struct backend *be, const struct gpt2_config *cfg, int B,
                      int T, struct herr *err)
{
    memset(m, 0, sizeof *m);
    struct gpt2 *g;
    if (gpt2_create(&g, be, cfg, B, T, err))
        return -1;
    m->ops = &gpt2_model_ops;
    m->impl = g;
    m->family = "gpt2";
    m->config = *cfg;
    m->B = B;
    m->T = T;
    m->num_params = gpt2_param_count(g);
    m->params = gpt2_params(g);
    m->grads = gpt2_grads(g);
    m->nspans = GPT2_NUM_TENSORS;
    gpt2_param_spans(g, m->spans);
    m->flops_per_step = gpt2_flops_per_step(cfg, B, T);
    return 0;
}

void model_destroy(struct model *m)
{
    if (m->ops)
        m->ops->destroy(m->impl);
    memset(m, 0, sizeof *m);
}

void model_init_params(const struct model *m, uint64_t seed, float *host)
{
    gpt2_init_params(&m->config, seed, host);
}
