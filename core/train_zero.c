/* core/train_zero.c — ZeRO stages 2 and 3: gradients (2) and parameters too
 * (3) sharded over the ranks by the layout of core/zero_layout.h, moved layer
 * by layer through the model's hooks (models/param_groups.h).
 *
 * Stage 2. Every rank holds all parameters, as in plain data parallelism, but
 * no whole gradient: the model writes one layer's gradients at a time into a
 * layer buffer, and when the layer's backward is done they are
 * reduce-scattered, each rank keeping the sums of its own pieces in its
 * gradient shard (adding over micro-batches). The outer group's gradients
 * (embeddings, final norm, head) have their own buffer, kept through the
 * backward (a tied head and the embedding add into one tensor at both ends)
 * and reduced at its end. Each rank then runs AdamW on its pieces, and the
 * pieces are all-gathered into every rank's parameters.
 *
 * Stage 3. No rank holds the whole parameters either, only its shard. Before
 * a layer's forward and again before its backward (and its recomputed
 * forward, which uses the same weights), the model asks for the layer's
 * weights: the ranks all-gather the layer's pieces into a layer buffer. There
 * are TRAIN_LAYER_BUFFERS of them, layer l in buffer l % 2, and a buffer that
 * still holds the layer asked for is not gathered again: the backward starts
 * with the two layers the forward ended with. The outer group is gathered
 * once per optimizer step and kept. The update runs on the shards alone.
 *
 * Each transfer goes through the host stage (core/train_memory.h), in rounds
 * of stage_floats / W elements per rank: a layer of a 7B model is ~25 rounds,
 * a small one a single all-gather that moves all its slices. With the
 * prefetch (--zero-prefetch on, or auto when a core is free for it) the
 * gather of the layer the model will ask for next runs on a communication
 * thread, through its own stage, while the model computes with the current
 * one (core/train_prefetch.c: when, the order, the threads, the time
 * accounting); the hooks collect it before the layer is used and before any
 * collective of their own. Where it does not run (the OpenCL backend, an MPI
 * without MPI_THREAD_SERIALIZED, auto without a free core, off), the gathers
 * are blocking MPI calls made when the model asks. The bytes, the
 * buffers and the results are the same either way. The reduce-scatters are
 * blocking, made when the backward finishes a layer. */
#include <stdlib.h>
#include <string.h>

#include "core/train_internal.h"
#include "core/train_memory.h"

/* Where element i of rank k's piece of slice s lies in a buffer that holds
 * this rank's pieces (a shard), one group's tensors (a gathered buffer), or
 * the whole flat layout. */
enum place { IN_SHARD, IN_GROUP, IN_FLAT };

static size_t place_of(const struct zero_slice *s, enum place where, int k, size_t i)
{
    if (where == IN_SHARD)
        return s->shard + i;
    return (where == IN_GROUP ? s->local : s->flat) + (size_t)k * s->piece + i;
}

/* Moves rank k's part [o, o + n) of group g's pieces between the host block
 * blk (n floats) and buf laid out as `where`: down = 1 fills blk (zeros where
 * a piece is padding), 0 writes blk's real elements out. */
static void move_block(struct trainer *t, const struct zero_group *grp, size_t o, size_t n, int k,
                       float *blk, dptr buf, enum place where, int down)
{
    struct backend *be = t->be;
    const struct zero_layout *z = &t->zs.lay;
    if (where == IN_SHARD) { /* this rank's pieces are one range, padding zero */
        if (down)
            be->ops->download(be, blk, dptr_at(buf, grp->shard + o), n * sizeof(float));
        else
            be->ops->upload(be, dptr_at(buf, grp->shard + o), blk, n * sizeof(float));
        return;
    }
    if (down)
        memset(blk, 0, n * sizeof(float));
    for (int i = grp->first; i < grp->first + grp->count; i++) {
        const struct zero_slice *s = &z->slices[i];
        size_t a = s->shard - grp->shard; /* the piece's place in the group's part */
        size_t lo = o > a ? o : a, hi = a + zero_piece_valid(s, k);
        if (hi > o + n)
            hi = o + n;
        if (lo >= hi)
            continue;
        dptr at = dptr_at(buf, place_of(s, where, k, lo - a));
        size_t bytes = (hi - lo) * sizeof(float);
        if (down)
            be->ops->download(be, blk + (lo - o), at, bytes);
        else
            be->ops->upload(be, at, blk + (lo - o), bytes);
    }
}

static size_t round_floats(const struct trainer *t) { return t->stage_floats / (size_t)t->world; }

