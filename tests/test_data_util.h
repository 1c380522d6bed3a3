/* tests/test_data_util.h — helpers shared by the data, checkpoint and model
 * file suites: temporary directories, raw file writers, message checks. */
#ifndef HEFT_TEST_DATA_UTIL_H
#define HEFT_TEST_DATA_UTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* Creates a fresh directory under $TMPDIR (or /tmp); aborts the test on failure. */
void tmpdir_make(char *out, size_t cap);
/* Removes a directory tree. */
void tmpdir_remove(const char *dir);
/* out = dir/name */
void tpath(char *out, size_t cap, const char *dir, const char *name);

void write_bytes(const char *path, const void *data, size_t n);
void write_text(const char *path, const char *text);
/* Writes an llm.c-style shard with a chosen header (for bad-input tests):
 * header {magic, version, count}, then `ntok` tokens, then `extra` zero bytes. */
void write_raw_shard(const char *path, int32_t magic, int32_t version, int32_t count,
                     const uint16_t *tokens, size_t ntok, size_t extra);
/* A synthetic dataset directory for loader tests: shard k holds n tokens
 * with ids TEST_SHARD_BASE(k) + i, so every token names its shard and
 * position; dataset.txt says vocab 65536 and EOT 0 (an id no shard uses). */
struct test_shard {
    const char *split, *domain;
    int n; /* < 1000 */
};
#define TEST_SHARD_BASE(k) (1000 * (k) + 1)
void make_dataset_dir(const char *dir, const struct test_shard *shards, int count);

/* Reads a whole file; *n gets its size, and a NUL follows the last byte.
 * Caller frees. */
unsigned char *read_bytes(const char *path, size_t *n);
/* Number of entries in a directory other than . and .. */
int dir_entries(const char *dir);
/* Number of entries whose name contains `needle`. */
int dir_entries_matching(const char *dir, const char *needle);

/* Token i of a shard, and all its tokens (malloc'ed), read with shard_read
 * (uint32 ids, whatever the shard's width). */
struct shard;
unsigned shard_token_at(const struct shard *sh, size_t i);
uint32_t *shard_all_tokens(const struct shard *sh);

/* Asserts that msg contains every one of the NULL-terminated needles. */
#define ck_assert_msg_has(msg, ...) ck_assert_msg_has_impl((msg), __FILE__, __LINE__, __VA_ARGS__, (const char *)NULL)
void ck_assert_msg_has_impl(const char *msg, const char *file, int line, ...);

/* Runs a suite and returns the process exit code (0 when all passed). */
int run_suite(Suite *s);

#endif
