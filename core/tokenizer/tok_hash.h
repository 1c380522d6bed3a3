/* core/tokenizer/tok_hash.h — the two hash maps the tokenizer is built on.
 *
 * u64map: uint64 key -> uint64 value (BPE merges keyed by the id pair,
 * pair counts while training). bytemap: byte string -> uint64 value (the
 * vocabulary, word counts, the encoder's per-word cache); keys are copied
 * into one arena. Both are open addressing with linear probing, grown at half
 * load, never shrunk; lookups do no allocation. Neither is thread-safe: each
 * thread of an encoder has its own cache, and shared maps are only read.
 */
#ifndef HEFT_CORE_TOKENIZER_TOK_HASH_H
#define HEFT_CORE_TOKENIZER_TOK_HASH_H

#include <stddef.h>
#include <stdint.h>

/* A 64-bit hash of n bytes (good spread for short keys, 8 bytes a step). */
uint64_t tok_hash_bytes(const void *p, size_t n);

struct u64map {
    uint64_t *keys; /* U64MAP_EMPTY where free */
    uint64_t *vals;
    size_t cap, count; /* cap: power of two */
};
#define U64MAP_EMPTY UINT64_MAX

/* 0, or -1 when out of memory. */
int u64map_init(struct u64map *m, size_t expected);
void u64map_free(struct u64map *m);
/* The value of key, or NULL. */
const uint64_t *u64map_get(const struct u64map *m, uint64_t key);
/* The value slot of key, inserted as 0 if absent (*inserted says which);
 * NULL when out of memory. The pointer is valid until the next insert. */
uint64_t *u64map_slot(struct u64map *m, uint64_t key, int *inserted);

struct bytemap_entry {
    uint64_t hash;
    uint64_t off; /* key bytes at arena + off */
    uint32_t len;
    uint32_t used;
    uint64_t val;
};

struct bytemap {
    struct bytemap_entry *tab;
    size_t cap, count;
    char *arena;
    size_t arena_len, arena_cap;
};

int bytemap_init(struct bytemap *m, size_t expected);
void bytemap_free(struct bytemap *m);
/* Forgets every key, keeping the memory (the encoder's cache when full). */
void bytemap_clear(struct bytemap *m);
/* The value of key (hash = tok_hash_bytes(key, len)), or NULL. */
const uint64_t *bytemap_get(const struct bytemap *m, const void *key, size_t len,
                            uint64_t hash);
/* The value slot of key, inserted as 0 if absent; NULL when out of memory. */
uint64_t *bytemap_slot(struct bytemap *m, const void *key, size_t len, uint64_t hash,
                       int *inserted);
/* The key bytes of an entry. */
static inline const char *bytemap_key(const struct bytemap *m, const struct bytemap_entry *e)
{
    return m->arena + e->off;
}
/* Bytes of keys held (what the cache bounds itself by). */
static inline size_t bytemap_arena_bytes(const struct bytemap *m)
{
    return m->arena_len;
}

#endif
