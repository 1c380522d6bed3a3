/* core/comm_worker.h — the communication thread behind comm_background_*
 * (core/comm.h): one thread that runs one job at a time, posted by the main
 * thread and waited for by it. core/comm_mpi.c owns one per struct comm; the
 * serialization rule (only one thread inside MPI at a time) is enforced
 * there, on top of this. */
#ifndef HEFT_CORE_COMM_WORKER_H
#define HEFT_CORE_COMM_WORKER_H

#include <pthread.h>

#include "core/comm.h" /* comm_job */

struct comm_worker {
    pthread_mutex_t lock;
    pthread_cond_t cond; /* a job posted, finished, or stop */
    pthread_t thread;
    int started, stop;
    comm_job job; /* posted and not yet taken; NULL when none */
    void *arg;
    int busy;        /* a job is posted or running */
    int rc;          /* the last finished job's result, until comm_worker_wait */
    struct herr err; /* and its message */
};

/* Starts the thread. */
int comm_worker_start(struct comm_worker *w, struct herr *err);
/* Waits for a job in flight, then ends the thread (a no-op when not started). */
void comm_worker_stop(struct comm_worker *w);
/* Hands job(arg) to the thread. The caller has waited for the previous one
 * (comm_worker_wait); only the thread that posts may wait. */
void comm_worker_post(struct comm_worker *w, comm_job job, void *arg);
/* Waits until no job is in flight; returns the finished job's result (0 when
 * none ran since the last wait), with its message in err on failure. */
int comm_worker_wait(struct comm_worker *w, struct herr *err);
/* 1 when called on the worker's own thread. */
int comm_worker_is_self(const struct comm_worker *w);

#endif
