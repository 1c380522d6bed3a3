/* tests/test_data_prepare.c — `heft prepare` (tools/cmd_prepare.c over
 * core/prepare.c): exact token streams, document splitting, shards, the
 * train/val cut, the built-in dataset on disk, and every user error. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/builtin_data.h"
#include "core/dataset.h"
#include "tests/test_data_util.h"
#include "tools/cmd_prepare.h"

static char dir[512], out[1024];
static void setup(void)
{
    tmpdir_make(dir, sizeof dir);
    tpath(out, sizeof out, dir, "out");
}
static void teardown(void) { tmpdir_remove(dir); }

/* ---- running the command ----------------------------------------------------- */

struct run {
    int rc;
    char *out, *err; /* what it printed */
};

static char *capture_end(int fd_saved, int which, const char *file)
{
    fflush(which == 1 ? stdout : stderr);
    dup2(fd_saved, which);
    close(fd_saved);
    size_t n;
    unsigned char *text = read_bytes(file, &n);
    text[n] = '\0';
    return (char *)text;
}

/* Runs cmd_prepare with the NULL-terminated arguments after "prepare". */
static struct run prepare(const char *first, ...)
{
    const char *argv[64] = {"prepare"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        ck_assert_int_lt(argc, 63);
        argv[argc++] = a;
    }
    va_end(ap);
    char fo[1024], fe[1024];
    tpath(fo, sizeof fo, dir, "stdout.txt");
    tpath(fe, sizeof fe, dir, "stderr.txt");
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    ck_assert(freopen(fo, "w", stdout) != NULL);
    ck_assert(freopen(fe, "w", stderr) != NULL);
    struct run r;
    r.rc = cmd_prepare(argc, (char **)argv);
    r.out = capture_end(so, 1, fo);
    r.err = capture_end(se, 2, fe);
    unlink(fo);
    unlink(fe);
    return r;
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static void input(const char *name, const char *text, char *path_out)
{
    tpath(path_out, 1024, dir, name);
    write_text(path_out, text);
}

/* The concatenated tokens of one domain's split, in manifest order. */
static size_t split_tokens(const struct dataset *ds, enum data_split sp, int d,
                           uint16_t *buf, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < dataset_num_shards(ds); i++) {
        const struct dataset_shard *s = dataset_shard_at(ds, i);
        if (s->split != sp || s->domain != d)
            continue;
        ck_assert_uint_le(n + s->shard.n, cap);
        uint32_t *tok = shard_all_tokens(&s->shard);
        for (size_t i = 0; i < s->shard.n; i++) {
            ck_assert_uint_lt(tok[i], 65536); /* a 16-bit dataset */
            buf[n + i] = (uint16_t)tok[i];
        }
        free(tok);
        n += s->shard.n;
    }
    return n;
}

/* EOT followed by the bytes of each text, as the expected token stream. */
static size_t expected_stream(uint16_t *buf, const char *const *docs, int ndocs)
{
    size_t n = 0;
    for (int k = 0; k < ndocs; k++) {
        buf[n++] = 256;
        for (const char *c = docs[k]; *c; c++)
            buf[n++] = (unsigned char)*c;
    }
    return n;
}

static struct dataset *open_out(void)
{
    struct dataset *ds;
    struct herr err;
    ck_assert_msg(dataset_open(&ds, out, 0, &err) == 0, "%s", err.msg);
    return ds;
}

/* ---- success cases ---------------------------------------------------------------- */

static const char *const prose_a = "The cat sat on the mat. It was warm.\n";
static const char *const prose_b = "Another story \xc3\xa9t\xc3\xa9, with UTF-8 bytes.\n";
static const char *const code_a = "int main(void)\n{\n    return 0;\n}\n";

