/* core/tokenizer/bpe_train.c — see bpe_train.h; this file is step 2, the
 * merges.
 *
 * Words are arrays of token ids with a count. Each pair of adjacent ids has
 * a total count and a list of the words it occurs in (entries may go stale;
 * they are checked when used). A max-heap holds (count, pair) entries, also
 * checked when popped: a pair's count only falls, except for pairs with the
 * newest token, which are pushed again after each merge, so the popped entry
 * whose count is current is the true maximum. A merge rewrites every word of
 * its list: the word's pairs are taken out of the counts, the pair is merged
 * left to right, and the new word's pairs put back. */
#include "core/tokenizer/bpe_train_internal.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

struct word {
    uint64_t count;
    uint64_t off;   /* ids at sym + off */
    uint32_t len;
    uint32_t stamp; /* the last merge step that rewrote it */
};

struct pair {
    uint64_t key; /* left << 32 | right */
    int64_t count;
    uint32_t *words, nwords, cap;
    uint32_t stamp; /* the last step that put it on the push list */
};

struct heap_entry {
    int64_t count;
    uint64_t key;
};

struct trainer {
    struct word *words;
    size_t nwords;
    uint32_t *sym;
    struct u64map index; /* key -> pair index */
    struct pair *pairs;
    size_t npairs, cap_pairs;
    struct heap_entry *heap;
    size_t nheap, cap_heap;
    uint32_t *pushes; /* pairs to push after this step */
    size_t npushes, cap_pushes;
};

/* Max-heap order: higher count first, then the smaller key (left id, then
 * right id): the documented tie-break. */
static int above(const struct heap_entry *a, const struct heap_entry *b)
{
    return a->count > b->count || (a->count == b->count && a->key < b->key);
}

static int heap_push(struct trainer *tr, int64_t count, uint64_t key)
{
    if (tr->nheap == tr->cap_heap) {
        size_t cap = tr->cap_heap ? 2 * tr->cap_heap : 1024;
        struct heap_entry *h = realloc(tr->heap, cap * sizeof *h);
        if (!h)
            return -1;
        tr->heap = h;
        tr->cap_heap = cap;
    }
    struct heap_entry e = {count, key};
    size_t i = tr->nheap++;
    while (i > 0 && above(&e, &tr->heap[(i - 1) / 2])) {
        tr->heap[i] = tr->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    tr->heap[i] = e;
    return 0;
}

static struct heap_entry heap_pop(struct trainer *tr)
{
    struct heap_entry top = tr->heap[0], last = tr->heap[--tr->nheap];
    size_t i = 0, n = tr->nheap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && above(&tr->heap[c + 1], &tr->heap[c]))
            c++;
        if (!above(&tr->heap[c], &last))
            break;
        tr->heap[i] = tr->heap[c];
        i = c;
    }
    if (n > 0)
        tr->heap[i] = last;
    return top;
}

/* The pair (a, b), created with count 0 if new; NULL when out of memory. */
static struct pair *pair_get(struct trainer *tr, uint32_t a, uint32_t b)
{
    uint64_t key = (uint64_t)a << 32 | b;
    int inserted;
    uint64_t *slot = u64map_slot(&tr->index, key, &inserted);
    if (!slot)
        return NULL;
    if (!inserted)
        return &tr->pairs[*slot];
    if (tr->npairs == tr->cap_pairs) {
        size_t cap = tr->cap_pairs ? 2 * tr->cap_pairs : 4096;
        struct pair *p = realloc(tr->pairs, cap * sizeof *p);
        if (!p)
            return NULL;
        tr->pairs = p;
        tr->cap_pairs = cap;
    }
    *slot = tr->npairs;
    struct pair *p = &tr->pairs[tr->npairs++];
    memset(p, 0, sizeof *p);
    p->key = key;
    p->stamp = UINT32_MAX;
    return p;
}

static int pair_add_word(struct pair *p, uint32_t w)
{
    if (p->nwords && p->words[p->nwords - 1] == w)
        return 0;
    if (p->nwords == p->cap) {
        uint32_t cap = p->cap ? 2 * p->cap : 4;
        uint32_t *v = realloc(p->words, cap * sizeof *v);
        if (!v)
            return -1;
        p->words = v;
        p->cap = cap;
    }
    p->words[p->nwords++] = w;
    return 0;
}

