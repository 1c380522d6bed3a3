/* tests/test_data_shard.c — llm.c token shards: round trip and every bad input. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shard.h"
#include "tests/test_data_util.h"

static char dir[512];
static void setup(void) { tmpdir_make(dir, sizeof dir); }
static void teardown(void) { tmpdir_remove(dir); }

START_TEST(test_roundtrip)
{
    char path[1024];
    tpath(path, sizeof path, dir, "a.bin");
    enum { N = 1001 };
    uint16_t tok[N];
    for (int i = 0; i < N; i++)
        tok[i] = (uint16_t)(i * 37 % 50257);
    struct herr err;
    ck_assert_int_eq(shard_write(path, tok, N, &err), 0);
    /* Exactly header + tokens, and nothing else left in the directory. */
    size_t size;
    unsigned char *raw = read_bytes(path, &size);
    ck_assert_uint_eq(size, 1024 + 2 * N);
    int32_t hdr[3];
    memcpy(hdr, raw, sizeof hdr);
    ck_assert_int_eq(hdr[0], 20240520);
    ck_assert_int_eq(hdr[1], 1);
    ck_assert_int_eq(hdr[2], N);
    free(raw);
    ck_assert_int_eq(dir_entries(dir), 1);

    struct shard sh;
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    ck_assert_uint_eq(sh.n, N);
    ck_assert_int_eq(memcmp(sh.tokens, tok, sizeof tok), 0);
    ck_assert_int_eq(shard_check_vocab(&sh, 50257, &err), 0);
    shard_close(&sh);
}
END_TEST

START_TEST(test_writer_in_pieces)
{
    char path[1024];
    tpath(path, sizeof path, dir, "b.bin");
    struct shard_writer w;
    struct herr err;
    ck_assert_int_eq(shard_writer_open(&w, path, &err), 0);
    uint16_t piece[10];
    for (int p = 0; p < 7; p++) {
        for (int i = 0; i < 10; i++)
            piece[i] = (uint16_t)(p * 10 + i);
        ck_assert_int_eq(shard_writer_append(&w, piece, 10, &err), 0);
    }
    /* Not visible under its name before the commit. */
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_null(f);
    ck_assert_int_eq(shard_writer_commit(&w, &err), 0);
    struct shard sh;
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    ck_assert_uint_eq(sh.n, 70);
    for (int i = 0; i < 70; i++)
        ck_assert_uint_eq(sh.tokens[i], (unsigned)i);
    shard_close(&sh);
    ck_assert_int_eq(dir_entries(dir), 1);
}
END_TEST

START_TEST(test_empty_shard)
{
    char path[1024];
    tpath(path, sizeof path, dir, "e.bin");
    struct herr err;
    ck_assert_int_eq(shard_write(path, NULL, 0, &err), 0);
    struct shard sh;
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    ck_assert_uint_eq(sh.n, 0);
    shard_close(&sh);
}
END_TEST

START_TEST(test_missing_file)
{
    char path[1024];
    tpath(path, sizeof path, dir, "nothere.bin");
    struct shard sh;
    struct herr err;
    ck_assert_int_eq(shard_open(&sh, path, &err), -1);
    ck_assert_msg_has(err.msg, path, "cannot open", "No such file");
}
END_TEST

START_TEST(test_bad_magic)
{
    char path[1024];
    tpath(path, sizeof path, dir, "m.bin");
    uint16_t tok[4] = {1, 2, 3, 4};
    write_raw_shard(path, 20240326, 1, 4, tok, 4, 0);
    struct shard sh;
    struct herr err;
    ck_assert_int_eq(shard_open(&sh, path, &err), -1);
    ck_assert_msg_has(err.msg, path, "bad magic 20240326", "expected 20240520");
}
END_TEST

START_TEST(test_bad_version)
{
    char path[1024];
    tpath(path, sizeof path, dir, "v.bin");
    uint16_t tok[4] = {1, 2, 3, 4};
    write_raw_shard(path, 20240520, 7, 4, tok, 4, 0);
    struct shard sh;
    struct herr err;
    ck_assert_int_eq(shard_open(&sh, path, &err), -1);
    ck_assert_msg_has(err.msg, path, "unsupported version 7", "expected 1");
}
END_TEST

START_TEST(test_truncated_tokens)
{
    char path[1024];
    tpath(path, sizeof path, dir, "t.bin");
    uint16_t tok[50] = {0};
    write_raw_shard(path, 20240520, 1, 100, tok, 50, 0); /* header claims 100 */
    struct shard sh;
    struct herr err;
    ck_assert_int_eq(shard_open(&sh, path, &err), -1);
    ck_assert_msg_has(err.msg, path, "truncated", "1124 bytes", "1224");
}
END_TEST

START_TEST(test_truncated_header)
{
    char path[1024];
    tpath(path, sizeof path, dir, "h.bin");
    int32_t hdr[25] = {20240520, 1, 0};
    write_bytes(path, hdr, sizeof hdr);
    struct shard sh;
    struct herr err;
    ck_assert_int_eq(shard_open(&sh, path, &err), -1);
    ck_assert_msg_has(err.msg, path, "truncated", "100 bytes", "header");
}
END_TEST

START_TEST(test_extra_bytes)
{
    char path[1024];
    tpath(path, sizeof path, dir, "x.bin");
    uint16_t tok[4] = {1, 2, 3, 4};
    write_raw_shard(path, 20240520, 1, 4, tok, 4, 6);
    struct shard sh;
    struct herr err;
    ck_assert_int_eq(shard_open(&sh, path, &err), -1);
    ck_assert_msg_has(err.msg, path, "6 more than", "extra data");
}
END_TEST

