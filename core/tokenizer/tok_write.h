/* core/tokenizer/tok_write.h — writing a byte-level BPE as a Hugging Face
 * tokenizer.json (built with jansson): model BPE with its vocab (token text
 * through GPT-2's bytes_to_unicode) and merges ("a b", rank order), no
 * normalizer, ByteLevel pre-tokenizer (GPT-2's regex), post-processor and
 * decoder, special tokens as added_tokens. `tokenizers` and `transformers`
 * load it (PreTrainedTokenizerFast(tokenizer_file=...)). */
#ifndef HEFT_CORE_TOKENIZER_TOK_WRITE_H
#define HEFT_CORE_TOKENIZER_TOK_WRITE_H

#include "core/error.h"
#include "core/tokenizer/bpe.h"

/* Written atomically (core/fileio.h). */
int tok_write_hf_json(const struct bpe *m, const char *path, struct herr *err);

#endif
