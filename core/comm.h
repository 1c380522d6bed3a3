/* core/comm.h — communication between data-parallel ranks.
 *
 * One interface, two implementations chosen at build time: comm_mpi.c (MPI,
 * when configure finds it) and comm_single.c (one process). The trainer calls
 * the same functions either way, so there is one code path. All calls are
 * collective: every rank must make them in the same order. */
#ifndef HEFT_CORE_COMM_H
#define HEFT_CORE_COMM_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct comm;

/* Starts communication (MPI_Init when built with MPI; a single rank works
 * without mpiexec). */
int comm_init(struct comm **out, int *argc, char ***argv, struct herr *err);
/* Ends it (MPI_Finalize). */
void comm_finalize(struct comm *c);
/* Stops every rank at once after a fatal error on one of them. */
void comm_abort(struct comm *c, int exit_code);

int comm_rank(const struct comm *c);
int comm_size(const struct comm *c);
/* "MPI (MPICH 4.0.2)" or "single process" */
const char *comm_describe(const struct comm *c);

/* recv (size * n) = the n values of every rank, in rank order. */
int comm_allgather_f64(struct comm *c, const double *send, size_t n, double *recv,
                       struct herr *err);
int comm_allgather_i32(struct comm *c, const int32_t *send, size_t n, int32_t *recv,
                       struct herr *err);
/* buf (n) = sum over ranks, in place. */
int comm_allreduce_sum_f32(struct comm *c, float *buf, size_t n, struct herr *err);
int comm_allreduce_sum_f64(struct comm *c, double *buf, size_t n, struct herr *err);
/* recv (n / size) = this rank's block of the sum over ranks of send (n);
 * n must be a multiple of size. */
int comm_reduce_scatter_sum_f32(struct comm *c, const float *send, float *recv, size_t n,
                                struct herr *err);
/* recv (size * n) = every rank's block of n, in rank order. */
int comm_allgather_f32(struct comm *c, const float *send, size_t n, float *recv,
                       struct herr *err);
/* buf (bytes) on every rank = buf on root. */
int comm_bcast(struct comm *c, void *buf, size_t bytes, int root, struct herr *err);
int comm_barrier(struct comm *c, struct herr *err);

#endif
