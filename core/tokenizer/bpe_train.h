/* core/tokenizer/bpe_train.h — training a byte-level BPE (`heft tokenizer
 * train`).
 *
 * 1. Count words: each input is pre-tokenized with GPT-2's regex (in
 *    parallel over parts of the files cut at newlines, which are piece
 *    boundaries for that regex) and every distinct piece is counted.
 * 2. Ids 0..255 are the 256 bytes (id = byte value). Then, repeatedly, the
 *    most frequent adjacent pair of tokens over all words (weighted by word
 *    count) becomes a new token with the next id, until the vocabulary holds
 *    vocab_size - 1 tokens or no pair occurs min_frequency times.
 *    Ties: of pairs with the same count, the one with the smaller left id
 *    wins, then the smaller right id; so the result depends only on the
 *    text, not on thread counts or hash order. A merge whose bytes are
 *    already a token (two ways of building "abc") reuses that token, as
 *    Hugging Face's trainer does.
 * 3. <|endoftext|> is the last id.
 */
#ifndef HEFT_CORE_TOKENIZER_BPE_TRAIN_H
#define HEFT_CORE_TOKENIZER_BPE_TRAIN_H

#include <stdint.h>

#include "core/error.h"
#include "core/tokenizer/bpe.h"

#define BPE_TRAIN_SPECIAL "<|endoftext|>"

struct bpe_train_progress {
    int stage;           /* 0: counting words, 1: merging */
    uint64_t done, total; /* bytes (stage 0) or tokens (stage 1) */
    uint64_t words;      /* distinct words so far */
};

struct bpe_train_options {
    const char *const *inputs;
    int ninputs;
    int vocab_size;         /* >= 257: 256 bytes + merges + <|endoftext|> */
    uint64_t min_frequency; /* >= 1 */
    int threads;            /* <= 0: all */
    /* Called now and then from the calling thread (may be NULL). */
    void (*progress)(void *ctx, const struct bpe_train_progress *p);
    void *progress_ctx;
};

struct bpe_train_result {
    uint64_t bytes, words, distinct_words;
    int vocab_size;      /* tokens made (may be below the one asked for) */
    int merges;
    uint64_t last_count; /* count of the last pair merged */
};

/* Trains into *m (initialized here; bpe_free it). */
int bpe_train(const struct bpe_train_options *o, struct bpe *m, struct bpe_train_result *res,
              struct herr *err);

#endif
