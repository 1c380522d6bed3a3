/* bench/step_timer.c — see step_timer.h. */
#include "bench/step_timer.h"

#include <math.h>
#include <stdlib.h>

#include "core/gemm_rate.h"
#include "core/optim.h"
#include "core/prng.h"
#include "models/model.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int step_timer_run(struct backend *be, const struct model_config *cfg, int B, int T, int steps,
                   struct step_times *out, struct herr *err)
{
    struct model m;
    if (model_create(&m, be, cfg, B, T, err))
        return -1;
    size_t P = m.num_params;
    struct model_dims dims;
    model_config_dims(cfg, &dims);
    float *host = malloc(P * sizeof(float));
    int32_t *in = malloc((size_t)B * T * sizeof(int32_t)), *tg = malloc((size_t)B * T * sizeof(int32_t));
    float *sums = malloc((size_t)B * sizeof(float)), *scale = malloc((size_t)B * sizeof(float));
    double *tf = calloc((size_t)steps, sizeof(double)), *tb = calloc((size_t)steps, sizeof(double));
    double *to = calloc((size_t)steps, sizeof(double));
    int rc = -1;
    struct adamw opt = { 0 };
    if (!host || !in || !tg || !sums || !scale || !tf || !tb || !to) {
        herr_set(err, "out of memory");
        goto done;
    }
    model_init_params(&m, 1, host);
    if (m.ops->upload_params(m.impl, host, err) || adamw_create(&opt, be, 0, P, err))
        goto done;
    struct prng g;
    prng_seed(&g, 7);
    for (int i = 0; i < B * T; i++) {
        in[i] = (int32_t)prng_below(&g, (uint64_t)dims.vocab_size);
        tg[i] = (int32_t)prng_below(&g, (uint64_t)dims.vocab_size);
    }
    for (int b = 0; b < B; b++)
        scale[b] = 1.0f / (float)(B * T);
    struct optim_config oc;
    optim_config_default(&oc);
    for (int s = -1; s < steps; s++) { /* s = -1 warms up (kernel compiles, page faults) */
        double t0 = gemm_rate_clock();
        if (m.ops->forward(m.impl, in, tg, err) || m.ops->row_loss_sums(m.impl, sums, err))
            goto done;
        double t1 = gemm_rate_clock();
        m.ops->zero_grads(m.impl);
        if (m.ops->backward(m.impl, scale, err))
            goto done;
        be->ops->finish(be);
        double t2 = gemm_rate_clock();
        double norm = sqrt(be->ops->sum_squares(be, m.grads, P));
        if (adamw_update(&opt, m.params, m.grads, m.spans, m.nspans, &oc, 1e-4,
                         optim_clip_scale(norm, 1.0), err))
            goto done;
        be->ops->finish(be);
        double t3 = gemm_rate_clock();
        if (s >= 0) {
            tf[s] = (t1 - t0) * 1e3;
            tb[s] = (t2 - t1) * 1e3;
            to[s] = (t3 - t2) * 1e3;
        }
    }
    qsort(tf, (size_t)steps, sizeof(double), cmp_double);
    qsort(tb, (size_t)steps, sizeof(double), cmp_double);
    qsort(to, (size_t)steps, sizeof(double), cmp_double);
    out->fwd_ms = tf[steps / 2];
    out->bwd_ms = tb[steps / 2];
    out->opt_ms = to[steps / 2];
    rc = 0;
done:
    adamw_destroy(&opt);
    free(host); free(in); free(tg); free(sums); free(scale); free(tf); free(tb); free(to);
    model_destroy(&m);
    return rc;
}