static const char *group_name(const struct trainer *t, int g, char *buf, size_t cap)
{
    if (g == t->zs.lay.ngroups - 1)
        snprintf(buf, cap, "the outer group");
    else
        snprintf(buf, cap, "layer %d", g);
    return buf;
}

/* The rounds of an all-gather of group g through the host block `stage`
 * (W rounds): this rank's pieces from src (`from`) and every rank's into dst
 * (`to`); with skip_own, this rank's own stay where they are (the parameters
 * of stage 2 are updated in place). Adds the bytes moved to *bytes. With
 * check, the backend's error state is checked between rounds; the prefetch
 * thread leaves that to the main thread, which checks after waiting for it
 * (core/train_prefetch.c). Reads the trainer, writes only dst, stage and
 * *bytes, so that thread may run it. */
static int gather_rounds(struct trainer *t, int g, dptr src, enum place from, dptr dst,
                         enum place to, int skip_own, float *stage, int check, long step,
                         double *bytes, struct herr *err)
{
    const struct zero_group *grp = &t->zs.lay.groups[g];
    size_t b = round_floats(t);
    char name[32];
    for (size_t o = 0; o < grp->pieces; o += b) {
        size_t n = grp->pieces - o < b ? grp->pieces - o : b;
        move_block(t, grp, o, n, t->rank, stage + (size_t)t->rank * n, src, from, 1);
        if (check && backend_check(t->be, err))
            return herr_wrap(err, "step %ld, gathering %s: ", step,
                             group_name(t, g, name, sizeof name));
        if (comm_allgather_inplace_f32(t->comm, stage, n, err))
            return herr_wrap(err, "step %ld, all-gather of %s: ", step,
                             group_name(t, g, name, sizeof name));
        for (int k = 0; k < t->world; k++)
            if (!(skip_own && k == t->rank))
                move_block(t, grp, o, n, k, stage + (size_t)k * n, dst, to, 0);
        *bytes += (double)(t->world - 1) * n * sizeof(float);
    }
    return 0;
}

int zero_gather_layer(struct trainer *t, int g, dptr dst, float *stage, long step,
                      double *bytes, struct herr *err)
{
    return gather_rounds(t, g, t->zs.pshard, IN_SHARD, dst, IN_GROUP, 0, stage, 0, step, bytes,
                         err);
}

/* All-gathers group g on the main thread, through the trainer's stage. */
static int gather_group(struct trainer *t, int g, dptr src, enum place from, dptr dst,
                        enum place to, int skip_own, struct herr *err)
{
    struct zero_state *z = &t->zs;
    double t0 = trainer_now();
    char name[32];
    if (gather_rounds(t, g, src, from, dst, to, skip_own, t->stage, 1, t->step, &z->bytes, err))
        return -1;
    z->seconds += trainer_now() - t0;
    if (backend_check(t->be, err))
        return herr_wrap(err, "step %ld, gathering %s: ", t->step,
                         group_name(t, g, name, sizeof name));
    return 0;
}

/* Reduce-scatters group g's gradients from its gathered buffer src into the
 * gradient shard: each rank gets the sum over ranks of its pieces, written
 * there (the step's first backward) or added to what is there. */
static int reduce_group(struct trainer *t, int g, dptr src, int accumulate, struct herr *err)
{
    struct zero_state *z = &t->zs;
    struct backend *be = t->be;
    const struct zero_group *grp = &z->lay.groups[g];
    size_t b = round_floats(t);
    double t0 = trainer_now();
    char name[32];
    for (size_t o = 0; o < grp->pieces; o += b) {
        size_t n = grp->pieces - o < b ? grp->pieces - o : b;
        for (int k = 0; k < t->world; k++)
            move_block(t, grp, o, n, k, t->stage + (size_t)k * n, src, IN_GROUP, 1);
        if (backend_check(be, err))
            return herr_wrap(err, "step %ld, gradients of %s: ", t->step,
                             group_name(t, g, name, sizeof name));
        if (comm_reduce_scatter_sum_f32(t->comm, t->stage, n, err))
            return herr_wrap(err, "step %ld, reduce-scatter of the gradients of %s: ", t->step,
                             group_name(t, g, name, sizeof name));
        if (accumulate) {
            move_block(t, grp, o, n, t->rank, z->acc, z->gshard, IN_SHARD, 1);
            for (size_t i = 0; i < n; i++)
                t->stage[i] = z->acc[i] + t->stage[i];
        }
        move_block(t, grp, o, n, t->rank, t->stage, z->gshard, IN_SHARD, 0);
        z->bytes += (double)(t->world - 1) * n * sizeof(float);
    }
    z->seconds += trainer_now() - t0;
    if (backend_check(be, err))
        return herr_wrap(err, "step %ld, gradients of %s: ", t->step,
                         group_name(t, g, name, sizeof name));
    return 0;
}

