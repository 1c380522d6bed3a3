/* core/ckpt_dir.c — see ckpt_dir.h. */
#include "core/ckpt_dir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"

#define PREFIX "ckpt_"
#define SUFFIX ".heft"

int ckpt_dir_path(char *out, size_t cap, const char *dir, uint64_t step, struct herr *err)
{
    char name[64];
    snprintf(name, sizeof name, PREFIX "%08llu" SUFFIX, (unsigned long long)step);
    return path_join(out, cap, dir, name, err);
}

int ckpt_dir_create(const char *dir, struct herr *err)
{
    return make_dirs(dir, err);
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int ckpt_dir_set_latest(const char *dir, const char *file, struct herr *err)
{
    char path[4096], line[1024];
    if (path_join(path, sizeof path, dir, CKPT_LATEST_NAME, err))
        return -1;
    int n = snprintf(line, sizeof line, "%s\n", base_name(file));
    if (n < 0 || (size_t)n >= sizeof line)
        return herr_set(err, "checkpoint name %s is too long", file);
    return atomic_write_file(path, line, (size_t)n, err);
}

/* The file name DIR/latest holds, checked to be a plain name in DIR. */
static int read_latest(const char *dir, char *name, size_t cap, struct herr *err)
{
    char path[4096];
    if (path_join(path, sizeof path, dir, CKPT_LATEST_NAME, err))
        return -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return herr_set(err, "checkpoint directory %s has no '%s' file (no checkpoint saved "
                        "there yet?)", dir, CKPT_LATEST_NAME);
    char *text;
    size_t len;
    if (read_text_file(path, "checkpoint pointer", &text, &len, err))
        return -1;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        text[--len] = '\0';
    int rc = 0;
    if (len == 0 || strchr(text, '/') || strchr(text, '\n') || len >= cap)
        rc = herr_set(err, "checkpoint pointer %s: '%s' is not a file name", path, text);
    else
        memcpy(name, text, len + 1);
    free(text);
    return rc;
}

int ckpt_resolve(const char *dir_or_file, char *out, size_t cap, struct herr *err)
{
    struct stat st;
    if (stat(dir_or_file, &st) != 0)
        return herr_set(err, "checkpoint %s: %s", dir_or_file, strerror(errno));
    if (!S_ISDIR(st.st_mode)) {
        if ((size_t)snprintf(out, cap, "%s", dir_or_file) >= cap)
            return herr_set(err, "checkpoint path %s is too long", dir_or_file);
        return 0;
    }
    char name[1024];
    if (read_latest(dir_or_file, name, sizeof name, err))
        return -1;
    return path_join(out, cap, dir_or_file, name, err);
}

/* Step number of a name ckpt_dir_path makes ("ckpt_00000042.heft"), or -1
 * for any other name (which pruning leaves alone). */
static long long step_of(const char *name)
{
    size_t plen = strlen(PREFIX), slen = strlen(SUFFIX), len = strlen(name);
    if (len <= plen + slen || strncmp(name, PREFIX, plen) != 0 ||
        strcmp(name + len - slen, SUFFIX) != 0)
        return -1;
    long long step = 0;
    for (size_t i = plen; i < len - slen; i++) {
        if (name[i] < '0' || name[i] > '9' || step > (long long)1e15)
            return -1;
        step = step * 10 + (name[i] - '0');
    }
    char canonical[64];
    snprintf(canonical, sizeof canonical, PREFIX "%08llu" SUFFIX, step);
    return strcmp(canonical, name) == 0 ? step : -1;
}

static int cmp_desc(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x < y) - (x > y);
}

int ckpt_dir_prune(const char *dir, int keep, int *removed, struct herr *err)
{
    if (removed)
        *removed = 0;
    if (keep <= 0)
        return 0;
    char latest[1024] = "";
    struct herr ignore;
    if (read_latest(dir, latest, sizeof latest, &ignore))
        latest[0] = '\0'; /* no pointer: nothing to protect */
    DIR *d = opendir(dir);
    if (!d)
        return herr_set(err, "checkpoint directory %s: %s", dir, strerror(errno));
    long long *steps = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        long long s = step_of(e->d_name);
        if (s < 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            long long *p = realloc(steps, cap * sizeof *p);
            if (!p) {
                rc = herr_set(err, "out of memory listing %s", dir);
                break;
            }
            steps = p;
        }
        steps[n++] = s;
    }
    closedir(d);
    if (rc == 0 && n > (size_t)keep) {
        qsort(steps, n, sizeof *steps, cmp_desc);
        for (size_t i = (size_t)keep; i < n && rc == 0; i++) {
            char path[4096];
            if (ckpt_dir_path(path, sizeof path, dir, (uint64_t)steps[i], err)) {
                rc = -1;
                break;
            }
            if (strcmp(base_name(path), latest) == 0)
                continue;
            if (unlink(path) != 0)
                rc = herr_set(err, "cannot delete old checkpoint %s: %s", path,
                              strerror(errno));
            else if (removed)
                (*removed)++;
        }
    }
    free(steps);
    return rc;
}

/* Whether name is `BASE.tmp.<pid>` for a file a run writes atomically, with a
 * pid other than ours. */
static int is_stale_temp(const char *name)
{
    const char *tmp = strstr(name, ".tmp.");
    if (!tmp || tmp == name)
        return 0;
    const char *digits = tmp + 5;
    if (!*digits)
        return 0;
    long long pid = 0;
    for (const char *p = digits; *p; p++) {
        if (*p < '0' || *p > '9' || pid > (long long)1e12)
            return 0;
        pid = pid * 10 + (*p - '0');
    }
    if (pid == (long long)getpid())
        return 0;
    char base[256];
    size_t n = (size_t)(tmp - name);
    if (n >= sizeof base)
        return 0;
    memcpy(base, name, n);
    base[n] = '\0';
    return step_of(base) >= 0 || !strcmp(base, CKPT_LATEST_NAME) || !strcmp(base, "model.bin");
}

int ckpt_dir_remove_stale_temps(const char *dir, int *removed, uint64_t *bytes,
                                struct herr *err)
{
    *removed = 0;
    if (bytes)
        *bytes = 0;
    DIR *d = opendir(dir);
    if (!d)
        return herr_set(err, "run directory %s: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (!is_stale_temp(e->d_name))
            continue;
        char path[4096];
        struct stat st;
        if (path_join(path, sizeof path, dir, e->d_name, err)) {
            rc = -1;
            break;
        }
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (unlink(path) != 0) {
            rc = herr_set(err, "cannot delete %s, left by an interrupted write: %s", path,
                          strerror(errno));
            break;
        }
        (*removed)++;
        if (bytes)
            *bytes += (uint64_t)st.st_size;
    }
    closedir(d);
    return rc;
}
