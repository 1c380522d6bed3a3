/* tests/test_ref_losses.c — the reference-loss side file (core/ref_losses.h):
 * round trip, every corruption refused with its own message, the checks
 * against a run's data; and loader_windows (core/loader.h), by which the
 * trainer finds each row's window: it names exactly the windows loader_next
 * hands every rank, across epochs. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dataset.h"
#include "core/loader.h"
#include "core/ref_losses.h"
#include "tests/test_data_util.h"

static char dir[512];

static void setup(void) { tmpdir_make(dir, sizeof dir); }
static void teardown(void) { tmpdir_remove(dir); }

/* A file of 5 of 7 windows: the fourth has no reference loss (NaN). */
static void write_sample(const char *path, struct ref_losses *r)
{
    struct herr err;
    memset(r, 0, sizeof *r);
    r->seq = 64;
    r->windows = 7;
    r->count = 5;
    r->fingerprint = 0x0123456789abcdefull;
    r->score_flops = 1.5e9;
    r->train_flops = 2.5e12;
    r->params = 31200;
    r->train_tokens = 614400;
    snprintf(r->model, sizeof r->model, "gpt2 L=1 C=32");
    r->owned = malloc(5 * sizeof(float));
    static const float v[5] = { 2.5f, 3.25f, 1.0f, NAN, 4.0f };
    memcpy(r->owned, v, sizeof v);
    ck_assert_msg(ref_losses_write(path, r, &err) == 0, "%s", err.msg);
}

START_TEST(round_trip_and_lookup)
{
    char path[600];
    struct ref_losses w, r;
    struct herr err;
    tpath(path, sizeof path, dir, "ref.bin");
    write_sample(path, &w);
    size_t n;
    unsigned char *raw = read_bytes(path, &n);
    ck_assert_uint_eq(n, 136 + 5 * 4 + 8);
    ck_assert(memcmp(raw, "HEFTREFL\1\0\0\0", 12) == 0);
    free(raw);
    ck_assert_msg(ref_losses_read(path, &r, &err) == 0, "%s", err.msg);
    ck_assert(r.seq == 64 && r.windows == 7 && r.count == 5 && r.fingerprint == w.fingerprint);
    ck_assert(r.score_flops == 1.5e9 && r.train_flops == 2.5e12 && r.params == 31200);
    ck_assert(r.train_tokens == 614400 && !strcmp(r.model, "gpt2 L=1 C=32"));
    ck_assert(r.checksum == w.checksum);
    ck_assert(ref_losses_at(&r, 0) == 2.5 && ref_losses_at(&r, 1) == 3.25);
    ck_assert(ref_losses_at(&r, 4) == 4.0);
    ck_assert(isnan(ref_losses_at(&r, 3)));  /* NaN: none */
    ck_assert(isnan(ref_losses_at(&r, 5)));  /* past count: none */
    ck_assert(isnan(ref_losses_at(&r, 1u << 30)));
    ck_assert(ref_losses_check(&r, path, 64, 7, w.fingerprint, &err) == 0);
    ref_losses_free(&r);
    ref_losses_free(&w);
}
END_TEST

/* Each way the file can be wrong has its own message naming the file. */
START_TEST(corrupt_files_are_refused)
{
    char path[600], bad[600];
    struct ref_losses w, r;
    struct herr err;
    tpath(path, sizeof path, dir, "ref.bin");
    tpath(bad, sizeof bad, dir, "bad.bin");
    write_sample(path, &w);
    ref_losses_free(&w);
    size_t n;
    unsigned char *raw = read_bytes(path, &n);

    ck_assert(ref_losses_read("/nonexistent/ref.bin", &r, &err) == -1);
    ck_assert_msg_has(err.msg, "/nonexistent/ref.bin");
    write_bytes(bad, raw, 0);
    ck_assert(ref_losses_read(bad, &r, &err) == -1);
    ck_assert_msg_has(err.msg, bad, "not a reference-loss file");
    write_bytes(bad, "HEFTREFL", 8);
    ck_assert(ref_losses_read(bad, &r, &err) == -1);
    ck_assert_msg_has(err.msg, "truncated in its header");
    write_bytes(bad, raw, n - 1);
    ck_assert(ref_losses_read(bad, &r, &err) == -1);
    ck_assert_msg_has(err.msg, bad, "truncated or has trailing data");
    unsigned char *copy = malloc(n + 4);
    memcpy(copy, raw, n);
    memset(copy + n, 0, 4);
    write_bytes(bad, copy, n + 4);
    ck_assert(ref_losses_read(bad, &r, &err) == -1);
    ck_assert_msg_has(err.msg, "trailing data");
    memcpy(copy, raw, n);
    copy[8] = 2; /* version */
    write_bytes(bad, copy, n);
    ck_assert(ref_losses_read(bad, &r, &err) == -1);
    ck_assert_msg_has(err.msg, "version 2", "reads version 1");
    for (size_t byte = 12; byte < n; byte++) {
        if (byte >= 24 && byte < 32)
            continue; /* count: changes the expected size (above) */
        memcpy(copy, raw, n);
        copy[byte] ^= 0x04;
        write_bytes(bad, copy, n);
        ck_assert_msg(ref_losses_read(bad, &r, &err) == -1, "flipped byte %zu accepted", byte);
        ck_assert_msg(strstr(err.msg, "checksum") || strstr(err.msg, "windows"), "%s", err.msg);
    }
    free(copy);
    free(raw);
}
END_TEST

