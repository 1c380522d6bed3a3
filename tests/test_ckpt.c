/* tests/test_ckpt.c — the checkpoint container: round trips, every corruption
 * the reader must catch, and atomicity of failed writes. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/checkpoint.h"
#include "tests/test_data_util.h"

static char dir[512];
static char path[1024];
static void setup(void)
{
    tmpdir_make(dir, sizeof dir);
    tpath(path, sizeof path, dir, "c.heft");
}
static void teardown(void) { tmpdir_remove(dir); }

/* Deterministic content so a reader can check every byte. */
static void fill_pattern(void *buf, size_t n, unsigned seed)
{
    unsigned char *p = buf;
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[i] = (unsigned char)(x >> 24);
    }
}

/* Produces the pattern of seed 9 for streamed sections. */
static int produce_pattern(void *ctx, void *buf, uint64_t offset, size_t n, struct herr *err)
{
    (void)err;
    const unsigned char *whole = ctx;
    memcpy(buf, whole + offset, n);
    return 0;
}

enum { PARAMS = 1000003, BIG = 20 << 20 }; /* BIG spans several 8 MiB chunks */

struct fixture_data {
    float *params;
    unsigned char *big;
};

/* Writes meta, params, an empty section, a 3-byte copied section, and a
 * streamed section of BIG bytes. */
static void write_standard(const char *p, struct fixture_data *fd)
{
    fd->params = malloc(PARAMS * sizeof(float));
    fd->big = malloc(BIG);
    fill_pattern(fd->params, PARAMS * sizeof(float), 1);
    fill_pattern(fd->big, BIG, 9);
    struct ckpt_writer *w;
    struct herr err;
    ck_assert_int_eq(ckpt_writer_begin(&w, p, &err), 0);
    const char meta[] = "step=10\nlr=0.001\n";
    ck_assert_int_eq(ckpt_writer_add(w, "meta", meta, strlen(meta), &err), 0);
    ck_assert_int_eq(ckpt_writer_add(w, "params", fd->params, PARAMS * sizeof(float), &err), 0);
    ck_assert_int_eq(ckpt_writer_add(w, "empty", NULL, 0, &err), 0);
    unsigned char three[3] = {7, 8, 9};
    ck_assert_int_eq(ckpt_writer_add_copy(w, "rng", three, 3, &err), 0);
    three[0] = 0; /* the copy was taken at add time */
    ck_assert_int_eq(ckpt_writer_add_stream(w, "adam_m", BIG, produce_pattern, fd->big, &err),
                     0);
    ck_assert_msg(ckpt_writer_commit(w, &err) == 0, "%s", err.msg);
}

static void free_standard(struct fixture_data *fd)
{
    free(fd->params);
    free(fd->big);
}

struct sink {
    unsigned char *dst;
    uint64_t expect_next;
    int calls;
};

static int consume_into(void *ctx, const void *buf, uint64_t offset, size_t n, struct herr *err)
{
    (void)err;
    struct sink *s = ctx;
    ck_assert_uint_eq(offset, s->expect_next); /* chunks arrive in order */
    memcpy(s->dst + offset, buf, n);
    s->expect_next += n;
    s->calls++;
    return 0;
}

