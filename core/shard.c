/* core/shard.c — see shard.h. */
#include "core/shard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* llm.c stores the count in an int32, so a shard holds at most 2^31-1 tokens. */
#define SHARD_MAX_TOKENS ((uint64_t)INT32_MAX)

int shard_open(struct shard *sh, const char *path, struct herr *err)
{
    memset(sh, 0, sizeof *sh);
    snprintf(sh->path, sizeof sh->path, "%s", path);
    if (mapped_file_open(&sh->file, path, "shard", err))
        return -1;
    const size_t size = sh->file.size;
    if (size < SHARD_HEADER_BYTES) {
        shard_close(sh);
        return herr_set(err, "shard %s: truncated: %zu bytes, shorter than the %d-byte header",
                        path, size, SHARD_HEADER_BYTES);
    }
    int32_t hdr[3];
    memcpy(hdr, sh->file.data, sizeof hdr);
    size_t width;
    if (hdr[0] == SHARD_MAGIC && hdr[1] == SHARD_VERSION) {
        width = 2;
    } else if (hdr[0] == SHARD32_MAGIC && hdr[1] == SHARD32_VERSION) {
        width = 4;
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
    const uint64_t expect = SHARD_HEADER_BYTES + width * n;
    if ((uint64_t)size < expect) {
        shard_close(sh);
        return herr_set(err, "shard %s: truncated: %zu bytes but the header's %llu tokens need %llu",
                        path, size, (unsigned long long)n, (unsigned long long)expect);
    }
    if ((uint64_t)size > expect) {
        shard_close(sh);
        return herr_set(err, "shard %s: %zu bytes, %llu more than the header's %llu tokens need "
                        "(extra data after the tokens)",
                        path, size, (unsigned long long)((uint64_t)size - expect),
                        (unsigned long long)n);
    }
    /* The mapping is page-aligned and the header is 1024 bytes, so the token
     * array is aligned for either width. */
    const void *ids = (const char *)sh->file.data + SHARD_HEADER_BYTES;
    if (width == 2)
        sh->tokens = ids;
    else
        sh->tokens32 = ids;
    sh->n = (size_t)n;
    return 0;
}

void shard_adopt(struct shard *sh, const char *label, uint16_t *tokens, size_t n)
{
    memset(sh, 0, sizeof *sh);
    snprintf(sh->path, sizeof sh->path, "%s", label);
    sh->owned = tokens;
    sh->tokens = tokens;
    sh->n = n;
}

int shard_token_error(const struct shard *sh, size_t pos, int vocab_size, struct herr *err)
{
    return herr_set(err, "shard %s: token %zu has id %u >= vocab_size %d "
                    "(was it made with another tokenizer?)",
                    sh->path, pos, (unsigned)shard_token(sh, pos), vocab_size);
}

/* Block-wise maximum first: it vectorizes, and only a block holding a bad id
 * is searched element by element. */
#define CHECK_BLOCK 4096
#define DEFINE_MAX_ID(name, type)                                                              \
    static uint32_t name(const type *ids, size_t n)                                          \
    {                                                                                          \
        type mx = 0;                                                                           \
        for (size_t i = 0; i < n; i++)                                                         \
            mx = ids[i] > mx ? ids[i] : mx;                                                    \
        return mx;                                                                             \
    }
DEFINE_MAX_ID(max_id16, uint16_t)
DEFINE_MAX_ID(max_id32, uint32_t)

int shard_check_vocab(const struct shard *sh, int vocab_size, struct herr *err)
{
    /* 16-bit ids: a vocabulary of 65536 or more admits every id. */
    if (sh->tokens && vocab_size >= 65536)
        return 0;
    for (size_t start = 0; start < sh->n; start += CHECK_BLOCK) {
        size_t end = start + CHECK_BLOCK < sh->n ? start + CHECK_BLOCK : sh->n;
        uint32_t mx = sh->tokens ? max_id16(sh->tokens + start, end - start)
                                 : max_id32(sh->tokens32 + start, end - start);
        if (mx >= (uint32_t)vocab_size)
            for (size_t i = start; i < end; i++)
                if (shard_token(sh, i) >= (uint32_t)vocab_size)
                    return shard_token_error(sh, i, vocab_size, err);
    }
    return 0;
}

void shard_close(struct shard *sh)
{
    mapped_file_close(&sh->file);
    free(sh->owned);
    sh->owned = NULL;
    sh->tokens = NULL;
    sh->tokens32 = NULL;
    sh->n = 0;
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
