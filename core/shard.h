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
 * A shard file is read with pread(2), never mapped: a file truncated or
 * rewritten while heft trains on it gives a message naming it (a mapping
 * would die with SIGBUS). Every read checks the file still has the size and
 * modification time it had when it was opened, so a shard changed under a
 * run stops the run instead of feeding it other tokens. The descriptor stays
 * open (or, past the dataset's budget of descriptors, the file is reopened,
 * and checked to be the same file, for each read). The built-in dataset's
 * shards are token arrays in memory that the shard owns.
 *
 * Content. shard_scan reads a shard once, start to end, for its content hash
 * (XXH64 of the token bytes, core/checksum.h: the bytes after the 1024-byte
 * header, so `tail -c +1025 FILE | xxh64sum` gives the same) and its largest
 * token id; core/shard_cache.h keeps both per file so that reopening an
 * unchanged file costs no read.
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
    char path[4096]; /* file name, or a label such as "builtin:arith/train" */
    size_t n;        /* tokens */
    uint16_t *owned; /* in memory (freed by shard_close); NULL for a file */
    int fd;          /* a file's descriptor, or -1: reopened for each read */
    /* the file as it was opened; a read that finds it changed fails */
    uint64_t dev, ino, bytes;
    int64_t mtime_ns, ctime_ns;
    /* content (shard_scan or the cache): valid when scanned is 1 */
    int scanned;
    uint64_t hash; /* XXH64 of the 2n token bytes */
    int max_id;    /* largest token id; -1 when n = 0 */
};

/* Opens a shard file and checks its header and size (reads only the header). */
int shard_open(struct shard *sh, const char *path, struct herr *err);
/* Wraps n tokens already in memory; the shard takes ownership of `tokens`
 * (malloc'ed). */
void shard_adopt(struct shard *sh, const char *label, uint16_t *tokens, size_t n);
/* Closes a file shard's descriptor: later reads reopen the file. */
void shard_drop_fd(struct shard *sh);
/* Reads tokens [first, first + count) into dst. Fails, naming the file, when
 * the range is past the end, or the file is shorter than it was, was replaced
 * or was modified since it was opened. */
int shard_read(const struct shard *sh, size_t first, size_t count, uint16_t *dst,
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
};
int shard_writer_open(struct shard_writer *w, const char *path, struct herr *err);
int shard_writer_append(struct shard_writer *w, const uint16_t *tokens, size_t n,
                        struct herr *err);
/* Fills in the header and commits the file atomically. */
int shard_writer_commit(struct shard_writer *w, struct herr *err);
void shard_writer_abort(struct shard_writer *w);

#endif
