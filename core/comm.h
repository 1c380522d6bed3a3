/* core/comm.h — communication between data-parallel ranks.
 *
 * One interface, two implementations chosen at build time: comm_mpi.c (MPI,
 * when configure finds it) and comm_single.c (one process). The trainer calls
 * the same functions either way, so there is one code path. All calls except
 * the queries are collective: every rank must make them in the same order.
 *
 * Failure of a peer. When a rank is killed, the MPI launcher (MPICH's hydra)
 * ends the job by itself within about a second. A rank that hangs instead
 * (stopped, stuck on a dead file system, a lost node whose link stays up)
 * would leave the others waiting in a collective for ever, so a watchdog
 * ends this process, with a message naming the call and the wait, when one
 * collective waits longer than comm_set_timeout's limit; the launcher then
 * ends the rest of the job.
 *
 * Determinism. Sums are computed so that every rank ends with bit-identical
 * values (MPI's reductions with MPI_SUM on floats give the same result on
 * every rank: each element is combined by commutative steps in a fixed
 * tree). The trainer relies on it: ranks' parameters never drift apart. */
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
/* Ranks on this rank's node (the processes sharing its memory), itself
 * included: how many compete for its cores. */
int comm_node_size(const struct comm *c);
/* "MPI, 2 ranks (MPICH Version: 4.0.2 ...)" or "single process ..." */
const char *comm_describe(const struct comm *c);

/* A collective that waits more than `seconds` ends this process (exit code 3)
 * after printing which call waited and for how long; 0 = wait for ever. */
void comm_set_timeout(struct comm *c, double seconds);
/* The same, with the reason for the limit that the message gives (NULL:
 * "--comm-timeout S"); `why` is copied. */
void comm_set_watch(struct comm *c, double seconds, const char *why);
/* Wall-clock seconds the main thread spent inside collectives since
 * comm_init, waiting for slower ranks included, and waiting for a background
 * job (below): the communication time of a step is the difference of two
 * readings. */
double comm_seconds(const struct comm *c);

/* recv (size * n) = the n values of every rank, in rank order. */
int comm_allgather_f64(struct comm *c, const double *send, size_t n, double *recv,
                       struct herr *err);
int comm_allgather_i32(struct comm *c, const int32_t *send, size_t n, int32_t *recv,
                       struct herr *err);
int comm_allgather_bytes(struct comm *c, const void *send, size_t bytes, void *recv,
                         struct herr *err);
/* buf (n) = sum over ranks, in place, identical on every rank. */
int comm_allreduce_sum_f32(struct comm *c, float *buf, size_t n, struct herr *err);
int comm_allreduce_sum_f64(struct comm *c, double *buf, size_t n, struct herr *err);
/* Reduce-scatter, in place: buf (size * block) holds this rank's addends for
 * every rank's block; on return buf[0 .. block) = the sum over ranks of
 * block number `rank` (the rest of buf is undefined). */
int comm_reduce_scatter_sum_f32(struct comm *c, float *buf, size_t block, struct herr *err);
/* All-gather, in place: buf (size * block) holds this rank's block at
 * rank * block; on return it holds every rank's. */
int comm_allgather_inplace_f32(struct comm *c, float *buf, size_t block, struct herr *err);
/* buf (bytes) on every rank = buf on root. */
int comm_bcast(struct comm *c, void *buf, size_t bytes, int root, struct herr *err);
/* Rank k sends send (counts[k]); root receives recv = the blocks of ranks
 * 0, 1, ... one after another (sum of counts). recv is only used on root;
 * send NULL on root: its block is already in place in recv. */
int comm_gatherv_f32(struct comm *c, const float *send, const size_t *counts, float *recv,
                     int root, struct herr *err);
/* The inverse: root's send (sum of counts) is cut into consecutive blocks and
 * rank k receives block k into recv (counts[k]). send is only used on root;
 * recv NULL on root: its block stays in place in send. */
int comm_scatterv_f32(struct comm *c, const float *send, const size_t *counts, float *recv,
                      int root, struct herr *err);
int comm_barrier(struct comm *c, struct herr *err);

/* ---- background transfers (ZeRO-3's prefetch, core/train_prefetch.c) -------
 *
 * One job at a time runs on a communication thread while the main thread
 * goes on computing; the job may call the collectives above. MPI is then
 * initialized MPI_THREAD_SERIALIZED, and only one thread may be inside MPI at
 * a time, so every collective called on the main thread first waits for the
 * job in flight: a collective made while a job runs cannot overlap it, and
 * callers need not remember to wait. A job that failed makes every later
 * collective and wait fail with its message (the run ends there).
 *
 * Time: comm_seconds counts the main thread's time inside collectives and
 * waiting for a job (what communication costs the main thread: the exposed
 * part); the job's own time inside collectives is not in it (the job's
 * caller may time the job: the overlapped part, or the part of it that the
 * main thread's wait then exposes), so nothing is counted twice. A job's
 * collective is watched by the watchdog like the main thread's.
 *
 * The single-process build runs each job at once, inside
 * comm_background_start. */

typedef int (*comm_job)(void *arg, struct herr *err);

/* 1 when jobs may run in the background; 0 with *why (unless NULL) saying
 * why not ("this MPI library gives MPI_THREAD_FUNNELED, not SERIALIZED"). */
int comm_background_available(const struct comm *c, const char **why);
/* Waits for the job in flight (failing with its error, if it failed), then
 * hands job(arg) to the communication thread. Main thread only. */
int comm_background_start(struct comm *c, comm_job job, void *arg, struct herr *err);
/* Waits for the job in flight, if any: 0, or -1 with its message. The wait
 * counts in comm_seconds. */
int comm_background_wait(struct comm *c, struct herr *err);

#endif
