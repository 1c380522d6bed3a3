/* tests/test_data_dataset.c — opening datasets (built-in, manifest, llm.c
 * glob), their errors, windows, and fingerprints. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/builtin_data.h"
#include "core/dataset.h"
#include "tests/test_data_util.h"

static char dir[512];
static void setup(void) { tmpdir_make(dir, sizeof dir); }
static void teardown(void) { tmpdir_remove(dir); }

static struct dataset *open_ok(const char *path, int vocab_hint)
{
    struct dataset *ds;
    struct herr err;
    ck_assert_msg(dataset_open(&ds, path, vocab_hint, &err) == 0, "%s", err.msg);
    return ds;
}

/* Opens a dataset expected to fail and returns its message. */
static const char *open_fails(const char *path, int vocab_hint)
{
    static struct herr err; /* per-test process (Check forks), so no sharing */
    struct dataset *ds;
    ck_assert_int_eq(dataset_open(&ds, path, vocab_hint, &err), -1);
    ck_assert_ptr_null(ds);
    return err.msg;
}

static void write_manifest(const char *text)
{
    char path[1024];
    tpath(path, sizeof path, dir, "dataset.txt");
    write_text(path, text);
}

/* ---- built-in -------------------------------------------------------------- */

START_TEST(test_builtin)
{
    struct dataset *ds = open_ok(NULL, 0);
    ck_assert_int_eq(dataset_vocab_size(ds), 257);
    ck_assert_int_eq(dataset_eot(ds), 256);
    ck_assert_str_eq(dataset_tokenizer(ds), "bytes");
    ck_assert_int_eq(dataset_num_domains(ds), BUILTIN_NUM_DOMAINS);
    for (int d = 0; d < BUILTIN_NUM_DOMAINS; d++) {
        ck_assert_str_eq(dataset_domain_name(ds, d), builtin_domain_name(d));
        ck_assert_uint_gt(dataset_num_tokens(ds, DATA_TRAIN, d), 100000);
        ck_assert_uint_gt(dataset_num_tokens(ds, DATA_VAL, d), 5000);
    }
    ck_assert_int_eq(dataset_domain_index(ds, "code"), 2);
    ck_assert_int_eq(dataset_domain_index(ds, "nope"), -1);
    struct dataset *again = open_ok("builtin", 0);
    ck_assert_uint_eq(dataset_fingerprint(ds), dataset_fingerprint(again));
    dataset_close(again);
    dataset_close(ds);
}
END_TEST

START_TEST(test_builtin_subset)
{
    struct dataset *all = open_ok("builtin", 0);
    struct dataset *ds = open_ok("builtin:prose,arith", 0);
    ck_assert_int_eq(dataset_num_domains(ds), 2);
    ck_assert_str_eq(dataset_domain_name(ds, 0), "prose");
    ck_assert_str_eq(dataset_domain_name(ds, 1), "arith");
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_TRAIN, 1),
                      dataset_num_tokens(all, DATA_TRAIN, 0));
    ck_assert_uint_ne(dataset_fingerprint(ds), dataset_fingerprint(all));
    dataset_close(ds);
    dataset_close(all);
    ck_assert_msg_has(open_fails("builtin:prose,poetry", 0), "poetry", "arith, prose, code");
    ck_assert_msg_has(open_fails("builtin:prose,prose", 0), "prose", "twice");
}
END_TEST

/* ---- manifest ------------------------------------------------------------- */

static const struct test_shard three[] = {
    {"train", "alpha", 37}, {"train", "beta", 50}, {"val", "alpha", 23},
};

