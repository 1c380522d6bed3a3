/* core/comm_mpi.c — communication between ranks over MPI. Built when
 * configure finds MPI. A heft started without an MPI launcher (no mpiexec,
 * srun, ... in its environment) does not initialize MPI at all and runs as
 * one rank: nothing of MPI's start-up cost, network probing or exit-time
 * state touches a plain `heft train`. HEFT_MPI=1 forces MPI (a singleton),
 * HEFT_MPI=0 keeps it off.
 *
 * Every collective goes through watch_begin/watch_end, which time it (for
 * comm_seconds, on the main thread only) and tell the watchdog thread that a
 * wait is in progress, on either thread. The watchdog never
 * calls MPI: past the deadline it writes its message with write(2) and
 * leaves with _exit, and the launcher, seeing a rank end without
 * MPI_Finalize, ends the others.
 *
 * Threads and MPI. MPI is initialized MPI_THREAD_SERIALIZED: the main thread
 * and the communication thread of background jobs (core/comm_worker.h) both
 * call it, never at once. Each collective called on the main thread first
 * waits for the job in flight (serialize below), so that holds whatever the
 * caller does. A library that gives less disables background jobs
 * (comm_background_available), and only the main thread calls MPI. */
#include "core/comm.h"
#include "core/comm_worker.h"

#include <limits.h>
#include <mpi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct comm {
    int mpi; /* 1 when MPI was initialized (a launcher started us) */
    int rank, size;
    int node_size; /* ranks sharing this node's memory */
    char describe[160];
    double seconds; /* inside collectives and waiting for a job; main thread only */

    /* background jobs (comm.h); the worker starts with the first job */
    int bg_ok;             /* MPI gives MPI_THREAD_SERIALIZED, or no MPI */
    char bg_why[160];      /* why not, when !bg_ok */
    struct comm_worker worker;
    int bg_pending;        /* posted, not yet waited for; main thread only */
    int bg_failed;         /* a job failed: its message, for every later call */
    struct herr bg_err;

    /* watchdog: everything below is shared with its thread, under lock */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    int thread_started;
    int stop;
    double timeout;   /* seconds; 0 = none */
    char why[192];    /* what set the limit, for the message ("" = --comm-timeout) */
    const char *call; /* collective in progress, NULL when none */
    double call_start;
};

/* MPI counts are int: large buffers go in chunks of at most this many. */
enum { CHUNK = 1 << 28 };

/* How often the watchdog looks at the clock (its deadline is this coarse). */
#define WATCH_PERIOD_S 0.25

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int mpi_fail(struct herr *err, const char *call, int code)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, msg, &len);
    return herr_set(err, "%s failed: %s", call, msg);
}

/* ---- watchdog ------------------------------------------------------------ */

static void *watchdog_main(void *arg)
{
    struct comm *c = arg;
    pthread_mutex_lock(&c->lock);
    while (!c->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)(WATCH_PERIOD_S * 1e9);
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&c->wake, &c->lock, &ts);
        if (c->stop || !c->call || c->timeout <= 0)
            continue;
        double waited = now_s() - c->call_start;
        if (waited < c->timeout)
            continue;
        /* no stdio here: the main thread may hold its locks */
        char msg[640], limit[224];
        if (c->why[0])
            snprintf(limit, sizeof limit, "%s", c->why);
        else
            snprintf(limit, sizeof limit, "--comm-timeout %g", c->timeout);
        int n = snprintf(msg, sizeof msg,
                         "heft: rank %d of %d: %s has waited %.0f s for the other ranks "
                         "(%s): a rank died or hangs; ending the job\n",
                         c->rank, c->size, c->call, waited, limit);
        if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0)
            n = 0;
        _exit(3);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

