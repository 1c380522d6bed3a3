/* core/comm_mpi.c — communication between ranks over MPI. Built when
 * configure finds MPI; one rank without mpiexec works too (MPI singleton). */
#include "core/comm.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct comm {
    int rank, size;
    char describe[160];
};

/* MPI counts are int: large buffers go in chunks of at most this many. */
enum { CHUNK = 1 << 28 };

static int mpi_fail(struct herr *err, const char *call, int code)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, msg, &len);
    return herr_set(err, "%s failed: %s", call, msg);
}

int comm_init(struct comm **out, int *argc, char ***argv, struct herr *err)
{
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
        int rc = MPI_Init(argc, argv);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Init", rc);
    }
    /* errors come back as codes, so each becomes a message naming the call */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    struct comm *c = calloc(1, sizeof *c);
    if (!c)
        return herr_set(err, "out of memory");
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    char *nl = strchr(version, '\n');
    if (nl)
        *nl = '\0';
    snprintf(c->describe, sizeof c->describe, "MPI, %d rank%s (%.100s)", c->size,
             c->size == 1 ? "" : "s", version);
    *out = c;
    return 0;
}

void comm_finalize(struct comm *c)
{
    free(c);
    MPI_Finalize();
}

void comm_abort(struct comm *c, int exit_code)
{
    (void)c;
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    exit(exit_code);
}

int comm_rank(const struct comm *c) { return c->rank; }
int comm_size(const struct comm *c) { return c->size; }
const char *comm_describe(const struct comm *c) { return c->describe; }

static int allgather(struct comm *c, const void *send, size_t n, void *recv, MPI_Datatype t,
                     const char *what, struct herr *err)
{
    (void)c;
    if (n > (size_t)CHUNK)
        return herr_set(err, "%s: %zu elements per rank is more than one gather takes", what, n);
    int rc = MPI_Allgather(send, (int)n, t, recv, (int)n, t, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, what, rc);
}

int comm_allgather_f64(struct comm *c, const double *send, size_t n, double *recv,
                       struct herr *err)
{
    return allgather(c, send, n, recv, MPI_DOUBLE, "MPI_Allgather(double)", err);
}

int comm_allgather_i32(struct comm *c, const int32_t *send, size_t n, int32_t *recv,
                       struct herr *err)
{
    return allgather(c, send, n, recv, MPI_INT32_T, "MPI_Allgather(int32)", err);
}

int comm_allgather_f32(struct comm *c, const float *send, size_t n, float *recv,
                       struct herr *err)
{
    return allgather(c, send, n, recv, MPI_FLOAT, "MPI_Allgather(float)", err);
}

static int allreduce(float *fbuf, double *dbuf, size_t n, struct herr *err)
{
    for (size_t i = 0; i < n; i += CHUNK) {
        int count = (int)(n - i < (size_t)CHUNK ? n - i : (size_t)CHUNK);
        int rc = fbuf ? MPI_Allreduce(MPI_IN_PLACE, fbuf + i, count, MPI_FLOAT, MPI_SUM,
                                      MPI_COMM_WORLD)
                      : MPI_Allreduce(MPI_IN_PLACE, dbuf + i, count, MPI_DOUBLE, MPI_SUM,
                                      MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Allreduce", rc);
    }
    return 0;
}

int comm_allreduce_sum_f32(struct comm *c, float *buf, size_t n, struct herr *err)
{
    return c->size == 1 ? 0 : allreduce(buf, NULL, n, err);
}

int comm_allreduce_sum_f64(struct comm *c, double *buf, size_t n, struct herr *err)
{
    return c->size == 1 ? 0 : allreduce(NULL, buf, n, err);
}

int comm_reduce_scatter_sum_f32(struct comm *c, const float *send, float *recv, size_t n,
                                struct herr *err)
{
    if (n % (size_t)c->size)
        return herr_set(err, "reduce-scatter of %zu floats over %d ranks: not a multiple", n,
                        c->size);
    size_t block = n / (size_t)c->size;
    if (block > (size_t)CHUNK)
        return herr_set(err, "reduce-scatter block of %zu floats is too large", block);
    int rc = MPI_Reduce_scatter_block(send, recv, (int)block, MPI_FLOAT, MPI_SUM,
                                      MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Reduce_scatter_block", rc);
}

int comm_bcast(struct comm *c, void *buf, size_t bytes, int root, struct herr *err)
{
    (void)c;
    for (size_t i = 0; i < bytes; i += CHUNK) {
        int count = (int)(bytes - i < (size_t)CHUNK ? bytes - i : (size_t)CHUNK);
        int rc = MPI_Bcast((char *)buf + i, count, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Bcast", rc);
    }
    return 0;
}

int comm_barrier(struct comm *c, struct herr *err)
{
    (void)c;
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Barrier", rc);
}