START_TEST(test_manifest)
{
    make_dataset_dir(dir, three, 3);
    struct dataset *ds = open_ok(dir, 0);
    ck_assert_int_eq(dataset_vocab_size(ds), 65536);
    ck_assert_int_eq(dataset_eot(ds), 0);
    ck_assert_str_eq(dataset_tokenizer(ds), "test");
    ck_assert_int_eq(dataset_num_domains(ds), 2);
    ck_assert_str_eq(dataset_domain_name(ds, 0), "alpha");
    ck_assert_str_eq(dataset_domain_name(ds, 1), "beta");
    ck_assert_int_eq(dataset_num_shards(ds), 3);
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_TRAIN, -1), 87);
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_TRAIN, 0), 37);
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_VAL, -1), 23);
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_VAL, 1), 0);
    const struct dataset_shard *s = dataset_shard_at(ds, 2);
    ck_assert_int_eq(s->split, DATA_VAL);
    ck_assert_int_eq(s->domain, 0);
    ck_assert_uint_eq(s->shard.tokens[0], TEST_SHARD_BASE(2));
    ck_assert_ptr_null(dataset_shard_at(ds, 3));

    /* The manifest file itself names the same dataset. */
    char mpath[1024];
    tpath(mpath, sizeof mpath, dir, "dataset.txt");
    struct dataset *by_file = open_ok(mpath, 0);
    ck_assert_uint_eq(dataset_fingerprint(by_file), dataset_fingerprint(ds));
    dataset_close(by_file);
    dataset_close(ds);
}
END_TEST

START_TEST(test_manifest_absolute_path_and_comments)
{
    char sub[1024], shard[1024];
    tpath(sub, sizeof sub, dir, "elsewhere");
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    tpath(shard, sizeof shard, sub, "my shard.bin"); /* a space in the name */
    uint16_t tok[5] = {1, 2, 3, 4, 5};
    write_raw_shard(shard, 20240520, 1, 5, tok, 5, 0);
    char text[2048];
    snprintf(text, sizeof text,
             "# a comment\n\nheft-dataset 1\n  vocab_size 10  \neot 9\n# more\nshard train d %s\n",
             shard);
    write_manifest(text);
    struct dataset *ds = open_ok(dir, 0);
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_TRAIN, -1), 5);
    ck_assert_str_eq(dataset_tokenizer(ds), "unknown");
    dataset_close(ds);
}
END_TEST

START_TEST(test_manifest_missing)
{
    ck_assert_msg_has(open_fails(dir, 0), dir, "no dataset.txt", "heft prepare");
    char missing[1024];
    tpath(missing, sizeof missing, dir, "nothing_here");
    ck_assert_msg_has(open_fails(missing, 50257), missing, "no such");
}
END_TEST

