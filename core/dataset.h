/* core/dataset.h — a set of token shards, split into train/val and domains.
 *
 * Three ways to name one (dataset_open's `path`):
 *  - NULL, "builtin", or "builtin:arith,prose,...": the generated dataset of
 *    core/builtin_data.h (all five domains, or the listed ones in that order).
 *  - a directory holding a dataset.txt manifest (core/manifest.h; made by
 *    `heft prepare`), or the manifest file itself.
 *  - an llm.c shard file or glob ("data/fineweb_*.bin"): one domain named
 *    "default"; files whose base name contains "_val" form the validation
 *    split and all others train (llm.c's naming, e.g. fineweb_val_000000.bin,
 *    tiny_shakespeare_train.bin). Such shards carry no vocabulary, so the
 *    caller passes vocab_hint (GPT-2: 50257) and EOT is vocab_hint - 1
 *    (GPT-2's <|endoftext|> = 50256).
 *
 * Windows. A sequence length T cuts each shard of n tokens into windows of
 * T+1 tokens with stride T: window w starts at token w*T, its inputs are
 * tokens [w*T, w*T+T) and its targets tokens [w*T+1, w*T+T+1). The last window
 * of a shard may run past the end: its missing targets are -1 (ignored) and
 * its missing inputs are EOT, so it keeps n_i = min(T, n-1-w*T) >= 1 targets.
 * A shard has (n-2)/T + 1 windows (0 if n < 2). Windows never span shards.
 *
 * Content. Opening reads every shard once (core/shard_cache.h keeps the
 * result per file version, so an unchanged file is not read again): its
 * content hash and largest token id. Token ids are thus checked against the
 * vocabulary on open, and again in every row as it is read, so a bad id is
 * reported (shard, position, id, vocab) instead of reaching an embedding.
 * Rows are read with pread (core/shard.h): a shard changed, truncated or
 * replaced while in use is an error naming it.
 */
#ifndef HEFT_CORE_DATASET_H
#define HEFT_CORE_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "core/data_split.h"
#include "core/error.h"
#include "core/shard.h"

#define DATASET_MAX_DOMAINS 64

struct dataset;

struct dataset_shard {
    struct shard shard;
    enum data_split split;
    int domain; /* index into the dataset's domain names */
};

/* vocab_hint: the vocabulary of llm.c shard globs (ignored, may be 0, for the
 * built-in set and manifests, which state theirs). */
int dataset_open(struct dataset **ds, const char *path, int vocab_hint, struct herr *err);
/* As dataset_open, refusing token ids outside the vocabulary on open when the
 * dataset has at most scan_max_tokens tokens (0: never, so that rows report
 * them; UINT64_MAX: always, what dataset_open does). */
int dataset_open_scan(struct dataset **ds, const char *path, int vocab_hint,
                      uint64_t scan_max_tokens, struct herr *err);
/* A --vocab flag (0: not given) must agree with a dataset that states its own
 * vocabulary (built-in, manifest); for llm.c shards it is the vocabulary. */
int dataset_check_vocab_flag(const struct dataset *ds, int vocab, struct herr *err);
/* Scans every token id of every shard against the vocabulary. */
int dataset_check_tokens(const struct dataset *ds, struct herr *err);
void dataset_close(struct dataset *ds);

/* What was opened, for messages: "builtin", the directory, or the glob. */
const char *dataset_source(const struct dataset *ds);
/* Free text from the manifest: "bytes", "gpt2", ... */
const char *dataset_tokenizer(const struct dataset *ds);
int dataset_vocab_size(const struct dataset *ds);
int dataset_eot(const struct dataset *ds);
int dataset_num_domains(const struct dataset *ds);
const char *dataset_domain_name(const struct dataset *ds, int domain);
/* Index of a domain name, or -1. */
int dataset_domain_index(const struct dataset *ds, const char *name);

int dataset_num_shards(const struct dataset *ds);
const struct dataset_shard *dataset_shard_at(const struct dataset *ds, int i);

/* Tokens / windows of one split, in one domain or all (domain = -1). */
uint64_t dataset_num_tokens(const struct dataset *ds, enum data_split split, int domain);
uint64_t dataset_num_windows(const struct dataset *ds, enum data_split split, int domain,
                             int T);

/* A hash of what defines the data (vocabulary, EOT, domain names, and per shard:
 * split, domain, base name, token count and content hash: every token), so MPI
 * ranks can check they opened the same dataset, and a resumed run that it
 * reads the same one. Independent of where the files are mounted. */
uint64_t dataset_fingerprint(const struct dataset *ds);
/* What heft wrote as the fingerprint before content hashes (sizes and each
 * shard's first and last 64 tokens): checkpoints of that time carry it. */
uint64_t dataset_fingerprint_v1(const struct dataset *ds);

/* Windows of a shard of n tokens for sequence length T. */
uint64_t shard_num_windows(uint64_t n, int T);

/* ---- windows across shards ------------------------------------------------ */

/* The windows of one split (and one domain, or all) numbered 0..count-1 in
 * manifest order: shard by shard, window by window. */
struct window_index {
    const struct dataset *ds;
    int T;
    int nshards;
    int *shard;      /* (nshards) dataset shard ids */
    uint64_t *first; /* (nshards + 1) first global window of each; [nshards] = count */
};

int window_index_build(struct window_index *wi, const struct dataset *ds,
                       enum data_split split, int domain, int T, struct herr *err);
void window_index_free(struct window_index *wi);
uint64_t window_index_count(const struct window_index *wi);

/* Fills one row from window g: inputs (T) and targets (T, -1 = ignored), and
 * *domain. Returns the number of kept targets n_i (>= 1), or -1 with an error
 * when a token id is outside the vocabulary. */
int window_index_fill(const struct window_index *wi, uint64_t g, int32_t *inputs,
                      int32_t *targets, int32_t *domain, struct herr *err);

/* Fills a row that contributes nothing: inputs EOT, targets -1, domain -1
 * (pads the last validation batch). */
void dataset_fill_empty_row(const struct dataset *ds, int T, int32_t *inputs,
                            int32_t *targets, int32_t *domain);

/* Checks B >= 1 and 0 <= rank < world; `who` prefixes the message. */
int batch_slice_check(const char *who, int B, int rank, int world, struct herr *err);

/* Kept targets of a row of T targets (n_i of METHOD.md). */
int row_num_targets(const int32_t *targets, int T);

#endif
