/* tests/test_ref_vectors.c — the reference-vector reader (tests/ref/vectors.h)
 * and the llm.c model-file reader accept the committed files and reject
 * truncated or corrupt ones with a message naming the file and the problem.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/ref/ref_gpt2_f64.h"
#include "tests/ref/vectors.h"
#include "tests/ref/run_suite.h"

#define VEC_PATH HEFT_REF_DIR "/gpt2_tiny_vectors.bin"
#define MODEL_PATH HEFT_REF_DIR "/gpt2_tiny_model.bin"

/* A small valid image: record "a" f32 (2, 3) = 0..5, record "bb" i32 scalar 7.
 * Byte offsets of its fields, for the corruption cases below. */
enum {
    OFF_COUNT = 8, OFF_NAMELEN0 = 12, OFF_NAME0 = 16, OFF_DTYPE0 = 17, OFF_NDIMS0 = 21,
    OFF_DIM0 = 25, OFF_DIM1 = 29, OFF_DATA0 = 33, OFF_NAMELEN1 = 57, OFF_NAME1 = 61,
    OFF_DTYPE1 = 63, OFF_NDIMS1 = 67, OFF_DATA1 = 71, SMALL_LEN = 75
};

static void put_i32(unsigned char *b, size_t off, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int k = 0; k < 4; k++)
        b[off + k] = (unsigned char)(u >> (8 * k));
}

static void small_image(unsigned char *b)
{
    memcpy(b, "HEFTVEC1", 8);
    put_i32(b, OFF_COUNT, 2);
    put_i32(b, OFF_NAMELEN0, 1);
    b[OFF_NAME0] = 'a';
    put_i32(b, OFF_DTYPE0, REF_VEC_F32);
    put_i32(b, OFF_NDIMS0, 2);
    put_i32(b, OFF_DIM0, 2);
    put_i32(b, OFF_DIM1, 3);
    for (int i = 0; i < 6; i++) {
        float f = (float)i;
        uint32_t u;
        memcpy(&u, &f, 4);
        put_i32(b, OFF_DATA0 + 4 * i, (int32_t)u);
    }
    put_i32(b, OFF_NAMELEN1, 2);
    memcpy(b + OFF_NAME1, "bb", 2);
    put_i32(b, OFF_DTYPE1, REF_VEC_I32);
    put_i32(b, OFF_NDIMS1, 0);
    put_i32(b, OFF_DATA1, 7);
}

/* Parsing must fail and the message must contain `needle` and the name. */
static void expect_reject(const unsigned char *b, size_t len, const char *needle,
                          const char *why)
{
    struct ref_vectors v;
    struct herr err;
    herr_clear(&err);
    ck_assert_msg(ref_vectors_parse(&v, b, len, "img.bin", &err) == -1, "accepted: %s", why);
    ck_assert_msg(v.count == 0 && v.recs == NULL, "left records behind: %s", why);
    ck_assert_msg(strstr(err.msg, "img.bin") != NULL, "%s: message lacks the file: %s", why,
                  err.msg);
    ck_assert_msg(strstr(err.msg, needle) != NULL, "%s: message '%s' lacks '%s'", why, err.msg,
                  needle);
}