START_TEST(test_negative_count)
{
    char path[1024];
    tpath(path, sizeof path, dir, "n.bin");
    write_raw_shard(path, 20240520, 1, -3, NULL, 0, 0);
    struct shard sh;
    struct herr err;
    ck_assert_int_eq(shard_open(&sh, path, &err), -1);
    ck_assert_msg_has(err.msg, path, "negative token count -3");
}
END_TEST

START_TEST(test_token_outside_vocab)
{
    char path[1024];
    tpath(path, sizeof path, dir, "big.bin");
    enum { N = 10000 };
    uint16_t *tok = calloc(N, sizeof *tok);
    for (int i = 0; i < N; i++)
        tok[i] = (uint16_t)(i % 257);
    tok[7777] = 300;
    struct herr err;
    ck_assert_int_eq(shard_write(path, tok, N, &err), 0);
    free(tok);
    struct shard sh;
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    ck_assert_int_eq(shard_check_vocab(&sh, 301, &err), 0);
    ck_assert_int_eq(shard_check_vocab(&sh, 300, &err), -1);
    ck_assert_msg_has(err.msg, path, "token 7777", "id 300", "vocab_size 300");
    shard_close(&sh);
}
END_TEST

/* 32-bit ids: llm.c's LLaMA-3 layout (magic 20240801, version 7, uint32). */
START_TEST(test_roundtrip_32bit)
{
    char path[1024];
    tpath(path, sizeof path, dir, "w.bin");
    enum { N = 777 };
    uint32_t tok[N];
    for (int i = 0; i < N; i++)
        tok[i] = (uint32_t)i * 2654435761u % 128256u;
    struct shard_writer w;
    struct herr err;
    ck_assert_int_eq(shard_writer_open_width(&w, path, 4, &err), 0);
    ck_assert_int_eq(shard_writer_append32(&w, tok, 500, &err), 0);
    ck_assert_int_eq(shard_writer_append32(&w, tok + 500, N - 500, &err), 0);
    ck_assert_int_eq(shard_writer_commit(&w, &err), 0);
    size_t size;
    unsigned char *raw = read_bytes(path, &size);
    ck_assert_uint_eq(size, 1024 + 4 * N);
    int32_t hdr[3];
    memcpy(hdr, raw, sizeof hdr);
    ck_assert_int_eq(hdr[0], 20240801);
    ck_assert_int_eq(hdr[1], 7);
    ck_assert_int_eq(hdr[2], N);
    ck_assert_int_eq(memcmp(raw + 1024, tok, sizeof tok), 0);
    free(raw);
    struct shard sh;
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    ck_assert_uint_eq(sh.n, N);
    ck_assert_ptr_null(sh.tokens);
    ck_assert_uint_eq(shard_id_bytes(&sh), 4);
    for (int i = 0; i < N; i++)
        ck_assert_uint_eq(shard_token(&sh, i), tok[i]);
    ck_assert_int_eq(shard_check_vocab(&sh, 128256, &err), 0);
    ck_assert_int_eq(shard_check_vocab(&sh, 70000, &err), -1);
    ck_assert_msg_has(err.msg, path, "vocab_size 70000");
    shard_close(&sh);
}
END_TEST

/* 32-bit ids into a 16-bit shard: ids that fit are narrowed, others refused. */
START_TEST(test_append32_to_16bit)
{
    char path[1024];
    tpath(path, sizeof path, dir, "n.bin");
    struct shard_writer w;
    struct herr err;
    uint32_t ok[3] = {0, 65535, 7}, bad[2] = {1, 65536};
    ck_assert_int_eq(shard_writer_open(&w, path, &err), 0);
    ck_assert_int_eq(shard_writer_append32(&w, ok, 3, &err), 0);
    ck_assert_int_eq(shard_writer_append32(&w, bad, 2, &err), -1);
    ck_assert_msg_has(err.msg, "65536", "16-bit");
    ck_assert_int_eq(shard_writer_commit(&w, &err), 0);
    struct shard sh;
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    ck_assert_uint_eq(sh.n, 3);
    ck_assert_uint_eq(sh.tokens[1], 65535);
    shard_close(&sh);
}
END_TEST

START_TEST(test_32bit_bad_version_and_size)
{
    char path[1024];
    tpath(path, sizeof path, dir, "v7.bin");
    uint16_t tok[4] = {1, 0, 2, 0}; /* two uint32 ids' worth of bytes */
    write_raw_shard(path, 20240801, 1, 2, tok, 4, 0);
    struct shard sh;
    struct herr err;
    ck_assert_int_eq(shard_open(&sh, path, &err), -1);
    ck_assert_msg_has(err.msg, path, "unsupported version 1", "expected 7");
    /* Header says 3 uint32 ids, the file holds 2. */
    write_raw_shard(path, 20240801, 7, 3, tok, 4, 0);
    ck_assert_int_eq(shard_open(&sh, path, &err), -1);
    ck_assert_msg_has(err.msg, path, "truncated", "1032 bytes", "1036");
}
END_TEST

static Suite *shard_suite(void)
{
    Suite *s = suite_create("data_shard");
    TCase *tc = tcase_create("shard");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_writer_in_pieces);
    tcase_add_test(tc, test_empty_shard);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_bad_magic);
    tcase_add_test(tc, test_bad_version);
    tcase_add_test(tc, test_truncated_tokens);
    tcase_add_test(tc, test_truncated_header);
    tcase_add_test(tc, test_extra_bytes);
    tcase_add_test(tc, test_negative_count);
    tcase_add_test(tc, test_token_outside_vocab);
    tcase_add_test(tc, test_roundtrip_32bit);
    tcase_add_test(tc, test_append32_to_16bit);
    tcase_add_test(tc, test_32bit_bad_version_and_size);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(shard_suite());
}