START_TEST(test_two_domains_exact_streams)
{
    char pa[1024], pb[1024], pc[1024], list[2100];
    input("a.txt", prose_a, pa);
    input("b.txt", prose_b, pb);
    input("c.c", code_a, pc);
    snprintf(list, sizeof list, "prose=%s,%s", pa, pb);
    char code_arg[1100];
    snprintf(code_arg, sizeof code_arg, "code=%s", pc);
    struct run r = prepare("--out", out, "--input", list, "--input", code_arg,
                           "--val-fraction", "0.25", NULL);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    ck_assert_msg_has(r.out, "prose", "code", "total", out);
    ck_assert_str_eq(r.err, "");
    run_free(&r);

    struct dataset *ds = open_out();
    ck_assert_int_eq(dataset_vocab_size(ds), 257);
    ck_assert_int_eq(dataset_eot(ds), 256);
    ck_assert_str_eq(dataset_tokenizer(ds), "bytes");
    ck_assert_int_eq(dataset_num_domains(ds), 2);
    ck_assert_str_eq(dataset_domain_name(ds, 0), "prose");
    ck_assert_str_eq(dataset_domain_name(ds, 1), "code");

    uint16_t want[512], train[512], val[512];
    const char *const prose_docs[] = {prose_a, prose_b};
    const char *const code_docs[] = {code_a};
    for (int d = 0; d < 2; d++) {
        size_t n = d == 0 ? expected_stream(want, prose_docs, 2)
                          : expected_stream(want, code_docs, 1);
        size_t nt = split_tokens(ds, DATA_TRAIN, d, train, 512);
        size_t nv = split_tokens(ds, DATA_VAL, d, val, 512);
        /* The last round(n / 4) tokens are validation; train + val is the stream. */
        ck_assert_uint_eq(nv, (size_t)((double)n * 0.25 + 0.5));
        ck_assert_uint_eq(nt + nv, n);
        ck_assert_mem_eq(train, want, nt * sizeof *want);
        ck_assert_mem_eq(val, want + nt, nv * sizeof *want);
    }
    dataset_close(ds);
}
END_TEST

/* Train-only domains keep their whole stream for training and have no
 * validation shard; the other domains are cut as usual. */
START_TEST(test_train_only_domains)
{
    char pa[1024], pb[1024], pc[1024], a1[1100], a2[1100], a3[1100];
    input("a.txt", prose_a, pa);
    input("b.txt", prose_b, pb);
    input("c.c", code_a, pc);
    snprintf(a1, sizeof a1, "prose=%s", pa);
    snprintf(a2, sizeof a2, "noise=%s", pb);
    snprintf(a3, sizeof a3, "dup=%s", pc);
    struct run r = prepare("--out", out, "--input", a1, "--input", a2, "--input", a3,
                           "--train-only", "noise", "--train-only=dup", "--val-fraction", "0.25",
                           NULL);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    run_free(&r);
    struct dataset *ds = open_out();
    ck_assert_int_eq(dataset_num_domains(ds), 3);
    const char *const texts[] = {prose_a, prose_b, code_a};
    for (int d = 0; d < 3; d++) {
        size_t n = strlen(texts[d]) + 1;
        uint64_t nv = dataset_num_tokens(ds, DATA_VAL, d);
        uint64_t nv_want = d == 0 ? (uint64_t)((double)n * 0.25 + 0.5) : 0;
        ck_assert_uint_eq(nv, nv_want);
        ck_assert_uint_eq(dataset_num_tokens(ds, DATA_TRAIN, d) + nv, n);
    }
    dataset_close(ds);

    /* a list in one flag does the same */
    r = prepare("--out", out, "--force", "--input", a1, "--input", a2, "--input", a3,
                "--train-only", "noise,dup", "--val-fraction", "0.25", NULL);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    run_free(&r);
    ds = open_out();
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_VAL, 1), 0);
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_VAL, 2), 0);
    ck_assert_uint_gt(dataset_num_tokens(ds, DATA_VAL, 0), 0);
    dataset_close(ds);
}
END_TEST

START_TEST(test_split_docs_blank_line)
{
    char p[1024];
    input("p.txt", "para one\r\nline two\n\n  \t\npara two\n\n\nlast", p);
    struct run r = prepare("--out", out, "--input", p, "--split-docs", "blank-line",
                           "--val-fraction", "0", NULL);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    run_free(&r);
    struct dataset *ds = open_out();
    ck_assert_str_eq(dataset_domain_name(ds, 0), "default");
    const char *const docs[] = {"para one\r\nline two", "para two", "last"};
    uint16_t want[128], got[128];
    size_t n = expected_stream(want, docs, 3);
    ck_assert_uint_eq(split_tokens(ds, DATA_TRAIN, 0, got, 128), n);
    ck_assert_mem_eq(got, want, n * sizeof *got);
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_VAL, -1), 0);
    dataset_close(ds);
}
END_TEST