static void trainer_free(struct trainer *tr)
{
    for (size_t i = 0; i < tr->npairs; i++)
        free(tr->pairs[i].words);
    free(tr->pairs);
    free(tr->words);
    free(tr->sym);
    free(tr->heap);
    free(tr->pushes);
    u64map_free(&tr->index);
}

/* Words as byte ids, and every pair's count and word list. */
static int trainer_init(struct trainer *tr, const struct bytemap *counts, struct herr *err)
{
    memset(tr, 0, sizeof *tr);
    size_t total = counts->arena_len;
    tr->words = malloc((counts->count ? counts->count : 1) * sizeof *tr->words);
    tr->sym = malloc((total ? total : 1) * sizeof *tr->sym);
    if (!tr->words || !tr->sym || u64map_init(&tr->index, 1 << 16))
        return herr_set(err, "out of memory for %zu words", counts->count);
    /* Words in hash order: the order words are visited in changes no count,
     * and the merges depend on the counts alone. */
    size_t off = 0;
    for (size_t i = 0; i < counts->cap; i++) {
        const struct bytemap_entry *e = &counts->tab[i];
        if (!e->used)
            continue;
        struct word *w = &tr->words[tr->nwords++];
        w->count = e->val;
        w->off = off;
        w->len = e->len;
        w->stamp = UINT32_MAX;
        const unsigned char *b = (const unsigned char *)bytemap_key(counts, e);
        for (uint32_t k = 0; k < e->len; k++)
            tr->sym[off + k] = b[k];
        off += e->len;
    }
    for (size_t wi = 0; wi < tr->nwords; wi++) {
        const struct word *w = &tr->words[wi];
        const uint32_t *s = tr->sym + w->off;
        for (uint32_t k = 0; k + 1 < w->len; k++) {
            struct pair *p = pair_get(tr, s[k], s[k + 1]);
            if (!p || pair_add_word(p, (uint32_t)wi))
                return herr_set(err, "out of memory for pair counts");
            p->count += (int64_t)w->count;
        }
    }
    for (size_t i = 0; i < tr->npairs; i++)
        if (heap_push(tr, tr->pairs[i].count, tr->pairs[i].key))
            return herr_set(err, "out of memory for the pair heap");
    return 0;
}

/* Rewrites word wi with (a, b) -> z; pairs with z go on the push list. */
static int rewrite_word(struct trainer *tr, uint32_t wi, uint32_t a, uint32_t b, uint32_t z,
                        uint32_t step)
{
    struct word *w = &tr->words[wi];
    uint32_t *s = tr->sym + w->off;
    uint32_t k = 0;
    while (k + 1 < w->len && !(s[k] == a && s[k + 1] == b))
        k++;
    if (k + 1 >= w->len)
        return 0; /* stale entry: the pair is no longer in this word */
    const int64_t c = (int64_t)w->count;
    for (uint32_t i = 0; i + 1 < w->len; i++) {
        struct pair *p = pair_get(tr, s[i], s[i + 1]);
        if (!p)
            return -1;
        p->count -= c;
    }
    uint32_t o = 0;
    for (uint32_t i = 0; i < w->len;) {
        if (i + 1 < w->len && s[i] == a && s[i + 1] == b) {
            s[o++] = z;
            i += 2;
        } else {
            s[o++] = s[i++];
        }
    }
    w->len = o;
    for (uint32_t i = 0; i + 1 < w->len; i++) {
        struct pair *p = pair_get(tr, s[i], s[i + 1]);
        if (!p)
            return -1;
        p->count += c;
        if (s[i] == z || s[i + 1] == z) {
            if (pair_add_word(p, wi))
                return -1;
            if (p->stamp != step) {
                p->stamp = step;
                if (tr->npushes == tr->cap_pushes) {
                    size_t cap = tr->cap_pushes ? 2 * tr->cap_pushes : 256;
                    uint32_t *v = realloc(tr->pushes, cap * sizeof *v);
                    if (!v)
                        return -1;
                    tr->pushes = v;
                    tr->cap_pushes = cap;
                }
                tr->pushes[tr->npushes++] = (uint32_t)(p - tr->pairs);
            }
        }
    }
    return 0;
}

