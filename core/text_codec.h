/* core/text_codec.h — text <-> token ids for `heft sample` and the samples a
 * training run prints.
 *
 * Kinds:
 *  - bytes: heft's byte vocabulary (the built-in data, `heft prepare`): 257
 *    ids, byte b is id b, the end-of-text id is 256. Every byte encodes.
 *  - ids: a vocabulary heft has no tokenizer for yet (GPT-2's BPE of llm.c
 *    shards, a Hugging Face model's tokenizer.json): prompts are given as
 *    ids, and output is printed as ids.
 * The BPE and SentencePiece tokenizers of core/tokenizer/ (branch tok) are
 * meant to be a third kind here: text_codec_choose is the one place that
 * decides, from what core/model_source.h found (a tokenizer.json, the
 * dataset's tokenizer word). */
#ifndef HEFT_CORE_TEXT_CODEC_H
#define HEFT_CORE_TEXT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

enum text_codec_kind { TEXT_CODEC_BYTES, TEXT_CODEC_IDS };

struct text_codec {
    enum text_codec_kind kind;
    int vocab; /* ids are [0, vocab) */
    int eot;   /* end of text, -1 if not known */
    char why[256]; /* how the kind was chosen, for a note */
};

/* tokenizer: the dataset's word ("bytes", "gpt2", "" unknown); vocab and
 * eot: the model's and the data's; tokenizer_json: a file found, or "". A
 * 257-id model whose tokenizer is unknown is taken as heft's bytes (and
 * `why` says so). */
void text_codec_choose(struct text_codec *c, const char *tokenizer, int vocab, int eot,
                       const char *tokenizer_json);

/* text -> ids (at most cap); refused for the ids kind, naming --prompt-ids. */
int text_codec_encode(const struct text_codec *c, const char *text, size_t len, int32_t *ids,
                      int cap, int *n, struct herr *err);
/* "12,345,6" -> ids (at most cap), each checked against the vocabulary. */
int text_codec_parse_ids(const struct text_codec *c, const char *list, int32_t *ids, int cap,
                         int *n, struct herr *err);

/* ids -> text for people, into out (NUL-terminated, truncated to cap):
 * bytes as they are, except that what is not valid UTF-8 and NUL become
 * U+FFFD (so the text is a valid JSON string) and end of text is
 * "<|endoftext|>"; the ids kind writes "[12 345 6]". */
void text_codec_show(const struct text_codec *c, const int32_t *ids, int n, char *out,
                     size_t cap);

#endif
