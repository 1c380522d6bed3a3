/* tests/test_ckpt_meta.c — key=value meta text and the checkpoint directory
 * convention (names, latest pointer, resolve, prune). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/ckpt_dir.h"
#include "core/ckpt_meta.h"
#include "tests/test_data_util.h"

/* ---- meta ------------------------------------------------------------------- */

START_TEST(test_meta_roundtrip)
{
    struct ckpt_meta m;
    struct herr err;
    ckpt_meta_init(&m);
    const double doubles[] = {0.1, -0.0, 3.141592653589793, 1e-320, 1.7976931348623157e308,
                              6e-5};
    ck_assert_int_eq(ckpt_meta_put_int(&m, "step", 123456789012LL, &err), 0);
    ck_assert_int_eq(ckpt_meta_put_int(&m, "min", INT64_MIN, &err), 0);
    ck_assert_int_eq(ckpt_meta_put_u64(&m, "seed", UINT64_MAX, &err), 0);
    ck_assert_int_eq(ckpt_meta_put_str(&m, "model", "gpt2 d12 = small", &err), 0);
    ck_assert_int_eq(ckpt_meta_put_str(&m, "steps", "", &err), 0);
    ck_assert_int_eq(ckpt_meta_put_double(&m, "inf", INFINITY, &err), 0);
    for (int i = 0; i < 6; i++) {
        char key[16];
        snprintf(key, sizeof key, "d%d", i);
        ck_assert_int_eq(ckpt_meta_put_double(&m, key, doubles[i], &err), 0);
    }

    int64_t i64;
    uint64_t u64;
    double d;
    char s[64];
    ck_assert_int_eq(ckpt_meta_get_int(m.text, "step", &i64, &err), 0);
    ck_assert_int_eq(i64, 123456789012LL);
    ck_assert_int_eq(ckpt_meta_get_int(m.text, "min", &i64, &err), 0);
    ck_assert(i64 == INT64_MIN);
    ck_assert_int_eq(ckpt_meta_get_u64(m.text, "seed", &u64, &err), 0);
    ck_assert(u64 == UINT64_MAX);
    ck_assert_int_eq(ckpt_meta_get_str(m.text, "model", s, sizeof s, &err), 0);
    ck_assert_str_eq(s, "gpt2 d12 = small");
    /* "steps" is not confused with "step". */
    ck_assert_int_eq(ckpt_meta_get_str(m.text, "steps", s, sizeof s, &err), 0);
    ck_assert_str_eq(s, "");
    ck_assert_int_eq(ckpt_meta_get_double(m.text, "inf", &d, &err), 0);
    ck_assert(isinf(d) && d > 0);
    for (int i = 0; i < 6; i++) {
        char key[16];
        snprintf(key, sizeof key, "d%d", i);
        ck_assert_int_eq(ckpt_meta_get_double(m.text, key, &d, &err), 0);
        ck_assert_mem_eq(&d, &doubles[i], sizeof d); /* bit-exact, sign of zero too */
    }
    ck_assert(ckpt_meta_has(m.text, "seed") && !ckpt_meta_has(m.text, "se"));
    ckpt_meta_free(&m);
}
END_TEST

START_TEST(test_meta_errors)
{
    struct ckpt_meta m;
    struct herr err;
    ckpt_meta_init(&m);
    ck_assert_int_eq(ckpt_meta_put_str(&m, "name", "x", &err), 0);
    ck_assert_int_eq(ckpt_meta_put_str(&m, "name", "y", &err), -1);
    ck_assert_msg_has(err.msg, "'name' written twice");
    ck_assert_int_eq(ckpt_meta_put_str(&m, "bad key", "y", &err), -1);
    ck_assert_msg_has(err.msg, "bad key 'bad key'");
    ck_assert_int_eq(ckpt_meta_put_str(&m, "a=b", "y", &err), -1);
    ck_assert_msg_has(err.msg, "bad key 'a=b'");
    ck_assert_int_eq(ckpt_meta_put_str(&m, "multi", "one\ntwo", &err), -1);
    ck_assert_msg_has(err.msg, "'multi'", "newline");
    ckpt_meta_free(&m);

    const char *text = "step=12x\nlr=fast\nseed=-4\nname=abcdefghij\nempty=\n";
    int64_t i64;
    uint64_t u64;
    double d;
    char s[4];
    ck_assert_int_eq(ckpt_meta_get_int(text, "steps", &i64, &err), -1);
    ck_assert_msg_has(err.msg, "no key 'steps'");
    ck_assert_int_eq(ckpt_meta_get_int(text, "step", &i64, &err), -1);
    ck_assert_msg_has(err.msg, "key 'step'", "'12x'", "not a 64-bit integer");
    ck_assert_int_eq(ckpt_meta_get_int(text, "empty", &i64, &err), -1);
    ck_assert_msg_has(err.msg, "key 'empty'");
    ck_assert_int_eq(ckpt_meta_get_double(text, "lr", &d, &err), -1);
    ck_assert_msg_has(err.msg, "key 'lr'", "'fast'", "not a number");
    ck_assert_int_eq(ckpt_meta_get_u64(text, "seed", &u64, &err), -1);
    ck_assert_msg_has(err.msg, "key 'seed'", "'-4'", "unsigned");
    ck_assert_int_eq(ckpt_meta_get_str(text, "name", s, sizeof s, &err), -1);
    ck_assert_msg_has(err.msg, "key 'name'", "longer than 3");
}
END_TEST

/* ---- directory convention ----------------------------------------------------- */

