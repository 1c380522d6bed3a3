/* core/train_guard.c — what is checked after every step, before the step's
 * validation and checkpoint: that the run's logs were written. */
#include "core/train_internal.h"

int trainer_after_step(struct trainer *t, const struct step_report *rep, struct herr *err)
{
    (void)rep;
    return trainer_log_check(t, err);
}
