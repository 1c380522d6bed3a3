/* core/shard.h — token shards in llm.c's format.
 *
 * Layout (little-endian):
 *   int32 header[256]: [0] = 20240520 (magic), [1] = 1 (version),
 *                      [2] = number of tokens n, the rest 0
 *   uint16 tokens[n]
 * The file is exactly 1024 + 2n bytes; anything else is an error, so a
 * truncated download or a concatenated file is caught on open. Files written
 * by llm.c's tokenizer scripts (its dev/data/ folder) load as they are.
 *
 * A shard is memory-mapped read-only (shards can be many GB), or, for the
 * built-in dataset, a token array in memory that the shard then owns.
 */
#ifndef HEFT_CORE_SHARD_H
#define HEFT_CORE_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/fileio.h"

#define SHARD_MAGIC 20240520
#define SHARD_VERSION 1
#define SHARD_HEADER_INTS 256
#define SHARD_HEADER_BYTES (SHARD_HEADER_INTS * 4)

struct shard {
    char path[4096];        /* file name, or a label such as "builtin:arith/train" */
    const uint16_t *tokens; /* (n) */
    size_t n;
    struct mapped_file file; /* when mapped */
    uint16_t *owned;         /* when in memory (freed by shard_close) */
};

/* Maps a shard file and checks its header and size. */
int shard_open(struct shard *sh, const char *path, struct herr *err);
/* Wraps n tokens already in memory; the shard takes ownership of `tokens`
 * (malloc'ed). */
void shard_adopt(struct shard *sh, const char *label, uint16_t *tokens, size_t n);
/* Fails on the first token id >= vocab_size, naming shard, position, id. */
int shard_check_vocab(const struct shard *sh, int vocab_size, struct herr *err);
/* Reports the token at `pos` as outside the vocabulary; returns -1. */
int shard_token_error(const struct shard *sh, size_t pos, int vocab_size, struct herr *err);
void shard_close(struct shard *sh);

/* Writes tokens[0..n) as a shard file, atomically. */
int shard_write(const char *path, const uint16_t *tokens, size_t n, struct herr *err);

/* A shard written piece by piece (when the token count is not known up front,
 * or the tokens never sit in memory together). */
struct shard_writer {
    struct atomic_file af;
    uint64_t n;
};
int shard_writer_open(struct shard_writer *w, const char *path, struct herr *err);
int shard_writer_append(struct shard_writer *w, const uint16_t *tokens, size_t n,
                        struct herr *err);
/* Fills in the header and commits the file atomically. */
int shard_writer_commit(struct shard_writer *w, struct herr *err);
void shard_writer_abort(struct shard_writer *w);

#endif
