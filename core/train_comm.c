/* core/train_comm.c — gradients, parameters and optimizer state across ranks.
 *
 * Gradients are summed over ranks bucket by bucket through one host buffer
 * (the stage, core/train_memory.h): download a bucket of the flat gradient,
 * reduce it, upload it. The host never needs a second copy of all P
 * gradients, and on a device with its own memory the transfers of one bucket
 * are short next to its reduction.
 *
 * Plain data parallelism: one all-reduce per bucket; every rank then holds
 * the summed gradient and runs the same AdamW update on all P parameters.
 *
 * ZeRO-1 (--zero1): the flat buffer is cut into W consecutive shards, rank k
 * owning [shard_lo[k], shard_hi[k]) and the Adam moments of that range only.
 * The gradients are reduce-scattered (each element summed once, to its
 * owner), every rank updates its own shard of the parameters, and the
 * shards are all-gathered. The bytes on the wire equal the all-reduce's
 * (which is a reduce-scatter plus an all-gather), and the optimizer state
 * per rank drops from 8P to 8P/W bytes. The gradient norm for clipping is
 * the sum over ranks of the shards' sums of squares.
 *
 * ZeRO-2 and 3 exchange layer by layer inside the backward (and the forward):
 * core/train_zero.c; the functions below hand over to it.
 *
 * Checkpoints hold whole sections (a checkpoint does not depend on the rank
 * count or the stage): sharded state (ZeRO-1's moments; the moments of
 * stages 2 and 3 and stage 3's parameters) is gathered to rank 0 for saving
 * and scattered on resume, in rounds of one stage, so no rank holds a whole
 * section on the host. Resuming reads every section on rank 0 only and hands
 * it out the same way, so the other ranks need no access to rank 0's file
 * system. */
#include <string.h>

#include "core/train_internal.h"

static int fail_be(struct trainer *t, const char *what, struct herr *err)
{
    if (backend_check(t->be, err))
        return herr_wrap(err, "step %ld, %s: ", t->step, what);
    return 0;
}

/* Plain data parallelism: all-reduce bucket by bucket. */
static int allreduce_grads(struct trainer *t, struct herr *err)
{
    struct backend *be = t->be;
    size_t P = t->model.num_params;
    for (size_t o = 0; o < P; o += t->stage_floats) {
        size_t n = P - o < t->stage_floats ? P - o : t->stage_floats;
        be->ops->download(be, t->stage, dptr_at(t->model.grads, o), n * sizeof(float));
        if (fail_be(t, "downloading gradients", err))
            return -1;
        if (comm_allreduce_sum_f32(t->comm, t->stage, n, err))
            return herr_wrap(err, "step %ld, summing gradients over ranks: ", t->step);
        be->ops->upload(be, dptr_at(t->model.grads, o), t->stage, n * sizeof(float));
    }
    return fail_be(t, "uploading gradients", err);
}

/* ZeRO-1 moves shards in rounds: one round carries elements [o, o + n) of
 * every rank's shard, rank k's piece at stage + k * n (W pieces fill the
 * stage). The last shards may be shorter than the first: their pieces are
 * padded (zeros in, ignored out). Returns the piece length n of the round
 * at offset o, and sets valid[k] = how much of rank k's piece is real. */
static size_t zero_round(struct trainer *t, size_t o, size_t *valid)
{
    size_t S = t->shard_hi[0] - t->shard_lo[0];
    size_t b = t->stage_floats / (size_t)t->world;
    size_t n = S - o < b ? S - o : b;
    for (int k = 0; k < t->world; k++) {
        size_t len = t->shard_hi[k] - t->shard_lo[k];
        valid[k] = len <= o ? 0 : (len - o < n ? len - o : n);
    }
    return n;
}

static int zero_reduce_grads(struct trainer *t, struct herr *err)
{
    struct backend *be = t->be;
    size_t S = t->shard_hi[0] - t->shard_lo[0];
    for (size_t o = 0; o < S;) {
        size_t n = zero_round(t, o, t->counts);
        for (int k = 0; k < t->world; k++) {
            float *piece = t->stage + (size_t)k * n;
            if (t->counts[k])
                be->ops->download(be, piece, dptr_at(t->model.grads, t->shard_lo[k] + o),
                                  t->counts[k] * sizeof(float));
            memset(piece + t->counts[k], 0, (n - t->counts[k]) * sizeof(float));
        }
        if (fail_be(t, "downloading gradients", err))
            return -1;
        /* this rank's piece, summed over ranks, lands at the stage's start */
        if (comm_reduce_scatter_sum_f32(t->comm, t->stage, n, err))
            return herr_wrap(err, "step %ld, reduce-scatter of gradients: ", t->step);
        if (t->counts[t->rank])
            be->ops->upload(be, dptr_at(t->model.grads, t->shard_lo[t->rank] + o), t->stage,
                            t->counts[t->rank] * sizeof(float));
        o += n;
    }
    return fail_be(t, "uploading gradients", err);
}

