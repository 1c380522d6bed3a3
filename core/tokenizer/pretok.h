/* core/tokenizer/pretok.h — pre-tokenization: cutting text into the pieces
 * ("words") that BPE merges never cross, with a PCRE2 regex in UTF mode with
 * Unicode properties (UCP), JIT-compiled where PCRE2 has a JIT.
 *
 * Semantics are those of Hugging Face's Split pre-tokenizer with behaviour
 * "Isolated" (which the ByteLevel pre-tokenizer uses with GPT-2's regex):
 * every match is a piece, and text between matches is a piece too. PCRE2
 * never returns an empty match here (PCRE2_NOTEMPTY).
 *
 * PCRE2 in UTF mode only takes valid UTF-8. Text is cut into maximal valid
 * stretches first; each stretch is pre-tokenized on its own, and each byte
 * that is not part of valid UTF-8 is a piece by itself (byte-level BPE can
 * still encode it). Hugging Face's tokenizers take only valid text, so for
 * valid text the two agree.
 *
 * A compiled pattern is shared read-only between threads; each thread has a
 * pretok_state (match data, JIT stack).
 */
#ifndef HEFT_CORE_TOKENIZER_PRETOK_H
#define HEFT_CORE_TOKENIZER_PRETOK_H

#include <stddef.h>

#include "core/error.h"

/* GPT-2's pre-tokenizer regex (also Hugging Face's ByteLevel use_regex). */
#define PRETOK_GPT2_PATTERN                                                                    \
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"

struct pretok {
    void *code; /* pcre2_code_8 */
    int jit;    /* JIT-compiled */
};

struct pretok_state {
    void *match_data; /* pcre2_match_data_8 */
    void *mcontext;   /* pcre2_match_context_8 */
    void *jit_stack;  /* pcre2_jit_stack_8 */
};

int pretok_compile(struct pretok *p, const char *pattern, struct herr *err);
void pretok_free(struct pretok *p);
int pretok_state_init(struct pretok_state *st, const struct pretok *p, struct herr *err);
void pretok_state_free(struct pretok_state *st);

/* Pieces of one valid UTF-8 stretch subj[0..len), from `pos` on. */
struct pretok_iter {
    const char *subj;
    size_t len, pos;
    size_t pend_start, pend_end; /* a match found behind a gap, given next */
    int pending;
};

void pretok_iter_start(struct pretok_iter *it, const char *subj, size_t len, size_t pos);
/* The next piece [*start, *end): 1; 0 at the end; -1 on a PCRE2 error. */
int pretok_next(const struct pretok *p, struct pretok_state *st, struct pretok_iter *it,
                size_t *start, size_t *end, struct herr *err);

/* Visits the pieces of text[from..to) in order, as they are in the
 * pre-tokenization of the whole text[0..n) (p NULL: no regex, each valid
 * stretch is one piece). The regex sees up to PRETOK_LOOKAHEAD bytes past
 * `to`, enough for the lookahead of a piece that ends by `to`. Returns 0;
 * 1 when a piece runs past `to` (so `to` is no piece boundary and the caller
 * must take the text whole); -1 on an error (PCRE2's, or the visitor's). */
#define PRETOK_LOOKAHEAD 4096
typedef int (*pretok_visit_fn)(void *ctx, const char *piece, size_t len, size_t offset,
                               struct herr *err);
int pretok_span(const struct pretok *p, struct pretok_state *st, const char *text, size_t n,
                size_t from, size_t to, pretok_visit_fn visit, void *ctx, struct herr *err);

#endif