/* Appends token `id` = bytes(a) + bytes(b) to the model, or finds it. */
static int token_for(struct bpe *m, uint32_t a, uint32_t b, int *id, struct herr *err)
{
    size_t la, lb;
    const char *ba = bpe_token_bytes(m, (int)a, &la), *bb = bpe_token_bytes(m, (int)b, &lb);
    char *buf = malloc(la + lb);
    if (!buf)
        return herr_set(err, "out of memory");
    memcpy(buf, ba, la);
    memcpy(buf + la, bb, lb);
    *id = bpe_find(m, buf, la + lb);
    int rc = 0;
    if (*id < 0) {
        *id = m->nids;
        rc = bpe_add_token(m, *id, buf, la + lb, 0, err);
    }
    free(buf);
    return rc;
}

static int merge_all(struct trainer *tr, const struct bpe_train_options *o, struct bpe *m,
                     struct bpe_train_result *res, struct herr *err)
{
    const int target = o->vocab_size - 1; /* the special token comes last */
    uint32_t step = 0;
    while (m->nids < target && tr->nheap > 0) {
        struct heap_entry top = heap_pop(tr);
        struct pair *p = &tr->pairs[*u64map_get(&tr->index, top.key)];
        if (p->count != top.count) { /* stale: its count fell since */
            if (p->count > 0 && heap_push(tr, p->count, p->key))
                return herr_set(err, "out of memory for the pair heap");
            continue;
        }
        if (top.count < (int64_t)o->min_frequency || top.count <= 0)
            break;
        const uint32_t a = (uint32_t)(top.key >> 32), b = (uint32_t)top.key;
        int z = -1;
        if (token_for(m, a, b, &z, err) || bpe_add_merge(m, (int)a, (int)b, err))
            return -1;
        res->last_count = (uint64_t)top.count;
        tr->npushes = 0;
        /* Copy the list: rewriting may add this word to it again. */
        uint32_t n = p->nwords, *list = p->words;
        p->words = NULL;
        p->nwords = p->cap = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t wi = list[i];
            if (tr->words[wi].stamp == step)
                continue;
            tr->words[wi].stamp = step;
            if (rewrite_word(tr, wi, a, b, (uint32_t)z, step)) {
                free(list);
                return herr_set(err, "out of memory while merging");
            }
        }
        free(list);
        for (size_t i = 0; i < tr->npushes; i++) {
            const struct pair *q = &tr->pairs[tr->pushes[i]];
            if (q->count > 0 && heap_push(tr, q->count, q->key))
                return herr_set(err, "out of memory for the pair heap");
        }
        step++;
        if (o->progress && step % 256 == 0) {
            struct bpe_train_progress pr = {1, (uint64_t)m->nids, (uint64_t)target,
                                            res->distinct_words};
            o->progress(o->progress_ctx, &pr);
        }
    }
    res->merges = (int)step;
    return 0;
}

int bpe_train(const struct bpe_train_options *o, struct bpe *m, struct bpe_train_result *res,
              struct herr *err)
{
    memset(res, 0, sizeof *res);
    if (o->vocab_size < 257 || o->vocab_size > BPE_MAX_VOCAB)
        return herr_set(err, "vocabulary size %d is outside [257, %d] (256 bytes + merges + "
                        "%s)", o->vocab_size, BPE_MAX_VOCAB, BPE_TRAIN_SPECIAL);
    if (o->ninputs < 1)
        return herr_set(err, "no input files given");
    if (o->min_frequency < 1)
        return herr_set(err, "min frequency must be at least 1");
    int threads = o->threads;
#ifdef _OPENMP
    if (threads <= 0)
        threads = omp_get_max_threads();
#else
    threads = 1;
#endif
    struct bytemap counts;
    if (bpe_train_count(o, threads, &counts, res, err))
        return -1;
    if (bpe_init(m, err)) {
        bytemap_free(&counts);
        return -1;
    }
    int rc = 0;
    for (int b = 0; b < 256 && rc == 0; b++) {
        unsigned char c = (unsigned char)b;
        rc = bpe_add_token(m, b, &c, 1, 0, err);
    }
    struct trainer tr;
    memset(&tr, 0, sizeof tr);
    if (rc == 0)
        rc = trainer_init(&tr, &counts, err);
    bytemap_free(&counts);
    if (rc == 0)
        rc = merge_all(&tr, o, m, res, err);
    trainer_free(&tr);
    if (rc == 0)
        rc = bpe_add_token(m, m->nids, BPE_TRAIN_SPECIAL, strlen(BPE_TRAIN_SPECIAL), 1, err);
    if (rc == 0)
        rc = bpe_finish(m, err);
    if (rc) {
        bpe_free(m);
        return -1;
    }
    res->vocab_size = m->nids;
    return 0;
}
