/* core/tokenizer/bpe.c — see bpe.h. */
#include "core/tokenizer/bpe.h"

#include <stdlib.h>
#include <string.h>

/* Words up to this many bytes are merged by scanning for the lowest rank
 * (no heap to keep up; most words are a few bytes); longer ones through a
 * heap, so a megabyte-long "word" costs n log n, not n^2. */
#define SCAN_MAX 48
#define NO_RANK UINT32_MAX
#define DEAD UINT32_MAX

int bpe_init(struct bpe *m, struct herr *err)
{
    memset(m, 0, sizeof *m);
    for (int b = 0; b < 256; b++)
        m->byte_id[b] = -1;
    if (bytemap_init(&m->by_bytes, 1024) || u64map_init(&m->merges, 1024)) {
        bpe_free(m);
        return herr_set(err, "out of memory for a BPE vocabulary");
    }
    return 0;
}

void bpe_free(struct bpe *m)
{
    free(m->tok_off);
    free(m->tok_len);
    free(m->tok_kind);
    free(m->arena);
    bytemap_free(&m->by_bytes);
    u64map_free(&m->merges);
    memset(m, 0, sizeof *m);
}

static int grow_ids(struct bpe *m, int id)
{
    if (id < m->cap)
        return 0;
    int cap = m->cap ? m->cap : 1024;
    while (cap <= id)
        cap *= 2;
    uint64_t *off = realloc(m->tok_off, (size_t)cap * sizeof *off);
    if (off)
        m->tok_off = off;
    uint32_t *len = realloc(m->tok_len, (size_t)cap * sizeof *len);
    if (len)
        m->tok_len = len;
    uint8_t *kind = realloc(m->tok_kind, (size_t)cap);
    if (kind)
        m->tok_kind = kind;
    if (!off || !len || !kind)
        return -1;
    memset(kind + m->cap, BPE_TOK_NONE, (size_t)(cap - m->cap));
    m->cap = cap;
    return 0;
}

int bpe_add_token(struct bpe *m, int id, const void *bytes, size_t len, int special,
                  struct herr *err)
{
    if (id < 0 || id >= BPE_MAX_VOCAB)
        return herr_set(err, "token id %d is outside [0, %d)", id, BPE_MAX_VOCAB);
    if (len == 0)
        return herr_set(err, "token id %d is empty", id);
    if (grow_ids(m, id))
        return herr_set(err, "out of memory for %d tokens", id + 1);
    if (m->tok_kind[id] != BPE_TOK_NONE)
        return herr_set(err, "token id %d is given twice", id);
    if (!special) {
        int inserted;
        uint64_t *slot = bytemap_slot(&m->by_bytes, bytes, len, tok_hash_bytes(bytes, len),
                                      &inserted);
        if (!slot)
            return herr_set(err, "out of memory for the vocabulary");
        if (!inserted)
            return herr_set(err, "tokens %d and %d stand for the same bytes", (int)*slot, id);
        *slot = (uint64_t)id;
    }
    if (m->arena_len + len > m->arena_cap) {
        size_t cap = m->arena_cap ? m->arena_cap : 65536;
        while (cap < m->arena_len + len)
            cap *= 2;
        char *a = realloc(m->arena, cap);
        if (!a)
            return herr_set(err, "out of memory for the vocabulary");
        m->arena = a;
        m->arena_cap = cap;
    }
    memcpy(m->arena + m->arena_len, bytes, len);
    m->tok_off[id] = m->arena_len;
    m->tok_len[id] = (uint32_t)len;
    m->tok_kind[id] = special ? BPE_TOK_SPECIAL : BPE_TOK_NORMAL;
    m->arena_len += len;
    if (id >= m->nids)
        m->nids = id + 1;
    return 0;
}

int bpe_find(const struct bpe *m, const void *bytes, size_t len)
{
    const uint64_t *v = bytemap_get(&m->by_bytes, bytes, len, tok_hash_bytes(bytes, len));
    return v ? (int)*v : -1;
}

