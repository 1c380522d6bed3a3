/* tests/test_data_loader.c — training row order (determinism, epochs, rank
 * slices, resume) and validation passes, on a synthetic dataset whose token
 * ids name their shard and position. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/dataset.h"
#include "core/loader.h"
#include "core/val_iter.h"
#include "tests/test_data_util.h"

#define T 8
/* Train windows with T = 8: (37-2)/8+1 = 5, (50-2)/8+1 = 7, (23-2)/8+1 = 3,
 * so M = 15; the last window of each keeps 4, 1 and 6 targets. */
static const struct test_shard shards[] = {
    {"train", "alpha", 37}, {"train", "beta", 50}, {"val", "alpha", 30},
    {"train", "alpha", 23}, {"val", "beta", 12},   {"val", "alpha", 9},
};
enum { M = 15 };

static char dir[512];
static struct dataset *ds;

static void setup(void)
{
    tmpdir_make(dir, sizeof dir);
    make_dataset_dir(dir, shards, 6);
    struct herr err;
    ck_assert_msg(dataset_open(&ds, dir, 0, &err) == 0, "%s", err.msg);
}

static void teardown(void)
{
    dataset_close(ds);
    tmpdir_remove(dir);
}

/* A row's identity: its first input token (unique per window). */
struct batch {
    int B;
    int32_t in[64 * T], tg[64 * T], dom[64];
};

static struct loader *make_loader(int B, int rank, int world, uint64_t seed)
{
    struct loader *ld;
    struct herr err;
    ck_assert_msg(loader_create(&ld, ds, B, T, rank, world, seed, &err) == 0, "%s", err.msg);
    return ld;
}

static void next(struct loader *ld, struct batch *b, int B)
{
    struct herr err;
    b->B = B;
    ck_assert_int_le(B, 64);
    ck_assert_msg(loader_next(ld, b->in, b->tg, b->dom, &err) == 0, "%s", err.msg);
}

/* The shard index a token belongs to. */
static int shard_of(int32_t tok)
{
    return (tok - 1) / 1000;
}

START_TEST(test_rows_are_windows)
{
    ck_assert_uint_eq(dataset_num_windows(ds, DATA_TRAIN, -1, T), M);
    struct loader *ld = make_loader(5, 0, 1, 1);
    ck_assert_uint_eq(loader_num_windows(ld), M);
    struct batch b;
    for (int step = 0; step < 6; step++) {
        next(ld, &b, 5);
        for (int r = 0; r < 5; r++) {
            const int32_t *in = b.in + r * T, *tg = b.tg + r * T;
            int k = shard_of(in[0]);
            ck_assert_str_eq(shards[k].split, "train");
            ck_assert_int_eq(b.dom[r], dataset_domain_index(ds, shards[k].domain));
            int pos = in[0] - TEST_SHARD_BASE(k);
            ck_assert_int_eq(pos % T, 0); /* windows start at multiples of T */
            int n = row_num_targets(tg, T);
            ck_assert_int_eq(n, shards[k].n - 1 - pos < T ? shards[k].n - 1 - pos : T);
            for (int t = 0; t < T; t++) {
                if (t < n)
                    ck_assert_int_eq(tg[t], in[0] + t + 1);
                else
                    ck_assert_int_eq(tg[t], -1);
                /* Inputs are real up to the shard's last token, then EOT (0). */
                ck_assert_int_eq(in[t], pos + t < shards[k].n ? in[0] + t : 0);
            }
        }
    }
    loader_destroy(ld);
}
END_TEST

/* Rows of `steps` steps of one loader, as first tokens. */
static void row_stream(struct loader *ld, int B, int steps, int32_t *out)
{
    struct batch b;
    for (int s = 0; s < steps; s++) {
        next(ld, &b, B);
        for (int r = 0; r < B; r++)
            out[s * B + r] = b.in[r * T];
    }
}

START_TEST(test_deterministic_and_seeded)
{
    int32_t a[60], b[60], c[60];
    struct loader *la = make_loader(4, 0, 1, 42), *lb = make_loader(4, 0, 1, 42),
                  *lc = make_loader(4, 0, 1, 43);
    row_stream(la, 4, 15, a);
    row_stream(lb, 4, 15, b);
    row_stream(lc, 4, 15, c);
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert(memcmp(a, c, sizeof a) != 0);
    loader_destroy(la);
    loader_destroy(lb);
    loader_destroy(lc);
}
END_TEST

static int cmp_i32(const void *x, const void *y)
{
    int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;
    return (a > b) - (a < b);
}