static int watchdog_start(struct comm *c, struct herr *err)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) || pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) ||
        pthread_cond_init(&c->wake, &attr) || pthread_mutex_init(&c->lock, NULL))
        return herr_set(err, "setting up the collective watchdog failed");
    pthread_condattr_destroy(&attr);
    if (c->size > 1) {
        if (pthread_create(&c->thread, NULL, watchdog_main, c))
            return herr_set(err, "starting the collective watchdog thread failed");
        c->thread_started = 1;
    }
    return 0;
}

static void watchdog_stop(struct comm *c)
{
    pthread_mutex_lock(&c->lock);
    c->stop = 1;
    pthread_cond_signal(&c->wake);
    pthread_mutex_unlock(&c->lock);
    if (c->thread_started)
        pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->wake);
    pthread_mutex_destroy(&c->lock);
}

static double watch_start(struct comm *c, const char *call)
{
    double t0 = now_s();
    pthread_mutex_lock(&c->lock);
    c->call = call;
    c->call_start = t0;
    pthread_mutex_unlock(&c->lock);
    return t0;
}

static void watch_end(struct comm *c, double t0)
{
    double dt = now_s() - t0;
    pthread_mutex_lock(&c->lock);
    c->call = NULL;
    pthread_mutex_unlock(&c->lock);
    /* a job's collectives overlap the main thread's work: its caller times
     * the job (core/train_prefetch.c); the main thread's wait for it is here */
    if (!comm_worker_is_self(&c->worker))
        c->seconds += dt;
}

/* ---- background jobs ------------------------------------------------------------ */

/* The main thread waits for the job in flight: before any collective of its
 * own (one thread in MPI at a time) and where it needs the job's result. The
 * wait counts in comm_seconds; the job's own collectives do not (watch_end). */
static int bg_wait(struct comm *c)
{
    if (c->bg_pending) {
        double t0 = now_s();
        if (comm_worker_wait(&c->worker, &c->bg_err))
            c->bg_failed = 1;
        c->bg_pending = 0;
        c->seconds += now_s() - t0;
    }
    return c->bg_failed ? -1 : 0;
}

/* Every collective's first step: on the main thread, the job in flight ends
 * first; a job that failed fails the call too. */
static int serialize(struct comm *c, const char *what, struct herr *err)
{
    if (comm_worker_is_self(&c->worker))
        return 0;
    if (bg_wait(c))
        return herr_set(err, "before %s: a background transfer failed: %s", what,
                        c->bg_err.msg);
    return 0;
}

/* A collective's start: serialized with a job in flight, then watched and
 * timed from *t0. */
static int watch_begin(struct comm *c, const char *call, double *t0, struct herr *err)
{
    if (serialize(c, call, err))
        return -1;
    *t0 = watch_start(c, call);
    return 0;
}

int comm_background_available(const struct comm *c, const char **why)
{
    if (why)
        *why = c->bg_ok ? "" : c->bg_why;
    return c->bg_ok;
}

int comm_background_start(struct comm *c, comm_job job, void *arg, struct herr *err)
{
    if (!c->bg_ok)
        return herr_set(err, "background transfers are off: %s", c->bg_why);
    if (comm_background_wait(c, err))
        return -1;
    if (!c->worker.started && comm_worker_start(&c->worker, err))
        return -1;
    comm_worker_post(&c->worker, job, arg);
    c->bg_pending = 1;
    return 0;
}

int comm_background_wait(struct comm *c, struct herr *err)
{
    if (bg_wait(c))
        return herr_set(err, "%s", c->bg_err.msg);
    return 0;
}

/* ---- set-up --------------------------------------------------------------- */

/* Whether an MPI launcher started this process: the variables MPICH's hydra,
 * PMI-2/PMIx (srun) and Open MPI's mpirun give every rank. */
