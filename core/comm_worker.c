/* core/comm_worker.c — the communication thread (core/comm_worker.h). */
#include "core/comm_worker.h"

#include <string.h>

static void *worker_main(void *arg)
{
    struct comm_worker *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->job && !w->stop)
            pthread_cond_wait(&w->cond, &w->lock);
        if (!w->job) /* stop, and nothing left to run */
            break;
        comm_job job = w->job;
        void *jarg = w->arg;
        w->job = NULL;
        pthread_mutex_unlock(&w->lock);
        struct herr e;
        herr_clear(&e);
        int rc = job(jarg, &e);
        pthread_mutex_lock(&w->lock);
        w->rc = rc;
        w->err = e;
        w->busy = 0;
        pthread_cond_broadcast(&w->cond);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

int comm_worker_start(struct comm_worker *w, struct herr *err)
{
    memset(w, 0, sizeof *w);
    if (pthread_mutex_init(&w->lock, NULL))
        return herr_set(err, "setting up the communication thread failed");
    if (pthread_cond_init(&w->cond, NULL)) {
        pthread_mutex_destroy(&w->lock);
        return herr_set(err, "setting up the communication thread failed");
    }
    if (pthread_create(&w->thread, NULL, worker_main, w)) {
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        return herr_set(err, "starting the communication thread failed");
    }
    w->started = 1;
    return 0;
}

void comm_worker_stop(struct comm_worker *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL); /* it runs a posted job before it stops */
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    w->started = 0;
}

void comm_worker_post(struct comm_worker *w, comm_job job, void *arg)
{
    pthread_mutex_lock(&w->lock);
    w->job = job;
    w->arg = arg;
    w->busy = 1;
    w->rc = 0;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

int comm_worker_wait(struct comm_worker *w, struct herr *err)
{
    if (!w->started)
        return 0;
    pthread_mutex_lock(&w->lock);
    while (w->busy)
        pthread_cond_wait(&w->cond, &w->lock);
    int rc = w->rc;
    if (rc && err)
        *err = w->err;
    w->rc = 0;
    pthread_mutex_unlock(&w->lock);
    return rc;
}

int comm_worker_is_self(const struct comm_worker *w)
{
    return w->started && pthread_equal(pthread_self(), w->thread);
}
