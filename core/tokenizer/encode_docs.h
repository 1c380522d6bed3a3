/* core/tokenizer/encode_docs.h — encoding many documents on all cores, with
 * the same ids, in the same order, as one thread would give.
 *
 * Work is cut into tasks: each document, and long documents of tokenizers
 * that allow it (tokenizer_can_split) into spans of about 256 KiB cut after a
 * newline that a printable ASCII character follows. Tasks run on an OpenMP
 * team, each thread with its own tok_encoder (and so its own word cache), and
 * their ids are joined in task order. Cuts are checked as they are encoded:
 * if a cut falls inside a pre-token (a regex that does not end pieces at
 * newlines), that document is encoded again whole, so the output never
 * depends on where the cuts fell or how many threads ran.
 */
#ifndef HEFT_CORE_TOKENIZER_ENCODE_DOCS_H
#define HEFT_CORE_TOKENIZER_ENCODE_DOCS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/tokenizer/tokenizer.h"

struct doc_span {
    size_t start, len; /* the document's bytes in the text */
};

struct encode_pool;

/* threads <= 0: all the OpenMP threads there are. */
int encode_pool_new(struct encode_pool **p, const struct tokenizer *t, int threads,
                    struct herr *err);
void encode_pool_free(struct encode_pool *p);
int encode_pool_threads(const struct encode_pool *p);

/* Appends to out, for each document in order: eot (when eot >= 0), then the
 * document's ids. An error names the document (by index from doc_base) and
 * the byte offset in the text. */
int encode_pool_docs(struct encode_pool *p, const char *text, const struct doc_span *docs,
                     size_t ndocs, int64_t eot, uint64_t doc_base, struct id_buf *out,
                     struct herr *err);

/* Where text d[0..n) may be cut into parts encoded apart, at or after `at`:
 * just after a '\n' that a printable ASCII byte follows; n if nowhere. */
size_t text_next_cut(const char *d, size_t n, size_t at);

#endif