START_TEST(test_split_docs_line)
{
    char p[1024];
    input("l.txt", "alpha\r\n\nbeta gamma\n   \ndelta", p);
    char arg[1100];
    snprintf(arg, sizeof arg, "words=%s", p);
    struct run r = prepare("--out", out, "--input", arg, "--split-docs=line", "--val-fraction=0", NULL);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    run_free(&r);
    struct dataset *ds = open_out();
    const char *const docs[] = {"alpha", "beta gamma", "delta"};
    uint16_t want[64], got[64];
    size_t n = expected_stream(want, docs, 3);
    ck_assert_uint_eq(split_tokens(ds, DATA_TRAIN, 0, got, 64), n);
    ck_assert_mem_eq(got, want, n * sizeof *got);
    dataset_close(ds);
}
END_TEST

START_TEST(test_small_shards)
{
    char p[1024];
    input("s.txt", "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ", p); /* 56 B */
    struct run r = prepare("--out", out, "--input", p, "--shard-tokens", "10",
                           "--val-fraction", "0.3", NULL);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    run_free(&r);
    /* 57 tokens: 40 train (4 shards of 10), 17 val (10 + 7). */
    struct dataset *ds = open_out();
    int shards[2] = {0, 0};
    for (int i = 0; i < dataset_num_shards(ds); i++) {
        const struct dataset_shard *s = dataset_shard_at(ds, i);
        ck_assert_uint_le(s->shard.n, 10);
        ck_assert_uint_ge(s->shard.n, 1);
        shards[s->split]++;
    }
    ck_assert_int_eq(shards[DATA_TRAIN], 4);
    ck_assert_int_eq(shards[DATA_VAL], 2);
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_TRAIN, -1), 40);
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_VAL, -1), 17);
    const char *const docs[] = {"0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"};
    uint16_t want[64], got[64];
    size_t n = expected_stream(want, docs, 1);
    size_t nt = split_tokens(ds, DATA_TRAIN, 0, got, 64);
    nt += split_tokens(ds, DATA_VAL, 0, got + nt, 64 - nt);
    ck_assert_uint_eq(nt, n);
    ck_assert_mem_eq(got, want, n * sizeof *got);
    dataset_close(ds);
    char name[1024];
    tpath(name, sizeof name, out, "train_default_000003.bin");
    struct stat st;
    ck_assert_int_eq(stat(name, &st), 0);
}
END_TEST

START_TEST(test_deterministic_output)
{
    char p[1024], out2[1024];
    input("d.txt", "Some text.\n\nMore text here.\n\nAnd a third paragraph.\n", p);
    tpath(out2, sizeof out2, dir, "nested/again");
    struct run r = prepare("--out", out, "--input", p, "--split-docs", "blank-line",
                           "--val-fraction", "0.2", NULL);
    ck_assert_int_eq(r.rc, 0);
    run_free(&r);
    r = prepare("--out", out2, "--input", p, "--split-docs", "blank-line", "--val-fraction",
                "0.2", NULL);
    ck_assert_int_eq(r.rc, 0);
    run_free(&r);
    const char *files[] = {"dataset.txt", "train_default_000000.bin",
                           "val_default_000000.bin"};
    for (int i = 0; i < 3; i++) {
        char a[1024], b[1024];
        size_t na, nb;
        tpath(a, sizeof a, out, files[i]);
        tpath(b, sizeof b, out2, files[i]);
        unsigned char *ba = read_bytes(a, &na), *bb = read_bytes(b, &nb);
        ck_assert_uint_eq(na, nb);
        ck_assert_mem_eq(ba, bb, na);
        free(ba);
        free(bb);
    }
    ck_assert_int_eq(dir_entries(out), 3);
}
END_TEST