int trainer_reduce_grads(struct trainer *t, struct herr *err)
{
    if (t->world == 1 || t->zero >= 2) /* stages 2, 3: done layer by layer */
        return 0;
    return t->zero1 ? zero_reduce_grads(t, err) : allreduce_grads(t, err);
}

int trainer_grad_sumsq(struct trainer *t, double *sumsq, struct herr *err)
{
    if (t->zero >= 2)
        return zero_grad_sumsq(t, sumsq, err);
    struct backend *be = t->be;
    size_t lo = t->zero1 ? t->shard_lo[t->rank] : 0;
    size_t hi = t->zero1 ? t->shard_hi[t->rank] : t->model.num_params;
    double sq = hi > lo ? be->ops->sum_squares(be, dptr_at(t->model.grads, lo), hi - lo) : 0.0;
    if (fail_be(t, "gradient norm", err))
        return -1;
    /* without ZeRO-1 every rank holds the whole sum: nothing to add up */
    if (t->zero1 && comm_allreduce_sum_f64(t->comm, &sq, 1, err))
        return herr_wrap(err, "step %ld, gradient norm over ranks: ", t->step);
    *sumsq = sq;
    return 0;
}

int trainer_share_params(struct trainer *t, struct herr *err)
{
    if (t->zero >= 2)
        return zero_share_params(t, err);
    if (t->world == 1 || !t->zero1)
        return 0;
    struct backend *be = t->be;
    size_t S = t->shard_hi[0] - t->shard_lo[0];
    for (size_t o = 0; o < S;) {
        size_t n = zero_round(t, o, t->counts);
        float *mine = t->stage + (size_t)t->rank * n;
        if (t->counts[t->rank])
            be->ops->download(be, mine, dptr_at(t->model.params, t->shard_lo[t->rank] + o),
                              t->counts[t->rank] * sizeof(float));
        memset(mine + t->counts[t->rank], 0, (n - t->counts[t->rank]) * sizeof(float));
        if (fail_be(t, "downloading parameters", err))
            return -1;
        if (comm_allgather_inplace_f32(t->comm, t->stage, n, err))
            return herr_wrap(err, "step %ld, all-gather of parameters: ", t->step);
        for (int k = 0; k < t->world; k++)
            if (k != t->rank && t->counts[k])
                be->ops->upload(be, dptr_at(t->model.params, t->shard_lo[k] + o),
                                t->stage + (size_t)k * n, t->counts[k] * sizeof(float));
        o += n;
    }
    return fail_be(t, "uploading parameters", err);
}

/* ---- checkpoint rounds ------------------------------------------------------ */

const struct zero_layout *trainer_state_layout(const struct trainer *t)
{
    if (t->zero >= 2)
        return &t->zs.lay;
    return t->zero1 ? &t->z1 : NULL;
}

const struct zero_layout *trainer_params_layout(const struct trainer *t)
{
    return t->zero == 3 ? &t->zs.lay : NULL;
}

dptr trainer_params_state(const struct trainer *t)
{
    return t->zero == 3 ? t->zs.pshard : t->model.params;
}

void ckpt_rounds_init(struct ckpt_rounds *r, struct trainer *t, dptr state,
                      const struct zero_layout *lay)
{
    memset(r, 0, sizeof *r);
    r->t = t;
    r->state = state;
    r->lay = lay;
}

static size_t overlap(size_t a, size_t b, size_t c, size_t d)
{
    size_t lo = a > c ? a : c, hi = b < d ? b : d;
    return hi > lo ? hi - lo : 0;
}

static const struct zero_slice *round_slice(const struct ckpt_rounds *r)
{
    return &r->lay->slices[r->lay->flat_order[r->next]];
}

/* Where rank k's piece of s starts in the flat buffer. */
static size_t piece_start(const struct zero_slice *s, int k)
{
    return s->flat + (size_t)k * s->piece;
}

/* Round [lo, hi): how many of its elements each rank owns (the owners of a
 * slice's pieces follow one another in rank order, so their blocks do). */
static void round_counts(struct ckpt_rounds *r)
{
    struct trainer *t = r->t;
    const struct zero_slice *s = round_slice(r);
    for (int k = 0; k < t->world; k++) {
        size_t a = piece_start(s, k);
        t->counts[k] = overlap(r->lo, r->hi, a, a + zero_piece_valid(s, k));
    }
}

/* Where this rank's part of the round starts in its state buffer. */
static dptr my_part(struct ckpt_rounds *r)
{
    const struct zero_slice *s = round_slice(r);
    size_t a = piece_start(s, r->t->rank);
    size_t first = r->lo > a ? r->lo : a;
    return dptr_at(r->state, s->shard + (first - a));
}

