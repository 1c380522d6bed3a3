/* backends/opencl/program_cache.c — reading and writing cached program
 * binaries; see program_cache.h for the why.
 *
 * File layout (little-endian, like every heft file; the key pins the machine
 * anyway):
 *   8 bytes  magic "HEFTCLP1"
 *   u32      key length, then the key bytes
 *   u64      binary size
 *   u64      FNV-1a 64 checksum of the binary
 *   binary */
#include "backends/opencl/program_cache.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "core/fileio.h"

static const char cache_magic[8] = { 'H', 'E', 'F', 'T', 'C', 'L', 'P', '1' };

int program_cache_dir(const char *override, char *out, size_t size)
{
    const char *base;
    const char *suffix = "";
    int n;
    if (override && *override)
        base = override;
    else if ((base = getenv("HEFT_CACHE_DIR")) && *base)
        ;
    else if ((base = getenv("XDG_CACHE_HOME")) && *base)
        suffix = "/heft";
    else if ((base = getenv("HOME")) && *base)
        suffix = "/.cache/heft";
    else
        return -1;
    n = snprintf(out, size, "%s%s", base, suffix);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

int program_cache_path(const char *dir, const char *key, char *out, size_t size)
{
    uint64_t h = fnv1a64_str(FNV1A64_INIT, key);
    int n = snprintf(out, size, "%s/heft-kernels-%016llx.bin", dir, (unsigned long long)h);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Takes n bytes from the front of *p (of *left remaining); NULL if too few. */
static const unsigned char *take(const unsigned char **p, size_t *left, size_t n)
{
    if (*left < n)
        return NULL;
    const unsigned char *at = *p;
    *p += n;
    *left -= n;
    return at;
}

enum program_cache_status program_cache_load(const char *path, const char *key,
                                             unsigned char **binary, size_t *size)
{
    *binary = NULL;
    *size = 0;
    struct mapped_file mf;
    struct herr ignored;
    if (mapped_file_open(&mf, path, "program cache", &ignored) != 0)
        return PROGRAM_CACHE_MISS;
    const unsigned char *p = mf.data, *field;
    size_t left = mf.size;
    uint32_t key_len;
    uint64_t bin_size, checksum;
    enum program_cache_status status = PROGRAM_CACHE_CORRUPT;
    if (!(field = take(&p, &left, sizeof cache_magic)) ||
        memcmp(field, cache_magic, sizeof cache_magic) != 0)
        goto done;
    if (!(field = take(&p, &left, sizeof key_len)))
        goto done;
    memcpy(&key_len, field, sizeof key_len);
    if (key_len != strlen(key) || !(field = take(&p, &left, key_len)) ||
        memcmp(field, key, key_len) != 0)
        goto done;
    if (!(field = take(&p, &left, sizeof bin_size)))
        goto done;
    memcpy(&bin_size, field, sizeof bin_size);
    if (!(field = take(&p, &left, sizeof checksum)))
        goto done;
    memcpy(&checksum, field, sizeof checksum);
    /* exactly the binary remains, and it is the one that was written */
    if (bin_size == 0 || bin_size != left || fnv1a64_update(FNV1A64_INIT, p, left) != checksum)
        goto done;
    *binary = malloc(left);
    if (!*binary)
        goto done;
    memcpy(*binary, p, left);
    *size = left;
    status = PROGRAM_CACHE_HIT;
done:
    mapped_file_close(&mf);
    return status;
}

int program_cache_store(const char *dir, const char *path, const char *key,
                        const unsigned char *binary, size_t size)
{
    struct herr ignored;
    struct atomic_file af;
    uint32_t key_len = (uint32_t)strlen(key);
    uint64_t bin_size = size;
    uint64_t checksum = fnv1a64_update(FNV1A64_INIT, binary, size);
    if (make_dirs(dir, &ignored) != 0 || atomic_file_open(&af, path, &ignored) != 0)
        return -1;
    if (atomic_file_write(&af, cache_magic, sizeof cache_magic, &ignored) != 0 ||
        atomic_file_write(&af, &key_len, sizeof key_len, &ignored) != 0 ||
        atomic_file_write(&af, key, key_len, &ignored) != 0 ||
        atomic_file_write(&af, &bin_size, sizeof bin_size, &ignored) != 0 ||
        atomic_file_write(&af, &checksum, sizeof checksum, &ignored) != 0 ||
        atomic_file_write(&af, binary, size, &ignored) != 0) {
        atomic_file_abort(&af);
        return -1;
    }
    return atomic_file_commit(&af, &ignored);
}
