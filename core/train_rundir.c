/* core/train_rundir.c — a run directory is written by one run at a time.
 *
 * Rank 0, the only writer, locks OUT (core/run_lock.h) before it writes
 * anything there, so a second heft with the same --out (a new run, a
 * --force, a second --resume) is refused with a message naming the holder.
 * Holding the lock, it also deletes what writers killed mid-write left
 * behind (`ckpt_*.heft.tmp.<pid>` and the like): no other writer can be at
 * work there. Both are reported in the metrics as notes. */
#include <inttypes.h>
#include <string.h>

#include "core/ckpt_dir.h"
#include "core/train_internal.h"

int trainer_claim_out_dir(struct trainer *t, int argc, char **argv, int first_arg,
                          struct herr *err)
{
    if (t->rank != 0)
        return 0;
    /* the holder's command line, for whoever is refused */
    char cmd[1024];
    size_t used = (size_t)snprintf(cmd, sizeof cmd, "heft train");
    for (int i = first_arg; i < argc && used < sizeof cmd; i++)
        used += (size_t)snprintf(cmd + used, sizeof cmd - used, " %s", argv[i]);
    if (run_lock_acquire(&t->lock, t->out_dir, cmd, err))
        return -1;
    t->out_note[0] = '\0';
    if (t->lock.unlocked_reason[0]) {
        snprintf(t->out_note, sizeof t->out_note, "%s", t->lock.unlocked_reason);
        return 0; /* without the lock, another writer may own the temporary files */
    }
    int removed = 0;
    uint64_t bytes = 0;
    if (ckpt_dir_remove_stale_temps(t->out_dir, &removed, &bytes, err))
        return -1;
    size_t n = 0;
    if (t->lock.previous[0])
        n = (size_t)snprintf(t->out_note, sizeof t->out_note,
                             "the previous run here, %.400s, ended without releasing %s "
                             "(killed?); lock taken over", t->lock.previous, RUN_LOCK_NAME);
    if (removed && n < sizeof t->out_note)
        snprintf(t->out_note + n, sizeof t->out_note - n,
                 "%sremoved %d temporary file%s (%" PRIu64 " bytes) left by interrupted writes",
                 n ? "; " : "", removed, removed == 1 ? "" : "s", bytes);
    return 0;
}

void trainer_release_out_dir(struct trainer *t)
{
    run_lock_release(&t->lock);
}
