/* core/run_lock.c — see run_lock.h. */
#include "core/run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fileio.h"

static void not_held(struct run_lock *l)
{
    l->held = 0;
    l->fd = -1;
    l->path[0] = l->previous[0] = l->unlocked_reason[0] = '\0';
}

/* The holder's record, on one line ("pid 1234 on host h since ..."): the
 * file holds `key value` lines. */
static void read_holder(int fd, char *out, size_t cap)
{
    char buf[1024];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    out[0] = '\0';
    if (n <= 0)
        return;
    buf[n] = '\0';
    char pid[32] = "?", host[256] = "?", since[64] = "?", cmd[512] = "";
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!strncmp(line, "pid ", 4))
            snprintf(pid, sizeof pid, "%.31s", line + 4);
        else if (!strncmp(line, "host ", 5))
            snprintf(host, sizeof host, "%.255s", line + 5);
        else if (!strncmp(line, "since ", 6))
            snprintf(since, sizeof since, "%.63s", line + 6);
        else if (!strncmp(line, "command ", 8))
            snprintf(cmd, sizeof cmd, "%.511s", line + 8);
    }
    snprintf(out, cap, "heft pid %s on host %s (since %s%s%.200s)", pid, host, since,
             cmd[0] ? ": " : "", cmd);
}

static int write_holder(int fd, const char *command, struct herr *err, const char *path)
{
    char host[256] = "?";
    if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "?");
    host[sizeof host - 1] = '\0';
    char since[64] = "?";
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm))
        strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S", &tm);
    char text[2048];
    int n = snprintf(text, sizeof text, "pid %ld\nhost %s\nsince %s\ncommand %.1024s\n",
                     (long)getpid(), host, since, command ? command : "heft");
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof text)
        n = (int)sizeof text - 1;
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text, (size_t)n, 0) != (ssize_t)n)
        return herr_set(err, "writing lock file %s: %s", path, strerror(errno));
    return 0;
}

int run_lock_acquire(struct run_lock *l, const char *dir, const char *command,
                     struct herr *err)
{
    not_held(l);
    if (path_join(l->path, sizeof l->path, dir, RUN_LOCK_NAME, err))
        return -1;
    /* A holder removes the file as it releases the lock, so the file locked
     * here may have been unlinked in between: then try again on the new one. */
    for (int attempt = 0; attempt < 100; attempt++) {
        int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
            return herr_set(err, "cannot create lock file %s: %s", l->path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            if (e == EWOULDBLOCK || e == EINTR) {
                /* the holder writes its record just after it locks: give it a moment */
                char holder[768];
                read_holder(fd, holder, sizeof holder);
                for (int i = 0; i < 50 && !holder[0]; i++) {
                    struct timespec ts = { 0, 20 * 1000 * 1000 };
                    nanosleep(&ts, NULL);
                    read_holder(fd, holder, sizeof holder);
                }
                close(fd);
                return herr_set(err, "run directory %s is in use by %s; wait for that run to "
                                     "end, or choose another --out",
                                dir, holder[0] ? holder : "another heft (not yet recorded)");
            }
            /* a file system without locks: go on, and say so */
            snprintf(l->unlocked_reason, sizeof l->unlocked_reason,
                     "cannot lock %.100s (%.40s): nothing stops a second heft from writing "
                     "into this directory", l->path, strerror(e));
            close(fd);
            return 0;
        }
        struct stat a, b;
        if (fstat(fd, &a) != 0 || stat(l->path, &b) != 0 || a.st_ino != b.st_ino ||
            a.st_dev != b.st_dev) {
            close(fd); /* unlinked by its last holder: lock the new file */
            continue;
        }
        if (!S_ISREG(a.st_mode)) {
            close(fd);
            return herr_set(err, "lock file %s is not a regular file", l->path);
        }
        /* a record left behind: its holder ended without releasing (killed) */
        read_holder(fd, l->previous, sizeof l->previous);
        if (write_holder(fd, command, err, l->path)) {
            close(fd);
            return -1;
        }
        l->fd = fd;
        l->held = 1;
        return 0;
    }
    return herr_set(err, "cannot lock %s: it keeps being replaced", l->path);
}

void run_lock_release(struct run_lock *l)
{
    if (!l->held)
        return;
    /* unlinked while still held, so no one locks this file after us */
    unlink(l->path);
    close(l->fd);
    l->fd = -1;
    l->held = 0;
}
