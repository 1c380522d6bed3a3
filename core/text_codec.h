/* core/text_codec.h — text <-> token ids for `heft sample` and the samples a
 * training run prints, through core/tokenizer/tokenizer.h.
 *
 * Which tokenizer, in this order:
 *  1. the one the user names (heft sample --tokenizer SPEC, any spec
 *     tokenizer_load takes: bytes, tokenizer.json, vocab.json[,merges.txt],
 *     a SentencePiece .model);
 *  2. a tokenizer file found with the model (core/model_source.h: in the run
 *     directory, the Hugging Face directory, or the dataset directory);
 *  3. heft's bytes, when the dataset says "bytes", or when nothing is known
 *     and the model has the byte vocabulary's 257 ids;
 *  4. none: prompts are given as ids and output is printed as ids (a BPE
 *     dataset whose tokenizer file was not kept with it, llm.c's shards).
 * A tokenizer with more ids than the model has is refused. */
#ifndef HEFT_CORE_TEXT_CODEC_H
#define HEFT_CORE_TEXT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct tokenizer;
struct tok_encoder;

enum text_codec_kind { TEXT_CODEC_TOKENIZER, TEXT_CODEC_IDS };

struct text_codec {
    enum text_codec_kind kind;
    struct tokenizer *tok;   /* TEXT_CODEC_TOKENIZER */
    struct tok_encoder *enc;
    int vocab;               /* the model's: ids are [0, vocab) */
    int eot;                 /* end of text, -1 if not known */
    char why[512];           /* which tokenizer and why, for a note */
};

/* spec: the user's (or ""); found: a file found with the model (or "");
 * word: the dataset's tokenizer word ("bytes", "bpe", "" unknown); vocab and
 * eot: the model's vocabulary and the data's end of text (-1 unknown). An
 * error only for a spec the user gave that cannot be used. */
int text_codec_open(struct text_codec *c, const char *spec, const char *found, const char *word,
                    int vocab, int eot, struct herr *err);
void text_codec_close(struct text_codec *c);

/* The tokenizer file in a dataset or model directory: tokenizer.json,
 * tokenizer.model, or the file the manifest's tokenizer word names; into
 * out, 1 if found (else out = ""). */
int text_codec_find_in_dir(const char *dir, const char *word, char *out, size_t cap);

/* text -> ids (at most cap); refused without a tokenizer, naming
 * --prompt-ids, and for text the tokenizer cannot encode. */
int text_codec_encode(struct text_codec *c, const char *text, size_t len, int32_t *ids, int cap,
                      int *n, struct herr *err);
/* "12,345,6" -> ids (at most cap), each checked against the vocabulary. */
int text_codec_parse_ids(const struct text_codec *c, const char *list, int32_t *ids, int cap,
                         int *n, struct herr *err);

/* ids -> the bytes they stand for (special tokens: their text), malloc'ed
 * into *text (NUL-terminated); without a tokenizer, "12 345 6 ". */
int text_codec_decode(const struct text_codec *c, const int32_t *ids, int n, char **text,
                      size_t *len, struct herr *err);
/* The same for people and JSON, into out (NUL-terminated, cut at cap):
 * what is not valid UTF-8, and NUL, becomes U+FFFD. */
void text_codec_show(const struct text_codec *c, const int32_t *ids, int n, char *out,
                     size_t cap);

#endif
