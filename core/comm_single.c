/* core/comm_single.c — communication for one process: gathers copy, reductions
 * are identities. Built when heft has no MPI. */
#include "core/comm.h"

#include <stdlib.h>
#include <string.h>

struct comm {
    int bg_failed;      /* a background job failed: its message */
    struct herr bg_err;
};

int comm_init(struct comm **out, int *argc, char ***argv, struct herr *err)
{
    (void)argc;
    (void)argv;
    *out = calloc(1, sizeof **out);
    return *out ? 0 : herr_set(err, "out of memory");
}

void comm_finalize(struct comm *c) { free(c); }

void comm_abort(struct comm *c, int exit_code)
{
    (void)c;
    exit(exit_code);
}

int comm_rank(const struct comm *c) { (void)c; return 0; }
int comm_size(const struct comm *c) { (void)c; return 1; }
int comm_node_size(const struct comm *c) { (void)c; return 1; }
const char *comm_describe(const struct comm *c) { (void)c; return "single process (built without MPI)"; }
double comm_seconds(const struct comm *c) { (void)c; return 0.0; }
void comm_set_timeout(struct comm *c, double seconds) { (void)c; (void)seconds; }
void comm_set_watch(struct comm *c, double seconds, const char *why)
{
    (void)c; (void)seconds; (void)why;
}

int comm_allgather_f64(struct comm *c, const double *send, size_t n, double *recv,
                       struct herr *err)
{
    return comm_allgather_bytes(c, send, n * sizeof *send, recv, err);
}

int comm_allgather_i32(struct comm *c, const int32_t *send, size_t n, int32_t *recv,
                       struct herr *err)
{
    return comm_allgather_bytes(c, send, n * sizeof *send, recv, err);
}

int comm_allgather_bytes(struct comm *c, const void *send, size_t bytes, void *recv,
                         struct herr *err)
{
    (void)c;
    (void)err;
    memmove(recv, send, bytes);
    return 0;
}

int comm_allreduce_sum_f32(struct comm *c, float *buf, size_t n, struct herr *err)
{
    (void)c; (void)buf; (void)n; (void)err;
    return 0;
}

int comm_allreduce_sum_f64(struct comm *c, double *buf, size_t n, struct herr *err)
{
    (void)c; (void)buf; (void)n; (void)err;
    return 0;
}

int comm_reduce_scatter_sum_f32(struct comm *c, float *buf, size_t block, struct herr *err)
{
    (void)c; (void)buf; (void)block; (void)err;
    return 0;
}

int comm_allgather_inplace_f32(struct comm *c, float *buf, size_t block, struct herr *err)
{
    (void)c; (void)buf; (void)block; (void)err;
    return 0;
}

int comm_bcast(struct comm *c, void *buf, size_t bytes, int root, struct herr *err)
{
    (void)c; (void)buf; (void)bytes; (void)root; (void)err;
    return 0;
}

int comm_gatherv_f32(struct comm *c, const float *send, const size_t *counts, float *recv,
                     int root, struct herr *err)
{
    (void)root;
    return send ? comm_allgather_bytes(c, send, counts[0] * sizeof *send, recv, err) : 0;
}

int comm_scatterv_f32(struct comm *c, const float *send, const size_t *counts, float *recv,
                      int root, struct herr *err)
{
    (void)root;
    return recv ? comm_allgather_bytes(c, send, counts[0] * sizeof *send, recv, err) : 0;
}

int comm_barrier(struct comm *c, struct herr *err)
{
    (void)c;
    (void)err;
    return 0;
}

/* Background jobs run at once, on the calling thread: there is no MPI to
 * overlap, and a job's result is the same. */
int comm_background_available(const struct comm *c, const char **why)
{
    (void)c;
    if (why)
        *why = "";
    return 1;
}

int comm_background_start(struct comm *c, comm_job job, void *arg, struct herr *err)
{
    if (comm_background_wait(c, err))
        return -1;
    herr_clear(&c->bg_err);
    c->bg_failed = job(arg, &c->bg_err) != 0;
    return 0;
}

int comm_background_wait(struct comm *c, struct herr *err)
{
    return c->bg_failed ? herr_set(err, "%s", c->bg_err.msg) : 0;
}