int bpe_add_merge(struct bpe *m, int left, int right, struct herr *err)
{
    if (!bpe_has_id(m, left) || !bpe_has_id(m, right) ||
        m->tok_kind[left] != BPE_TOK_NORMAL || m->tok_kind[right] != BPE_TOK_NORMAL)
        return herr_set(err, "merge of ids %d and %d: not both normal tokens", left, right);
    size_t ll, rl;
    const char *lb = bpe_token_bytes(m, left, &ll), *rb = bpe_token_bytes(m, right, &rl);
    char stack[256], *buf = ll + rl <= sizeof stack ? stack : malloc(ll + rl);
    if (!buf)
        return herr_set(err, "out of memory");
    memcpy(buf, lb, ll);
    memcpy(buf + ll, rb, rl);
    int merged = bpe_find(m, buf, ll + rl);
    if (buf != stack)
        free(buf);
    if (merged < 0)
        return herr_set(err, "merge of tokens %d and %d makes a token that is not in the "
                        "vocabulary", left, right);
    int inserted;
    uint64_t *slot = u64map_slot(&m->merges, (uint64_t)left << 32 | (uint32_t)right, &inserted);
    if (!slot)
        return herr_set(err, "out of memory for the merges");
    *slot = (uint64_t)m->nmerges << 32 | (uint32_t)merged;
    m->nmerges++;
    return 0;
}

int bpe_finish(struct bpe *m, struct herr *err)
{
    (void)err;
    for (int b = 0; b < 256; b++) {
        unsigned char c = (unsigned char)b;
        m->byte_id[b] = bpe_find(m, &c, 1);
    }
    return 0;
}

/* ---- encoding a word --------------------------------------------------------- */

void bpe_scratch_free(struct bpe_scratch *s)
{
    free(s->sym);
    free(s->rank);
    free(s->merged);
    free(s->prev);
    free(s->next);
    free(s->heap);
    memset(s, 0, sizeof *s);
}

static int scratch_reserve(struct bpe_scratch *s, size_t n)
{
    if (n <= s->cap)
        return 0;
    size_t cap = s->cap ? s->cap : 256;
    while (cap < n)
        cap *= 2;
    bpe_scratch_free(s);
    s->sym = malloc(cap * sizeof *s->sym);
    s->rank = malloc(cap * sizeof *s->rank);
    s->merged = malloc(cap * sizeof *s->merged);
    s->prev = malloc(cap * sizeof *s->prev);
    s->next = malloc(cap * sizeof *s->next);
    s->heap = malloc(3 * cap * sizeof *s->heap);
    if (!s->sym || !s->rank || !s->merged || !s->prev || !s->next || !s->heap) {
        bpe_scratch_free(s);
        return -1;
    }
    s->cap = cap;
    return 0;
}

/* Rank and merged id of the pair (a, b); NO_RANK if it has no merge. */
static inline uint32_t pair_rank(const struct bpe *m, uint32_t a, uint32_t b, uint32_t *merged)
{
    const uint64_t *v = u64map_get(&m->merges, (uint64_t)a << 32 | b);
    if (!v)
        return NO_RANK;
    *merged = (uint32_t)*v;
    return (uint32_t)(*v >> 32);
}

/* Short words: rank[i] of every adjacent pair; merge the lowest (leftmost of
 * equals), recompute only its two neighbours. */
