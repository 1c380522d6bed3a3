/* core/fileio.c — see fileio.h. */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* One write()/read() call moves at most this much: Linux caps a single call
 * near 2 GiB, and bounded calls keep progress steady for tens-of-GB files. */
#define IO_CHUNK ((size_t)1 << 28)

int path_join(char *out, size_t cap, const char *dir, const char *name, struct herr *err)
{
    size_t dl = strlen(dir);
    const char *sep = (dl > 0 && dir[dl - 1] == '/') ? "" : "/";
    int n = snprintf(out, cap, "%s%s%s", dir, sep, name);
    if (n < 0 || (size_t)n >= cap)
        return herr_set(err, "path %s/%s is too long (max %zu bytes)", dir, name, cap - 1);
    return 0;
}

int file_in_dir(const char *dir, const char *name, char *out, size_t cap)
{
    struct herr ignore;
    struct stat st;
    if (path_join(out, cap, dir, name, &ignore) == 0 && stat(out, &st) == 0 &&
        S_ISREG(st.st_mode))
        return 1;
    if (cap)
        out[0] = '\0';
    return 0;
}

int make_dirs(const char *path, struct herr *err)
{
    char buf[4096];
    int n = snprintf(buf, sizeof buf, "%s", path);
    if (n <= 0 || (size_t)n >= sizeof buf)
        return herr_set(err, "directory %s: bad or too long path", path);
    /* Create each prefix ending before a '/', then the whole path. */
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            struct stat st;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return herr_set(err, "cannot create directory %s: %s", buf, strerror(errno));
            if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
                return herr_set(err, "%s exists and is not a directory", buf);
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    return 0;
}

int atomic_file_open(struct atomic_file *af, const char *path, struct herr *err)
{
    af->fd = -1;
    af->written = 0;
    int n = snprintf(af->path, sizeof af->path, "%s", path);
    if (n < 0 || (size_t)n >= sizeof af->path)
        return herr_set(err, "path %s is too long", path);
    snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
    af->fd = open(af->tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (af->fd < 0)
        return herr_set(err, "cannot create %s: %s", af->tmp, strerror(errno));
    return 0;
}

static int write_all_at(int fd, const void *data, size_t n, uint64_t offset, const char *tmp,
                        struct herr *err)
{
    const char *p = data;
    while (n > 0) {
        size_t want = n < IO_CHUNK ? n : IO_CHUNK;
        ssize_t w = pwrite(fd, p, want, (off_t)offset);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return herr_set(err, "writing %s at byte %llu: %s", tmp,
                            (unsigned long long)offset,
                            w < 0 ? strerror(errno) : "no progress (disk full?)");
        p += w;
        n -= (size_t)w;
        offset += (uint64_t)w;
    }
    return 0;
}

int atomic_file_write(struct atomic_file *af, const void *data, size_t n, struct herr *err)
{
    if (write_all_at(af->fd, data, n, af->written, af->tmp, err))
        return -1;
    af->written += n;
    return 0;
}

int atomic_file_pwrite(struct atomic_file *af, const void *data, size_t n, uint64_t offset,
                       struct herr *err)
{
    return write_all_at(af->fd, data, n, offset, af->tmp, err);
}

/* fsync of the directory makes the rename itself durable. */
static int fsync_parent_dir(const char *path, struct herr *err)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else if (slash == path) {
        strcpy(dir, "/");
    } else {
        size_t n = (size_t)(slash - path);
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY);
    if (fd < 0)
        return herr_set(err, "cannot open directory %s to sync it: %s", dir, strerror(errno));
    int rc = fsync(fd);
    /* Some file systems refuse fsync on directories (EINVAL); the rename is
     * still atomic there, only its durability is up to the file system. */
    if (rc != 0 && errno != EINVAL) {
        int e = errno;
        close(fd);
        return herr_set(err, "cannot sync directory %s: %s", dir, strerror(e));
    }
    close(fd);
    return 0;
}

int atomic_file_commit(struct atomic_file *af, struct herr *err)
{
    if (fsync(af->fd) != 0) {
        herr_set(err, "cannot sync %s: %s", af->tmp, strerror(errno));
        atomic_file_abort(af);
        return -1;
    }
    int rc = close(af->fd);
    af->fd = -1;
    if (rc != 0) {
        herr_set(err, "closing %s: %s", af->tmp, strerror(errno));
        unlink(af->tmp);
        return -1;
    }
    if (rename(af->tmp, af->path) != 0) {
        herr_set(err, "cannot rename %s to %s: %s", af->tmp, af->path, strerror(errno));
        unlink(af->tmp);
        return -1;
    }
    af->tmp[0] = '\0';
    return fsync_parent_dir(af->path, err);
}