START_TEST(test_builtin_to_disk)
{
    struct run r = prepare("--builtin", "--out", out, NULL);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    ck_assert_msg_has(r.out, "arith", "prose", "code", "repeat", "noise", "total");
    run_free(&r);
    struct dataset *disk = open_out(), *mem;
    struct herr err;
    ck_assert_int_eq(dataset_open(&mem, "builtin", 0, &err), 0);
    ck_assert_int_eq(dataset_num_domains(disk), BUILTIN_NUM_DOMAINS);
    ck_assert_int_eq(dataset_num_shards(disk), 2 * BUILTIN_NUM_DOMAINS);
    for (int d = 0; d < BUILTIN_NUM_DOMAINS; d++) {
        ck_assert_str_eq(dataset_domain_name(disk, d), builtin_domain_name(d));
        for (int sp = 0; sp < 2; sp++) {
            const struct dataset_shard *a = dataset_shard_at(disk, 2 * d + sp);
            const struct dataset_shard *b = dataset_shard_at(mem, 2 * d + sp);
            ck_assert_int_eq(a->split, sp);
            ck_assert_uint_eq(a->shard.n, b->shard.n);
            uint32_t *ta = shard_all_tokens(&a->shard), *tb = shard_all_tokens(&b->shard);
            ck_assert_mem_eq(ta, tb, a->shard.n * sizeof *ta);
            ck_assert_uint_eq(a->shard.hash, b->shard.hash); /* file and memory hash alike */
            free(ta);
            free(tb);
        }
    }
    dataset_close(disk);
    dataset_close(mem);
}
END_TEST

START_TEST(test_help)
{
    struct run r = prepare("--help", NULL);
    ck_assert_int_eq(r.rc, 0);
    ck_assert_msg_has(r.out, "usage: heft prepare", "--val-fraction", "--split-docs",
                      "--builtin", "--train-only");
    run_free(&r);
}
END_TEST

/* ---- errors --------------------------------------------------------------------- */

/* Runs and checks the exit code and that stderr has every needle. */
#define PREPARE_FAILS(rc_want, needles, ...)                                              \
    do {                                                                                   \
        struct run r_ = prepare(__VA_ARGS__, NULL);                                        \
        ck_assert_msg(r_.rc == (rc_want), "rc %d, stderr: %s", r_.rc, r_.err);             \
        ck_assert_msg_has needles;                                                         \
        run_free(&r_);                                                                     \
    } while (0)

START_TEST(test_missing_input)
{
    char p[1024];
    tpath(p, sizeof p, dir, "missing.txt");
    struct run r = prepare("--out", out, "--input", p, NULL);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_msg_has(r.err, "heft prepare: error", p, "No such file");
    run_free(&r);
    struct stat st;
    ck_assert_int_ne(stat(out, &st), 0); /* nothing created */
}
END_TEST

START_TEST(test_empty_input)
{
    char p[1024], q[1024];
    input("empty.txt", "", p);
    struct run r = prepare("--out", out, "--input", p, NULL);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_msg_has(r.err, p, "is empty");
    run_free(&r);
    input("blank.txt", "\n  \n\t\n", q);
    r = prepare("--out", out, "--input", q, "--split-docs", "line", NULL);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_msg_has(r.err, q, "no document", "line");
    run_free(&r);
}
END_TEST

START_TEST(test_bad_fraction)
{
    char p[1024];
    input("a.txt", prose_a, p);
    struct run r = prepare("--out", out, "--input", p, "--val-fraction", "1.5", NULL);
    ck_assert_int_eq(r.rc, 2);
    ck_assert_msg_has(r.err, "--val-fraction 1.5", "outside [0, 1)");
    run_free(&r);
    r = prepare("--out", out, "--input", p, "--val-fraction", "abc", NULL);
    ck_assert_int_eq(r.rc, 2);
    ck_assert_msg_has(r.err, "--val-fraction", "needs a number");
    run_free(&r);
    r = prepare("--out", out, "--input", p, "--val-fraction", "-0.1", NULL);
    ck_assert_int_eq(r.rc, 2);
    run_free(&r);
    /* A fraction too small for this little text. */
    r = prepare("--out", out, "--input", p, "--val-fraction", "0.01", NULL);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_msg_has(r.err, "domain default", "validation split of 0 tokens",
                      "--val-fraction 0");
    run_free(&r);
}
END_TEST

