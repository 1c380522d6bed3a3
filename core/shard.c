/* core/shard.c — see shard.h. */
#include "core/shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/checksum.h"

/* llm.c stores the count in an int32, so a shard holds at most 2^31-1 tokens. */
#define SHARD_MAX_TOKENS ((uint64_t)INT32_MAX)

/* Tokens read per call when scanning a whole shard. */
#define SCAN_CHUNK_TOKENS ((size_t)1 << 20)

static int64_t mtime_ns_of(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

int shard_open(struct shard *sh, const char *path, struct herr *err)
{
    memset(sh, 0, sizeof *sh);
    sh->fd = -1;
    sh->width = 2;
    sh->max_id = -1;
    snprintf(sh->path, sizeof sh->path, "%s", path);
    uint64_t size = 0;
    if (open_regular_file(path, "shard", &sh->fd, &size, err))
        return -1;
    struct stat st;
    if (fstat(sh->fd, &st) != 0) {
        herr_set(err, "shard %s: cannot stat: %s", path, strerror(errno));
        shard_close(sh);
        return -1;
    }
    sh->dev = (uint64_t)st.st_dev;
    sh->ino = (uint64_t)st.st_ino;
    sh->bytes = (uint64_t)st.st_size;
    sh->mtime_ns = mtime_ns_of(&st);
    sh->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
    if (size < SHARD_HEADER_BYTES) {
        shard_close(sh);
        return herr_set(err, "shard %s: truncated: %llu bytes, shorter than the %d-byte header",
                        path, (unsigned long long)size, SHARD_HEADER_BYTES);
    }
    int32_t hdr[3];
    if (read_exact_at(sh->fd, hdr, sizeof hdr, 0, "shard", path, err)) {
        shard_close(sh);
        return -1;
    }
    if (hdr[0] == SHARD_MAGIC && hdr[1] == SHARD_VERSION) {
        sh->width = 2;
    } else if (hdr[0] == SHARD32_MAGIC && hdr[1] == SHARD32_VERSION) {
        sh->width = 4;
    } else if (hdr[0] == SHARD_MAGIC || hdr[0] == SHARD32_MAGIC) {
        shard_close(sh);
        return herr_set(err, "shard %s: unsupported version %d (expected %d)", path,
                        (int)hdr[1], hdr[0] == SHARD_MAGIC ? SHARD_VERSION : SHARD32_VERSION);
    } else {
        shard_close(sh);
        return herr_set(err, "shard %s: bad magic %d (expected %d, or %d for 32-bit ids): not "
                        "an llm.c token shard", path, (int)hdr[0], SHARD_MAGIC, SHARD32_MAGIC);
    }
    if (hdr[2] < 0) {
        shard_close(sh);
        return herr_set(err, "shard %s: negative token count %d in header", path, (int)hdr[2]);
    }
    const uint64_t n = (uint64_t)hdr[2];
    const uint64_t expect = SHARD_HEADER_BYTES + (uint64_t)sh->width * n;
    if (size < expect) {
        shard_close(sh);
        return herr_set(err, "shard %s: truncated: %llu bytes but the header's %llu tokens need %llu",
                        path, (unsigned long long)size, (unsigned long long)n,
                        (unsigned long long)expect);
    }
    if (size > expect) {
        shard_close(sh);
        return herr_set(err, "shard %s: %llu bytes, %llu more than the header's %llu tokens need "
                        "(extra data after the tokens)",
                        path, (unsigned long long)size, (unsigned long long)(size - expect),
                        (unsigned long long)n);
    }
    sh->n = (size_t)n;
    return 0;
}

void shard_adopt(struct shard *sh, const char *label, uint16_t *tokens, size_t n)
{
    memset(sh, 0, sizeof *sh);
    sh->fd = -1;
    sh->width = 2;
    sh->max_id = -1;
    snprintf(sh->path, sizeof sh->path, "%s", label);
    sh->owned = tokens;
    sh->n = n;
}

void shard_drop_fd(struct shard *sh)
{
    if (sh->fd >= 0)
        close(sh->fd);
    sh->fd = -1;
}

/* The file as it is now against the file as it was opened. */
static int check_unchanged(const struct shard *sh, int fd, struct herr *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return herr_set(err, "shard %s: cannot stat: %s", sh->path, strerror(errno));
    if ((uint64_t)st.st_dev != sh->dev || (uint64_t)st.st_ino != sh->ino)
        return herr_set(err, "shard %s was replaced by another file while heft was using it "
                        "(heft reads its data as it was when the run started: restore the file "
                        "and --resume)", sh->path);
    if ((uint64_t)st.st_size != sh->bytes)
        return herr_set(err, "shard %s is now %llu bytes, %llu when heft opened it: it was "
                        "truncated or rewritten while heft was using it (restore the file and "
                        "--resume)", sh->path, (unsigned long long)st.st_size,
                        (unsigned long long)sh->bytes);
    if (mtime_ns_of(&st) != sh->mtime_ns)
        return herr_set(err, "shard %s was modified while heft was using it (its modification "
                        "time changed): restore the file and --resume", sh->path);
    return 0;
}

static int check_range(const struct shard *sh, size_t first, size_t count, struct herr *err)
{
    if (first > sh->n || count > sh->n - first)
        return herr_set(err, "shard %s: tokens [%zu, %zu) are past its %zu tokens", sh->path,
                        first, first + count, sh->n);
    return 0;
}

int shard_read_raw(const struct shard *sh, size_t first, size_t count, void *dst,
                   struct herr *err)
{
    if (check_range(sh, first, count, err))
        return -1;
    const size_t w = shard_id_bytes(sh);
    if (sh->owned) { /* 16-bit */
        memcpy(dst, sh->owned + first, count * w);
        return 0;
    }
    int fd = sh->fd;
    if (fd < 0 && open_regular_file(sh->path, "shard", &fd, NULL, err))
        return -1;
    uint64_t offset = SHARD_HEADER_BYTES + w * (uint64_t)first;
    int rc = read_exact_at(fd, dst, count * w, offset, "shard", sh->path, err);
    /* what was read must come from the file as it was opened (checked after
     * the read: a change before it shows too); a short read of a changed file
     * says how it changed */
    struct herr why;
    if (check_unchanged(sh, fd, &why)) {
        rc = -1;
        if (err)
            *err = why;
    }
    if (fd != sh->fd)
        close(fd);
    return rc;
}

int shard_read(const struct shard *sh, size_t first, size_t count, uint32_t *dst,
               struct herr *err)
{
    if (sh->owned) {
        if (check_range(sh, first, count, err))
            return -1;
        for (size_t i = 0; i < count; i++)
            dst[i] = sh->owned[first + i];
        return 0;
    }
    /* one read, into dst as the ids are stored */
    if (shard_read_raw(sh, first, count, dst, err))
        return -1;
    if (sh->width == 2) {
        /* 2 * count bytes of 16-bit ids at the start of dst, widened in place
         * from the last down: id i's bytes [2i, 2i+2) are read before dst[i]
         * ([4i, 4i+4)) is written, and lower ids lie below 4i */
        const unsigned char *raw = (const unsigned char *)dst;
        for (size_t i = count; i-- > 0;) {
            uint16_t id;
            memcpy(&id, raw + 2 * i, sizeof id);
            dst[i] = id;
        }
    }
    return 0;
}

/* Largest id of n ids as stored (vectorizes). */
static uint32_t max_id_of(const void *ids, size_t n, int width)
{
    if (width == 2) {
        const uint16_t *p = ids;
        uint16_t m = 0;
        for (size_t i = 0; i < n; i++)
            m = p[i] > m ? p[i] : m;
        return m;
    }
    const uint32_t *p = ids;
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++)
        m = p[i] > m ? p[i] : m;
    return m;
}

