/* core/tokenizer/bpe.h — a byte-level BPE model: the vocabulary (id <-> the
 * bytes a token stands for), the ranked merges, and encoding one
 * pre-tokenized word.
 *
 * Encoding a word: each byte becomes the id of its one-byte token; then, as
 * long as some adjacent pair has a merge, the pair of lowest rank is merged
 * (equal ranks: the leftmost first), exactly as GPT-2's encoder.py and
 * Hugging Face's BPE model do. Merges are a hash map from the id pair to
 * (rank, merged id). With `ignore_merges` (LLaMA-3's tokenizer.json), a
 * word that is a token as a whole is that token.
 *
 * Special tokens (<|endoftext|>) are in the vocabulary with their text as
 * bytes, but never come out of encoding: text is encoded as ordinary text.
 * A model is read-only once built, so threads share it.
 */
#ifndef HEFT_CORE_TOKENIZER_BPE_H
#define HEFT_CORE_TOKENIZER_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tokenizer/tok_hash.h"

#define BPE_MAX_VOCAB (1 << 24) /* the models' limit (and the manifest's) */

struct bpe {
    int nids;          /* ids are [0, nids); holes possible in foreign files */
    uint64_t *tok_off; /* (nids) token bytes at arena + tok_off[id] */
    uint32_t *tok_len; /* (nids) */
    uint8_t *tok_kind; /* (nids) BPE_TOK_* */
    int cap;
    char *arena;
    size_t arena_len, arena_cap;
    struct bytemap by_bytes;  /* bytes -> id (normal tokens) */
    struct u64map merges;     /* (left << 32 | right) -> (rank << 32 | merged) */
    int32_t byte_id[256];     /* the one-byte token of each byte, or -1 */
    int ignore_merges;
    uint32_t nmerges;
};

enum { BPE_TOK_NONE = 0, BPE_TOK_NORMAL = 1, BPE_TOK_SPECIAL = 2 };

int bpe_init(struct bpe *m, struct herr *err);
void bpe_free(struct bpe *m);
/* Adds token `id` standing for bytes[0..len). A normal token's bytes must be
 * new; a special token may repeat a normal one's text. */
int bpe_add_token(struct bpe *m, int id, const void *bytes, size_t len, int special,
                  struct herr *err);
/* The id of a normal token's bytes, or -1. */
int bpe_find(const struct bpe *m, const void *bytes, size_t len);
/* Adds merge (left, right) with the next rank; the merged bytes must be a
 * token. A repeated pair keeps the later rank (as GPT-2's and HF's loaders). */
int bpe_add_merge(struct bpe *m, int left, int right, struct herr *err);
/* After the last token and merge: the one-byte token table. */
int bpe_finish(struct bpe *m, struct herr *err);

static inline int bpe_has_id(const struct bpe *m, int id)
{
    return id >= 0 && id < m->nids && m->tok_kind[id] != BPE_TOK_NONE;
}
static inline const char *bpe_token_bytes(const struct bpe *m, int id, size_t *len)
{
    *len = m->tok_len[id];
    return m->arena + m->tok_off[id];
}

/* Scratch memory of one thread's word encoder. */
struct bpe_scratch {
    uint32_t *sym;   /* symbols (ids) */
    uint32_t *rank;  /* rank of the pair starting at symbol i, or UINT32_MAX */
    uint32_t *merged; /* the id that pair merges into */
    int32_t *prev, *next;
    uint64_t *heap;  /* (rank << 32 | position) for long words */
    size_t cap;
};
void bpe_scratch_free(struct bpe_scratch *s);

/* Encodes one word (n >= 1 bytes) and writes its ids to out (room for n).
 * Returns the number of ids, or -1 when out of memory or when a byte has no
 * one-byte token (then *bad_byte = its position in the word, else n). */
long bpe_encode_word(const struct bpe *m, const unsigned char *w, size_t n,
                     struct bpe_scratch *s, uint32_t *out, size_t *bad_byte);

#endif
