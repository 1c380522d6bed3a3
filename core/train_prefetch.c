/* core/train_prefetch.c — ZeRO-3: while the model computes with one layer,
 * the next layer it will ask for is gathered on the communication thread
 * (comm_background_*, core/comm.h) into the other layer buffer.
 *
 * The order. The decoder asks for groups in a fixed order
 * (models/param_groups.h): a forward asks for the outer group, then layers
 * 0..L-1; a backward for the outer group, then L-1..0 (once per layer, its
 * recomputed forward under --recompute layer included). The trainer says
 * which pass it is about to run (zero_begin_pass: every training forward,
 * re-forward, backward and validation forward), so when the model has group
 * g the next one is known: layer 0 after the outer group in a forward, L-1
 * in a backward, g + 1 or g - 1 after layer g. Nothing is fetched past the
 * pass's last layer: what comes next (a backward, another micro-batch, a
 * validation batch, the update) is the trainer's, and the backward finds the
 * forward's last two layers held anyway. Layer l lands in buffer l % 2: the
 * next layer's buffer is never the one the model computes with, and the
 * hooks' contract ends the previous layer's use of it when the model asks
 * for the next group. A fetch therefore moves exactly the gathers the
 * blocking path would make, in the same buffers: the same bytes, the same
 * results, the same exchange_mib (tests/test_zero_prefetch.sh checks both).
 *
 * Threads. The job reads this rank's pieces from the parameter shard (not
 * written during a pass), stages them in its own host buffer (pstage: never
 * the trainer's stage, which the main thread's reduce-scatters use meanwhile),
 * all-gathers and uploads into the layer buffer, which the model does not
 * use until the main thread has collected the job. Only backends whose
 * transfers may run beside their compute do this (backends/backend.h:
 * concurrent_transfers; the CPU backend); the job never calls backend_check,
 * the main thread checks after waiting. MPI must give
 * MPI_THREAD_SERIALIZED; core/comm_mpi.c makes each main-thread collective
 * wait for the job first, and the hooks collect it explicitly before the
 * gradients' reduce-scatter, so the order of collectives is the same on
 * every rank: gather(l - 1) before reduce-scatter(l) in the backward.
 *
 * Time. zero_state.seconds (exchange_ms) counts the main thread's time: a
 * gather in line, a wait for a prefetch not yet done (wait_seconds holds
 * both), the reduce-scatters. The job's own time is prefetch_seconds; the
 * part of it the main thread did not wait for is what overlapped. comm's
 * comm_seconds counts the waits, not the job's collectives, so nothing is
 * counted twice.
 *
 * When. --zero-prefetch auto (the default) prefetches only when the cores
 * allow it: the job's thread needs a core that the rank's compute threads
 * (backend host_threads) and the other ranks of the node do not keep busy.
 * On an oversubscribed node the thread's collective busy-polls on a core the
 * compute needs and the step gets slower, not faster (docs/RESULTS.md, the
 * ZeRO cost section); `on` prefetches anyway.
 *
 * Failure. A failed gather (MPI's error, or a rank that does not come: the
 * watchdog ends the job's collective as any other) is reported when the
 * main thread collects it: when the model asks for the layer, or before the
 * next gradient reduce-scatter, whichever comes first. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/train_internal.h"
#include "core/train_memory.h"

static int fetch_job(void *arg, struct herr *err)
{
    struct zero_fetch *f = arg;
    struct trainer *t = f->t;
    double t0 = trainer_now();
    int rc = zero_gather_layer(t, f->g, t->zs.layer_p[f->b], t->zs.pstage, f->step, &f->bytes,
                               err);
    f->seconds = trainer_now() - t0;
    return rc ? herr_wrap(err, "prefetch: ") : 0;
}

/* Why this rank cannot (or, under auto, should not) prefetch, into why; ""
 * when it can. */
static void reason_off(const struct trainer *t, char *why, size_t cap)
{
    const char *bg_why = NULL;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int node = comm_node_size(t->comm), threads = t->be->host_threads;
    why[0] = '\0';
    if (!t->be->concurrent_transfers)
        snprintf(why, cap, "the %s backend's transfers cannot overlap its compute", t->be->name);
    else if (!comm_background_available(t->comm, &bg_why))
        snprintf(why, cap, "%s", bg_why);
    else if (!strcmp(t->cfg.zero_prefetch, "auto") && cores > 0 && (long)node * threads >= cores)
        snprintf(why, cap, "%d rank(s) x %d thread(s) on this node keep its %ld cores busy, none "
                 "is left for a communication thread (--threads lower, or --zero-prefetch on)",
                 node, threads, cores);
}

