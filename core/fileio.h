/* core/fileio.h — the file primitives every heft format is written and read with.
 *
 * Writes are atomic: data goes to `path.tmp.<pid>`, is fsync'ed, renamed over
 * `path`, and the directory is fsync'ed, so a crash or a failed write leaves
 * either the old file or the complete new one at `path`, never a mix. Reads
 * map files read-only (shards can be many GB) or read exact byte ranges with
 * a clear "truncated" message.
 *
 * All on-disk integers in heft's formats are little-endian; heft reads and
 * writes them in host order, so it refuses to build on a big-endian host.
 */
#ifndef HEFT_CORE_FILEIO_H
#define HEFT_CORE_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/error.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "heft's file formats are little-endian and are read in host order"
#endif

/* ---- atomic writer ------------------------------------------------------- */

struct atomic_file {
    int fd;              /* -1 when not open */
    char path[4096];     /* final name */
    char tmp[4096 + 32]; /* `path.tmp.<pid>` while writing */
    uint64_t written;    /* bytes appended so far */
};

/* Creates the temporary file next to `path`. */
int atomic_file_open(struct atomic_file *af, const char *path, struct herr *err);
/* Appends n bytes (any size: written in bounded chunks, retried on short writes). */
int atomic_file_write(struct atomic_file *af, const void *data, size_t n, struct herr *err);
/* Overwrites n bytes at `offset` (for headers whose content is known last). */
int atomic_file_pwrite(struct atomic_file *af, const void *data, size_t n, uint64_t offset,
                       struct herr *err);
/* fsync, rename over path, fsync the directory. On failure the temporary file
 * is removed and whatever was at `path` before is untouched. */
int atomic_file_commit(struct atomic_file *af, struct herr *err);
/* Closes and removes the temporary file; safe to call after a commit or twice. */
void atomic_file_abort(struct atomic_file *af);

/* Writes a whole small file atomically. */
int atomic_write_file(const char *path, const void *data, size_t n, struct herr *err);

/* ---- readers ------------------------------------------------------------- */

/* A read-only view of a whole file. Empty files have data == NULL, size 0. */
struct mapped_file {
    const void *data;
    size_t size;
    void *map; /* what to munmap; NULL for an empty file */
};

/* Maps `path` read-only. `what` names the file's role in messages ("shard"). */
int mapped_file_open(struct mapped_file *mf, const char *path, const char *what,
                     struct herr *err);
void mapped_file_close(struct mapped_file *mf);

/* Reads exactly n bytes at `offset` of fd into dst; a short read is reported
 * as "<what> <path>: truncated at byte N (needs M)". */
int read_exact_at(int fd, void *dst, size_t n, uint64_t offset, const char *what,
                  const char *path, struct herr *err);

/* Reads a whole (small) file into a NUL-terminated malloc'ed buffer. */
int read_text_file(const char *path, const char *what, char **text, size_t *len,
                   struct herr *err);

/* Opens `path` read-only if it is a regular file, and gets its size (size may
 * be NULL). A FIFO, directory, device or socket is refused with a message
 * naming what it is ("config file /tmp: is a directory, not a regular file"),
 * without blocking: a FIFO is opened non-blocking and closed again. */
int open_regular_file(const char *path, const char *what, int *fd, uint64_t *size,
                      struct herr *err);

/* Size of an open file. */
int file_size_of(int fd, uint64_t *size, const char *what, const char *path,
                 struct herr *err);

/* Creates a directory and its missing parents (like mkdir -p). */
int make_dirs(const char *path, struct herr *err);

/* Joins dir and name with one '/' into out; error when it does not fit. */
int path_join(char *out, size_t cap, const char *dir, const char *name, struct herr *err);
/* dir/name into out and 1 when that is a regular file (followed through
 * links); else out = "" and 0. For looking for optional files by name. */
int file_in_dir(const char *dir, const char *name, char *out, size_t cap);

#endif