START_TEST(test_out_dir_not_empty)
{
    char p[1024], keep[1024];
    input("a.txt", prose_a, p);
    ck_assert_int_eq(mkdir(out, 0755), 0);
    tpath(keep, sizeof keep, out, "keep.me");
    write_text(keep, "x");
    struct run r = prepare("--out", out, "--input", p, NULL);
    ck_assert_int_eq(r.rc, 1);
    ck_assert_msg_has(r.err, out, "not empty", "--force");
    run_free(&r);
    ck_assert_int_eq(dir_entries(out), 1);
    r = prepare("--out", out, "--input", p, "--force", NULL);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    run_free(&r);
    ck_assert_int_eq(dir_entries(out), 4); /* keep.me, manifest, train, val */
    struct dataset *ds = open_out();
    dataset_close(ds);
}
END_TEST

START_TEST(test_usage_errors)
{
    char p[1024];
    input("a.txt", prose_a, p);
    char bad_domain[1100], empty_domain[1100];
    snprintf(bad_domain, sizeof bad_domain, "my domain=%s", p);
    snprintf(empty_domain, sizeof empty_domain, "=%s", p);
    PREPARE_FAILS(2, (r_.err, "--out DIR is required"), "--input", p);
    PREPARE_FAILS(2, (r_.err, "give --input"), "--out", out);
    PREPARE_FAILS(2, (r_.err, "unknown option '--colour'"), "--out", out, "--colour");
    PREPARE_FAILS(2, (r_.err, "--input needs a value"), "--out", out, "--input");
    PREPARE_FAILS(2, (r_.err, "--out needs a value"), "--out=", "--input", p);
    PREPARE_FAILS(2, (r_.err, "--split-docs 'page'", "blank-line"), "--out", out, "--input",
                  p, "--split-docs", "page");
    PREPARE_FAILS(2, (r_.err, "--shard-tokens '0'"), "--out", out, "--input", p,
                  "--shard-tokens", "0");
    PREPARE_FAILS(2, (r_.err, "--force takes no value"), "--out", out, "--input", p,
                  "--force=yes");
    PREPARE_FAILS(2, (r_.err, "exclude each other"), "--out", out, "--input", p,
                  "--builtin");
    PREPARE_FAILS(2, (r_.err, "empty domain name"), "--out", out, "--input", empty_domain);
    PREPARE_FAILS(1, (r_.err, "domain name 'my domain'", p), "--out", out, "--input",
                  bad_domain);
}
END_TEST

START_TEST(test_train_only_errors)
{
    char p[1024], arg[1100];
    input("a.txt", prose_a, p);
    snprintf(arg, sizeof arg, "prose=%s", p);
    PREPARE_FAILS(1, (r_.err, "train-only domain 'nosie'", "no input file", "--input nosie="),
                  "--out", out, "--input", arg, "--train-only", "nosie");
    PREPARE_FAILS(2, (r_.err, "--train-only", "names no domain"), "--out", out, "--input", arg,
                  "--train-only", ",");
    PREPARE_FAILS(2, (r_.err, "--train-only needs a value"), "--out", out, "--input", arg,
                  "--train-only");
    PREPARE_FAILS(2, (r_.err, "--train-only applies to --input"), "--out", out, "--builtin",
                  "--train-only", "noise");
    /* every domain train-only: fine, the dataset simply has no validation data */
    struct run r = prepare("--out", out, "--input", arg, "--train-only", "prose", NULL);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    run_free(&r);
    struct dataset *ds = open_out();
    ck_assert_uint_eq(dataset_num_tokens(ds, DATA_VAL, -1), 0);
    dataset_close(ds);
}
END_TEST

static Suite *prepare_suite(void)
{
    Suite *s = suite_create("data_prepare");
    TCase *tc = tcase_create("prepare");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_two_domains_exact_streams);
    tcase_add_test(tc, test_train_only_domains);
    tcase_add_test(tc, test_split_docs_blank_line);
    tcase_add_test(tc, test_split_docs_line);
    tcase_add_test(tc, test_small_shards);
    tcase_add_test(tc, test_deterministic_output);
    tcase_add_test(tc, test_builtin_to_disk);
    tcase_add_test(tc, test_help);
    tcase_add_test(tc, test_missing_input);
    tcase_add_test(tc, test_empty_input);
    tcase_add_test(tc, test_bad_fraction);
    tcase_add_test(tc, test_out_dir_not_empty);
    tcase_add_test(tc, test_usage_errors);
    tcase_add_test(tc, test_train_only_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(prepare_suite());
}