static char dir[512];
static void setup(void) { tmpdir_make(dir, sizeof dir); }
static void teardown(void) { tmpdir_remove(dir); }

static void touch(const char *name)
{
    char p[1024];
    tpath(p, sizeof p, dir, name);
    write_text(p, "x");
}

START_TEST(test_paths_latest_resolve)
{
    char p[1024], want[1024], got[1024];
    struct herr err;
    ck_assert_int_eq(ckpt_dir_path(p, sizeof p, dir, 42, &err), 0);
    tpath(want, sizeof want, dir, "ckpt_00000042.heft");
    ck_assert_str_eq(p, want);

    /* No pointer yet. */
    ck_assert_int_eq(ckpt_resolve(dir, got, sizeof got, &err), -1);
    ck_assert_msg_has(err.msg, dir, "no 'latest'");

    touch("ckpt_00000042.heft");
    ck_assert_int_eq(ckpt_dir_set_latest(dir, p, &err), 0);
    size_t n;
    char lp[1024];
    tpath(lp, sizeof lp, dir, "latest");
    unsigned char *text = read_bytes(lp, &n);
    ck_assert_uint_eq(n, strlen("ckpt_00000042.heft\n"));
    ck_assert_mem_eq(text, "ckpt_00000042.heft\n", n);
    free(text);
    ck_assert_int_eq(ckpt_resolve(dir, got, sizeof got, &err), 0);
    ck_assert_str_eq(got, want);
    /* A file resolves to itself. */
    ck_assert_int_eq(ckpt_resolve(want, got, sizeof got, &err), 0);
    ck_assert_str_eq(got, want);
    /* Replaced, not appended. */
    ck_assert_int_eq(ckpt_dir_set_latest(dir, "ckpt_00000050.heft", &err), 0);
    ck_assert_int_eq(ckpt_resolve(dir, got, sizeof got, &err), 0);
    tpath(want, sizeof want, dir, "ckpt_00000050.heft");
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(dir_entries(dir), 2);

    char missing[1024];
    tpath(missing, sizeof missing, dir, "gone.heft");
    ck_assert_int_eq(ckpt_resolve(missing, got, sizeof got, &err), -1);
    ck_assert_msg_has(err.msg, missing, "No such file");

    write_text(lp, "../elsewhere.heft\n");
    ck_assert_int_eq(ckpt_resolve(dir, got, sizeof got, &err), -1);
    ck_assert_msg_has(err.msg, "'../elsewhere.heft'", "not a file name");
}
END_TEST

START_TEST(test_create_nested)
{
    char nested[1024];
    struct herr err;
    tpath(nested, sizeof nested, dir, "runs/a/b");
    ck_assert_int_eq(ckpt_dir_create(nested, &err), 0);
    ck_assert_int_eq(ckpt_dir_create(nested, &err), 0); /* exists: fine */
    struct stat st;
    ck_assert_int_eq(stat(nested, &st), 0);
    ck_assert(S_ISDIR(st.st_mode));
    char file[1024];
    tpath(file, sizeof file, dir, "plain");
    write_text(file, "x");
    tpath(nested, sizeof nested, dir, "plain/sub");
    ck_assert_int_eq(ckpt_dir_create(nested, &err), -1);
    ck_assert_msg_has(err.msg, "plain");
}
END_TEST

static int exists(const char *name)
{
    char p[1024];
    struct stat st;
    tpath(p, sizeof p, dir, name);
    return stat(p, &st) == 0;
}

START_TEST(test_prune)
{
    struct herr err;
    for (int s = 1; s <= 6; s++) {
        char p[1024];
        ck_assert_int_eq(ckpt_dir_path(p, sizeof p, dir, (uint64_t)s * 100, &err), 0);
        write_text(p, "x");
    }
    touch("ckpt_7.heft"); /* not a name heft makes: left alone */
    touch("notes.txt");
    ck_assert_int_eq(ckpt_dir_set_latest(dir, "ckpt_00000200.heft", &err), 0);
    int removed;
    ck_assert_int_eq(ckpt_dir_prune(dir, 3, &removed, &err), 0);
    ck_assert_int_eq(removed, 2);
    ck_assert(exists("ckpt_00000600.heft") && exists("ckpt_00000500.heft") &&
              exists("ckpt_00000400.heft"));
    ck_assert(!exists("ckpt_00000300.heft") && !exists("ckpt_00000100.heft"));
    ck_assert(exists("ckpt_00000200.heft")); /* latest points at it */
    ck_assert(exists("ckpt_7.heft") && exists("notes.txt") && exists("latest"));
    ck_assert_int_eq(ckpt_dir_prune(dir, 0, &removed, &err), 0); /* keep all */
    ck_assert_int_eq(removed, 0);
    ck_assert_int_eq(ckpt_dir_prune(dir, 1, &removed, &err), 0);
    ck_assert_int_eq(removed, 2);
    ck_assert(exists("ckpt_00000600.heft") && exists("ckpt_00000200.heft"));
}
END_TEST

static Suite *meta_suite(void)
{
    Suite *s = suite_create("ckpt_meta");
    TCase *tm = tcase_create("meta");
    tcase_add_test(tm, test_meta_roundtrip);
    tcase_add_test(tm, test_meta_errors);
    suite_add_tcase(s, tm);
    TCase *td = tcase_create("dir");
    tcase_add_checked_fixture(td, setup, teardown);
    tcase_add_test(td, test_paths_latest_resolve);
    tcase_add_test(td, test_create_nested);
    tcase_add_test(td, test_prune);
    suite_add_tcase(s, td);
    return s;
}

int main(void)
{
    return run_suite(meta_suite());
}
