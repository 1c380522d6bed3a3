/* core/comm_single.c — communication for one process: gathers copy, reductions
 * are identities. Built when heft has no MPI. */
#include "core/comm.h"

#include <stdlib.h>
#include <string.h>

struct comm {
    int unused;
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
const char *comm_describe(const struct comm *c) { (void)c; return "single process (built without MPI)"; }

int comm_allgather_f64(struct comm *c, const double *send, size_t n, double *recv,
                       struct herr *err)
{
    (void)c;
    (void)err;
    memmove(recv, send, n * sizeof *send);
    return 0;
}

int comm_allgather_i32(struct comm *c, const int32_t *send, size_t n, int32_t *recv,
                       struct herr *err)
{
    (void)c;
    (void)err;
    memmove(recv, send, n * sizeof *send);
    return 0;
}

int comm_allgather_f32(struct comm *c, const float *send, size_t n, float *recv,
                       struct herr *err)
{
    (void)c;
    (void)err;
    memmove(recv, send, n * sizeof *send);
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

int comm_reduce_scatter_sum_f32(struct comm *c, const float *send, float *recv, size_t n,
                                struct herr *err)
{
    (void)c;
    (void)err;
    memmove(recv, send, n * sizeof *send);
    return 0;
}

int comm_bcast(struct comm *c, void *buf, size_t bytes, int root, struct herr *err)
{
    (void)c; (void)buf; (void)bytes; (void)root; (void)err;
    return 0;
}

int comm_barrier(struct comm *c, struct herr *err)
{
    (void)c;
    (void)err;
    return 0;
}
