/* core/tokenizer/tok_bpe_text.c — byte-level BPE over text: valid UTF-8
 * stretches, pre-tokenized by the regex, each piece through the per-thread
 * word cache or bpe_encode_word. */
#include "core/tokenizer/tokenizer_internal.h"

#include <stdlib.h>
#include <string.h>


/* Words up to this many bytes are cached (longer ones are rare and would
 * crowd the cache); the cache starts over past these sizes. */
#define CACHE_MAX_WORD 128
#define CACHE_MAX_WORDS (1u << 20)
#define CACHE_MAX_IDS (1u << 24)

int bpe_encoder_init(struct tok_encoder *e, struct herr *err)
{
    if (e->t->has_pre && pretok_state_init(&e->pst, &e->t->pre, err))
        return -1;
    if (bytemap_init(&e->cache, 1 << 14)) {
        bpe_encoder_free(e);
        return herr_set(err, "out of memory for the word cache");
    }
    return 0;
}

void bpe_encoder_free(struct tok_encoder *e)
{
    if (e->t->has_pre)
        pretok_state_free(&e->pst);
    bpe_scratch_free(&e->scratch);
    bytemap_free(&e->cache);
    id_buf_free(&e->pool);
    free(e->word_ids);
    free(e->prefixed);
}

struct piece_ctx {
    struct tok_encoder *e;
    struct id_buf *out;
};

/* One piece: ids from the cache, or encoded (and cached). */
static int encode_piece(void *ctx, const char *w, size_t len, size_t offset, struct herr *err)
{
    struct tok_encoder *e = ((struct piece_ctx *)ctx)->e;
    struct id_buf *out = ((struct piece_ctx *)ctx)->out;
    const struct bpe *m = &e->t->bpe;
    uint64_t h = 0;
    if (len <= CACHE_MAX_WORD) {
        h = tok_hash_bytes(w, len);
        const uint64_t *hit = bytemap_get(&e->cache, w, len, h);
        if (hit) {
            size_t off = (size_t)(*hit >> 16), k = (size_t)(*hit & 0xffff);
            if (id_buf_reserve(out, k))
                return herr_set(err, "out of memory for token ids");
            memcpy(out->ids + out->n, e->pool.ids + off, k * sizeof *out->ids);
            out->n += k;
            return 0;
        }
    }
    if (len > e->word_cap) {
        size_t cap = len > 256 ? len : 256;
        uint32_t *p = realloc(e->word_ids, cap * sizeof *p);
        if (!p)
            return herr_set(err, "out of memory for a word of %zu bytes", len);
        e->word_ids = p;
        e->word_cap = cap;
    }
    size_t bad;
    long k = bpe_encode_word(m, (const unsigned char *)w, len, &e->scratch, e->word_ids, &bad);
    if (k < 0 && bad < len)
        return herr_set(err, "byte 0x%02x at offset %zu has no token in the vocabulary "
                        "(it cannot encode this text)", (unsigned char)w[bad], offset + bad);
    if (k < 0)
        return herr_set(err, "out of memory encoding a word of %zu bytes", len);
    if (id_buf_reserve(out, (size_t)k))
        return herr_set(err, "out of memory for token ids");
    memcpy(out->ids + out->n, e->word_ids, (size_t)k * sizeof *out->ids);
    out->n += (size_t)k;
    if (len <= CACHE_MAX_WORD) {
        if (e->cache.count >= CACHE_MAX_WORDS || e->pool.n + (size_t)k > CACHE_MAX_IDS) {
            bytemap_clear(&e->cache);
            e->pool.n = 0;
        }
        int inserted;
        uint64_t *slot = bytemap_slot(&e->cache, w, len, h, &inserted);
        if (slot && id_buf_reserve(&e->pool, (size_t)k) == 0) {
            memcpy(e->pool.ids + e->pool.n, e->word_ids, (size_t)k * sizeof *out->ids);
            *slot = (uint64_t)e->pool.n << 16 | (uint64_t)k;
            e->pool.n += (size_t)k;
        } else if (slot) { /* no room for its ids: start the cache over */
            bytemap_clear(&e->cache);
            e->pool.n = 0;
        }
    }
    return 0;
}

int bpe_encode_span(struct tok_encoder *e, const char *text, size_t n, size_t from, size_t to,
                    struct id_buf *out, struct herr *err)
{
    const struct tokenizer *t = e->t;
    if (t->add_prefix_space && from == 0 && (n == 0 || text[0] != ' ')) {
        /* ByteLevel's add_prefix_space: encode " " + text (offsets in
         * messages count the space). */
        if (n + 1 > e->prefixed_cap) {
            char *p = realloc(e->prefixed, n + 1);
            if (!p)
                return herr_set(err, "out of memory");
            e->prefixed = p;
            e->prefixed_cap = n + 1;
        }
        e->prefixed[0] = ' ';
        if (n)
            memcpy(e->prefixed + 1, text, n);
        return bpe_encode_span(e, e->prefixed, n + 1, 0, to == n ? n + 1 : to + 1, out, err);
    }
    struct piece_ctx ctx = {e, out};
    return pretok_span(t->has_pre ? &t->pre : NULL, &e->pst, text, n, from, to, encode_piece,
                       &ctx, err);
}