int zero_prefetch_setup(struct trainer *t, struct herr *err)
{
    struct zero_state *z = &t->zs;
    z->prefetch = 0;
    z->prefetch_note[0] = '\0';
    if (t->zero != 3 || strcmp(t->cfg.zero_prefetch, "off") == 0)
        return 0;
    char why[240];
    reason_off(t, why, sizeof why);
    /* every rank must do the same: a prefetch moves the backward's gather of
     * layer l - 1 before the reduce-scatter of layer l */
    double on = why[0] ? 0.0 : 1.0;
    if (comm_allreduce_sum_f64(t->comm, &on, 1, err))
        return herr_wrap(err, "agreeing on --zero-prefetch: ");
    if (on != (double)t->world && !why[0])
        snprintf(why, sizeof why, "another rank cannot prefetch");
    if (why[0]) {
        snprintf(z->prefetch_note, sizeof z->prefetch_note,
                 "--zero-prefetch %.4s: gathering each layer when it is used instead: %s",
                 t->cfg.zero_prefetch, why);
        return 0;
    }
    struct train_device_sizes ds;
    train_device_sizes(3, t->world, t->K, t->model.num_params, &z->lay, t->stage_floats, &ds);
    z->pstage = malloc(ds.host_prefetch * sizeof *z->pstage);
    if (!z->pstage)
        return herr_set(err, "out of host memory for the prefetch's stage (%zu floats); "
                             "--zero-prefetch off gathers without it", ds.host_prefetch);
    z->prefetch = 1;
    return 0;
}

int zero_prefetch_next(struct trainer *t, int g, struct herr *err)
{
    struct zero_state *z = &t->zs;
    const int L = z->lay.ngroups - 1;
    enum zero_pass pass = z->pass;
    if (g != L && g == (pass == ZERO_PASS_FORWARD ? L - 1 : 0))
        z->pass = ZERO_PASS_NONE; /* the pass's last layer: what follows is not known */
    if (!z->prefetch || pass == ZERO_PASS_NONE)
        return 0;
    int next;
    if (g == L)
        next = pass == ZERO_PASS_FORWARD ? 0 : L - 1;
    else
        next = pass == ZERO_PASS_FORWARD ? g + 1 : g - 1;
    if (next < 0 || next >= L)
        return 0;
    int b = train_layer_buffer(next);
    if (z->held[b] == next)
        return 0;
    z->held[b] = -1; /* being written */
    memset(&z->fetch, 0, sizeof z->fetch);
    z->fetch.t = t;
    z->fetch.g = next;
    z->fetch.b = b;
    z->fetch.step = t->step;
    if (comm_background_start(t->comm, fetch_job, &z->fetch, err))
        return herr_wrap(err, "step %ld, starting the prefetch of layer %d (--zero-prefetch off "
                              "gathers without a thread): ", t->step, next);
    z->fetching = 1;
    return 0;
}

int zero_prefetch_collect(struct trainer *t, struct herr *err)
{
    struct zero_state *z = &t->zs;
    if (!z->fetching)
        return 0;
    z->fetching = 0;
    double t0 = trainer_now();
    int rc = comm_background_wait(t->comm, err);
    double waited = trainer_now() - t0;
    z->seconds += waited;
    z->wait_seconds += waited;
    z->prefetch_seconds += z->fetch.seconds;
    if (rc)
        return -1; /* "step N, prefetch: all-gather of layer l: ..." */
    if (backend_check(t->be, err))
        return herr_wrap(err, "step %ld, prefetch of layer %d: ", z->fetch.step, z->fetch.g);
    z->held[z->fetch.b] = z->fetch.g;
    z->bytes += z->fetch.bytes;
    z->gathers_prefetched++;
    return 0;
}

void zero_prefetch_drop(struct trainer *t)
{
    struct zero_state *z = &t->zs;
    if (!z->fetching)
        return;
    z->fetching = 0;
    (void)comm_background_wait(t->comm, NULL); /* a failure stays in comm: its next call */
    z->held[z->fetch.b] = -1;
}

void zero_prefetch_teardown(struct trainer *t)
{
    struct zero_state *z = &t->zs;
    if (t->comm)
        zero_prefetch_drop(t);
    free(z->pstage);
    z->pstage = NULL;
    z->prefetch = 0;
}