static size_t merge_scan(const struct bpe *m, struct bpe_scratch *s, size_t k)
{
    uint32_t *sym = s->sym, *rank = s->rank, *mg = s->merged;
    for (size_t i = 0; i + 1 < k; i++)
        rank[i] = pair_rank(m, sym[i], sym[i + 1], &mg[i]);
    while (k > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < k; i++)
            if (rank[i] < rank[best])
                best = i;
        if (rank[best] == NO_RANK)
            break;
        sym[best] = mg[best];
        memmove(sym + best + 1, sym + best + 2, (k - best - 2) * sizeof *sym);
        memmove(rank + best + 1, rank + best + 2, (k - best - 2) * sizeof *rank);
        memmove(mg + best + 1, mg + best + 2, (k - best - 2) * sizeof *mg);
        k--;
        if (best + 1 < k)
            rank[best] = pair_rank(m, sym[best], sym[best + 1], &mg[best]);
        else
            rank[best] = NO_RANK;
        if (best > 0)
            rank[best - 1] = pair_rank(m, sym[best - 1], sym[best], &mg[best - 1]);
    }
    return k;
}

/* Min-heap of (rank << 32 | position): lowest rank first, then leftmost. */
static void heap_push(uint64_t *h, size_t *n, uint64_t v)
{
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > v) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n)
{
    uint64_t top = h[0], v = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= v)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n > 0)
        h[i] = v;
    return top;
}

/* Long words: a linked list of symbols and a heap of candidate merges,
 * checked when popped (an entry is stale once a neighbour merged). */
static size_t merge_heap(const struct bpe *m, struct bpe_scratch *s, size_t k)
{
    uint32_t *sym = s->sym, *rank = s->rank, *mg = s->merged;
    int32_t *prev = s->prev, *next = s->next;
    uint64_t *heap = s->heap;
    size_t nh = 0;
    for (size_t i = 0; i < k; i++) {
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < k ? (int32_t)i + 1 : -1;
        rank[i] = i + 1 < k ? pair_rank(m, sym[i], sym[i + 1], &mg[i]) : NO_RANK;
        if (rank[i] != NO_RANK)
            heap_push(heap, &nh, (uint64_t)rank[i] << 32 | i);
    }
    size_t left = k;
    while (nh > 0) {
        uint64_t top = heap_pop(heap, &nh);
        uint32_t r = (uint32_t)(top >> 32);
        int32_t i = (int32_t)(uint32_t)top;
        if (sym[i] == DEAD || rank[i] != r)
            continue;
        int32_t j = next[i];
        sym[i] = mg[i];
        sym[j] = DEAD;
        rank[j] = NO_RANK;
        next[i] = next[j];
        if (next[j] >= 0)
            prev[next[j]] = i;
        left--;
        rank[i] = next[i] >= 0 ? pair_rank(m, sym[i], sym[next[i]], &mg[i]) : NO_RANK;
        if (rank[i] != NO_RANK)
            heap_push(heap, &nh, (uint64_t)rank[i] << 32 | (uint32_t)i);
        int32_t p = prev[i];
        if (p >= 0) {
            rank[p] = pair_rank(m, sym[p], sym[i], &mg[p]);
            if (rank[p] != NO_RANK)
                heap_push(heap, &nh, (uint64_t)rank[p] << 32 | (uint32_t)p);
        }
    }
    size_t o = 0;
    for (int32_t i = 0; i >= 0; i = next[i])
        sym[o++] = sym[i];
    (void)left;
    return o;
}

long bpe_encode_word(const struct bpe *m, const unsigned char *w, size_t n,
                     struct bpe_scratch *s, uint32_t *out, size_t *bad_byte)
{
    *bad_byte = n;
    if (m->ignore_merges) {
        int id = bpe_find(m, w, n);
        if (id >= 0) {
            out[0] = (uint32_t)id;
            return 1;
        }
    }
    if (n > INT32_MAX || scratch_reserve(s, n))
        return -1;
    for (size_t i = 0; i < n; i++) {
        int32_t id = m->byte_id[w[i]];
        if (id < 0) {
            *bad_byte = i;
            return -1;
        }
        s->sym[i] = (uint32_t)id;
    }
    size_t k = n <= SCAN_MAX ? merge_scan(m, s, n) : merge_heap(m, s, n);
    memcpy(out, s->sym, k * sizeof *out);
    return (long)k;
}
