/* tests/test_data_shard.c — llm.c token shards: round trip and every bad input. */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/checksum.h"
#include "core/shard.h"
#include "core/shard_cache.h"
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
    ck_assert_uint_eq(shard_id_bytes(&sh), 2);
    uint32_t *got = shard_all_tokens(&sh); /* widened to uint32 */
    for (int i = 0; i < N; i++)
        ck_assert_uint_eq(got[i], tok[i]);
    free(got);
    uint16_t raw2[10]; /* as stored: 2 bytes an id */
    ck_assert_int_eq(shard_read_raw(&sh, N - 10, 10, raw2, &err), 0);
    ck_assert_int_eq(memcmp(raw2, tok + N - 10, sizeof raw2), 0);
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
        ck_assert_uint_eq(shard_token_at(&sh, (size_t)i), (unsigned)i);
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
    ck_assert_uint_eq(shard_id_bytes(&sh), 4);
    uint32_t *got = shard_all_tokens(&sh);
    ck_assert_int_eq(memcmp(got, tok, sizeof tok), 0);
    free(got);
    for (int i = 0; i < N; i += 97)
        ck_assert_uint_eq(shard_token_at(&sh, (size_t)i), tok[i]);
    /* as stored: 4 bytes an id */
    uint32_t raw4[10];
    ck_assert_int_eq(shard_read_raw(&sh, 767, 10, raw4, &err), 0);
    ck_assert_int_eq(memcmp(raw4, tok + 767, sizeof raw4), 0);
    ck_assert_int_eq(shard_read(&sh, 770, 8, raw4, &err), -1); /* past the end */
    ck_assert_msg_has(err.msg, path, "past its 777 tokens");
    /* the content hash is over the bytes as stored; the largest id is 32-bit */
    ck_assert_int_eq(shard_scan(&sh, &err), 0);
    ck_assert_uint_eq(sh.hash, xxh64_of(tok, sizeof tok));
    uint32_t mx = 0;
    for (int i = 0; i < N; i++)
        mx = tok[i] > mx ? tok[i] : mx;
    ck_assert_int_eq(sh.max_id, mx);
    ck_assert_int_gt(sh.max_id, 65535);
    ck_assert_int_eq(shard_check_vocab(&sh, 128256, &err), 0);
    ck_assert_int_eq(shard_check_vocab(&sh, 70000, &err), -1);
    ck_assert_msg_has(err.msg, path, "vocab_size 70000");
    shard_close(&sh);
}
END_TEST

/* Overwrites tokens [at, at + n) of a shard file in place, keeping its size
 * and (when restore_mtime) its modification time: what a hostile edit does. */
static void edit_in_place(const char *path, size_t at, const uint16_t *tok, size_t n,
                          int restore_mtime)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    int fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, tok, n * 2, 1024 + 2 * (off_t)at), (ssize_t)(n * 2));
    close(fd);
    if (restore_mtime) {
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
    }
}

START_TEST(test_read_sees_changes)
{
    char path[1024];
    tpath(path, sizeof path, dir, "c.bin");
    uint16_t tok[5000], other[100];
    for (int i = 0; i < 5000; i++)
        tok[i] = (uint16_t)(i % 250);
    for (int i = 0; i < 100; i++)
        other[i] = 7;
    struct herr err;
    ck_assert_int_eq(shard_write(path, tok, 5000, &err), 0);
    struct shard sh;
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    uint32_t buf[16];
    ck_assert_int_eq(shard_read(&sh, 100, 16, buf, &err), 0);
    for (int i = 0; i < 16; i++)
        ck_assert_uint_eq(buf[i], tok[100 + i]);
    ck_assert_int_eq(shard_read(&sh, 4990, 16, buf, &err), -1); /* past the end */
    ck_assert_msg_has(err.msg, path, "past its 5000 tokens");
    /* modified in place (same size): the next read says so */
    edit_in_place(path, 1000, other, 100, 0);
    ck_assert_int_eq(shard_read(&sh, 100, 16, buf, &err), -1);
    ck_assert_msg_has(err.msg, path, "was modified while heft was using it");
    shard_close(&sh);
    /* truncated: named with both sizes, whether the file is kept open or not */
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    for (int keep = 1; keep >= 0; keep--) {
        if (!keep) {
            ck_assert_int_eq(shard_write(path, tok, 5000, &err), 0);
            shard_close(&sh);
            ck_assert_int_eq(shard_open(&sh, path, &err), 0);
            shard_drop_fd(&sh);
        }
        ck_assert_int_eq(truncate(path, 2024), 0);
        ck_assert_int_eq(shard_read(&sh, 4000, 16, buf, &err), -1);
        ck_assert_msg_has(err.msg, path, "is now 2024 bytes", "11024 when heft opened it");
    }
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
    ck_assert_uint_eq(shard_id_bytes(&sh), 2);
    ck_assert_uint_eq(shard_token_at(&sh, 1), 65535);
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

/* The cache entry (in fp) of the shard file whose name ends in `name`. */
static void cache_entry_of(const char *fp, const char *name, char *out, size_t cap)
{
    char want[256];
    snprintf(want, sizeof want, "/%s\n", name);
    DIR *d = opendir(fp);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    out[0] = '\0';
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".txt"))
            continue;
        char entry[1400];
        snprintf(entry, sizeof entry, "%s/%s", fp, e->d_name);
        size_t n;
        char *text = (char *)read_bytes(entry, &n);
        if (strstr(text, want))
            snprintf(out, cap, "%s", entry);
        free(text);
    }
    closedir(d);
    ck_assert_msg(out[0], "no cache entry for %s in %s", name, fp);
}