/* Each run of M consecutive global rows is one epoch: every window once. A
 * batch of 4 does not divide M = 15, so batches straddle epoch ends. */
START_TEST(test_epochs_cover_all_windows)
{
    enum { STEPS = 45 }; /* 180 rows = 12 epochs */
    int32_t rows[STEPS * 4];
    struct loader *ld = make_loader(4, 0, 1, 7);
    row_stream(ld, 4, STEPS, rows);
    int32_t first_epoch[M];
    memcpy(first_epoch, rows, sizeof first_epoch);
    qsort(first_epoch, M, sizeof(int32_t), cmp_i32);
    int orders_differ = 0;
    for (int e = 0; e < STEPS * 4 / M; e++) {
        int32_t sorted[M];
        memcpy(sorted, rows + e * M, sizeof sorted);
        qsort(sorted, M, sizeof(int32_t), cmp_i32);
        ck_assert_mem_eq(sorted, first_epoch, sizeof sorted);
        for (int i = 1; i < M; i++)
            ck_assert_int_ne(sorted[i], sorted[i - 1]);
        if (e > 0)
            orders_differ += memcmp(rows + e * M, rows, M * sizeof(int32_t)) != 0;
    }
    ck_assert_int_ge(orders_differ, 10); /* reshuffled every epoch */
    struct loader_pos p = loader_tell(ld);
    ck_assert_uint_eq(p.epoch, 12);
    ck_assert_uint_eq(p.row, 0);
    loader_destroy(ld);
}
END_TEST

/* The global row stream does not depend on how rows are batched. */
START_TEST(test_batching_does_not_change_the_stream)
{
    int32_t one[60], four[60], fifteen[60];
    struct loader *l1 = make_loader(1, 0, 1, 9), *l4 = make_loader(4, 0, 1, 9),
                  *l15 = make_loader(15, 0, 1, 9);
    row_stream(l1, 1, 60, one);
    row_stream(l4, 4, 15, four);
    row_stream(l15, 15, 4, fifteen);
    ck_assert_mem_eq(one, four, sizeof one);
    ck_assert_mem_eq(one, fifteen, sizeof one);
    loader_destroy(l1);
    loader_destroy(l4);
    loader_destroy(l15);
}
END_TEST

/* W ranks with B rows each read exactly the rows of one rank with W*B rows:
 * disjoint slices whose union (in rank order) is the whole batch. */
static void check_ranks(int W, int B)
{
    struct loader *whole = make_loader(W * B, 0, 1, 5);
    struct loader *part[3];
    for (int k = 0; k < W; k++)
        part[k] = make_loader(B, k, W, 5);
    for (int step = 0; step < 12; step++) { /* 12 * W*B rows: several epochs */
        struct batch all, mine;
        next(whole, &all, W * B);
        for (int k = 0; k < W; k++) {
            next(part[k], &mine, B);
            ck_assert_mem_eq(mine.in, all.in + k * B * T, (size_t)B * T * sizeof(int32_t));
            ck_assert_mem_eq(mine.tg, all.tg + k * B * T, (size_t)B * T * sizeof(int32_t));
            ck_assert_mem_eq(mine.dom, all.dom + k * B, (size_t)B * sizeof(int32_t));
            struct loader_pos pw = loader_tell(whole), pk = loader_tell(part[k]);
            ck_assert_uint_eq(pw.epoch, pk.epoch);
            ck_assert_uint_eq(pw.row, pk.row);
        }
    }
    loader_destroy(whole);
    for (int k = 0; k < W; k++)
        loader_destroy(part[k]);
}

START_TEST(test_rank_slices_w2) { check_ranks(2, 3); }
END_TEST

START_TEST(test_rank_slices_w3) { check_ranks(3, 2); }
END_TEST

/* Slices are disjoint: over one epoch's worth of steps with N dividing M,
 * the ranks together read every window exactly once. */
START_TEST(test_rank_slices_disjoint)
{
    enum { W = 3, B = 5 }; /* N = 15 = M: one step is one epoch */
    int32_t ids[W * B];
    for (int k = 0; k < W; k++) {
        struct loader *ld = make_loader(B, k, W, 11);
        struct batch b;
        next(ld, &b, B);
        for (int r = 0; r < B; r++)
            ids[k * B + r] = b.in[r * T];
        loader_destroy(ld);
    }
    qsort(ids, W * B, sizeof(int32_t), cmp_i32);
    for (int i = 1; i < W * B; i++)
        ck_assert_int_ne(ids[i], ids[i - 1]);
}
END_TEST

