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
 * A shard file is read with pread(2), never mapped: a file truncated or
 * rewritten while heft trains on it gives a message naming it (a mapping
 * would die with SIGBUS). Every read checks the file still has the size and
 * modification time it had when it was opened, so a shard changed under a
 * run stops the run instead of feeding it other tokens. The descriptor stays
 * open (or, past the dataset's budget of descriptors, the file is reopened,
 * and checked to be the same file, for each read). Reads give uint32 ids
 * whatever the width in the file. The built-in dataset's shards are 16-bit
 * token arrays in memory that the shard owns.
 *
 * Content. shard_scan reads a shard once, start to end, for its content hash
 * (XXH64 of the token bytes as stored, 2 or 4 per id, core/checksum.h: the
 * bytes after the 1024-byte header, so `tail -c +1025 FILE | xxh64sum` gives
 * the same) and its largest token id; core/shard_cache.h keeps both per file
 * so that reopening an unchanged file costs no read.
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
    char path[4096]; /* file name, or a label such as "builtin:arith/train" */
    size_t n;        /* tokens */
    int width;       /* bytes per id as stored: 2 (magic 20240520) or 4 (20240801) */
    uint16_t *owned; /* in memory (freed by shard_close); NULL for a file */
    int fd;          /* a file's descriptor, or -1: reopened for each read */
    /* the file as it was opened; a read that finds it changed fails */
    uint64_t dev, ino, bytes;
    int64_t mtime_ns, ctime_ns;
    /* content (shard_scan or the cache): valid when scanned is 1 */
    int scanned;
    uint64_t hash;  /* XXH64 of the n * width token bytes as stored */
    int64_t max_id; /* largest token id; -1 when n = 0 */
};

/* Bytes per token id in the file: 2 or 4. */
static inline size_t shard_id_bytes(const struct shard *sh)
{
    return (size_t)sh->width;
}
/* The id width a vocabulary needs: 2 bytes up to 65536 ids, else 4. */
static inline int shard_width_for_vocab(int vocab_size)
{
    return vocab_size <= 65536 ? 2 : 4;
}

/* Opens a shard file of either kind and checks its header and size (reads
 * only the header). */
int shard_open(struct shard *sh, const char *path, struct herr *err);
/* Wraps n tokens already in memory; the shard takes ownership of `tokens`
 * (malloc'ed). */
void shard_adopt(struct shard *sh, const char *label, uint16_t *tokens, size_t n);
/* Closes a file shard's descriptor: later reads reopen the file. */
void shard_drop_fd(struct shard *sh);
/* Reads token ids [first, first + count) into dst, as uint32 whatever the
 * shard's width. Fails, naming the file, when the range is past the end, or
 * the file is shorter than it was, was replaced or was modified since it was
 * opened. */
int shard_read(const struct shard *sh, size_t first, size_t count, uint32_t *dst,
               struct herr *err);
/* As shard_read, but the ids as stored: count * shard_id_bytes(sh) bytes of
 * little-endian uint16 or uint32 ids. */
int shard_read_raw(const struct shard *sh, size_t first, size_t count, void *dst,
                   struct herr *err);
/* Reads the whole shard once: sets hash, max_id and scanned. */
int shard_scan(struct shard *sh, struct herr *err);
/* Fails on the first token id >= vocab_size, naming shard, position, id
 * (scans first if needed; only a shard whose largest id is too big is
 * searched). */
int shard_check_vocab(struct shard *sh, int vocab_size, struct herr *err);
/* Reports token `id` at `pos` as outside the vocabulary; returns -1. */
int shard_token_error(const struct shard *sh, size_t pos, unsigned id, int vocab_size,
                      struct herr *err);
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
