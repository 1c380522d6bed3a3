/* core/manifest.h — dataset.txt, the text file that describes a dataset dir.
 *
 *   heft-dataset 1
 *   tokenizer bytes
 *   vocab_size 257
 *   eot 256
 *   shard train arith train_arith_000000.bin
 *   shard val arith val_arith_000000.bin
 *
 * One directive per line; blank lines and lines starting with '#' are
 * ignored. The first directive is `heft-dataset <version>` (version 1).
 * `vocab_size` and `eot` are required (0 <= eot < vocab_size <= 2^24, the
 * models' limit; shards hold 16-bit ids up to 65536 ids, 32-bit ones above); `tokenizer` is a free word for humans (`bytes`
 * for byte-level data, `gpt2` for GPT-2 BPE). Each `shard` line gives the
 * split (train or val), the domain name ([A-Za-z0-9_.-], at most 31
 * characters) and the shard file, relative to the manifest's directory unless
 * absolute; the file name is the rest of the line, so it may hold spaces.
 * Domains are numbered in order of first appearance.
 */
#ifndef HEFT_CORE_MANIFEST_H
#define HEFT_CORE_MANIFEST_H

#include "core/data_split.h"
#include "core/error.h"

#define MANIFEST_NAME "dataset.txt"
#define MANIFEST_MAGIC "heft-dataset"
#define MANIFEST_VERSION 1
#define DOMAIN_NAME_MAX 32 /* including the terminator */
#define MANIFEST_MAX_VOCAB (1 << 24)

struct manifest_shard {
    enum data_split split;
    char domain[DOMAIN_NAME_MAX];
    char *file; /* malloc'ed */
};

struct manifest {
    char tokenizer[32];
    int vocab_size, eot;
    int nshards, cap;
    struct manifest_shard *shards;
};

/* Starts an empty manifest. */
void manifest_init(struct manifest *m, const char *tokenizer, int vocab_size, int eot);
/* Checks a domain name; the message names it and says what is allowed. */
int manifest_check_domain(const char *name, struct herr *err);
int manifest_add_shard(struct manifest *m, enum data_split split, const char *domain,
                       const char *file, struct herr *err);
/* Parses manifest text; `path` names the file in messages. */
int manifest_parse(struct manifest *m, const char *text, const char *path, struct herr *err);
/* Writes the manifest atomically. */
int manifest_write(const struct manifest *m, const char *path, struct herr *err);
void manifest_free(struct manifest *m);

#endif
