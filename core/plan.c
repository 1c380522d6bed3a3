/* core/plan.c — see plan.h. */
#include "core/plan.h"

#include <string.h>

#include "core/train_memory.h"
#include "core/zero_layout.h"

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
    const size_t Pn = p->shape.num_params;
    const double P = (double)Pn, f = sizeof(float);
    p->tokens_per_step = (double)W * q->grad_accum * q->batch * q->seq;
    if (q->zero < 0 || q->zero > 3)
        return herr_set(err, "--zero %d: expected 0, 1, 2 or 3", q->zero);
    p->zero = q->zero == 1 && W == 1 ? 0 : q->zero;

    /* host: as core/train_setup.c allocates (a fresh run) */
    struct train_host_sizes hs;
    train_host_sizes(W, q->grad_accum, q->batch, q->seq, Pn, &hs);

    /* device: as the decoder, core/optim.c and core/train_zero.c allocate */
    struct zero_layout z;
    memset(&z, 0, sizeof z);
    if (p->zero >= 2 && zero_layout_build(&z, &p->shape.config, W, err))
        return -1;
    struct train_device_sizes ds;
    train_device_sizes(p->zero, W, q->grad_accum, Pn, &z, hs.stage_floats, &ds);
    p->weights = (double)ds.params * f;
    p->grads = (double)ds.grads * f;
    p->optimizer = (double)ds.optimizer * f;
    p->gathered_weights = (double)ds.gathered_params * f;
    p->gathered_grads = (double)ds.gathered_grads * f;
    p->layer_weights = (double)z.layer_floats * f;
    p->layer_buffers = p->zero == 3 ? train_layer_buffers(&z) : 0;
    p->outer_weights = (double)z.outer_floats * f;
    p->activations = (double)p->shape.activation_floats * f;
    p->recompute_workspace = (double)p->shape.recompute_workspace * f;
    p->activations_saved = ((double)p->shape.activation_floats_kept -
                            (double)p->shape.activation_floats) * f;
    p->device_total = p->weights + p->grads + p->optimizer + p->gathered_weights +
                      p->gathered_grads + p->activations;
    if (q->device_mem > 0) {
        p->headroom = q->device_mem - p->device_total;
        p->fits = p->headroom >= 0;
    }

    p->host_staging = (double)hs.staging_bytes;
    p->host_stage = W > 1 || p->zero >= 2 ? (double)hs.stage_floats * f : 0.0;
    p->host_acc = (double)ds.host_acc * f;
    p->host_prefetch = p->zero == 3 && q->zero_prefetch ? (double)ds.host_prefetch * f : 0.0;
    p->host_transient = (double)(hs.init_bytes > hs.ckpt_bytes ? hs.init_bytes : hs.ckpt_bytes);
    p->host_total = p->host_staging + p->host_stage + p->host_acc + p->host_prefetch +
                    p->host_transient + q->baseline_bytes;
    /* resident at the start: what is filled when allocated (not the
     * activations, nor the gathered buffers, first written in the first step) */
    double fixed = p->host_staging + p->host_stage + p->host_acc + p->host_prefetch +
                   q->baseline_bytes;
    double at_start = p->device_total - p->activations - p->gathered_weights -
                      p->gathered_grads + (double)hs.init_bytes;
    double at_end = p->device_total + (q->no_export ? (double)hs.ckpt_bytes : (double)hs.init_bytes);
    p->cpu_peak_rss = fixed + (at_start > at_end ? at_start : at_end);
    p->cpu_peak_rss_others = fixed + (p->zero < 2 && at_start > p->device_total ? at_start
                                                                              : p->device_total);

    /* work: every rank runs K micro-batches; the exchange as the trainer
     * counts it (train_exchange_bytes) */
    p->flops_rank = p->shape.flops_per_step * q->grad_accum;
    p->flops_total = p->flops_rank * W;
    p->comm_bytes = train_exchange_bytes(p->zero, W, q->grad_accum, q->normalize_step, Pn, &z);
    p->comm_bytes_dp = W > 1 ? 2.0 * (W - 1) / W * P * f : 0.0;
    zero_layout_free(&z);
    if (q->gemm_gflops > 0) {
        p->compute_s = p->flops_rank / (q->gemm_gflops * 1e9);
        p->comm_s = p->comm_bytes / (q->link_gbps * 1e9);
        p->step_s = p->compute_s / q->efficiency + p->comm_s;
        p->tokens_per_s = p->tokens_per_step / p->step_s;
    }
    return 0;
}