START_TEST(test_roundtrip)
{
    struct fixture_data fd;
    write_standard(path, &fd);
    ck_assert_int_eq(dir_entries(dir), 1); /* no temporary file left */

    struct ckpt_reader *r;
    struct herr err;
    ck_assert_msg(ckpt_reader_open(&r, path, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(ckpt_reader_path(r), path);
    ck_assert_int_eq(ckpt_reader_num_sections(r), 5);
    const char *names[5] = {"meta", "params", "empty", "rng", "adam_m"};
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq(ckpt_reader_section_name(r, i), names[i]);
    ck_assert_ptr_null(ckpt_reader_section_name(r, 5));
    ck_assert(ckpt_reader_has(r, "rng") && !ckpt_reader_has(r, "adam_v"));

    uint64_t size;
    ck_assert_int_eq(ckpt_reader_size(r, "params", &size, &err), 0);
    ck_assert_uint_eq(size, PARAMS * sizeof(float));
    float *params = malloc(size);
    ck_assert_int_eq(ckpt_reader_read(r, "params", params, size, &err), 0);
    ck_assert_mem_eq(params, fd.params, size);
    free(params);

    void *text;
    size_t n;
    ck_assert_int_eq(ckpt_reader_read_alloc(r, "meta", &text, &n, &err), 0);
    ck_assert_uint_eq(n, 17);
    ck_assert_str_eq(text, "step=10\nlr=0.001\n");
    free(text);
    ck_assert_int_eq(ckpt_reader_read_alloc(r, "rng", &text, &n, &err), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(((unsigned char *)text)[0], 7);
    free(text);
    ck_assert_int_eq(ckpt_reader_read_alloc(r, "empty", &text, &n, &err), 0);
    ck_assert_uint_eq(n, 0);
    free(text);

    struct sink s = {malloc(BIG), 0, 0};
    ck_assert_int_eq(ckpt_reader_read_stream(r, "adam_m", consume_into, &s, &err), 0);
    ck_assert_uint_eq(s.expect_next, BIG);
    ck_assert_int_ge(s.calls, 3);
    ck_assert_mem_eq(s.dst, fd.big, BIG);
    free(s.dst);
    ckpt_reader_close(r);
    free_standard(&fd);
}
END_TEST

/* Sections start at 64-byte-aligned offsets; the file ends with the last one. */
START_TEST(test_layout)
{
    struct fixture_data fd;
    write_standard(path, &fd);
    free_standard(&fd);
    size_t n;
    unsigned char *raw = read_bytes(path, &n);
    ck_assert_mem_eq(raw, "HEFTCKPT", 8);
    uint32_t version, nsec;
    uint64_t file_bytes, last_end = 0;
    memcpy(&version, raw + 8, 4);
    memcpy(&nsec, raw + 12, 4);
    memcpy(&file_bytes, raw + 16, 8);
    ck_assert_uint_eq(version, 1);
    ck_assert_uint_eq(nsec, 5);
    ck_assert_uint_eq(file_bytes, n);
    for (uint32_t i = 0; i < nsec; i++) {
        uint64_t off, bytes;
        memcpy(&off, raw + 32 + 64 * i + 32, 8);
        memcpy(&bytes, raw + 32 + 64 * i + 40, 8);
        ck_assert_uint_eq(off % 64, 0);
        ck_assert_uint_ge(off, last_end);
        last_end = off + bytes;
    }
    ck_assert_uint_eq(last_end, n);
    free(raw);
}
END_TEST

START_TEST(test_no_sections)
{
    struct ckpt_writer *w;
    struct herr err;
    ck_assert_int_eq(ckpt_writer_begin(&w, path, &err), 0);
    ck_assert_int_eq(ckpt_writer_commit(w, &err), 0);
    struct ckpt_reader *r;
    ck_assert_int_eq(ckpt_reader_open(&r, path, &err), 0);
    ck_assert_int_eq(ckpt_reader_num_sections(r), 0);
    uint64_t size;
    ck_assert_int_eq(ckpt_reader_size(r, "params", &size, &err), -1);
    ck_assert_msg_has(err.msg, "no section 'params'", "none");
    ckpt_reader_close(r);
}
END_TEST

/* ---- bad files ---------------------------------------------------------------- */

static const char *open_fails(const char *p)
{
    static struct herr err;
    struct ckpt_reader *r;
    ck_assert_int_eq(ckpt_reader_open(&r, p, &err), -1);
    ck_assert_ptr_null(r);
    return err.msg;
}

/* Writes the standard checkpoint, then changes it with `edit`. */
static void write_then_edit(void (*edit)(unsigned char *raw, size_t *n))
{
    struct fixture_data fd;
    write_standard(path, &fd);
    free_standard(&fd);
    size_t n;
    unsigned char *raw = read_bytes(path, &n);
    raw = realloc(raw, n + 64);
    edit(raw, &n);
    write_bytes(path, raw, n);
    free(raw);
}

START_TEST(test_missing_file)
{
    ck_assert_msg_has(open_fails(path), path, "cannot open", "No such file");
}
END_TEST

START_TEST(test_bad_magic)
{
    write_text(path, "GGUF this is something else entirely, and long enough for a header");
    ck_assert_msg_has(open_fails(path), path, "bad magic 'GGUF thi'", "expected 'HEFTCKPT'");
}
END_TEST

static void set_version_2(unsigned char *raw, size_t *n)
{
    (void)n;
    raw[8] = 2;
}

START_TEST(test_bad_version)
{
    write_then_edit(set_version_2);
    ck_assert_msg_has(open_fails(path), path, "unsupported version 2", "reads version 1");
}
END_TEST

static void flip_header_byte(unsigned char *raw, size_t *n)
{
    (void)n;
    raw[17] ^= 0x01; /* inside file_bytes */
}

START_TEST(test_corrupt_header)
{
    write_then_edit(flip_header_byte);
    ck_assert_msg_has(open_fails(path), path, "header checksum mismatch");
}
END_TEST

static void cut_10_bytes(unsigned char *raw, size_t *n)
{
    (void)raw;
    *n -= 10;
}

START_TEST(test_truncated)
{
    write_then_edit(cut_10_bytes);
    ck_assert_msg_has(open_fails(path), path, "truncated", "the header says");
}
END_TEST

static void cut_to_20_bytes(unsigned char *raw, size_t *n)
{
    (void)raw;
    *n = 20;
}

START_TEST(test_truncated_header)
{
    write_then_edit(cut_to_20_bytes);
    ck_assert_msg_has(open_fails(path), path, "truncated: 20 bytes", "header");
}
END_TEST

static void append_bytes(unsigned char *raw, size_t *n)
{
    memset(raw + *n, 0, 5);
    *n += 5;
}

START_TEST(test_extra_bytes)
{
    write_then_edit(append_bytes);
    ck_assert_msg_has(open_fails(path), path, "more than");
}
END_TEST

static void flip_table_byte(unsigned char *raw, size_t *n)
{
    (void)n;
    raw[32 + 64 + 2] ^= 0x20; /* second section's name */
}

START_TEST(test_corrupt_table)
{
    write_then_edit(flip_table_byte);
    ck_assert_msg_has(open_fails(path), path, "section table checksum mismatch");
}
END_TEST

static void flip_params_byte(unsigned char *raw, size_t *n)
{
    (void)n;
    uint64_t off;
    memcpy(&off, raw + 32 + 64 * 1 + 32, 8); /* params is section 1 */
    raw[off + 123457] ^= 0x80;
}

START_TEST(test_corrupt_section)
{
    write_then_edit(flip_params_byte);
    struct ckpt_reader *r;
    struct herr err;
    ck_assert_int_eq(ckpt_reader_open(&r, path, &err), 0); /* data is checked on read */
    size_t bytes = PARAMS * sizeof(float);
    float *params = malloc(bytes);
    ck_assert_int_eq(ckpt_reader_read(r, "params", params, bytes, &err), -1);
    ck_assert_msg_has(err.msg, path, "section 'params' checksum mismatch", "corrupt");
    free(params);
    /* The other sections are still fine. */
    void *text;
    size_t n;
    ck_assert_int_eq(ckpt_reader_read_alloc(r, "meta", &text, &n, &err), 0);
    free(text);
    ckpt_reader_close(r);
}
END_TEST

START_TEST(test_missing_section_and_wrong_size)
{
    struct fixture_data fd;
    write_standard(path, &fd);
    free_standard(&fd);
    struct ckpt_reader *r;
    struct herr err;
    ck_assert_int_eq(ckpt_reader_open(&r, path, &err), 0);
    float x[4];
    ck_assert_int_eq(ckpt_reader_read(r, "adam_v", x, sizeof x, &err), -1);
    ck_assert_msg_has(err.msg, path, "no section 'adam_v'",
                      "(it has: meta, params, empty, rng, adam_m)");
    ck_assert_int_eq(ckpt_reader_read(r, "params", x, sizeof x, &err), -1);
    ck_assert_msg_has(err.msg, path, "'params' holds 4000012 bytes, expected 16");
    ckpt_reader_close(r);
}
END_TEST

START_TEST(test_writer_errors)
{
    struct ckpt_writer *w;
    struct herr err;
    ck_assert_int_eq(ckpt_writer_begin(&w, path, &err), 0);
    int x = 1;
    ck_assert_int_eq(ckpt_writer_add(w, "a", &x, sizeof x, &err), 0);
    ck_assert_int_eq(ckpt_writer_add(w, "a", &x, sizeof x, &err), -1);
    ck_assert_msg_has(err.msg, "'a' added twice");
    ck_assert_int_eq(ckpt_writer_add(w, "", &x, sizeof x, &err), -1);
    ck_assert_msg_has(err.msg, "section name ''");
    ck_assert_int_eq(
        ckpt_writer_add(w, "a_name_that_is_far_too_long_for_32", &x, sizeof x, &err), -1);
    ck_assert_msg_has(err.msg, "1 to 31 characters");
    ckpt_writer_abort(w);
    ck_assert_int_eq(dir_entries(dir), 0); /* abort writes nothing */

    char nodir[1024];
    tpath(nodir, sizeof nodir, dir, "no/such/dir/c.heft");
    ck_assert_int_eq(ckpt_writer_begin(&w, nodir, &err), 0);
    ck_assert_int_eq(ckpt_writer_commit(w, &err), -1);
    ck_assert_msg_has(err.msg, nodir, "cannot create");
}
END_TEST

/* ---- failed writes leave the previous file intact ---------------------------- */

/* Writes a small checkpoint with one section of 4 KiB of pattern `seed`. */
static int write_small(const char *p, unsigned seed, struct herr *err)
{
    static unsigned char data[4096];
    fill_pattern(data, sizeof data, seed);
    struct ckpt_writer *w;
    if (ckpt_writer_begin(&w, p, err))
        return -1;
    if (ckpt_writer_add_copy(w, "data", data, sizeof data, err)) {
        ckpt_writer_abort(w);
        return -1;
    }
    return ckpt_writer_commit(w, err);
}

static void assert_small(const char *p, unsigned seed)
{
    unsigned char want[4096], got[4096];
    fill_pattern(want, sizeof want, seed);
    struct ckpt_reader *r;
    struct herr err;
    ck_assert_msg(ckpt_reader_open(&r, p, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(ckpt_reader_read(r, "data", got, sizeof got, &err), 0);
    ck_assert_mem_eq(got, want, sizeof got);
    ckpt_reader_close(r);
}

/* The disk "fills up" in the middle of the new checkpoint (a file size limit
 * makes write() fail with EFBIG). */
START_TEST(test_failed_write_disk_full)
{
    struct herr err;
    ck_assert_int_eq(write_small(path, 1, &err), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = {1 << 20, 1 << 20};
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
            _exit(10);
        size_t n = 4 << 20;
        unsigned char *big = calloc(1, n);
        struct ckpt_writer *w;
        if (!big || ckpt_writer_begin(&w, path, &err) ||
            ckpt_writer_add(w, "data", big, n, &err))
            _exit(11);
        if (ckpt_writer_commit(w, &err) == 0)
            _exit(12); /* must fail */
        if (!strstr(err.msg, "File too large") || !strstr(err.msg, "unchanged") ||
            !strstr(err.msg, "'data'"))
            _exit(13);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    assert_small(path, 1);
    ck_assert_int_eq(dir_entries(dir), 1); /* the temporary file is gone */
}
END_TEST

static int produce_fails_later(void *ctx, void *buf, uint64_t offset, size_t n, struct herr *err)
{
    (void)ctx;
    if (offset >= (8u << 20))
        return herr_set(err, "device read failed");
    memset(buf, 1, n);
    return 0;
}

START_TEST(test_failed_write_producer)
{
    struct herr err;
    ck_assert_int_eq(write_small(path, 2, &err), 0);
    struct ckpt_writer *w;
    ck_assert_int_eq(ckpt_writer_begin(&w, path, &err), 0);
    ck_assert_int_eq(ckpt_writer_add_stream(w, "adam_v", 20u << 20, produce_fails_later, NULL,
                                            &err), 0);
    ck_assert_int_eq(ckpt_writer_commit(w, &err), -1);
    ck_assert_msg_has(err.msg, path, "unchanged", "section 'adam_v' at byte 8388608",
                      "device read failed");
    assert_small(path, 2);
    ck_assert_int_eq(dir_entries(dir), 1);
}
END_TEST

START_TEST(test_overwrite)
{
    struct herr err;
    ck_assert_int_eq(write_small(path, 3, &err), 0);
    ck_assert_int_eq(write_small(path, 4, &err), 0);
    assert_small(path, 4);
    ck_assert_int_eq(dir_entries(dir), 1);
}
END_TEST

static Suite *ckpt_suite(void)
{
    Suite *s = suite_create("ckpt");
    TCase *tc = tcase_create("container");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_layout);
    tcase_add_test(tc, test_no_sections);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_bad_magic);
    tcase_add_test(tc, test_bad_version);
    tcase_add_test(tc, test_corrupt_header);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_truncated_header);
    tcase_add_test(tc, test_extra_bytes);
    tcase_add_test(tc, test_corrupt_table);
    tcase_add_test(tc, test_corrupt_section);
    tcase_add_test(tc, test_missing_section_and_wrong_size);
    tcase_add_test(tc, test_writer_errors);
    tcase_add_test(tc, test_failed_write_disk_full);
    tcase_add_test(tc, test_failed_write_producer);
    tcase_add_test(tc, test_overwrite);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(ckpt_suite());
}
