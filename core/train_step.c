/* core/train_step.c — one optimizer step: forward, per-sample losses,
 * weights, backward, gradient sum over ranks, clipping, AdamW.
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
    if (load && loader_next(t->ld, in, tg, t->domains + (size_t)k * B, err))
        return herr_wrap(err, "loading step %ld micro-batch %d: ", t->step, k);
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
 * [k0, k0 + nk) from every rank, rank-major: index = (rank * nk + k) * B + b. */
static int gather(struct trainer *t, int k0, int nk, struct herr *err)
{
    const int B = t->cfg.batch;
    size_t n = (size_t)nk * B;
    if (comm_allgather_f64(t->comm, t->loss_local + (size_t)k0 * B, n, t->loss_all, err) ||
        comm_allgather_i32(t->comm, t->ntok_local + (size_t)k0 * B, n, t->ntok_all, err) ||
        comm_allgather_i32(t->comm, t->domains + (size_t)k0 * B, n, t->dom_all, err))
        return herr_wrap(err, "step %ld, gathering per-sample losses: ", t->step);
    return 0;
}

/* Weights of the gathered set (W * nk * B samples). */
static int weigh(struct trainer *t, int nk, struct step_report *rep, struct herr *err)
{
    int N = t->world * nk * t->cfg.batch;
    struct rw_stats *st = &rep->rw;
    if (rw_compute(&t->rwcfg, &t->rwstate, t->step, t->loss_all, t->ntok_all, t->dom_all,
                   t->num_domains, N, t->weights, st, err))
        return herr_wrap(err, "step %ld, reweighting: ", t->step);
    rep->rw_calls++;
    return 0;
}

/* Sets micro-batch k's row scales from the weights of a set gathered with
 * nk micro-batches per rank, in which micro-batch k sits at position kk. */
static void set_row_scales(struct trainer *t, int nk, int kk, int k, double set_share)
{
    const int B = t->cfg.batch;
    for (int b = 0; b < B; b++) {
        int n = t->ntok_local[k * B + b];
        double w = t->weights[((size_t)t->rank * nk + kk) * B + b];
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
    return t->model.ops->backward(t->model.impl, t->row_scale, err);
}

/* Sums the gradients over ranks (host round trip; nothing to do for one rank). */
static int sum_gradients(struct trainer *t, struct herr *err)
{
    if (t->world == 1)
        return 0;
    struct backend *be = t->be;
    size_t P = t->model.num_params;
    be->ops->download(be, t->grad_host, t->model.grads, P * sizeof(float));
    if (backend_check(be, err))
        return herr_wrap(err, "step %ld, downloading gradients: ", t->step);
    if (comm_allreduce_sum_f32(t->comm, t->grad_host, P, err))
        return herr_wrap(err, "step %ld, summing gradients over ranks: ", t->step);
    be->ops->upload(be, t->model.grads, t->grad_host, P * sizeof(float));
    return backend_check(be, err);
}

int trainer_step(struct trainer *t, struct step_report *rep, struct herr *err)
{
    const int K = t->K;
    memset(rep, 0, sizeof *rep);
    rep->step = t->step;
    double t0 = trainer_now();
    double loss_sum = 0.0;
    long valid = 0;

    t->model.ops->zero_grads(t->model.impl);
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
            set_row_scales(t, K, k, k, 1.0);
            if (backward_micro(t, err))
                return -1;
        }
    } else {
        for (int k = 0; k < K; k++) {
            if (forward_micro(t, k, 1, err) || gather(t, k, 1, err) || weigh(t, 1, rep, err))
                return -1;
            account(t, 1, rep, 1.0 / K, &loss_sum, &valid);
            set_row_scales(t, 1, 0, k, 1.0 / K);
            if (backward_micro(t, err))
                return -1;
        }
    }
    rep->loss = valid > 0 ? loss_sum / (double)valid : NAN;

    if (sum_gradients(t, err))
        return -1;
    struct backend *be = t->be;
    double sq = be->ops->sum_squares(be, t->model.grads, t->model.num_params);
    if (backend_check(be, err))
        return herr_wrap(err, "step %ld, gradient norm: ", t->step);
    rep->grad_norm = sqrt(sq);
    if (!isfinite(rep->grad_norm))
        return herr_set(err, "step %ld: the gradient norm is %g (training diverged; try a lower --lr)",
                        t->step, rep->grad_norm);
    rep->clip_scale = optim_clip_scale(rep->grad_norm, t->ocfg.grad_clip);
    rep->lr = optim_lr_at(&t->ocfg, t->step);
    if (adamw_update(&t->opt, t->model.params, t->model.grads, t->model.spans, t->model.nspans,
                     &t->ocfg, rep->lr, rep->clip_scale, err))
        return -1;
    be->ops->finish(be);
    rep->seconds = trainer_now() - t0;
    t->step++;
    return 0;
}