static int launched_by_mpi(void)
{
    const char *force = getenv("HEFT_MPI");
    if (force && *force)
        return strcmp(force, "0") != 0;
    static const char *const vars[] = { "PMI_RANK", "PMI_SIZE", "PMI_FD", "PMIX_RANK",
                                        "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS" };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

int comm_init(struct comm **out, int *argc, char ***argv, struct herr *err)
{
    if (!launched_by_mpi()) {
        struct comm *c = calloc(1, sizeof *c);
        if (!c)
            return herr_set(err, "out of memory");
        c->size = 1;
        c->node_size = 1;
        c->bg_ok = 1; /* no MPI at all: a job only copies */
        snprintf(c->describe, sizeof c->describe,
                 "one process (MPI built in; start under mpiexec for more ranks)");
        if (watchdog_start(c, err)) {
            free(c);
            return -1;
        }
        *out = c;
        return 0;
    }
    int initialized = 0, provided = MPI_THREAD_SINGLE;
    MPI_Initialized(&initialized);
    if (!initialized) {
        /* OpenMP threads compute; the main thread and the communication
         * thread call MPI, one at a time */
        int rc = MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Init_thread", rc);
    } else {
        MPI_Query_thread(&provided);
    }
    /* errors come back as codes, so each becomes a message naming the call */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    struct comm *c = calloc(1, sizeof *c);
    if (!c)
        return herr_set(err, "out of memory");
    c->mpi = 1;
    c->bg_ok = provided >= MPI_THREAD_SERIALIZED;
    if (!c->bg_ok)
        snprintf(c->bg_why, sizeof c->bg_why,
                 "this MPI library gives thread level %s, not MPI_THREAD_SERIALIZED",
                 provided == MPI_THREAD_FUNNELED ? "MPI_THREAD_FUNNELED" : "MPI_THREAD_SINGLE");
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    MPI_Comm node;
    c->node_size = 1;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) ==
        MPI_SUCCESS) {
        MPI_Comm_size(node, &c->node_size);
        MPI_Comm_free(&node);
    }
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    char *nl = strchr(version, '\n');
    if (nl)
        *nl = '\0';
    /* "MPICH Version:\t4.0.2" -> "MPICH Version: 4.0.2" */
    char *w = version;
    for (const char *r = version; *r; r++)
        if (*r != '\t')
            *w++ = *r;
        else if (w > version && w[-1] != ' ')
            *w++ = ' ';
    *w = '\0';
    snprintf(c->describe, sizeof c->describe, "MPI, %d rank%s (%.100s)", c->size,
             c->size == 1 ? "" : "s", version);
    if (watchdog_start(c, err)) {
        free(c);
        return -1;
    }
    *out = c;
    return 0;
}

void comm_finalize(struct comm *c)
{
    int mpi = c->mpi;
    comm_worker_stop(&c->worker); /* a job in flight ends first (the watchdog still watches) */
    watchdog_stop(c);
    free(c);
    if (mpi)
        MPI_Finalize();
}

/* How long an aborting rank waits before MPI_Abort: the launcher forwards a
 * rank's output through pipes, and MPI_Abort tears them down, so an error
 * message written just before it can be lost without this pause. */
#define ABORT_GRACE_S 0.5

void comm_abort(struct comm *c, int exit_code)
{
    fflush(stdout);
    fflush(stderr);
    if (!c->mpi)
        exit(exit_code);
    /* (a background job may be inside MPI: this is the end either way) */
    struct timespec ts = { 0, (long)(ABORT_GRACE_S * 1e9) };
    nanosleep(&ts, NULL);
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    exit(exit_code);
}

int comm_rank(const struct comm *c) { return c->rank; }
int comm_size(const struct comm *c) { return c->size; }
int comm_node_size(const struct comm *c) { return c->node_size; }
const char *comm_describe(const struct comm *c) { return c->describe; }
double comm_seconds(const struct comm *c) { return c->seconds; }

void comm_set_watch(struct comm *c, double seconds, const char *why)
{
    pthread_mutex_lock(&c->lock);
    c->timeout = seconds > 0 ? seconds : 0;
    snprintf(c->why, sizeof c->why, "%s", why ? why : "");
    pthread_mutex_unlock(&c->lock);
}