START_TEST(test_manifest_errors)
{
    static const struct {
        const char *text, *want1, *want2;
    } cases[] = {
        {"hello 1\n", "first line", "heft-dataset"},
        {"heft-dataset 2\n", "unsupported version 2", "line 1"},
        {"heft-dataset 1\nvocab_size 10\ncolour blue\n", "line 3", "unknown directive 'colour'"},
        {"heft-dataset 1\neot 3\nshard train a x.bin\n", "no vocab_size", "dataset.txt"},
        {"heft-dataset 1\nvocab_size 10\nshard train a x.bin\n", "no eot", "dataset.txt"},
        {"heft-dataset 1\nvocab_size 10\neot 10\nshard train a x.bin\n", "eot 10",
         "vocab_size 10"},
        {"heft-dataset 1\nvocab_size 1e3\n", "line 2", "vocab_size"},
        {"heft-dataset 1\nvocab_size 10\neot 1\n", "lists no shards", "dataset.txt"},
        {"heft-dataset 1\nvocab_size 10\neot 1\nshard test a x.bin\n", "line 4",
         "split 'test'"},
        {"heft-dataset 1\nvocab_size 10\neot 1\nshard train a/b x.bin\n", "line 4",
         "domain name 'a/b'"},
        {"heft-dataset 1\nvocab_size 10\neot 1\nshard train a\n", "line 4",
         "shard <train|val> <domain> <file>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_manifest(cases[i].text);
        const char *msg = open_fails(dir, 0);
        ck_assert_msg_has(msg, cases[i].want1, cases[i].want2);
    }
}
END_TEST

START_TEST(test_manifest_missing_shard_file)
{
    write_manifest("heft-dataset 1\nvocab_size 10\neot 1\nshard train a gone.bin\n");
    ck_assert_msg_has(open_fails(dir, 0), "gone.bin", "cannot open", "dataset.txt");
}
END_TEST

START_TEST(test_too_many_domains)
{
    char text[8192];
    int len = snprintf(text, sizeof text, "heft-dataset 1\nvocab_size 10\neot 1\n");
    uint16_t tok[3] = {1, 2, 3};
    char path[1024];
    tpath(path, sizeof path, dir, "s.bin");
    write_raw_shard(path, 20240520, 1, 3, tok, 3, 0);
    for (int d = 0; d < 65; d++)
        len += snprintf(text + len, sizeof text - (size_t)len, "shard train dom%d s.bin\n", d);
    write_manifest(text);
    ck_assert_msg_has(open_fails(dir, 0), "more than 64 domains", "dom64");
}
END_TEST

START_TEST(test_token_outside_vocab_on_open)
{
    char path[1024];
    tpath(path, sizeof path, dir, "s.bin");
    uint16_t tok[8] = {1, 2, 3, 4, 5, 150, 7, 8};
    write_raw_shard(path, 20240520, 1, 8, tok, 8, 0);
    write_manifest("heft-dataset 1\nvocab_size 100\neot 0\nshard train a s.bin\n");
    ck_assert_msg_has(open_fails(dir, 0), path, "token 5", "id 150", "vocab_size 100");
}
END_TEST

/* Without the scan on open, the bad id is caught when its row is read. */
START_TEST(test_token_outside_vocab_when_read)
{
    char path[1024];
    tpath(path, sizeof path, dir, "s.bin");
    uint16_t tok[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 150, 11, 12};
    write_raw_shard(path, 20240520, 1, 12, tok, 12, 0);
    write_manifest("heft-dataset 1\nvocab_size 100\neot 0\nshard train a s.bin\n");
    struct dataset *ds;
    struct herr err;
    ck_assert_int_eq(dataset_open_scan(&ds, dir, 0, 0, &err), 0);
    struct window_index wi;
    ck_assert_int_eq(window_index_build(&wi, ds, DATA_TRAIN, -1, 4, &err), 0);
    int32_t in[4], tg[4], dom;
    ck_assert_int_eq(window_index_fill(&wi, 0, in, tg, &dom, &err), 4); /* tokens 0..4 */
    ck_assert_int_eq(window_index_fill(&wi, 2, in, tg, &dom, &err), -1);
    ck_assert_msg_has(err.msg, path, "token 9", "id 150", "vocab_size 100");
    ck_assert_int_eq(dataset_check_tokens(ds, &err), -1);
    window_index_free(&wi);
    dataset_close(ds);
}
END_TEST

/* A dataset of 32-bit shards (llm.c's LLaMA-3 kind): ids above 65535 reach
 * the rows intact, and one beyond the vocabulary is still caught. */
START_TEST(test_32bit_shards)
{
    char path[1024];
    tpath(path, sizeof path, dir, "w.bin");
    uint32_t tok[9] = {70000, 1, 128255, 65536, 5, 6, 7, 8, 128256};
    struct shard_writer w;
    struct herr err;
    ck_assert_int_eq(shard_writer_open_width(&w, path, 4, &err), 0);
    ck_assert_int_eq(shard_writer_append32(&w, tok, 9, &err), 0);
    ck_assert_int_eq(shard_writer_commit(&w, &err), 0);
    write_manifest("heft-dataset 1\nvocab_size 128256\neot 128000\nshard train a w.bin\n");
    ck_assert_msg_has(open_fails(dir, 0), path, "token 8", "id 128256", "vocab_size 128256");
    struct dataset *ds;
    ck_assert_int_eq(dataset_open_scan(&ds, dir, 0, 0, &err), 0);
    ck_assert_int_eq(dataset_vocab_size(ds), 128256);
    struct window_index wi;
    ck_assert_int_eq(window_index_build(&wi, ds, DATA_TRAIN, -1, 4, &err), 0);
    int32_t in[4], tg[4], dom;
    ck_assert_int_eq(window_index_fill(&wi, 0, in, tg, &dom, &err), 4);
    const int32_t want_in[4] = {70000, 1, 128255, 65536}, want_tg[4] = {1, 128255, 65536, 5};
    for (int t = 0; t < 4; t++) {
        ck_assert_int_eq(in[t], want_in[t]);
        ck_assert_int_eq(tg[t], want_tg[t]);
    }
    ck_assert_int_eq(window_index_fill(&wi, 1, in, tg, &dom, &err), -1);
    ck_assert_msg_has(err.msg, "token 8", "id 128256");
    window_index_free(&wi);
    dataset_close(ds);
}
END_TEST

/* ---- llm.c globs ------------------------------------------------------------- */

static void write_llmc_shard(const char *name, int n, uint16_t first)
{
    char path[1024];
    tpath(path, sizeof path, dir, name);
    uint16_t tok[100];
    for (int i = 0; i < n; i++)
        tok[i] = (uint16_t)(first + i);
    write_raw_shard(path, 20240520, 1, n, tok, (size_t)n, 0);
}

START_TEST(test_glob)
{
    write_llmc_shard("fw_train_000001.bin", 30, 100);
    write_llmc_shard("fw_val_000000.bin", 20, 200);
    write_llmc_shard("fw_train_000002.bin", 40, 300);
    char pattern[1024];
    tpath(pattern, sizeof pattern, dir, "fw_*.bin");
    struct dataset *ds = open_ok(pattern, 50257);
    ck_assert_int_eq(dataset_vocab_size(ds), 50257);
    ck_assert_int_eq(dataset_eot(ds), 50256);
    ck_assert_str_eq(dataset_tokenizer(ds), "gpt2");
    ck_assert_int_eq(dataset_num_domains(ds), 1);
    ck_assert_str_eq(dataset_domain_name(ds, 0), "default");
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_TRAIN, -1), 70);
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_VAL, -1), 20);
    /* Sorted by name: train_000001, train_000002, val_000000. */
    ck_assert_uint_eq(dataset_shard_at(ds, 0)->shard.tokens[0], 100);
    ck_assert_uint_eq(dataset_shard_at(ds, 1)->shard.tokens[0], 300);
    ck_assert_uint_eq(dataset_shard_at(ds, 2)->shard.tokens[0], 200);
    ck_assert_int_eq(dataset_shard_at(ds, 2)->split, DATA_VAL);
    dataset_close(ds);

    /* A single file works as a pattern too. */
    tpath(pattern, sizeof pattern, dir, "fw_train_000002.bin");
    ds = open_ok(pattern, 1000);
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_TRAIN, -1), 40);
    ck_assert_int_eq(dataset_eot(ds), 999);
    dataset_close(ds);

    ck_assert_msg_has(open_fails(pattern, 0), pattern, "no vocabulary", "50257");
    ck_assert_msg_has(open_fails(pattern, 200), "token 0", "id 300", "vocab_size 200");
    tpath(pattern, sizeof pattern, dir, "nope_*.bin");
    ck_assert_msg_has(open_fails(pattern, 50257), pattern, "no such");
}
END_TEST