int shard_scan(struct shard *sh, struct herr *err)
{
    struct xxh64 h;
    xxh64_init(&h);
    const size_t w = shard_id_bytes(sh);
    uint32_t mx = 0;
    size_t chunk = sh->n < SCAN_CHUNK_TOKENS ? sh->n : SCAN_CHUNK_TOKENS;
    /* uint32 elements: aligned for either width */
    uint32_t *buf = sh->owned ? NULL : malloc((chunk ? chunk : 1) * sizeof *buf);
    if (!sh->owned && !buf)
        return herr_set(err, "shard %s: out of memory for a read buffer", sh->path);
    for (size_t at = 0; at < sh->n; at += chunk) {
        size_t k = sh->n - at < chunk ? sh->n - at : chunk;
        const void *p = sh->owned ? (const void *)(sh->owned + at) : (const void *)buf;
        if (!sh->owned && shard_read_raw(sh, at, k, buf, err)) {
            free(buf);
            return -1;
        }
        xxh64_update(&h, p, k * w);
        uint32_t m = max_id_of(p, k, sh->width);
        mx = m > mx ? m : mx;
    }
    free(buf);
    sh->hash = xxh64_digest(&h);
    sh->max_id = sh->n ? (int64_t)mx : -1;
    sh->scanned = 1;
    return 0;
}

int shard_token_error(const struct shard *sh, size_t pos, unsigned id, int vocab_size,
                      struct herr *err)
{
    return herr_set(err, "shard %s: token %zu has id %u >= vocab_size %d "
                    "(was it made with another tokenizer?)",
                    sh->path, pos, id, vocab_size);
}