/* Sets the content hash of a cache entry to `hex` (16 digits). */
static void plant_hash(const char *entry, const char *hex)
{
    size_t n;
    char *text = (char *)read_bytes(entry, &n);
    char *x = strstr(text, "xxh64 ");
    ck_assert_ptr_nonnull(x);
    memcpy(x + 6, hex, 16);
    write_bytes(entry, text, n);
    free(text);
}

START_TEST(test_fingerprint_cache)
{
    char path[1024], path32[1024], cache[1024], fp[1100];
    tpath(path, sizeof path, dir, "f.bin");
    tpath(path32, sizeof path32, dir, "f32.bin");
    tpath(cache, sizeof cache, dir, "cache");
    tpath(fp, sizeof fp, cache, "fingerprints");
    ck_assert_int_eq(setenv("HEFT_CACHE_DIR", cache, 1), 0);
    unsetenv("HEFT_FINGERPRINT_CACHE");
    uint16_t tok[3000];
    for (int i = 0; i < 3000; i++)
        tok[i] = (uint16_t)(i * 7 % 300);
    struct herr err;
    ck_assert_int_eq(shard_write(path, tok, 3000, &err), 0);
    struct shard sh;
    /* a file written just now is scanned but not cached (its time stamps
     * could still move within their granularity) */
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    ck_assert_int_eq(shard_scan_cached(&sh, &err), 0);
    uint64_t h = sh.hash;
    ck_assert_uint_eq(h, xxh64_of(tok, sizeof tok));
    ck_assert_int_eq(sh.max_id, 299);
    shard_close(&sh);
    /* and a 32-bit shard, whose largest id is past 16 bits */
    uint32_t tok32[600];
    for (int i = 0; i < 600; i++)
        tok32[i] = (uint32_t)(i * 211 % 128256);
    tok32[333] = 128255;
    struct shard_writer w;
    ck_assert_int_eq(shard_writer_open_width(&w, path32, 4, &err), 0);
    ck_assert_int_eq(shard_writer_append32(&w, tok32, 600, &err), 0);
    ck_assert_int_eq(shard_writer_commit(&w, &err), 0);
    ck_assert_int_eq(shard_open(&sh, path32, &err), 0);
    ck_assert_int_eq(shard_scan_cached(&sh, &err), 0);
    const uint64_t h32 = sh.hash;
    ck_assert_uint_eq(h32, xxh64_of(tok32, sizeof tok32));
    ck_assert_int_eq(sh.max_id, 128255);
    shard_close(&sh);
    struct stat st;
    ck_assert(stat(fp, &st) != 0 || dir_entries_matching(fp, ".txt") == 0);
    sleep(3);
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    ck_assert_int_eq(shard_scan_cached(&sh, &err), 0);
    ck_assert_uint_eq(sh.hash, h);
    shard_close(&sh);
    ck_assert_int_eq(dir_entries_matching(fp, ".txt"), 1);
    ck_assert_int_eq(shard_open(&sh, path32, &err), 0);
    ck_assert_int_eq(shard_scan_cached(&sh, &err), 0);
    ck_assert_uint_eq(sh.hash, h32);
    shard_close(&sh);
    ck_assert_int_eq(dir_entries_matching(fp, ".txt"), 2);
    /* an unchanged file is taken from the cache: a planted hash proves it
     * (and the 32-bit shard's largest id comes back from its entry) */
    char entry[1400], entry32[1400];
    cache_entry_of(fp, "f.bin", entry, sizeof entry);
    cache_entry_of(fp, "f32.bin", entry32, sizeof entry32);
    plant_hash(entry, "00000000000000ab");
    plant_hash(entry32, "00000000000000cd");
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    ck_assert_int_eq(shard_scan_cached(&sh, &err), 0);
    ck_assert_uint_eq(sh.hash, 0xab);
    shard_close(&sh);
    ck_assert_int_eq(shard_open(&sh, path32, &err), 0);
    ck_assert_int_eq(shard_scan_cached(&sh, &err), 0);
    ck_assert_uint_eq(sh.hash, 0xcd);
    ck_assert_int_eq(sh.max_id, 128255);
    ck_assert_int_eq(shard_check_vocab(&sh, 128256, &err), 0);
    ck_assert_int_eq(shard_check_vocab(&sh, 128255, &err), -1);
    ck_assert_msg_has(err.msg, path32, "token 333", "id 128255");
    shard_close(&sh);
    /* edited in place, same size, modification time set back: ctime moved,
     * so the file is read again */
    uint16_t other[50] = { 0 };
    edit_in_place(path, 1000, other, 50, 1);
    ck_assert_int_eq(shard_open(&sh, path, &err), 0);
    ck_assert_int_eq(shard_scan_cached(&sh, &err), 0);
    memcpy(tok + 1000, other, sizeof other);
    ck_assert_uint_eq(sh.hash, xxh64_of(tok, sizeof tok));
    ck_assert_uint_ne(sh.hash, h);
    shard_close(&sh);
    unsetenv("HEFT_CACHE_DIR");
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
    tcase_add_test(tc, test_read_sees_changes);
    tcase_add_test(tc, test_fingerprint_cache);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(shard_suite());
}
