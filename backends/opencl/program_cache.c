/* backends/opencl/program_cache.c — reading and writing cached program
 * binaries; see program_cache.h for the why.
 *
 * File layout (host byte order; the key pins the machine anyway):
 *   8 bytes  magic "HEFTCLP1"
 *   u32      key length, then the key bytes
 *   u64      binary size
 *   u64      FNV-1a 64 checksum of the binary
 *   binary */
#include "backends/opencl/program_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char cache_magic[8] = { 'H', 'E', 'F', 'T', 'C', 'L', 'P', '1' };

/* Program binaries are a few MiB at most; anything claiming more is corrupt. */
#define MAX_BINARY_BYTES ((uint64_t)1 << 30)
#define MAX_KEY_BYTES 4096u

uint64_t program_cache_hash(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

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
    uint64_t h = program_cache_hash(PROGRAM_CACHE_HASH_SEED, key, strlen(key));
    int n = snprintf(out, size, "%s/heft-kernels-%016llx.bin", dir, (unsigned long long)h);
    return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int read_exact(FILE *f, void *p, size_t n)
{
    return fread(p, 1, n, f) == n ? 0 : -1;
}

enum program_cache_status program_cache_load(const char *path, const char *key,
                                             unsigned char **binary, size_t *size)
{
    *binary = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return PROGRAM_CACHE_MISS;
    enum program_cache_status status = PROGRAM_CACHE_CORRUPT;
    char magic[sizeof cache_magic];
    uint32_t key_len;
    uint64_t bin_size, checksum;
    char *stored_key = NULL;
    unsigned char *bin = NULL;
    size_t want_key = strlen(key);
    if (read_exact(f, magic, sizeof magic) || memcmp(magic, cache_magic, sizeof magic) ||
        read_exact(f, &key_len, sizeof key_len) || key_len != want_key ||
        key_len > MAX_KEY_BYTES)
        goto done;
    stored_key = malloc(key_len + 1);
    if (!stored_key || read_exact(f, stored_key, key_len) ||
        memcmp(stored_key, key, key_len) != 0)
        goto done;
    if (read_exact(f, &bin_size, sizeof bin_size) || bin_size == 0 ||
        bin_size > MAX_BINARY_BYTES || read_exact(f, &checksum, sizeof checksum))
        goto done;
    bin = malloc((size_t)bin_size);
    if (!bin || read_exact(f, bin, (size_t)bin_size) || fgetc(f) != EOF ||
        program_cache_hash(PROGRAM_CACHE_HASH_SEED, bin, (size_t)bin_size) != checksum)
        goto done;
    *binary = bin;
    *size = (size_t)bin_size;
    bin = NULL;
    status = PROGRAM_CACHE_HIT;
done:
    free(stored_key);
    free(bin);
    fclose(f);
    return status;
}

/* mkdir -p: creates each missing component of dir. */
static int make_dirs(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return -1;
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return -1;
        path[i] = saved;
    }
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

int program_cache_store(const char *dir, const char *path, const char *key,
                        const unsigned char *binary, size_t size)
{
    if (make_dirs(dir) != 0)
        return -1;
    char tmp[4200];
    int n = snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return -1;
    uint32_t key_len = (uint32_t)strlen(key);
    uint64_t bin_size = size;
    uint64_t checksum = program_cache_hash(PROGRAM_CACHE_HASH_SEED, binary, size);
    int ok = fwrite(cache_magic, 1, sizeof cache_magic, f) == sizeof cache_magic &&
             fwrite(&key_len, sizeof key_len, 1, f) == 1 &&
             fwrite(key, 1, key_len, f) == key_len &&
             fwrite(&bin_size, sizeof bin_size, 1, f) == 1 &&
             fwrite(&checksum, sizeof checksum, 1, f) == 1 &&
             fwrite(binary, 1, size, f) == size;
    ok = (fclose(f) == 0) && ok;
    /* rename is atomic: a concurrent reader sees the old entry or the new. */
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}
