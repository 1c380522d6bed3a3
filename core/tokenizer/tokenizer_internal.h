/* core/tokenizer/tokenizer_internal.h — what the tokenizer's files share
 * behind tokenizer.h: the tokenizer and encoder structs and the per-kind
 * functions tokenizer.c dispatches to. Not for use outside core/tokenizer/. */
#ifndef HEFT_CORE_TOKENIZER_INTERNAL_H
#define HEFT_CORE_TOKENIZER_INTERNAL_H

#include "config.h"

#include "core/tokenizer/tokenizer.h"

#ifdef HAVE_TOKENIZERS
#include "core/tokenizer/bpe.h"
#include "core/tokenizer/pretok.h"
#endif

struct tokenizer {
    enum tokenizer_kind kind;
    char source[4096]; /* the spec it was loaded from, for messages */
    int vocab_size;
#ifdef HAVE_TOKENIZERS
    struct bpe bpe;
    struct pretok pre;
    int has_pre;          /* else the whole text is one word */
    int split_safe;       /* the regex looks at nothing before a match */
    int add_prefix_space; /* ByteLevel's: a space before text that has none */
#endif
    void *sp; /* SentencePiece processor (sp_shim.h) */
};

struct tok_encoder {
    const struct tokenizer *t;
#ifdef HAVE_TOKENIZERS
    struct pretok_state pst;
    struct bpe_scratch scratch;
    struct bytemap cache;   /* word bytes -> (offset << 16 | count) into pool */
    struct id_buf pool;     /* the cached words' ids */
    uint32_t *word_ids;     /* (word_cap) one word's ids */
    size_t word_cap;
    char *prefixed;         /* text with add_prefix_space's space */
    size_t prefixed_cap;
#endif
};

#ifdef HAVE_TOKENIZERS
/* Loaders (tok_json.c, tok_gpt2.c): fill t->bpe, t->pre and the flags. */
int tok_load_hf_json(struct tokenizer *t, const char *path, struct herr *err);
int tok_load_gpt2_pair(struct tokenizer *t, const char *vocab_path, const char *merges_path,
                       struct herr *err);
/* Sets GPT-2's pre-tokenizer (its regex) on t. */
int tok_use_regex(struct tokenizer *t, const char *pattern, struct herr *err);
/* Whether a file is a tokenizer.json (an object with a "model"), as opposed
 * to a vocab.json; -1 with a message when it is not JSON at all. */
int tok_json_is_hf(const char *path, struct herr *err);

/* The BPE text encoder (tok_bpe_text.c). */
int bpe_encoder_init(struct tok_encoder *e, struct herr *err);
void bpe_encoder_free(struct tok_encoder *e);
int bpe_encode_span(struct tok_encoder *e, const char *text, size_t n, size_t from, size_t to,
                    struct id_buf *out, struct herr *err);
#endif

#endif