/* ---- the model's hooks ------------------------------------------------------ */

static int outer_group(const struct trainer *t) { return t->zs.lay.ngroups - 1; }

/* Stage 3: group g's weights. A prefetch in flight (normally of this very
 * layer) is collected first; a buffer that does not hold g then gathers it
 * here, the main thread waiting; then the pass's next layer is prefetched
 * (core/train_prefetch.c) while the model computes with g. */
static int hook_params(void *ctx, int g, dptr *base, struct herr *err)
{
    struct trainer *t = ctx;
    struct zero_state *z = &t->zs;
    if (zero_prefetch_collect(t, err))
        return -1;
    double t0 = trainer_now();
    if (g == outer_group(t)) {
        if (!z->outer_held &&
            gather_group(t, g, z->pshard, IN_SHARD, z->outer_p, IN_GROUP, 0, err))
            return -1;
        z->outer_held = 1;
        *base = z->outer_p;
    } else {
        int b = train_layer_buffer(g);
        if (z->held[b] != g) {
            z->held[b] = -1; /* a failed gather leaves it unknown */
            if (gather_group(t, g, z->pshard, IN_SHARD, z->layer_p[b], IN_GROUP, 0, err))
                return -1;
            z->held[b] = g;
            z->gathers_inline++;
        }
        *base = z->layer_p[b];
    }
    z->wait_seconds += trainer_now() - t0;
    return zero_prefetch_next(t, g, err);
}

static dptr grads_buffer(struct trainer *t, int g)
{
    return g == outer_group(t) ? t->zs.outer_g : t->zs.layer_g;
}

static int hook_grads(void *ctx, int g, dptr *base, struct herr *err)
{
    struct trainer *t = ctx;
    (void)err;
    *base = grads_buffer(t, g);
    t->be->ops->fill(t->be, *base, 0.0f, t->zs.lay.groups[g].floats);
    return 0;
}

static int hook_grads_done(void *ctx, int g, struct herr *err)
{
    struct trainer *t = ctx;
    struct zero_state *z = &t->zs;
    /* the prefetch of the next layer first: one thread in MPI at a time (the
     * collective would wait for it anyway), and its error surfaces here */
    if (zero_prefetch_collect(t, err))
        return -1;
    if (reduce_group(t, g, grads_buffer(t, g), z->backwards > 0, err))
        return -1;
    if (g == outer_group(t))
        z->backwards++; /* the outer group is the backward's last */
    return 0;
}

/* ---- set-up ------------------------------------------------------------------ */

/* Weight decay of the model span holding flat element i. */
static int decays_at(const struct model *m, size_t i)
{
    for (int s = 0; s < m->nspans; s++)
        if (i >= m->spans[s].offset && i < m->spans[s].offset + m->spans[s].count)
            return m->spans[s].decays;
    return 0;
}

/* AdamW's spans: this rank's real elements of every piece, in shard order,
 * runs merged where parameters, gradients and moments all continue. */
static int build_spans(struct trainer *t, struct herr *err)
{
    struct zero_state *z = &t->zs;
    z->spans = calloc((size_t)z->lay.nslices, sizeof *z->spans);
    if (!z->spans)
        return herr_set(err, "out of host memory for the optimizer's spans");
    z->nspans = 0;
    for (int i = 0; i < z->lay.nslices; i++) {
        const struct zero_slice *s = &z->lay.slices[i];
        size_t v = zero_piece_valid(s, t->rank);
        if (!v)
            continue;
        struct optim_span run = {
            t->zero == 3 ? s->shard : s->flat + (size_t)t->rank * s->piece, s->shard, s->shard,
            v, decays_at(&t->model, s->flat)
        };
        struct optim_span *last = z->nspans ? &z->spans[z->nspans - 1] : NULL;
        if (last && last->decays == run.decays && last->param + last->count == run.param &&
            last->grad + last->count == run.grad && last->state + last->count == run.state)
            last->count += run.count;
        else
            z->spans[z->nspans++] = run;
    }
    return 0;
}

