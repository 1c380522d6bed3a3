/* core/shard.h — token shards in llm.c's formats.
 *
 * Layout (little-endian):
 *   int32 header[256]: [0] = magic, [1] = version,
 *                      [2] = number of tokens n, the rest 0
 *   tokens[n]
 * Two kinds, both llm.c's (its dev/data/data_common.py):
 *   magic 20240520, version 1: uint16 ids (GPT-2's shards), 1024 + 2n bytes
 *   magic 20240801, version 7: uint32 ids (its LLaMA-3 shards), 1024 + 4n bytes
 * heft writes the 16-bit kind whenever the vocabulary fits (ids < 65536) and
 * the 32-bit kind only for bigger vocabularies. The file size must match the
 * header exactly; anything else is an error, so a truncated download or a
 * concatenated file is caught on open. Files written by llm.c's tokenizer
 * scripts load as they are.
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
#define SHARD32_MAGIC 20240801 /* llm.c's LLaMA-3 shards: uint32 ids */
#define SHARD32_VERSION 7
#define SHARD_HEADER_INTS 256
#define SHARD_HEADER_BYTES (SHARD_HEADER_INTS * 4)

struct shard {
    char path[4096];        /* file name, or a label such as "builtin:arith/train" */
    const uint16_t *tokens;   /* (n) for 16-bit shards, else NULL */
    const uint32_t *tokens32; /* (n) for 32-bit shards, else NULL */
    size_t n;
    struct mapped_file file; /* when mapped */
    uint16_t *owned;         /* when in memory (freed by shard_close) */
};

/* Token i of either kind of shard. */
static inline uint32_t shard_token(const struct shard *sh, size_t i)
{
    return sh->tokens ? sh->tokens[i] : sh->tokens32[i];
}
/* Bytes per token id in the file: 2 or 4. */
static inline size_t shard_id_bytes(const struct shard *sh)
{
    return sh->tokens32 ? 4 : 2;
}
/* The id width a vocabulary needs: 2 bytes up to 65536 ids, else 4. */
static inline int shard_width_for_vocab(int vocab_size)
{
    return vocab_size <= 65536 ? 2 : 4;
}

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
    int width; /* bytes per id: 2 (magic 20240520) or 4 (magic 20240801) */
};
/* A 16-bit shard. */
int shard_writer_open(struct shard_writer *w, const char *path, struct herr *err);
/* A shard of `width` bytes per id (2 or 4). */
int shard_writer_open_width(struct shard_writer *w, const char *path, int width,
                            struct herr *err);
/* Appends to a 16-bit shard. */
int shard_writer_append(struct shard_writer *w, const uint16_t *tokens, size_t n,
                        struct herr *err);
/* Appends ids to a shard of either width; an id that does not fit a 16-bit
 * shard is an error. */
int shard_writer_append32(struct shard_writer *w, const uint32_t *ids, size_t n,
                          struct herr *err);
/* Fills in the header and commits the file atomically. */
int shard_writer_commit(struct shard_writer *w, struct herr *err);
void shard_writer_abort(struct shard_writer *w);

#endif