/* ---- windows ------------------------------------------------------------------ */

START_TEST(test_window_counts)
{
    ck_assert_uint_eq(shard_num_windows(0, 4), 0);
    ck_assert_uint_eq(shard_num_windows(1, 4), 0);
    ck_assert_uint_eq(shard_num_windows(2, 4), 1);
    ck_assert_uint_eq(shard_num_windows(5, 4), 1);  /* exactly T+1 tokens */
    ck_assert_uint_eq(shard_num_windows(6, 4), 2);  /* one target left over */
    ck_assert_uint_eq(shard_num_windows(9, 4), 2);
    ck_assert_uint_eq(shard_num_windows(10, 4), 3);
    ck_assert_uint_eq(shard_num_windows(1025, 1024), 1);
}
END_TEST

START_TEST(test_window_fill_and_padding)
{
    static const struct test_shard s[] = {{"train", "a", 11}, {"train", "b", 1},
                                          {"val", "a", 6}, {"train", "b", 9}};
    make_dataset_dir(dir, s, 4);
    struct dataset *ds = open_ok(dir, 0);
    ck_assert_uint_eq(dataset_num_windows(ds, DATA_TRAIN, -1, 4), 3 + 0 + 2);
    ck_assert_uint_eq(dataset_num_windows(ds, DATA_VAL, -1, 4), 2);
    ck_assert_uint_eq(dataset_num_windows(ds, DATA_TRAIN, 1, 4), 2);
    struct window_index wi;
    struct herr err;
    ck_assert_int_eq(window_index_build(&wi, ds, DATA_TRAIN, -1, 4, &err), 0);
    ck_assert_uint_eq(window_index_count(&wi), 5);
    int32_t in[4], tg[4], dom;
    const int32_t b0 = TEST_SHARD_BASE(0), b3 = TEST_SHARD_BASE(3);
    /* Window 1 of shard 0: tokens 4..8. */
    ck_assert_int_eq(window_index_fill(&wi, 1, in, tg, &dom, &err), 4);
    for (int t = 0; t < 4; t++) {
        ck_assert_int_eq(in[t], b0 + 4 + t);
        ck_assert_int_eq(tg[t], b0 + 5 + t);
    }
    ck_assert_int_eq(dom, 0);
    /* Window 2 of shard 0 (11 tokens): starts at 8, two targets, then padding. */
    ck_assert_int_eq(window_index_fill(&wi, 2, in, tg, &dom, &err), 2);
    const int32_t want_in[4] = {b0 + 8, b0 + 9, b0 + 10, 0};
    const int32_t want_tg[4] = {b0 + 9, b0 + 10, -1, -1};
    ck_assert_mem_eq(in, want_in, sizeof in);
    ck_assert_mem_eq(tg, want_tg, sizeof tg);
    ck_assert_int_eq(row_num_targets(tg, 4), 2);
    /* Windows 3, 4: shard 3 (shard 1 of a single token has none). */
    ck_assert_int_eq(window_index_fill(&wi, 3, in, tg, &dom, &err), 4);
    ck_assert_int_eq(in[0], b3);
    ck_assert_int_eq(dom, 1);
    ck_assert_int_eq(window_index_fill(&wi, 4, in, tg, &dom, &err), 4);
    ck_assert_int_eq(in[0], b3 + 4);
    ck_assert_int_eq(tg[3], b3 + 8);
    window_index_free(&wi);

    dataset_fill_empty_row(ds, 4, in, tg, &dom);
    ck_assert_int_eq(row_num_targets(tg, 4), 0);
    ck_assert_int_eq(in[2], 0);
    ck_assert_int_eq(dom, -1);
    dataset_close(ds);
}
END_TEST

