/* core/plan.c — see plan.h. */
#include "core/plan.h"

#include <string.h>

#include "core/train_memory.h"

int plan_compute(const struct plan_request *q, struct plan *p, struct herr *err)
{
    memset(p, 0, sizeof *p);
    if (q->ranks < 1 || q->batch < 1 || q->seq < 1 || q->grad_accum < 1)
        return herr_set(err, "--ranks %d, --batch %d, --seq %d, --grad-accum %d: each must be "
                             "at least 1", q->ranks, q->batch, q->seq, q->grad_accum);
    if (!(q->efficiency > 0 && q->efficiency <= 1))
        return herr_set(err, "--efficiency %g out of range (0, 1]", q->efficiency);
    if (!(q->link_gbps > 0))
        return herr_set(err, "--link-gbps %g must be > 0", q->link_gbps);
    if (model_plan_shape(q->model, &q->ov, q->batch, q->seq, &q->mem, &p->shape, err))
        return -1;
    const int W = q->ranks;
    const double P = (double)p->shape.num_params, f = sizeof(float);
    p->tokens_per_step = (double)W * q->grad_accum * q->batch * q->seq;

    /* device: as models/gpt2.c and core/optim.c allocate */
    p->weights = P * f;
    p->grads = P * f;
    size_t lo, hi;
    train_shard_range(p->shape.num_params, q->zero1 && W > 1 ? W : 1, 0, &lo, &hi);
    p->optimizer = 2.0 * (double)(hi - lo) * f;
    p->activations = (double)p->shape.activation_floats * f;
    p->activations_saved = ((double)p->shape.activation_floats_kept -
                            (double)p->shape.activation_floats) * f;
    p->device_total = p->weights + p->grads + p->optimizer + p->activations;

    /* host: as core/train_setup.c allocates (a fresh run) */
    struct train_host_sizes hs;
    train_host_sizes(W, q->grad_accum, q->batch, q->seq, p->shape.num_params, &hs);
    p->host_staging = (double)hs.staging_bytes;
    p->host_stage = W > 1 ? (double)hs.stage_floats * f : 0.0;
    p->host_transient = (double)(hs.init_bytes > hs.ckpt_bytes ? hs.init_bytes : hs.ckpt_bytes);
    p->host_total = p->host_staging + p->host_stage + p->host_transient + q->baseline_bytes;
    p->cpu_peak_rss = p->device_total + p->host_total;

    /* work: every rank runs K micro-batches; the exchange moves 2 (W-1)/W of
     * the gradient per rank (a reduce-scatter plus an all-gather, which is
     * what both the all-reduce and ZeRO-1 cost) */
    p->flops_rank = p->shape.flops_per_step * q->grad_accum;
    p->flops_total = p->flops_rank * W;
    p->comm_bytes = W > 1 ? 2.0 * (W - 1) / W * P * f : 0.0;
    if (q->gemm_gflops > 0) {
        p->compute_s = p->flops_rank / (q->gemm_gflops * 1e9);
        p->comm_s = p->comm_bytes / (q->link_gbps * 1e9);
        p->step_s = p->compute_s / q->efficiency + p->comm_s;
        p->tokens_per_s = p->tokens_per_step / p->step_s;
    }
    return 0;
}