void comm_set_timeout(struct comm *c, double seconds)
{
    comm_set_watch(c, seconds, NULL);
}

/* ---- collectives ------------------------------------------------------------ */

static int fits_int(size_t n, const char *what, struct herr *err)
{
    if (n > (size_t)INT_MAX)
        return herr_set(err, "%s: %zu elements is more than one MPI call takes", what, n);
    return 0;
}

static int allgather(struct comm *c, const void *send, size_t n, size_t elem, void *recv,
                     MPI_Datatype t, const char *what, struct herr *err)
{
    if (c->size == 1) {
        memmove(recv, send, n * elem);
        return 0;
    }
    if (fits_int(n, what, err))
        return -1;
    double t0;
    if (watch_begin(c, what, &t0, err))
        return -1;
    int rc = MPI_Allgather(send, (int)n, t, recv, (int)n, t, MPI_COMM_WORLD);
    watch_end(c, t0);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, what, rc);
}

/* In place, in chunks of at most CHUNK elements. */
static int allreduce(struct comm *c, void *buf, size_t n, MPI_Datatype t, size_t elem,
                     const char *what, struct herr *err)
{
    if (c->size == 1)
        return 0;
    double t0;
    if (watch_begin(c, what, &t0, err))
        return -1;
    int rc = MPI_SUCCESS;
    for (size_t i = 0; rc == MPI_SUCCESS && i < n; i += CHUNK) {
        int count = (int)(n - i < (size_t)CHUNK ? n - i : (size_t)CHUNK);
        rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + i * elem, count, t, MPI_SUM,
                           MPI_COMM_WORLD);
    }
    watch_end(c, t0);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, what, rc);
}

int comm_allgather_f64(struct comm *c, const double *send, size_t n, double *recv,
                       struct herr *err)
{
    return allgather(c, send, n, sizeof *send, recv, MPI_DOUBLE, "MPI_Allgather(double)", err);
}

int comm_allgather_i32(struct comm *c, const int32_t *send, size_t n, int32_t *recv,
                       struct herr *err)
{
    return allgather(c, send, n, sizeof *send, recv, MPI_INT32_T, "MPI_Allgather(int32)", err);
}

int comm_allgather_bytes(struct comm *c, const void *send, size_t bytes, void *recv,
                         struct herr *err)
{
    return allgather(c, send, bytes, 1, recv, MPI_BYTE, "MPI_Allgather(bytes)", err);
}

int comm_allreduce_sum_f32(struct comm *c, float *buf, size_t n, struct herr *err)
{
    return allreduce(c, buf, n, MPI_FLOAT, sizeof *buf, "MPI_Allreduce(float)", err);
}

int comm_allreduce_sum_f64(struct comm *c, double *buf, size_t n, struct herr *err)
{
    return allreduce(c, buf, n, MPI_DOUBLE, sizeof *buf, "MPI_Allreduce(double)", err);
}

/* Note: MPICH 4.0.2 crashes in MPI_Reduce with MPI_IN_PLACE at a root other
 * than 0 for a few thousand elements and more; ZeRO-1 therefore uses the
 * reduce-scatter and all-gather below, which it needs anyway. */
int comm_reduce_scatter_sum_f32(struct comm *c, float *buf, size_t block, struct herr *err)
{
    if (c->size == 1)
        return 0;
    const char *what = "MPI_Reduce_scatter_block(float)";
    if (fits_int(block, what, err))
        return -1;
    double t0;
    if (watch_begin(c, what, &t0, err))
        return -1;
    int rc = MPI_Reduce_scatter_block(MPI_IN_PLACE, buf, (int)block, MPI_FLOAT, MPI_SUM,
                                      MPI_COMM_WORLD);
    watch_end(c, t0);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, what, rc);
}