/* ---- fingerprints ---------------------------------------------------------- */

START_TEST(test_fingerprint)
{
    char a[1024], b[1024];
    tpath(a, sizeof a, dir, "a");
    tpath(b, sizeof b, dir, "b");
    ck_assert_int_eq(mkdir(a, 0755), 0);
    ck_assert_int_eq(mkdir(b, 0755), 0);
    make_dataset_dir(a, three, 3);
    make_dataset_dir(b, three, 3);
    struct dataset *da = open_ok(a, 0), *db = open_ok(b, 0);
    /* Same content in another place: same fingerprint. */
    ck_assert_uint_eq(dataset_fingerprint(da), dataset_fingerprint(db));
    dataset_close(db);
    /* One token changed: different. */
    char shard[1024];
    tpath(shard, sizeof shard, b, "shard_01.bin");
    uint16_t tok[50];
    for (int i = 0; i < 50; i++)
        tok[i] = (uint16_t)(TEST_SHARD_BASE(1) + i);
    tok[0] = 7;
    write_raw_shard(shard, 20240520, 1, 50, tok, 50, 0);
    db = open_ok(b, 0);
    ck_assert_uint_ne(dataset_fingerprint(da), dataset_fingerprint(db));
    dataset_close(db);
    /* A different domain name: different. */
    static const struct test_shard renamed[] = {
        {"train", "alpha", 37}, {"train", "gamma", 50}, {"val", "alpha", 23}};
    make_dataset_dir(b, renamed, 3);
    db = open_ok(b, 0);
    ck_assert_uint_ne(dataset_fingerprint(da), dataset_fingerprint(db));
    dataset_close(db);
    dataset_close(da);
}
END_TEST

static Suite *dataset_suite(void)
{
    Suite *s = suite_create("data_dataset");
    TCase *tc = tcase_create("dataset");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_builtin);
    tcase_add_test(tc, test_builtin_subset);
    tcase_add_test(tc, test_manifest);
    tcase_add_test(tc, test_manifest_absolute_path_and_comments);
    tcase_add_test(tc, test_manifest_missing);
    tcase_add_test(tc, test_manifest_errors);
    tcase_add_test(tc, test_manifest_missing_shard_file);
    tcase_add_test(tc, test_too_many_domains);
    tcase_add_test(tc, test_token_outside_vocab_on_open);
    tcase_add_test(tc, test_token_outside_vocab_when_read);
    tcase_add_test(tc, test_32bit_shards);
    tcase_add_test(tc, test_glob);
    tcase_add_test(tc, test_window_counts);
    tcase_add_test(tc, test_window_fill_and_padding);
    tcase_add_test(tc, test_fingerprint);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(dataset_suite());
}
