/* core/prepare.h — making a dataset directory (`heft prepare`).
 *
 * From text files, one domain name per group of inputs, through a tokenizer
 * (core/tokenizer/tokenizer.h): by default bytes (each byte is its own id, so
 * no vocabulary file is needed; vocab 257 with EOT = 256), or a BPE
 * tokenizer.json, GPT-2's vocab.json + merges.txt, or a SentencePiece model.
 * Every document is preceded by EOT, as in llm.c's tokenizer scripts, so a
 * window that crosses a document boundary sees where it is. A
 * document is a whole input file, or (doc_split) each paragraph (runs of
 * non-blank lines, separated by blank ones) or each non-blank line; the
 * newline that ends a paragraph or line is not part of it.
 *
 * Split: the last val_fraction of each domain's token stream (inputs in the
 * order given, round(n * fraction) tokens) becomes its validation split, the
 * rest train: deterministic, exact, and the same in every run. Order inputs
 * so that the tail is representative. Domains named in `train_only` get no
 * validation split at all (all their tokens train): synthetic or filler
 * domains whose validation loss should not enter the headline validation
 * loss, which averages over the domains that have validation data.
 *
 * Each input is read once: its documents are encoded on all cores
 * (core/tokenizer/encode_docs.h: the ids do not depend on the thread count)
 * into a temporary file of the domain's ids in the output directory, which
 * is then cut into train and val shards and removed.
 *
 * Output: <out>/<split>_<domain>_<NNNNNN>.bin llm.c shards (16-bit ids for
 * vocabularies up to 65536 ids, else 32-bit: core/shard.h) of at most
 * shard_tokens tokens, and <out>/dataset.txt (core/manifest.h), written last,
 * so an interrupted run never leaves a directory that opens as a dataset.
 * The directory must be empty or missing unless `force` is set; with force,
 * files of the same names are replaced and other files are left alone.
 *
 * The built-in dataset (core/builtin_data.h) can be written the same way, for
 * inspection or to train on exactly those bytes from disk.
 */
#ifndef HEFT_CORE_PREPARE_H
#define HEFT_CORE_PREPARE_H

#include <stdint.h>

#include "core/data_split.h"
#include "core/dataset.h"
#include "core/error.h"
#include "core/manifest.h"
#include "core/tokenizer/tokenizer.h"

#define PREPARE_VOCAB_SIZE 257
#define PREPARE_EOT 256
#define PREPARE_DEFAULT_SHARD_TOKENS 100000000ULL /* llm.c's shard size */

enum doc_split { DOC_SPLIT_FILE, DOC_SPLIT_BLANK_LINE, DOC_SPLIT_LINE };

/* "file", "blank-line", "line" -> mode; -1 if unknown. */
int doc_split_parse(const char *name);
const char *doc_split_name(enum doc_split mode);

struct prepare_input {
    const char *domain;
    const char *path;
};

struct prepare_options {
    const struct prepare_input *inputs; /* in order; a domain may appear many times */
    int ninputs;
    const char *out_dir;
    double val_fraction;   /* [0, 1) */
    enum doc_split split;
    uint64_t shard_tokens; /* >= 1 */
    int force;
    const char *const *train_only; /* (ntrain_only) domain names; each must have an input */
    int ntrain_only;
    const struct tokenizer *tok; /* NULL: bytes */
    int eot;                     /* the id before each document (tok's; ignored for bytes) */
    int threads;                 /* <= 0: all cores */
    /* Called from the calling thread after each batch of documents (may be NULL). */
    void (*progress)(void *ctx, const char *domain, uint64_t bytes, uint64_t tokens);
    void *progress_ctx;
};

struct prepare_domain_stats {
    char name[DOMAIN_NAME_MAX];
    uint64_t docs;
    uint64_t tokens[DATA_NUM_SPLITS];
    int shards[DATA_NUM_SPLITS];
};

struct prepare_summary {
    char tokenizer[32]; /* bytes, bpe, sentencepiece */
    char tokenizer_file[32]; /* its copy in the dataset directory ("" for bytes) */
    int vocab_size, eot;
    uint64_t bytes; /* text read */
    int ndomains;
    struct prepare_domain_stats domains[DATASET_MAX_DOMAINS];
};

int prepare_text_dataset(const struct prepare_options *opt, struct prepare_summary *sum,
                         struct herr *err);
int prepare_builtin_dataset(const char *out_dir, uint64_t shard_tokens, int force,
                            struct prepare_summary *sum, struct herr *err);

#endif
