/* core/tokenizer/tokenizer.h — text to token ids and back, for `heft prepare`
 * and `heft tokenizer`.
 *
 * Kinds:
 *  - bytes: each byte is its id (vocab 257, id 256 = EOT); needs no file.
 *  - byte-level BPE: a Hugging Face tokenizer.json whose model is BPE with a
 *    ByteLevel pre-tokenizer (GPT-2's regex, or a Split regex followed by
 *    ByteLevel as LLaMA-3's), or GPT-2's vocab.json/encoder.json +
 *    merges.txt/vocab.bpe pair. Needs jansson and PCRE2 (configure).
 *  - SentencePiece: a .model file (LLaMA-2's kind), through Debian's C++
 *    libsentencepiece (core/tokenizer/sp_shim.cc), when configure found it.
 *
 * Text is encoded as ordinary text: a literal "<|endoftext|>" in a document
 * is its characters, never the special token (as llm.c's data scripts do
 * with tiktoken's encode_ordinary); documents are separated by the EOT id
 * that `heft prepare` puts before each. Encoding is the same as Hugging
 * Face's tokenizers (tests/test_tokenizer_hf.sh checks it).
 *
 * A tokenizer is read-only after loading and shared by threads; each thread
 * encodes through its own tok_encoder (pre-tokenizer state, scratch, and a
 * cache of the words it has seen).
 */
#ifndef HEFT_CORE_TOKENIZER_TOKENIZER_H
#define HEFT_CORE_TOKENIZER_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum tokenizer_kind { TOKENIZER_BYTES, TOKENIZER_BPE, TOKENIZER_SENTENCEPIECE };

struct tokenizer;
struct tok_encoder;

/* A growable array of ids. */
struct id_buf {
    uint32_t *ids;
    size_t n, cap;
};
int id_buf_reserve(struct id_buf *b, size_t extra);
void id_buf_free(struct id_buf *b);

/* Whether this heft was built with BPE (jansson + PCRE2) and SentencePiece. */
int tokenizer_have_bpe(void);
int tokenizer_have_sentencepiece(void);

/* spec: "bytes"; a tokenizer.json; vocab.json or encoder.json (its
 * merges.txt or vocab.bpe found beside it); "VOCAB.json,MERGES.txt"; or a
 * SentencePiece .model. */
int tokenizer_load(struct tokenizer **t, const char *spec, struct herr *err);
void tokenizer_free(struct tokenizer *t);

enum tokenizer_kind tokenizer_kind(const struct tokenizer *t);
/* A word for the dataset manifest and messages: bytes, bpe, sentencepiece. */
const char *tokenizer_kind_name(const struct tokenizer *t);
/* Ids are [0, vocab_size). */
int tokenizer_vocab_size(const struct tokenizer *t);
/* The id of a token by its text (special tokens included), or -1. */
int tokenizer_token_id(const struct tokenizer *t, const char *text);
/* The document separator: the token named `name`, or (name NULL) the first
 * of <|endoftext|>, <|end_of_text|>, </s>, <eos> the vocabulary has. */
int tokenizer_eot(const struct tokenizer *t, const char *name, struct herr *err);
/* Whether a long document may be cut into pieces encoded separately (at a
 * newline followed by a printable ASCII byte) with the same result; checked
 * again while encoding, see tok_encode_span. */
int tokenizer_can_split(const struct tokenizer *t);

int tok_encoder_new(struct tok_encoder **e, const struct tokenizer *t, struct herr *err);
void tok_encoder_free(struct tok_encoder *e);

/* Appends the ids of text[0..n) (one document) to out. A byte the
 * vocabulary cannot encode is an error naming its offset. */
int tok_encode(struct tok_encoder *e, const char *text, size_t n, struct id_buf *out,
               struct herr *err);
/* Encodes text[from..to) of a document text[0..n) as the part of the whole
 * document's encoding that covers those bytes (from = 0: the start). Returns
 * 0, or 1 when `to` turned out not to be a piece boundary (the caller then
 * encodes the whole document instead), or -1 on error. Only for tokenizers
 * that can split. */
int tok_encode_span(struct tok_encoder *e, const char *text, size_t n, size_t from, size_t to,
                    struct id_buf *out, struct herr *err);

/* Stores the tokenizer in dir under the name heft (core/text_codec.h) and
 * transformers look for: tokenizer.json (a Hugging Face file copied as it
 * is; GPT-2's vocab.json + merges.txt written as one) or tokenizer.model
 * (SentencePiece, copied). Its name goes to name ("" for bytes, which need
 * no file). `heft prepare` keeps the tokenizer of every dataset it makes. */
int tokenizer_keep(const struct tokenizer *t, const char *dir, char *name, size_t cap,
                   struct herr *err);

/* ids -> the bytes they stand for (special tokens: their text), malloc'ed
 * into *text (NUL-terminated for convenience). An id outside the vocabulary
 * is an error. */
int tokenizer_decode(const struct tokenizer *t, const uint32_t *ids, size_t n, char **text,
                     size_t *len, struct herr *err);

#endif
