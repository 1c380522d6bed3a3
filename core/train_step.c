/* core/train_step.c — one optimizer step: forward, per-sample losses,
 * weights, backward, gradient sum over ranks, clipping, AdamW
 * (core/train_comm.c moves gradients and parameters between ranks).
 *
 * Gradient scaling. Every rank seeds row i's backward with w_i / n_i, where
 * the w of the normalized set (all ranks' rows of one micro-batch, or of the
 * whole step) sum to 1, and the gradients are then SUMMED over ranks. So the
 * step's gradient is exactly sum_i w_i grad(l_i) over the set; with uniform
 * weights that is the gradient of the plain mean of per-sample losses. Under
 * --rw-normalize micro each of the K micro-batches is its own set and gets a
 * further 1/K, so a step averages its micro-batches. */
#include <math.h>
#include <string.h>

#include "core/train_internal.h"

/* Loads micro-batch k, runs its forward and fills its per-sample losses. */
static int forward_micro(struct trainer *t, int k, int load, struct herr *err)
{
    const int B = t->cfg.batch, T = t->cfg.seq;
    int32_t *in = t->inputs + (size_t)k * B * T, *tg = t->targets + (size_t)k * B * T;
    if (load)
        trainer_ref_note(t, k);
    if (load && loader_next(t->ld, in, tg, t->domains + (size_t)k * B, err))
        return herr_wrap(err, "loading step %ld micro-batch %d: ", t->step, k);
    zero_begin_pass(t, ZERO_PASS_FORWARD);
    if (t->model.ops->forward(t->model.impl, in, tg, err))
        return -1;
    if (!load)
        return 0; /* a re-forward only restores activations */
    if (t->model.ops->row_loss_sums(t->model.impl, t->row_sums, err))
        return -1;
    for (int b = 0; b < B; b++) {
        int n = row_num_targets(tg + (size_t)b * T, T);
        t->ntok_local[k * B + b] = n;
        t->loss_local[k * B + b] = n > 0 ? (double)t->row_sums[b] / n : 0.0;
    }
    return 0;
}

/* Gathers the per-sample losses, token counts and domains of micro-batches
 * [k0, k0 + nk) from every rank (one collective: the three travel together
 * as doubles, exact for counts and ids) and lays them out in global row
 * order, index (kk * W + rank) * B + b for micro-batch k0 + kk: the order of
 * one process holding all W * B rows, so that the reweighting sums, and
 * InfoBatch's draws, run in the same order whatever the rank count. */
static int gather(struct trainer *t, int k0, int nk, struct herr *err)
{
    const int B = t->cfg.batch, W = t->world;
    size_t n = (size_t)nk * B;
    for (size_t i = 0; i < n; i++) {
        size_t l = (size_t)k0 * B + i;
        t->gather_send[3 * i] = t->loss_local[l];
        t->gather_send[3 * i + 1] = t->ntok_local[l];
        t->gather_send[3 * i + 2] = t->domains[l];
    }
    if (comm_allgather_f64(t->comm, t->gather_send, 3 * n, t->gather_recv, err))
        return herr_wrap(err, "step %ld, gathering per-sample losses: ", t->step);
    for (int r = 0; r < W; r++)
        for (int kk = 0; kk < nk; kk++)
            for (int b = 0; b < B; b++) {
                const double *src = t->gather_recv + 3 * (((size_t)r * nk + kk) * B + b);
                size_t g = ((size_t)kk * W + r) * B + b;
                t->loss_all[g] = src[0];
                t->ntok_all[g] = (int32_t)src[1];
                t->dom_all[g] = (int32_t)src[2];
            }
    trainer_ref_lookup(t, k0, nk);
    return 0;
}

/* Weights of the gathered set (W * nk * B samples). */
static int weigh(struct trainer *t, int nk, struct step_report *rep, struct herr *err)
{
    int N = t->world * nk * t->cfg.batch;
    struct rw_stats *st = &rep->rw;
    if (rw_compute_ref(&t->rwcfg, &t->rwstate, t->step, t->loss_all, trainer_ref_all(t),
                       t->ntok_all, t->dom_all, t->num_domains, N, t->weights, st, err))
        return herr_wrap(err, "step %ld, reweighting: ", t->step);
    trainer_trace_weights(t, rep->rw_calls, N, st);
    rep->rw_calls++;
    return 0;
}

/* Sets micro-batch k's row scales from the weights of the gathered set, in
 * which micro-batch k sits at position kk.
 * This rank's rows are its slice by GLOBAL rank. */
static void set_row_scales(struct trainer *t, int kk, int k, double set_share)
{
    const int B = t->cfg.batch;
    for (int b = 0; b < B; b++) {
        int n = t->ntok_local[k * B + b];
        double w = t->weights[((size_t)kk * t->world + t->rank) * B + b];
        t->row_scale[b] = n > 0 ? (float)(w * set_share / n) : 0.0f;
    }
}

/* Accumulates the step's loss metrics from the gathered set. */
static void account(struct trainer *t, int nk, struct step_report *rep, double set_share,
                    double *loss_sum, long *valid)
{
    int N = t->world * nk * t->cfg.batch;
    for (int i = 0; i < N; i++) {
        if (t->ntok_all[i] > 0 && isfinite(t->loss_all[i])) {
            *loss_sum += t->loss_all[i];
            (*valid)++;
            rep->loss_weighted += set_share * t->weights[i] * t->loss_all[i];
        }
    }
}

static int backward_micro(struct trainer *t, struct herr *err)
{
    zero_begin_pass(t, ZERO_PASS_BACKWARD);
    return t->model.ops->backward(t->model.impl, t->row_scale, err);
}

