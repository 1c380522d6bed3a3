/* core/tokenizer/tok_hash.c — see tok_hash.h. */
#include "core/tokenizer/tok_hash.h"

#include <stdlib.h>
#include <string.h>

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    return x;
}

uint64_t tok_hash_bytes(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    if (n)
        memcpy(&w, s, n); /* the tail, zero-padded; the length is in h already */
    h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
    return mix64(h);
}

static size_t pow2_at_least(size_t n)
{
    size_t c = 16;
    while (c < n)
        c *= 2;
    return c;
}

/* ---- u64map --------------------------------------------------------------- */

static int u64map_alloc(struct u64map *m, size_t cap)
{
    m->keys = malloc(cap * sizeof *m->keys);
    m->vals = malloc(cap * sizeof *m->vals);
    if (!m->keys || !m->vals) {
        free(m->keys);
        free(m->vals);
        m->keys = m->vals = NULL;
        return -1;
    }
    memset(m->keys, 0xff, cap * sizeof *m->keys); /* U64MAP_EMPTY */
    m->cap = cap;
    m->count = 0;
    return 0;
}

int u64map_init(struct u64map *m, size_t expected)
{
    return u64map_alloc(m, pow2_at_least(2 * expected + 1));
}

void u64map_free(struct u64map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t u64map_find(const struct u64map *m, uint64_t key)
{
    size_t mask = m->cap - 1, i = (size_t)mix64(key) & mask;
    while (m->keys[i] != key && m->keys[i] != U64MAP_EMPTY)
        i = (i + 1) & mask;
    return i;
}

const uint64_t *u64map_get(const struct u64map *m, uint64_t key)
{
    size_t i = u64map_find(m, key);
    return m->keys[i] == key ? &m->vals[i] : NULL;
}

static int u64map_grow(struct u64map *m)
{
    struct u64map old = *m;
    if (u64map_alloc(m, old.cap * 2)) {
        *m = old;
        return -1;
    }
    for (size_t i = 0; i < old.cap; i++)
        if (old.keys[i] != U64MAP_EMPTY) {
            size_t j = u64map_find(m, old.keys[i]);
            m->keys[j] = old.keys[i];
            m->vals[j] = old.vals[i];
            m->count++;
        }
    free(old.keys);
    free(old.vals);
    return 0;
}

uint64_t *u64map_slot(struct u64map *m, uint64_t key, int *inserted)
{
    size_t i = u64map_find(m, key);
    if (m->keys[i] == key) {
        *inserted = 0;
        return &m->vals[i];
    }
    if (2 * (m->count + 1) > m->cap) {
        if (u64map_grow(m))
            return NULL;
        i = u64map_find(m, key);
    }
    m->keys[i] = key;
    m->vals[i] = 0;
    m->count++;
    *inserted = 1;
    return &m->vals[i];
}

/* ---- bytemap -------------------------------------------------------------- */

int bytemap_init(struct bytemap *m, size_t expected)
{
    memset(m, 0, sizeof *m);
    m->cap = pow2_at_least(2 * expected + 1);
    m->tab = calloc(m->cap, sizeof *m->tab);
    m->arena_cap = 4096;
    m->arena = malloc(m->arena_cap);
    if (!m->tab || !m->arena) {
        bytemap_free(m);
        return -1;
    }
    return 0;
}

void bytemap_free(struct bytemap *m)
{
    free(m->tab);
    free(m->arena);
    memset(m, 0, sizeof *m);
}

void bytemap_clear(struct bytemap *m)
{
    memset(m->tab, 0, m->cap * sizeof *m->tab);
    m->count = 0;
    m->arena_len = 0;
}

static size_t bytemap_find(const struct bytemap *m, const void *key, size_t len, uint64_t hash)
{
    size_t mask = m->cap - 1, i = (size_t)hash & mask;
    for (;; i = (i + 1) & mask) {
        const struct bytemap_entry *e = &m->tab[i];
        if (!e->used)
            return i;
        if (e->hash == hash && e->len == len && memcmp(m->arena + e->off, key, len) == 0)
            return i;
    }
}

const uint64_t *bytemap_get(const struct bytemap *m, const void *key, size_t len,
                            uint64_t hash)
{
    size_t i = bytemap_find(m, key, len, hash);
    return m->tab[i].used ? &m->tab[i].val : NULL;
}

static int bytemap_grow(struct bytemap *m)
{
    size_t cap = m->cap * 2;
    struct bytemap_entry *tab = calloc(cap, sizeof *tab);
    if (!tab)
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->tab[i].used) {
            size_t j = (size_t)m->tab[i].hash & (cap - 1);
            while (tab[j].used)
                j = (j + 1) & (cap - 1);
            tab[j] = m->tab[i];
        }
    free(m->tab);
    m->tab = tab;
    m->cap = cap;
    return 0;
}

uint64_t *bytemap_slot(struct bytemap *m, const void *key, size_t len, uint64_t hash,
                       int *inserted)
{
    size_t i = bytemap_find(m, key, len, hash);
    if (m->tab[i].used) {
        *inserted = 0;
        return &m->tab[i].val;
    }
    if (len > UINT32_MAX)
        return NULL;
    if (2 * (m->count + 1) > m->cap) {
        if (bytemap_grow(m))
            return NULL;
        i = bytemap_find(m, key, len, hash);
    }
    if (m->arena_len + len > m->arena_cap) {
        size_t cap = m->arena_cap;
        while (cap < m->arena_len + len)
            cap *= 2;
        char *a = realloc(m->arena, cap);
        if (!a)
            return NULL;
        m->arena = a;
        m->arena_cap = cap;
    }
    memcpy(m->arena + m->arena_len, key, len);
    struct bytemap_entry *e = &m->tab[i];
    e->hash = hash;
    e->off = m->arena_len;
    e->len = (uint32_t)len;
    e->used = 1;
    e->val = 0;
    m->arena_len += len;
    m->count++;
    *inserted = 1;
    return &e->val;
}
