/* core/tokenizer/sp_shim.h — the C face of SentencePiece (sp_shim.cc, C++,
 * built only when configure found libsentencepiece). Functions report
 * failure by returning NULL or -1 with a message in msg. */
#ifndef HEFT_CORE_TOKENIZER_SP_SHIM_H
#define HEFT_CORE_TOKENIZER_SP_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "core/tokenizer/tokenizer.h"

void *sp_shim_load(const char *path, char *msg, size_t cap);
void sp_shim_free(void *sp);
int sp_shim_vocab_size(const void *sp);
/* The id of a piece, or -1 (SentencePiece answers unknown pieces with its
 * <unk> id; that is -1 here unless the text is <unk>'s own). */
int sp_shim_piece_id(const void *sp, const char *piece);
/* Appends the ids of one document. A piece SentencePiece can only give as
 * <unk> (a model without byte fallback) is an error. Thread-safe. */
int sp_shim_encode(const void *sp, const char *text, size_t n, struct id_buf *out, char *msg,
                   size_t cap);
/* ids -> text, malloc'ed. */
int sp_shim_decode(const void *sp, const uint32_t *ids, size_t n, char **text, size_t *len,
                   char *msg, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
