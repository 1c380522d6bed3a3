/* core/shard_cache.c — see shard_cache.h. */
#include "core/shard_cache.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/checksum.h"
#include "core/fileio.h"

#define CACHE_MAGIC "heft-shard-fingerprint 1"

/* DIR/fingerprints, or -1 when there is no cache directory or it is off. */
static int cache_dir(char *out, size_t cap)
{
    const char *off = getenv("HEFT_FINGERPRINT_CACHE");
    if (off && !strcmp(off, "0"))
        return -1;
    const char *base, *suffix = "";
    if ((base = getenv("HEFT_CACHE_DIR")) && *base)
        ;
    else if ((base = getenv("XDG_CACHE_HOME")) && *base)
        suffix = "/heft";
    else if ((base = getenv("HOME")) && *base)
        suffix = "/.cache/heft";
    else
        return -1;
    int n = snprintf(out, cap, "%s%s/fingerprints", base, suffix);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* The key line of a file shard and the entry's path. */
static int entry_of(const struct shard *sh, char *key, size_t kcap, char *path, size_t pcap)
{
    char dir[4096], real[PATH_MAX];
    if (cache_dir(dir, sizeof dir))
        return -1;
    const char *name = realpath(sh->path, real) ? real : sh->path;
    int n = snprintf(key, kcap,
                     "key dev=%" PRIu64 " ino=%" PRIu64 " size=%" PRIu64 " mtime=%" PRId64
                     " ctime=%" PRId64 " path=%s",
                     sh->dev, sh->ino, sh->bytes, sh->mtime_ns, sh->ctime_ns, name);
    if (n < 0 || (size_t)n >= kcap || strchr(name, '\n'))
        return -1;
    n = snprintf(path, pcap, "%s/%016" PRIx64 ".txt", dir, xxh64_of(key, strlen(key)));
    return n < 0 || (size_t)n >= pcap ? -1 : 0;
}

/* The entry for sh if there is one and it matches in every key field. */
static int lookup(struct shard *sh, const char *key, const char *path)
{
    char *text;
    size_t len;
    struct herr ignore;
    if (read_text_file(path, "fingerprint cache entry", &text, &len, &ignore))
        return -1;
    int rc = -1;
    char *nl1 = strchr(text, '\n');
    char *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
    if (nl1 && nl2) {
        *nl1 = *nl2 = '\0';
        unsigned long long tokens, hash;
        long long max_id;
        /* an id of the shard's width (2 or 4 bytes) */
        const long long id_limit = (long long)1 << (8 * shard_id_bytes(sh));
        if (!strcmp(text, CACHE_MAGIC) && !strcmp(nl1 + 1, key) &&
            sscanf(nl2 + 1, "tokens %llu xxh64 %llx max_id %lld", &tokens, &hash, &max_id) == 3 &&
            tokens == (unsigned long long)sh->n && max_id >= -1 && max_id < id_limit) {
            sh->hash = (uint64_t)hash;
            sh->max_id = (int64_t)max_id;
            sh->scanned = 1;
            rc = 0;
        }
    }
    free(text);
    return rc;
}

static void store(const struct shard *sh, const char *key, const char *path)
{
    char text[5200];
    int n = snprintf(text, sizeof text, CACHE_MAGIC "\n%s\ntokens %zu xxh64 %016" PRIx64
                     " max_id %" PRId64 "\n", key, sh->n, sh->hash, sh->max_id);
    if (n < 0 || (size_t)n >= sizeof text)
        return;
    char dir[4400];
    struct herr ignore;
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    /* best effort: a cache that cannot be written only costs a rescan */
    if (make_dirs(dir, &ignore) == 0)
        atomic_write_file(path, text, (size_t)n, &ignore);
}

int shard_scan_cached(struct shard *sh, struct herr *err)
{
    if (sh->scanned)
        return 0;
    char key[4400], path[4200];
    int cached = !sh->owned && entry_of(sh, key, sizeof key, path, sizeof path) == 0;
    if (cached && lookup(sh, key, path) == 0)
        return 0;
    if (shard_scan(sh, err))
        return -1;
    /* a file changed within the last seconds may change again within its
     * time stamps' granularity: cache it once it has been still a while */
    int64_t now = (int64_t)time(NULL) * 1000000000;
    int64_t newest = sh->mtime_ns > sh->ctime_ns ? sh->mtime_ns : sh->ctime_ns;
    if (cached && now - newest > (int64_t)2 * 1000000000)
        store(sh, key, path);
    return 0;
}
