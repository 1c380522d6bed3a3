/* tests/fuzz/fuzz_util.h — helpers of heft's libFuzzer targets.
 *
 * Readers that take a path get the input through an in-memory file
 * (memfd_create) named by /proc/self/fd/N: a regular file, as heft requires,
 * without a disk write per input. */
#ifndef HEFT_FUZZ_UTIL_H
#define HEFT_FUZZ_UTIL_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* Replaces the content of the process's one memfd with data; returns its
 * path, or NULL. */
static inline const char *fuzz_file(const uint8_t *data, size_t n)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("heft-fuzz", 0);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0)
        abort();
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fd, data + done, n - done, (off_t)done);
        if (w <= 0)
            abort();
        done += (size_t)w;
    }
    return path;
}

/* The input as a NUL-terminated string (malloc'ed). */
static inline char *fuzz_text(const uint8_t *data, size_t n)
{
    char *t = malloc(n + 1);
    if (!t)
        abort();
    for (size_t i = 0; i < n; i++)
        t[i] = (char)data[i];
    t[n] = '\0';
    return t;
}

#endif