START_TEST(test_small_image_parses)
{
    unsigned char b[SMALL_LEN];
    small_image(b);
    struct ref_vectors v;
    struct herr err;
    ck_assert_msg(ref_vectors_parse(&v, b, sizeof b, "img.bin", &err) == 0, "%s", err.msg);
    ck_assert_int_eq(v.count, 2);
    const float *a = ref_vectors_f32(&v, "a", 6, &err);
    ck_assert_msg(a != NULL, "%s", err.msg);
    ck_assert(a[0] == 0.0f && a[5] == 5.0f);
    const struct ref_vec *r = ref_vectors_find(&v, "a");
    ck_assert_int_eq(r->ndims, 2);
    ck_assert_int_eq(r->dims[0], 2);
    ck_assert_int_eq(r->dims[1], 3);
    const int32_t *bb = ref_vectors_i32(&v, "bb", 1, &err);
    ck_assert_msg(bb != NULL && bb[0] == 7, "%s", err.msg);
    /* typed access checks name, dtype and count */
    ck_assert_ptr_null(ref_vectors_f32(&v, "bb", 1, &err));
    ck_assert_msg(strstr(err.msg, "'bb' is i32") != NULL, "%s", err.msg);
    ck_assert_ptr_null(ref_vectors_f32(&v, "a", 5, &err));
    ck_assert_msg(strstr(err.msg, "6 elements, expected 5") != NULL, "%s", err.msg);
    ck_assert_ptr_null(ref_vectors_i32(&v, "zz", 1, &err));
    ck_assert_msg(strstr(err.msg, "no record 'zz'") != NULL, "%s", err.msg);
    ref_vectors_free(&v);
}
END_TEST

START_TEST(test_every_truncation_rejected)
{
    unsigned char b[SMALL_LEN];
    small_image(b);
    for (size_t len = 0; len < SMALL_LEN; len++) {
        char why[32];
        snprintf(why, sizeof why, "truncated to %zu bytes", len);
        expect_reject(b, len, "", why);
    }
}
END_TEST

START_TEST(test_corrupt_fields_rejected)
{
    unsigned char b[SMALL_LEN + 1];
    struct { size_t off; int32_t val; const char *needle; } cases[] = {
        { OFF_COUNT, 0, "record count 0" },
        { OFF_COUNT, -1, "record count -1" },
        { OFF_COUNT, 3, "truncated name length" },     /* more records than present */
        { OFF_COUNT, 1, "unexpected bytes" },          /* fewer records than present */
        { OFF_NAMELEN0, 0, "name length 0" },
        { OFF_NAMELEN0, 64, "name length 64" },
        { OFF_DTYPE0, 3, "unknown dtype 3" },
        { OFF_NDIMS0, 9, "ndims 9" },
        { OFF_NDIMS0, -2, "ndims -2" },
        { OFF_DIM0, 0, "dim 0 is 0" },
        { OFF_DIM1, -3, "dim 1 is -3" },
        { OFF_DIM1, 1 << 30, "more data than" },       /* would overflow / overrun */
        { OFF_DIM1, 10, "more data than" },            /* 20 elements, 6 present */
        { OFF_DIM1, 4, "record 1" },                   /* eats into record 1 */
        { OFF_DTYPE1, 0, "unknown dtype 0" },
        { OFF_NDIMS1, 1, "" },                         /* dims eat the data */
    };
    size_t ncases = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < ncases; i++) {
        small_image(b);
        put_i32(b, cases[i].off, cases[i].val);
        char why[64];
        snprintf(why, sizeof why, "field at byte %zu set to %d", cases[i].off,
                 (int)cases[i].val);
        expect_reject(b, SMALL_LEN, cases[i].needle, why);
    }
    small_image(b);
    b[0] = 'X';
    expect_reject(b, SMALL_LEN, "magic", "bad magic");
    small_image(b);
    b[OFF_NAME0] = '\0';
    expect_reject(b, SMALL_LEN, "NUL", "NUL in a name");
    small_image(b);
    b[SMALL_LEN] = 0;
    expect_reject(b, SMALL_LEN + 1, "1 unexpected bytes", "a trailing byte");
}
END_TEST

START_TEST(test_duplicate_name_rejected)
{
    /* Two records both called "a": the second is a copy of the first. */
    unsigned char b[8 + 4 + 2 * (OFF_NAMELEN1 - OFF_NAMELEN0)];
    unsigned char one[SMALL_LEN];
    small_image(one);
    size_t rec = OFF_NAMELEN1 - OFF_NAMELEN0;
    memcpy(b, one, OFF_NAMELEN0);
    put_i32(b, OFF_COUNT, 2);
    memcpy(b + OFF_NAMELEN0, one + OFF_NAMELEN0, rec);
    memcpy(b + OFF_NAMELEN0 + rec, one + OFF_NAMELEN0, rec);
    expect_reject(b, sizeof b, "'a' appears twice", "duplicate record name");
}
END_TEST