int comm_allgather_inplace_f32(struct comm *c, float *buf, size_t block, struct herr *err)
{
    if (c->size == 1)
        return 0;
    const char *what = "MPI_Allgather(float)";
    if (fits_int(block, what, err))
        return -1;
    double t0;
    if (watch_begin(c, what, &t0, err))
        return -1;
    int rc = MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, (int)block, MPI_FLOAT,
                           MPI_COMM_WORLD);
    watch_end(c, t0);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, what, rc);
}

int comm_bcast(struct comm *c, void *buf, size_t bytes, int root, struct herr *err)
{
    if (c->size == 1)
        return 0;
    double t0;
    if (watch_begin(c, "MPI_Bcast", &t0, err))
        return -1;
    int rc = MPI_SUCCESS;
    for (size_t i = 0; rc == MPI_SUCCESS && i < bytes; i += CHUNK) {
        int count = (int)(bytes - i < (size_t)CHUNK ? bytes - i : (size_t)CHUNK);
        rc = MPI_Bcast((char *)buf + i, count, MPI_BYTE, root, MPI_COMM_WORLD);
    }
    watch_end(c, t0);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Bcast", rc);
}

/* int counts and displacements of consecutive blocks */
static int block_layout(const struct comm *c, const size_t *counts, int *icounts, int *displs,
                        const char *what, struct herr *err)
{
    size_t total = 0;
    for (int k = 0; k < c->size; k++) {
        if (fits_int(counts[k], what, err) || fits_int(total, what, err))
            return -1;
        icounts[k] = (int)counts[k];
        displs[k] = (int)total;
        total += counts[k];
    }
    return 0;
}

static int scatter_gather(struct comm *c, int gather, float *send, const size_t *counts,
                          float *recv, int root, struct herr *err)
{
    const char *what = gather ? "MPI_Gatherv(float)" : "MPI_Scatterv(float)";
    if (c->size == 1) { /* one block, the root's own: in place unless both are given */
        if (send && recv && send != recv)
            memmove(recv, send, counts[0] * sizeof(float));
        return 0;
    }
    int *icounts = malloc(2 * (size_t)c->size * sizeof *icounts);
    if (!icounts)
        return herr_set(err, "%s: out of memory", what);
    int *displs = icounts + c->size;
    int rc = block_layout(c, counts, icounts, displs, what, err);
    if (rc == 0) {
        double t0 = 0.0;
        if (watch_begin(c, what, &t0, err)) {
            free(icounts);
            return -1;
        }
        int mine = icounts[c->rank];
        /* root's own block already in place: NULL on the root side */
        if (c->rank == root && gather && !send)
            rc = MPI_Gatherv(MPI_IN_PLACE, mine, MPI_FLOAT, recv, icounts, displs, MPI_FLOAT,
                             root, MPI_COMM_WORLD);
        else if (gather)
            rc = MPI_Gatherv(send, mine, MPI_FLOAT, recv, icounts, displs, MPI_FLOAT, root,
                             MPI_COMM_WORLD);
        else
            rc = MPI_Scatterv(send, icounts, displs, MPI_FLOAT,
                              c->rank == root && !recv ? MPI_IN_PLACE : (void *)recv, mine,
                              MPI_FLOAT, root, MPI_COMM_WORLD);
        watch_end(c, t0);
        rc = rc == MPI_SUCCESS ? 0 : mpi_fail(err, what, rc);
    }
    free(icounts);
    return rc;
}

int comm_gatherv_f32(struct comm *c, const float *send, const size_t *counts, float *recv,
                     int root, struct herr *err)
{
    return scatter_gather(c, 1, (float *)send, counts, recv, root, err);
}

int comm_scatterv_f32(struct comm *c, const float *send, const size_t *counts, float *recv,
                      int root, struct herr *err)
{
    return scatter_gather(c, 0, (float *)send, counts, recv, root, err);
}

int comm_barrier(struct comm *c, struct herr *err)
{
    if (c->size == 1)
        return 0;
    double t0;
    if (watch_begin(c, "MPI_Barrier", &t0, err))
        return -1;
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    watch_end(c, t0);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Barrier", rc);
}