int shard_check_vocab(struct shard *sh, int vocab_size, struct herr *err)
{
    /* 16-bit ids: a vocabulary of 65536 or more admits every id. */
    if (sh->width == 2 && vocab_size >= 65536)
        return 0;
    if (!sh->scanned && shard_scan(sh, err))
        return -1;
    if (sh->max_id < vocab_size)
        return 0;
    /* a bad id is in there: find the first, block by block */
    enum { BLOCK = 4096 };
    uint32_t buf[BLOCK];
    for (size_t start = 0; start < sh->n; start += BLOCK) {
        size_t k = sh->n - start < BLOCK ? sh->n - start : BLOCK;
        if (shard_read(sh, start, k, buf, err))
            return -1;
        for (size_t i = 0; i < k; i++)
            if (buf[i] >= (uint32_t)vocab_size)
                return shard_token_error(sh, start + i, buf[i], vocab_size, err);
    }
    return herr_set(err, "shard %s: its largest token id %lld >= vocab_size %d, but no such "
                    "id was found on a second read (the file changed?)", sh->path,
                    (long long)sh->max_id, vocab_size);
}

void shard_close(struct shard *sh)
{
    shard_drop_fd(sh);
    free(sh->owned);
    sh->owned = NULL;
    sh->n = 0;
    sh->scanned = 0;
}

int shard_writer_open_width(struct shard_writer *w, const char *path, int width,
                            struct herr *err)
{
    if (width != 2 && width != 4)
        return herr_set(err, "shard %s: token ids of %d bytes (heft writes 2 or 4)", path, width);
    w->n = 0;
    w->width = width;
    if (atomic_file_open(&w->af, path, err))
        return -1;
    /* The header is rewritten with the real count on commit. */
    int32_t hdr[SHARD_HEADER_INTS] = {0};
    if (atomic_file_write(&w->af, hdr, sizeof hdr, err)) {
        atomic_file_abort(&w->af);
        return -1;
    }
    return 0;
}

int shard_writer_open(struct shard_writer *w, const char *path, struct herr *err)
{
    return shard_writer_open_width(w, path, 2, err);
}

static int writer_room(const struct shard_writer *w, size_t n, struct herr *err)
{
    if (w->n + n > SHARD_MAX_TOKENS)
        return herr_set(err, "shard %s: more than %llu tokens (the format's int32 count)",
                        w->af.path, (unsigned long long)SHARD_MAX_TOKENS);
    return 0;
}

int shard_writer_append(struct shard_writer *w, const uint16_t *tokens, size_t n,
                        struct herr *err)
{
    if (w->width != 2)
        return herr_set(err, "shard %s: 16-bit ids appended to a 32-bit shard", w->af.path);
    if (writer_room(w, n, err) || atomic_file_write(&w->af, tokens, n * sizeof *tokens, err))
        return -1;
    w->n += n;
    return 0;
}

int shard_writer_append32(struct shard_writer *w, const uint32_t *ids, size_t n,
                          struct herr *err)
{
    if (writer_room(w, n, err))
        return -1;
    if (w->width == 4) {
        if (atomic_file_write(&w->af, ids, n * sizeof *ids, err))
            return -1;
        w->n += n;
        return 0;
    }
    uint16_t buf[4096];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < 4096 ? n - done : 4096;
        for (size_t i = 0; i < k; i++) {
            if (ids[done + i] > UINT16_MAX)
                return herr_set(err, "shard %s: token id %u does not fit a 16-bit shard",
                                w->af.path, (unsigned)ids[done + i]);
            buf[i] = (uint16_t)ids[done + i];
        }
        if (atomic_file_write(&w->af, buf, k * sizeof *buf, err))
            return -1;
        done += k;
    }
    w->n += n;
    return 0;
}

int shard_writer_commit(struct shard_writer *w, struct herr *err)
{
    int32_t hdr[SHARD_HEADER_INTS] = {0};
    hdr[0] = w->width == 4 ? SHARD32_MAGIC : SHARD_MAGIC;
    hdr[1] = w->width == 4 ? SHARD32_VERSION : SHARD_VERSION;
    hdr[2] = (int32_t)w->n;
    if (atomic_file_pwrite(&w->af, hdr, sizeof hdr, 0, err)) {
        atomic_file_abort(&w->af);
        return -1;
    }
    return atomic_file_commit(&w->af, err);
}

void shard_writer_abort(struct shard_writer *w)
{
    atomic_file_abort(&w->af);
}

int shard_write(const char *path, const uint16_t *tokens, size_t n, struct herr *err)
{
    struct shard_writer w;
    if (shard_writer_open(&w, path, err))
        return -1;
    if (shard_writer_append(&w, tokens, n, err)) {
        shard_writer_abort(&w);
        return -1;
    }
    return shard_writer_commit(&w, err);
}