/* The committed vectors load; every strict prefix of them is rejected, also
 * through the file path (a truncated copy on disk). */
START_TEST(test_committed_file_and_its_truncations)
{
    struct ref_vectors v;
    struct herr err;
    ck_assert_msg(ref_vectors_load(&v, VEC_PATH, &err) == 0, "%s", err.msg);
    const struct ref_vec *lg = ref_vectors_find(&v, "logits");
    ck_assert_ptr_nonnull(lg);
    ck_assert_int_eq(lg->ndims, 3);
    ref_vectors_free(&v);

    unsigned char *bytes;
    size_t len;
    ck_assert_msg(ref_read_file(VEC_PATH, &bytes, &len, &err) == 0, "%s", err.msg);
    /* Every cut in the first 1000 bytes (the headers of the first records),
     * then every 509th byte, and the last byte. */
    for (size_t cut = 0; cut < len; cut += cut < 1000 ? 1 : 509) {
        ck_assert_msg(ref_vectors_parse(&v, bytes, cut, "cut", &err) == -1,
                      "a %zu-byte prefix of %zu was accepted", cut, len);
    }
    ck_assert_int_eq(ref_vectors_parse(&v, bytes, len - 1, "cut", &err), -1);

    char path[] = "/tmp/heft_test_vectors_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, len / 2), (ssize_t)(len / 2));
    close(fd);
    ck_assert_int_eq(ref_vectors_load(&v, path, &err), -1);
    ck_assert_msg(strstr(err.msg, path) != NULL, "message lacks the path: %s", err.msg);
    unlink(path);
    free(bytes);

    ck_assert_int_eq(ref_vectors_load(&v, "/nonexistent/heft.bin", &err), -1);
    ck_assert_msg(strstr(err.msg, "/nonexistent/heft.bin: cannot open") != NULL, "%s", err.msg);
}
END_TEST

START_TEST(test_llmc_model_reader)
{
    struct gpt2_config cfg;
    float *p;
    struct herr err;
    ck_assert_msg(ref_gpt2_read_llmc(MODEL_PATH, &cfg, &p, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(cfg.vocab_size, 61);
    ck_assert_int_eq(cfg.padded_vocab_size, 64);
    free(p);

    unsigned char *bytes;
    size_t len;
    ck_assert_msg(ref_read_file(MODEL_PATH, &bytes, &len, &err) == 0, "%s", err.msg);
    char path[] = "/tmp/heft_test_model_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, len - 4), (ssize_t)(len - 4)); /* one float short */
    close(fd);
    ck_assert_int_eq(ref_gpt2_read_llmc(path, &cfg, &p, &err), -1);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err.msg, "expected") != NULL && strstr(err.msg, path) != NULL, "%s",
                  err.msg);
    bytes[0] ^= 1; /* bad magic */
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
    close(fd);
    ck_assert_int_eq(ref_gpt2_read_llmc(path, &cfg, &p, &err), -1);
    ck_assert_msg(strstr(err.msg, "magic") != NULL, "%s", err.msg);
    unlink(path);
    free(bytes);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ref_vectors");
    TCase *tc = tcase_create("reader");
    tcase_add_test(tc, test_small_image_parses);
    tcase_add_test(tc, test_every_truncation_rejected);
    tcase_add_test(tc, test_corrupt_fields_rejected);
    tcase_add_test(tc, test_duplicate_name_rejected);
    tcase_add_test(tc, test_committed_file_and_its_truncations);
    tcase_add_test(tc, test_llmc_model_reader);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