/* Each epoch's order is a uniformly random permutation: over many epochs
 * every window is equally likely in every row, and the first two rows are
 * in either order equally often (a Fisher-Yates that stops one swap early
 * or draws with a bias fails this). */
START_TEST(test_permutation_uniform)
{
    enum { EPOCHS = 3000 };
    struct loader *ld = make_loader(M, 0, 1, 99);
    int where[M][M] = {{0}}; /* [row][window rank by first token] */
    int first_smaller = 0;
    int32_t ids[M], sorted[M];
    for (int e = 0; e < EPOCHS; e++) {
        row_stream(ld, M, 1, ids);
        memcpy(sorted, ids, sizeof ids);
        qsort(sorted, M, sizeof(int32_t), cmp_i32);
        for (int r = 0; r < M; r++) {
            int w = (int)((const int32_t *)bsearch(&ids[r], sorted, M, sizeof(int32_t),
                                                   cmp_i32) - sorted);
            where[r][w]++;
        }
        first_smaller += ids[0] < ids[1];
    }
    /* Expected 200 per cell, sd ~13.7: allow 6 sd. */
    for (int r = 0; r < M; r++)
        for (int w = 0; w < M; w++)
            ck_assert_msg(where[r][w] > 118 && where[r][w] < 282, "row %d window %d: %d", r, w,
                          where[r][w]);
    ck_assert_msg(first_smaller > 1300 && first_smaller < 1700, "%d", first_smaller);
    loader_destroy(ld);
}
END_TEST

START_TEST(test_tell_seek_resume)
{
    struct loader *ld = make_loader(4, 0, 1, 3);
    int32_t skip[28], after[20], resumed[20];
    row_stream(ld, 4, 7, skip);
    struct loader_pos p = loader_tell(ld); /* 28 rows = epoch 1, row 13 */
    ck_assert_uint_eq(p.epoch, 1);
    ck_assert_uint_eq(p.row, 13);
    row_stream(ld, 4, 5, after);
    loader_destroy(ld);

    ld = make_loader(4, 0, 1, 3);
    struct herr err;
    ck_assert_int_eq(loader_seek(ld, p, &err), 0);
    row_stream(ld, 4, 5, resumed);
    ck_assert_mem_eq(after, resumed, sizeof after);

    struct loader_pos bad = {0, M};
    ck_assert_int_eq(loader_seek(ld, bad, &err), -1);
    ck_assert_msg_has(err.msg, "row 15", "15 training windows");
    loader_destroy(ld);
}
END_TEST

/* Every epoch has exactly the partial windows of the shards: n_i = 4, 1, 6. */
START_TEST(test_partial_windows_per_epoch)
{
    struct loader *ld = make_loader(M, 0, 1, 21);
    for (int e = 0; e < 3; e++) {
        struct batch b;
        next(ld, &b, M);
        int hist[T + 1] = {0};
        for (int r = 0; r < M; r++)
            hist[row_num_targets(b.tg + r * T, T)]++;
        ck_assert_int_eq(hist[1], 1);
        ck_assert_int_eq(hist[4], 1);
        ck_assert_int_eq(hist[6], 1);
        ck_assert_int_eq(hist[T], M - 3);
    }
    loader_destroy(ld);
}
END_TEST

START_TEST(test_loader_errors)
{
    struct loader *ld;
    struct herr err;
    ck_assert_int_eq(loader_create(&ld, ds, 0, T, 0, 1, 1, &err), -1);
    ck_assert_msg_has(err.msg, "B = 0");
    ck_assert_int_eq(loader_create(&ld, ds, 2, 0, 0, 1, 1, &err), -1);
    ck_assert_msg_has(err.msg, "T = 0");
    ck_assert_int_eq(loader_create(&ld, ds, 2, T, 2, 2, 1, &err), -1);
    ck_assert_msg_has(err.msg, "rank 2", "world = 2");
    ck_assert_ptr_null(ld);

    static const struct test_shard only_val[] = {{"val", "a", 30}};
    char other[1024];
    tpath(other, sizeof other, dir, "v");
    ck_assert_int_eq(mkdir(other, 0755), 0);
    make_dataset_dir(other, only_val, 1);
    struct dataset *vds;
    ck_assert_int_eq(dataset_open(&vds, other, 0, &err), 0);
    ck_assert_int_eq(loader_create(&ld, vds, 2, T, 0, 1, 1, &err), -1);
    ck_assert_msg_has(err.msg, other, "no training window");
    dataset_close(vds);
}
END_TEST

/* ---- validation ------------------------------------------------------------ */

/* Val windows with T = 8: alpha shards of 30 and 9 tokens give 4 + 1, beta's
 * 12 tokens give 2. */