/* Against a run's data: another --seq, window count or dataset. */
START_TEST(mismatched_data_is_refused)
{
    char path[600];
    struct ref_losses w, r;
    struct herr err;
    tpath(path, sizeof path, dir, "ref.bin");
    write_sample(path, &w);
    ck_assert(ref_losses_read(path, &r, &err) == 0);
    ck_assert(ref_losses_check(&r, path, 128, 7, w.fingerprint, &err) == -1);
    ck_assert_msg_has(err.msg, path, "--seq 64", "--seq 128");
    ck_assert(ref_losses_check(&r, path, 64, 8, w.fingerprint, &err) == -1);
    ck_assert_msg_has(err.msg, "7 training windows", "has 8");
    ck_assert(ref_losses_check(&r, path, 64, 7, 42, &err) == -1);
    ck_assert_msg_has(err.msg, "fingerprint");
    /* the writer refuses more scored windows than the data has */
    w.count = 8;
    ck_assert(ref_losses_write(path, &w, &err) == -1);
    ref_losses_free(&w);
    ref_losses_free(&r);
}
END_TEST

/* ------------------------------------------------------------ loader windows */

#define T 8
/* train windows: (37-2)/8+1 = 5, (50-2)/8+1 = 7, (23-2)/8+1 = 3: M = 15 */
static const struct test_shard shards[] = {
    {"train", "alpha", 37}, {"train", "beta", 50}, {"val", "alpha", 30}, {"train", "alpha", 23},
};

/* Two ranks of 4 rows, 9 steps (72 rows, almost 5 epochs of 15): the window
 * loader_windows names for global row j of a step holds the row rank j / 4
 * reads at j % 4, token for token. */
START_TEST(windows_are_the_rows_every_rank_reads)
{
    struct dataset *ds;
    struct herr err;
    make_dataset_dir(dir, shards, 4);
    ck_assert_msg(dataset_open(&ds, dir, 0, &err) == 0, "%s", err.msg);
    struct window_index wi;
    ck_assert(window_index_build(&wi, ds, DATA_TRAIN, -1, T, &err) == 0);
    struct loader *ld[2], *names;
    for (int k = 0; k < 2; k++)
        ck_assert(loader_create(&ld[k], ds, 4, T, k, 2, 77, &err) == 0);
    ck_assert(loader_create(&names, ds, 4, T, 1, 2, 77, &err) == 0); /* any rank's loader */
    ck_assert_uint_eq(loader_num_windows(names), 15);
    int32_t in[4 * T], tg[4 * T], dom[4], win_in[T], win_tg[T], win_dom;
    uint64_t w[8];
    for (int step = 0; step < 9; step++) {
        struct loader_pos pos = loader_tell(ld[0]);
        loader_windows(names, pos, 8, w);
        for (int k = 0; k < 2; k++) {
            ck_assert(loader_next(ld[k], in, tg, dom, &err) == 0);
            for (int b = 0; b < 4; b++) {
                ck_assert(w[4 * k + b] < 15);
                ck_assert(window_index_fill(&wi, w[4 * k + b], win_in, win_tg, &win_dom, &err) > 0);
                ck_assert_msg(memcmp(win_in, in + b * T, sizeof win_in) == 0 &&
                              memcmp(win_tg, tg + b * T, sizeof win_tg) == 0 && win_dom == dom[b],
                              "step %d rank %d row %d: window %llu is not the row read", step, k,
                              b, (unsigned long long)w[4 * k + b]);
            }
        }
    }
    for (int k = 0; k < 2; k++)
        loader_destroy(ld[k]);
    loader_destroy(names);
    window_index_free(&wi);
    dataset_close(ds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reference losses");
    TCase *tc = tcase_create("side file and windows");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip_and_lookup);
    tcase_add_test(tc, corrupt_files_are_refused);
    tcase_add_test(tc, mismatched_data_is_refused);
    tcase_add_test(tc, windows_are_the_rows_every_rank_reads);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