/* Every rank's communication times this step, for the report. */
static int gather_comm_times(struct trainer *t, struct step_report *rep, struct herr *err)
{
    double *all = t->gather_recv; /* free again: W * K * B * 3 >= 3 W doubles */
    double mine[3] = { rep->comm_seconds, rep->exchange_seconds, rep->gather_wait_seconds };
    if (comm_allgather_f64(t->comm, mine, 3, all, err))
        return herr_wrap(err, "step %ld, gathering timings: ", t->step);
    rep->comm_mean = rep->comm_max = rep->exchange_mean = rep->gather_wait_mean = 0.0;
    for (int r = 0; r < t->world; r++) {
        rep->comm_mean += all[3 * r] / t->world;
        rep->exchange_mean += all[3 * r + 1] / t->world;
        rep->gather_wait_mean += all[3 * r + 2] / t->world;
        if (all[3 * r] > rep->comm_max)
            rep->comm_max = all[3 * r];
    }
    return 0;
}

/* What this rank's share of the step's exchange moved (see struct
 * step_report): the all-reduce's buckets, ZeRO-1's reduce-scatter and
 * all-gather rounds over its padded shards, or what the hooks of stages 2
 * and 3 counted. */
static double exchange_bytes(const struct trainer *t)
{
    double W = t->world, f = sizeof(float);
    if (t->zero >= 2)
        return t->zs.bytes;
    if (t->world == 1)
        return 0.0;
    if (t->zero1)
        return 2.0 * (W - 1) * (double)(t->shard_hi[0] - t->shard_lo[0]) * f;
    return 2.0 * (W - 1) / W * (double)t->model.num_params * f;
}

/* The gradient sum over ranks, timed from a barrier: what the exchange
 * costs, apart from waiting for the slowest rank's backward. Stages 2 and 3
 * have exchanged already, layer by layer. */
static int exchange_grads(struct trainer *t, struct step_report *rep, struct herr *err)
{
    if (t->zero >= 2)
        return 0;
    if (t->world > 1 && comm_barrier(t->comm, err))
        return herr_wrap(err, "step %ld, before the gradient exchange: ", t->step);
    double t0 = trainer_now();
    int rc = trainer_reduce_grads(t, err);
    rep->exchange_seconds += trainer_now() - t0;
    return rc;
}

int trainer_step(struct trainer *t, struct step_report *rep, struct herr *err)
{
    const int K = t->K;
    memset(rep, 0, sizeof *rep);
    rep->step = t->step;
    double t0 = trainer_now(), c0 = comm_seconds(t->comm);
    double loss_sum = 0.0;
    long valid = 0;

    t->model.ops->zero_grads(t->model.impl);
    if (t->zero >= 2)
        zero_begin_step(t);
    if (t->normalize_step && K > 1) {
        /* one normalization over the whole step: every micro-batch's losses
         * are needed before the first backward, so all K are forwarded first
         * and re-forwarded (except the last) before their backward */
        for (int k = 0; k < K; k++)
            if (forward_micro(t, k, 1, err))
                return -1;
        if (gather(t, 0, K, err) || weigh(t, K, rep, err))
            return -1;
        account(t, K, rep, 1.0, &loss_sum, &valid);
        for (int k = K - 1; k >= 0; k--) {
            if (k != K - 1 && forward_micro(t, k, 0, err))
                return -1;
            set_row_scales(t, k, k, 1.0);
            if (backward_micro(t, err))
                return -1;
        }
    } else {
        for (int k = 0; k < K; k++) {
            if (forward_micro(t, k, 1, err) || gather(t, k, 1, err) || weigh(t, 1, rep, err))
                return -1;
            account(t, 1, rep, 1.0 / K, &loss_sum, &valid);
            set_row_scales(t, 0, k, 1.0 / K);
            if (backward_micro(t, err))
                return -1;
        }
    }
    rep->loss = valid > 0 ? loss_sum / (double)valid : NAN;

    if (exchange_grads(t, rep, err))
        return -1;
    double sq;
    if (trainer_grad_sumsq(t, &sq, err))
        return -1;
    rep->grad_norm = sqrt(sq);
    if (!isfinite(rep->grad_norm))
        return herr_set(err, "step %ld: the gradient norm is %g (training diverged; try a lower --lr)",
                        t->step, rep->grad_norm);
    rep->clip_scale = optim_clip_scale(rep->grad_norm, t->ocfg.grad_clip);
    rep->lr = optim_lr_at(&t->ocfg, t->step);
    /* under ZeRO-1 the optimizer's range is this rank's shard; under 2 and 3
     * its pieces */
    if (t->zero >= 2 ? zero_update(t, rep->lr, rep->clip_scale, err)
                      : adamw_update(&t->opt, t->model.params, t->model.grads, t->model.spans,
                                     t->model.nspans, &t->ocfg, rep->lr, rep->clip_scale, err))
        return -1;
    double t_share = trainer_now();
    if (trainer_share_params(t, err))
        return -1;
    rep->exchange_seconds += trainer_now() - t_share;
    if (t->zero >= 2) { /* the hooks' gathers and reduce-scatters, staging included */
        rep->exchange_seconds = t->zs.seconds;
        rep->gather_wait_seconds = t->zs.wait_seconds;
        rep->prefetch_seconds = t->zs.prefetch_seconds;
    }
    rep->exchange_bytes = exchange_bytes(t);
    t->be->ops->finish(t->be);
    rep->seconds = trainer_now() - t0;
    rep->comm_seconds = comm_seconds(t->comm) - c0;
    if (gather_comm_times(t, rep, err))
        return -1;
    trainer_trace_step(t, rep);
    t->step++;
    return 0;
}
