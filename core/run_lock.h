/* core/run_lock.h — one heft at a time in a run directory.
 *
 * A run directory (--out) is written by one process: its metrics, its
 * checkpoints, `latest`, the pruning of old checkpoints. run_lock_acquire
 * takes an exclusive flock(2) on DIR/heft.lock and writes the holder into it
 * (pid, host, start time, command), so a second heft that wants the
 * directory is refused with a message naming the holder instead of mixing
 * its files with the first one's.
 *
 * The kernel drops the lock when its holder ends however it ends (kill -9
 * included), so a lock file left by a dead run is simply taken over; the
 * holder it names is reported back (`previous`) so the run can say so.
 * run_lock_release removes the file. Where the file system does not lock
 * (flock fails with ENOLCK/EOPNOTSUPP), the run goes on unlocked and
 * `unlocked_reason` says why. */
#ifndef HEFT_CORE_RUN_LOCK_H
#define HEFT_CORE_RUN_LOCK_H

#include "core/error.h"

#define RUN_LOCK_NAME "heft.lock"

struct run_lock {
    int held;               /* 0 in a zeroed struct: nothing to release */
    int fd;
    char path[4096];
    char previous[512];     /* holder named by a lock file taken over ("" if none) */
    char unlocked_reason[256]; /* why the run goes on without a lock ("" if locked) */
};

/* Locks DIR (which must exist). `command` (may be NULL) is recorded for
 * whoever is refused. A directory held by another process is an error
 * naming it: "run directory R is in use by heft pid 1234 on host h (since
 * ...)". */
int run_lock_acquire(struct run_lock *l, const char *dir, const char *command,
                     struct herr *err);
/* Removes the lock file and drops the lock; safe to call when not held. */
void run_lock_release(struct run_lock *l);

#endif