int zero_setup(struct trainer *t, struct herr *err)
{
    struct zero_state *z = &t->zs;
    struct backend *be = t->be;
    if (zero_layout_build(&z->lay, &t->model.config, t->world, err))
        return -1;
    struct train_device_sizes ds;
    train_device_sizes(t->zero, t->world, t->K, t->model.num_params, &z->lay, t->stage_floats,
                       &ds);
    size_t S = z->lay.shard_floats;
    if (t->zero == 3) {
        z->pshard = backend_alloc_floats(be, S);
        z->outer_p = backend_alloc_floats(be, z->lay.outer_floats);
        for (int b = 0; b < train_layer_buffers(&z->lay); b++)
            z->layer_p[b] = backend_alloc_floats(be, z->lay.layer_floats);
    }
    z->gshard = backend_alloc_floats(be, S);
    z->outer_g = backend_alloc_floats(be, z->lay.outer_floats);
    z->layer_g = backend_alloc_floats(be, z->lay.layer_floats);
    if (backend_check(be, err))
        return herr_wrap(err, "allocating ZeRO-%d buffers (shards of %zu floats, layers of %zu, "
                              "outer group of %zu): ", t->zero, S, z->lay.layer_floats,
                         z->lay.outer_floats);
    if (t->zero == 3)
        be->ops->fill(be, z->pshard, 0.0f, S); /* the pieces' padding stays zero */
    be->ops->fill(be, z->gshard, 0.0f, S);
    for (int b = 0; b < TRAIN_LAYER_BUFFERS; b++)
        z->held[b] = -1;
    if (ds.host_acc) {
        z->acc = malloc(ds.host_acc * sizeof *z->acc);
        if (!z->acc)
            return herr_set(err, "out of host memory for the gradient accumulation buffer");
    }
    if (build_spans(t, err))
        return -1;
    struct param_hooks h = { t, t->zero == 3 ? hook_params : NULL, hook_grads, hook_grads_done };
    t->model.ops->set_hooks(t->model.impl, &h);
    return backend_check(be, err);
}

void zero_teardown(struct trainer *t)
{
    struct zero_state *z = &t->zs;
    zero_prefetch_teardown(t); /* a gather in flight ends before its buffers go */
    if (t->be) {
        backend_release_ptr(t->be, z->pshard);
        backend_release_ptr(t->be, z->gshard);
        backend_release_ptr(t->be, z->outer_p);
        backend_release_ptr(t->be, z->outer_g);
        backend_release_ptr(t->be, z->layer_g);
        for (int b = 0; b < TRAIN_LAYER_BUFFERS; b++)
            backend_release_ptr(t->be, z->layer_p[b]);
    }
    free(z->spans);
    free(z->acc);
    zero_layout_free(&z->lay);
    memset(z, 0, sizeof *z);
}

/* ---- the step ------------------------------------------------------------------ */

void zero_begin_step(struct trainer *t)
{
    /* what a validation left gathered would do, but a step's exchange is
     * then always the same (train_exchange_bytes) */
    zero_params_changed(t);
    t->zs.backwards = 0;
    t->zs.bytes = 0;
    t->zs.seconds = 0;
    t->zs.wait_seconds = 0;
    t->zs.prefetch_seconds = 0;
}

void zero_begin_pass(struct trainer *t, enum zero_pass pass)
{
    t->zs.pass = pass;
}

int zero_grad_sumsq(struct trainer *t, double *sumsq, struct herr *err)
{
    double sq = t->be->ops->sum_squares(t->be, t->zs.gshard, t->zs.lay.shard_floats);
    if (backend_check(t->be, err))
        return herr_wrap(err, "step %ld, gradient norm: ", t->step);
    if (comm_allreduce_sum_f64(t->comm, &sq, 1, err))
        return herr_wrap(err, "step %ld, gradient norm over ranks: ", t->step);
    *sumsq = sq;
    return 0;
}

int zero_update(struct trainer *t, double lr, double clip_scale, struct herr *err)
{
    struct zero_state *z = &t->zs;
    dptr params = t->zero == 3 ? z->pshard : t->model.params;
    return adamw_update_spans(&t->opt, params, z->gshard, z->spans, z->nspans, &t->ocfg, lr,
                              clip_scale, err);
}

void zero_params_changed(struct trainer *t)
{
    zero_prefetch_drop(t);
    for (int b = 0; b < TRAIN_LAYER_BUFFERS; b++)
        t->zs.held[b] = -1;
    t->zs.outer_held = 0;
}

int zero_share_params(struct trainer *t, struct herr *err)
{
    zero_params_changed(t);
    if (t->zero == 3)
        return 0; /* each layer is gathered when next used */
    for (int g = 0; g < t->zs.lay.ngroups; g++)
        if (gather_group(t, g, t->model.params, IN_FLAT, t->model.params, IN_FLAT, 1, err))
            return -1;
    return 0;
}
