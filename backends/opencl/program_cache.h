/* backends/opencl/program_cache.h — the on-disk cache of compiled OpenCL
 * program binaries. Compiling heft's kernels takes seconds on PoCL; loading a
 * binary takes a fraction of that.
 *
 * An entry is one file named after a hash of its key. The key names the
 * platform, device, driver version and a hash of the source and build
 * options, so a driver update or a kernel change misses the cache instead of
 * loading a stale binary. The file repeats the full key and carries a
 * checksum of the binary, so a truncated, corrupted or colliding entry is
 * detected and rebuilt. Nothing here is fatal: a cache that cannot be read or
 * written only means compiling from source. */
#ifndef HEFT_PROGRAM_CACHE_H
#define HEFT_PROGRAM_CACHE_H

#include <stddef.h>

/* The cache directory: override if not NULL, else $HEFT_CACHE_DIR, else
 * $XDG_CACHE_HOME/heft, else $HOME/.cache/heft. 0 on success, -1 when no
 * directory can be named (nothing set) or it does not fit in `size`. */
int program_cache_dir(const char *override, char *out, size_t size);

/* The file for `key` inside `dir`; -1 if the path does not fit. */
int program_cache_path(const char *dir, const char *key, char *out, size_t size);

enum program_cache_status {
    PROGRAM_CACHE_HIT = 0,
    PROGRAM_CACHE_MISS = 1,   /* no file */
    PROGRAM_CACHE_CORRUPT = 2 /* file present but unusable: bad magic, key, size or checksum */
};

/* Reads the entry at path for key; on a hit *binary (malloc'ed, caller
 * frees) and *size hold the program binary. */
enum program_cache_status program_cache_load(const char *path, const char *key,
                                             unsigned char **binary, size_t *size);

/* Writes the entry atomically (core/fileio: temporary file + rename),
 * creating the directory if needed. 0 on success, -1 on any failure (left
 * silent: the caller just compiles again next time). */
int program_cache_store(const char *dir, const char *path, const char *key,
                        const unsigned char *binary, size_t size);

#endif