START_TEST(test_val_pass_in_file_order)
{
    struct val_iter it;
    struct herr err;
    int alpha = dataset_domain_index(ds, "alpha");
    ck_assert_int_eq(val_iter_init(&it, ds, alpha, 2, T, 0, 1, &err), 0);
    ck_assert_uint_eq(val_iter_num_windows(&it), 5);
    ck_assert_uint_eq(val_iter_num_batches(&it), 3);
    int32_t in[2 * T], tg[2 * T], dom[2];
    int32_t want_first[5] = {TEST_SHARD_BASE(2), TEST_SHARD_BASE(2) + 8,
                             TEST_SHARD_BASE(2) + 16, TEST_SHARD_BASE(2) + 24,
                             TEST_SHARD_BASE(5)};
    int seen = 0, real, batches = 0;
    int rc;
    while ((rc = val_iter_next(&it, in, tg, dom, &real, &err)) == 1) {
        batches++;
        for (int r = 0; r < 2; r++) {
            if (seen < 5 && r < real) {
                ck_assert_int_eq(in[r * T], want_first[seen]);
                ck_assert_int_eq(dom[r], alpha);
                seen++;
            } else { /* padding row */
                ck_assert_int_eq(row_num_targets(tg + r * T, T), 0);
                ck_assert_int_eq(dom[r], -1);
                ck_assert_int_eq(in[r * T], 0);
            }
        }
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(seen, 5);
    ck_assert_int_eq(batches, 3);
    ck_assert_int_eq(real, 1);
    val_iter_rewind(&it);
    ck_assert_int_eq(val_iter_next(&it, in, tg, dom, &real, &err), 1);
    ck_assert_int_eq(in[0], want_first[0]);
    val_iter_free(&it);
}
END_TEST

/* Two ranks: same number of batches, and together every val window once. */
START_TEST(test_val_ranks_cover_once)
{
    static int count[8000];
    int64_t targets_total = 0;
    for (int k = 0; k < 2; k++) {
        struct val_iter it;
        struct herr err;
        ck_assert_int_eq(val_iter_init(&it, ds, -1, 2, T, k, 2, &err), 0);
        ck_assert_uint_eq(val_iter_num_windows(&it), 7);
        ck_assert_uint_eq(val_iter_num_batches(&it), 2);
        int32_t in[2 * T], tg[2 * T], dom[2];
        int real, n = 0;
        while (val_iter_next(&it, in, tg, dom, &real, &err) == 1) {
            n++;
            for (int r = 0; r < real; r++)
                count[in[r * T]]++;
            for (int r = 0; r < 2; r++)
                targets_total += row_num_targets(tg + r * T, T);
        }
        ck_assert_int_eq(n, 2);
        val_iter_free(&it);
    }
    int windows = 0;
    for (int i = 0; i < 8000; i++) {
        ck_assert_int_le(count[i], 1);
        windows += count[i];
    }
    ck_assert_int_eq(windows, 7);
    /* Every val target counted once: 29 + 11 + 8. */
    ck_assert_int_eq(targets_total, 29 + 11 + 8);
}
END_TEST

START_TEST(test_val_errors)
{
    struct val_iter it;
    struct herr err;
    ck_assert_int_eq(val_iter_init(&it, ds, 2, 2, T, 0, 1, &err), -1);
    ck_assert_msg_has(err.msg, "no domain 2", "has 2");
    ck_assert_int_eq(val_iter_init(&it, ds, -1, 2, T, 1, 1, &err), -1);
    ck_assert_msg_has(err.msg, "rank 1");
}
END_TEST

static Suite *loader_suite(void)
{
    Suite *s = suite_create("data_loader");
    TCase *tc = tcase_create("loader");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_rows_are_windows);
    tcase_add_test(tc, test_deterministic_and_seeded);
    tcase_add_test(tc, test_epochs_cover_all_windows);
    tcase_add_test(tc, test_batching_does_not_change_the_stream);
    tcase_add_test(tc, test_rank_slices_w2);
    tcase_add_test(tc, test_rank_slices_w3);
    tcase_add_test(tc, test_rank_slices_disjoint);
    tcase_add_test(tc, test_permutation_uniform);
    tcase_add_test(tc, test_tell_seek_resume);
    tcase_add_test(tc, test_partial_windows_per_epoch);
    tcase_add_test(tc, test_loader_errors);
    tcase_add_test(tc, test_val_pass_in_file_order);
    tcase_add_test(tc, test_val_ranks_cover_once);
    tcase_add_test(tc, test_val_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(loader_suite());
}