void atomic_file_abort(struct atomic_file *af)
{
    if (af->fd >= 0) {
        close(af->fd);
        af->fd = -1;
    }
    if (af->tmp[0]) {
        unlink(af->tmp);
        af->tmp[0] = '\0';
    }
}

int atomic_write_file(const char *path, const void *data, size_t n, struct herr *err)
{
    struct atomic_file af;
    if (atomic_file_open(&af, path, err))
        return -1;
    if (atomic_file_write(&af, data, n, err)) {
        atomic_file_abort(&af);
        return -1;
    }
    return atomic_file_commit(&af, err);
}

static const char *kind_of(mode_t m);

int file_size_of(int fd, uint64_t *size, const char *what, const char *path, struct herr *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return herr_set(err, "%s %s: cannot stat: %s", what, path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return herr_set(err, "%s %s: is %s, not a regular file", what, path, kind_of(st.st_mode));
    *size = (uint64_t)st.st_size;
    return 0;
}

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "of an unknown kind";
}

int open_regular_file(const char *path, const char *what, int *fd, uint64_t *size,
                      struct herr *err)
{
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer */
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0)
        return herr_set(err, "%s %s: cannot open: %s", what, path, strerror(errno));
    struct stat st;
    int rc = 0;
    if (fstat(*fd, &st) != 0)
        rc = herr_set(err, "%s %s: cannot stat: %s", what, path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = herr_set(err, "%s %s: is %s, not a regular file", what, path, kind_of(st.st_mode));
    else if (fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK) != 0)
        rc = herr_set(err, "%s %s: fcntl: %s", what, path, strerror(errno));
    if (rc) {
        close(*fd);
        *fd = -1;
        return -1;
    }
    if (size)
        *size = (uint64_t)st.st_size;
    return 0;
}

/* Opens a regular file read-only and gets its size, which must fit in memory. */
static int open_for_reading(const char *path, const char *what, int *fd, uint64_t *size,
                            struct herr *err)
{
    if (open_regular_file(path, what, fd, size, err))
        return -1;
    int rc = 0;
    if (*size >= (uint64_t)SIZE_MAX)
        rc = herr_set(err, "%s %s: %llu bytes do not fit in memory", what, path,
                      (unsigned long long)*size);
    if (rc) {
        close(*fd);
        *fd = -1;
    }
    return rc;
}

int mapped_file_open(struct mapped_file *mf, const char *path, const char *what,
                     struct herr *err)
{
    mf->data = NULL;
    mf->size = 0;
    mf->map = NULL;
    int fd;
    uint64_t size = 0; /* set by the stat helper; initialized for -Wmaybe-uninitialized */
    if (open_for_reading(path, what, &fd, &size, err))
        return -1;
    if (size > 0) {
        void *m = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            return herr_set(err, "%s %s: cannot map %llu bytes: %s", what, path,
                            (unsigned long long)size, strerror(e));
        }
        mf->map = m;
        mf->data = m;
        mf->size = (size_t)size;
    }
    close(fd); /* the mapping stays valid */
    return 0;
}

void mapped_file_close(struct mapped_file *mf)
{
    if (mf->map)
        munmap(mf->map, mf->size);
    mf->map = NULL;
    mf->data = NULL;
    mf->size = 0;
}

int read_exact_at(int fd, void *dst, size_t n, uint64_t offset, const char *what,
                  const char *path, struct herr *err)
{
    char *p = dst;
    uint64_t pos = offset;
    while (n > 0) {
        size_t want = n < IO_CHUNK ? n : IO_CHUNK;
        ssize_t r = pread(fd, p, want, (off_t)pos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return herr_set(err, "%s %s: read error at byte %llu: %s", what, path,
                            (unsigned long long)pos, strerror(errno));
        if (r == 0)
            return herr_set(err, "%s %s: truncated at byte %llu (needs %llu)", what, path,
                            (unsigned long long)pos, (unsigned long long)(pos + n));
        p += r;
        n -= (size_t)r;
        pos += (uint64_t)r;
    }
    return 0;
}

int read_text_file(const char *path, const char *what, char **text, size_t *len,
                   struct herr *err)
{
    *text = NULL;
    *len = 0;
    int fd;
    uint64_t size = 0; /* set by the stat helper; initialized for -Wmaybe-uninitialized */
    if (open_for_reading(path, what, &fd, &size, err))
        return -1;
    char *buf = malloc((size_t)size + 1);
    if (!buf) {
        close(fd);
        return herr_set(err, "%s %s: out of memory for %llu bytes", what, path,
                        (unsigned long long)size);
    }
    if (read_exact_at(fd, buf, (size_t)size, 0, what, path, err)) {
        free(buf);
        close(fd);
        return -1;
    }
    close(fd);
    buf[size] = '\0';
    *text = buf;
    *len = (size_t)size;
    return 0;
}
