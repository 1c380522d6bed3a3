/* core/train_guard.c — what is checked after every step, before the step's
 * validation and checkpoint, so that a step that went wrong is never saved,
 * and how long a collective may wait before a rank is taken for hung.
 *
 * After a step:
 *
 *  - the run's logs were written (trainer_log_check);
 *  - the run has not diverged: a loss or gradient norm that is not finite,
 *    or, once the learning-rate warm-up is over, a loss above --loss-guard
 *    times ln(V), the loss of an untrained model (uniform over the V token
 *    ids). Such a run only moves further away; it stops with a message, a
 *    non-zero exit and no export, and its last checkpoint, saved before, is
 *    the last good state to resume from with other settings.
 *
 * The loss and gradient norm are those of the whole global step, identical
 * on every rank, so every rank stops at the same step.
 *
 * The collective watchdog (core/comm.h). With --comm-timeout -1 (the
 * default) a collective inside a step may wait 20 s + 2 x the longest recent
 * step (a maximum that decays by 5% a step, so one slow step is forgotten
 * within some tens of steps): a stopped or hung rank ends a job of short
 * steps within about 20 s, and a job of long steps is not ended by a step
 * that is slower than the others. Waits that are not a step's (start-up and
 * resume, validation, checkpoints, which rank 0 writes while the others
 * wait) get 600 s. A given --comm-timeout S is the limit everywhere. */
#include <math.h>
#include <string.h>

#include "core/ckpt_dir.h"
#include "core/train_internal.h"

/* the collective watchdog under --comm-timeout -1 (auto) */
#define WATCH_LONG_S 600.0
#define WATCH_BASE_S 20.0
#define WATCH_STEPS 2.0
#define WATCH_DECAY 0.95

/* The last checkpoint, for the message: " OUT/ckpt_X.heft is the last good
 * checkpoint; resume from it with ..." or that there is none. */
static void last_good(const struct trainer *t, char *out, size_t cap)
{
    char path[OPT_STRING_MAX + 64];
    struct herr none;
    if (t->rank == 0 && ckpt_resolve(t->out_dir, path, sizeof path, &none) == 0)
        snprintf(out, cap, "%s is the last good checkpoint: resume from it (--resume %s) with a "
                 "lower --lr, a --grad-clip or a longer --warmup", path, t->out_dir);
    else
        snprintf(out, cap, "no checkpoint was saved before it: start again with a lower --lr, "
                 "a --grad-clip or a longer --warmup");
}

static void watch_steps(struct trainer *t);
static int check_divergence(struct trainer *t, const struct step_report *rep, struct herr *err)
{
    const long step = rep->step + 1; /* as the progress lines count */
    struct model_dims dims;
    model_config_dims(&t->model.config, &dims);
    const int V = dims.vocab_size;
    const double untrained = log((double)V);
    char good[2 * OPT_STRING_MAX + 200];
    if (!isfinite(rep->loss) || !isfinite(rep->grad_norm)) {
        last_good(t, good, sizeof good);
        return herr_set(err, "the run diverged at step %ld: the loss is %g and the gradient norm "
                             "%g; stopped without saving or exporting; %s",
                        step, rep->loss, rep->grad_norm, good);
    }
    const double limit = t->cfg.loss_guard * untrained;
    if (t->cfg.loss_guard > 0 && t->step > t->cfg.warmup && rep->loss > limit) {
        last_good(t, good, sizeof good);
        return herr_set(err, "the run diverged at step %ld: loss %.6g is above %g x ln(%d) = %.4g "
                             "(--loss-guard x an untrained model's loss) after the warm-up; "
                             "stopped without saving or exporting; %s",
                        step, rep->loss, t->cfg.loss_guard, V, limit, good);
    }
    return 0;
}

int trainer_after_step(struct trainer *t, const struct step_report *rep, struct herr *err)
{
    if (trainer_log_check(t, err) || check_divergence(t, rep, err))
        return -1;
    double decayed = t->step_s_recent * WATCH_DECAY;
    t->step_s_recent = rep->seconds > decayed ? rep->seconds : decayed;
    watch_steps(t);
    return 0;
}


void trainer_watch_long(struct trainer *t)
{
    if (t->cfg.comm_timeout >= 0) {
        comm_set_timeout(t->comm, t->cfg.comm_timeout);
        return;
    }
    comm_set_watch(t->comm, WATCH_LONG_S,
                   "--comm-timeout auto: 600 s at start-up, validation and checkpoints");
}

/* The limit inside steps, from the step times so far. */
static void watch_steps(struct trainer *t)
{
    if (t->cfg.comm_timeout >= 0 || t->step_s_recent <= 0) {
        trainer_watch_long(t);
        return;
    }
    double limit = WATCH_BASE_S + WATCH_STEPS * t->step_s_recent;
    char why[160];
    snprintf(why, sizeof why, "--comm-timeout auto: %g s + %g x the longest recent step, %.3g s",
             WATCH_BASE_S, WATCH_STEPS, t->step_s_recent);
    comm_set_watch(t->comm, limit, why);
}

int trainer_validate_watched(struct trainer *t, struct herr *err)
{
    trainer_watch_long(t);
    int rc = trainer_validate(t, err);
    watch_steps(t);
    return rc;
}

int trainer_save_watched(struct trainer *t, struct herr *err)
{
    trainer_watch_long(t);
    int rc = trainer_save(t, err);
    if (rc == 0 && comm_barrier(t->comm, err))
        rc = herr_wrap(err, "after saving the checkpoint of step %ld: ", t->step);
    watch_steps(t);
    return rc;
}