/* The next round: at most a stage, and inside one slice. */
static void next_round(struct ckpt_rounds *r)
{
    size_t P = r->t->model.num_params, end = P;
    r->lo = r->hi;
    if (r->lay) {
        while (round_slice(r)->flat + round_slice(r)->count <= r->lo)
            r->next++;
        end = round_slice(r)->flat + round_slice(r)->count;
    }
    r->hi = end - r->lo < r->t->stage_floats ? end : r->lo + r->t->stage_floats;
}

/* Gathers round [lo, hi) of a sharded section into rank 0's stage. */
static int gather_round(struct ckpt_rounds *r, struct herr *err)
{
    struct trainer *t = r->t;
    struct backend *be = t->be;
    round_counts(r);
    size_t mine = t->counts[t->rank];
    /* rank 0's block comes first, so it is already in place in its stage */
    if (mine)
        be->ops->download(be, t->stage, my_part(r), mine * sizeof(float));
    if (backend_check(be, err))
        return -1;
    return comm_gatherv_f32(t->comm, t->rank == 0 ? NULL : t->stage, t->counts, t->stage, 0,
                            err);
}

int ckpt_rounds_fetch(struct ckpt_rounds *r, float *dst, size_t off, size_t n,
                      struct herr *err)
{
    while (n > 0) {
        if (off >= r->hi) {
            if (off != r->hi)
                return herr_set(err, "checkpoint rounds: element %zu asked for after %zu "
                                     "(sections must be written in order)", off, r->hi);
            next_round(r);
            if (gather_round(r, err))
                return -1;
        }
        size_t take = r->hi - off < n ? r->hi - off : n;
        memcpy(dst, r->t->stage + (off - r->lo), take * sizeof(float));
        dst += take;
        off += take;
        n -= take;
    }
    return 0;
}

/* A rank other than 0 takes part in every remaining round of a section. */
static int follow_rounds(struct ckpt_rounds *r, int (*round)(struct ckpt_rounds *, struct herr *),
                         struct herr *err)
{
    size_t P = r->t->model.num_params;
    while (r->hi < P) {
        next_round(r);
        if (round(r, err))
            return -1;
    }
    return 0;
}

int ckpt_rounds_serve(struct ckpt_rounds *r, struct herr *err)
{
    return follow_rounds(r, gather_round, err);
}

/* Hands round [lo, hi), in rank 0's stage, to every rank's state. */
static int deliver_round(struct ckpt_rounds *r, struct herr *err)
{
    struct trainer *t = r->t;
    struct backend *be = t->be;
    size_t n = r->hi - r->lo;
    r->done = r->hi;
    if (!r->lay) {
        if (comm_bcast(t->comm, t->stage, n * sizeof(float), 0, err))
            return -1;
        be->ops->upload(be, dptr_at(r->state, r->lo), t->stage, n * sizeof(float));
        return backend_check(be, err);
    }
    round_counts(r);
    /* rank 0's block stays in place at the start of its stage */
    if (comm_scatterv_f32(t->comm, t->stage, t->counts, t->rank == 0 ? NULL : t->stage, 0, err))
        return -1;
    size_t mine = t->counts[t->rank];
    if (mine)
        be->ops->upload(be, my_part(r), t->stage, mine * sizeof(float));
    return backend_check(be, err);
}

int ckpt_rounds_put(struct ckpt_rounds *r, const float *src, size_t off, size_t n,
                    struct herr *err)
{
    if (r->hi == 0)
        next_round(r);
    while (n > 0) {
        if (off < r->lo || off >= r->hi)
            return herr_set(err, "checkpoint rounds: element %zu handed in outside round "
                                 "[%zu, %zu) (sections must be read in order)", off, r->lo,
                            r->hi);
        size_t take = r->hi - off < n ? r->hi - off : n;
        memcpy(r->t->stage + (off - r->lo), src, take * sizeof(float));
        src += take;
        off += take;
        n -= take;
        if (off == r->hi) {
            if (deliver_round(r, err))
                return -1;
            if (r->hi == r->t->model.num_params)
                break;
            next_round(r);
        }
    }
    return 0;
}

int ckpt_rounds_flush(struct ckpt_rounds *r, struct herr *err)
{
    /* every round is delivered as it fills, so a whole section leaves
     * nothing pending; a short one would leave the other ranks waiting */
    if (r->done != r->t->model.num_params)
        return herr_set(err, "checkpoint section ended after %zu of %zu elements", r->done,
                        r->t->model.num_params);
    return 0;
}

int ckpt_rounds_receive(struct ckpt_rounds *r, struct herr *err)
{
    return follow_rounds(r, deliver_round, err);
}
