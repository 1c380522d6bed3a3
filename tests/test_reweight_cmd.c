/* tests/test_reweight_cmd.c — `heft weights` (tools/cmd_weights.c), called as
 * the dispatcher will call it, with stdout/stderr (and stdin) redirected to
 * temporary files and restored afterwards (stdin stays on the last input
 * given, which the next run with input replaces). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reweight/reweight.h"
#include "tools/cmd_weights.h"

struct result {
    int rc;
    char out[1 << 16];
    char err[1 << 12];
};

/* Reads what f holds (from the start) into buf. */
static void slurp(FILE *f, char *buf, size_t cap)
{
    rewind(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
}

/* A path to a new temporary file holding text; the caller unlinks it. */
static const char *temp_path(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/test_reweight_cmd_XXXXXX");
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    return path;
}

/* Runs cmd_weights(argv) with stdin from `input` (NULL: leave stdin alone). */
static void run(struct result *r, const char *input, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    FILE *out = tmpfile(), *err = tmpfile();
    ck_assert(out && err);
    if (input) { /* freopen also drops what stdin buffered or hit (EOF) before */
        const char *path = temp_path(input);
        ck_assert(freopen(path, "r", stdin) != NULL);
        unlink(path);
    }
    fflush(stdout);
    fflush(stderr);
    int save_out = dup(1), save_err = dup(2);
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    r->rc = cmd_weights(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(save_out, 1);
    dup2(save_err, 2);
    close(save_out);
    close(save_err);
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
    fclose(out);
    fclose(err);
}

/* The printed sample rows (not '#') must carry exactly the n weights want,
 * each within tol (0: bit for bit, as %.17g prints them). */
static void assert_printed_weights(char *out, const double *want, int n, double tol, int tag)
{
    int rows = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        double weight;
        if (line[0] == '#')
            continue;
        ck_assert(sscanf(line, "%*d %*f %*d %*s %lf", &weight) == 1);
        ck_assert_int_lt(rows, n);
        ck_assert_msg(fabs(weight - want[rows]) <= tol, "case %d row %d: %.17g vs %.17g", tag,
                      rows, weight, want[rows]);
        rows++;
    }
    ck_assert_int_eq(rows, n);
}

START_TEST(help_prints_usage)
{
    char *argv[] = { "weights", "--help", NULL };
    struct result r;
    run(&r, NULL, argv);
    ck_assert_int_eq(r.rc, 0);
    ck_assert(strstr(r.out, "usage: heft weights") && strstr(r.out, "--rw-warmup-mode"));
    ck_assert(r.err[0] == '\0');
}
END_TEST

/* The printed weights are the library's, bit for bit (%.17g round-trips). */
START_TEST(file_input_gives_the_library_weights)
{
    static const double L[6] = { 2.0, 1.0, 4.0, 3.0, NAN, 2.718281828459045 };
    static const int n[6] = { 10, 10, 10, 0, 5, 3 };
    static const int d[6] = { 0, 1, 0, 1, 2, 1 };
    const char *path =
        temp_path("2 10 0\n1 10 1\n# a comment\n\n4 10 0\n3 0 1\nnan 5 2\n2.718281828459045 3 1\n");
    char *argv[] = { "weights", "--strategy", "linupper", "--r=0.7", (char *)path, NULL };
    struct result r;
    run(&r, NULL, argv);
    unlink(path);
    ck_assert_msg(r.rc == 0, "%s", r.err);

    struct rw_config c;
    struct rw_state s;
    struct herr e;
    double w[6];
    rw_config_default(&c);
    c.strategy = RW_LINUPPER;
    c.r = 0.7;
    rw_state_init(&s, &c);
    ck_assert(rw_compute(&c, &s, 0, L, n, d, 3, 6, w, NULL, &e) == 0);

    int rows = 0;
    for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') {
            if (strncmp(line, "# samples", 9) == 0)
                ck_assert_msg(strstr(line, "samples 6: valid 4, non-finite loss 1, no tokens 1"),
                              "%s", line);
            continue;
        }
        int idx, ntok, dom;
        double loss, weight, nw;
        ck_assert_msg(sscanf(line, "%d %lf %d %d %lf %lf", &idx, &loss, &ntok, &dom, &weight, &nw)
                      == 6, "row '%s'", line);
        ck_assert_int_eq(idx, rows);
        ck_assert(loss == L[rows] || (isnan(loss) && isnan(L[rows])));
        ck_assert_int_eq(ntok, n[rows]);
        ck_assert_int_eq(dom, d[rows]);
        ck_assert_msg(weight == w[rows], "row %d: %.17g vs %.17g", rows, weight, w[rows]);
        ck_assert(fabs(nw - 4 * w[rows]) <= 1e-6);
        rows++;
    }
    ck_assert_int_eq(rows, 6);
}
END_TEST

START_TEST(stdin_input_and_warmup)
{
    char *argv[] = { "weights", "--strategy", "linupper", "--rw-warmup", "10", "--step", "9",
                     "-", NULL };
    struct result r;
    run(&r, "1\n2\n3\n4\n", argv);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "step 9: used uniform\n"), "%s", r.out);
    ck_assert_msg(strstr(r.out, "\n3 4 1 - 0.25 1.000000\n"), "%s", r.out);
}
END_TEST

/* Every option must reach the config: for each, a value unlike the default,
 * and the weights printed must be the library's with that one field changed. */
START_TEST(every_option_reaches_the_config)
{
    static const double L[8] = { 3.0, 1.0, 2.0, 0.5, 2.5, 4.0, 1.5, 0.75 };
    static const char input[] = "3\n1\n2\n0.5\n2.5\n4\n1.5\n0.75\n";
    static char *cases[][8] = {
        { "--strategy", "quadratic" },
        { "--strategy", "linear", "--r", "2.5" },
        { "--strategy", "linupper", "--rw-warmup", "10", "--rw-warmup-mode", "r-step" },
        { "--strategy", "extremes", "--rw-warmup", "10", "--r-start", "3", "--rw-warmup-mode",
          "r-linear" },
        { "--strategy", "linear", "--rw-warmup", "10", "--rw-warmup-mode", "r-linear" },
        { "--strategy", "linupper", "--rw-warmup", "10", "--step", "9" },
        { "--strategy", "infobatch", "--infobatch-prune", "0.9" },
        { "--strategy", "infobatch", "--seed", "99" },
        { "--strategy", "topq", "--topq-q", "0.25" },
        { "--strategy", "dro", "--dro-tau", "0.3" },
        { "--strategy", "linupper", "--outlier-k", "0.5" },
    };
    struct rw_config c;
    rw_config_default(&c);
    long step = 0;
    switch (_i) { /* the test's own reading of each case */
    case 0: c.strategy = RW_QUADRATIC; break;
    case 1: c.strategy = RW_LINEAR; c.r = 2.5; break;
    case 2: c.strategy = RW_LINUPPER; c.warmup_steps = 10; c.warmup_mode = RW_WARMUP_R_STEP; break;
    case 3:
        c.strategy = RW_EXTREMES;
        c.warmup_steps = 10;
        c.r_start = 3;
        c.warmup_mode = RW_WARMUP_R_LINEAR;
        break;
    case 4: c.strategy = RW_LINEAR; c.warmup_steps = 10; c.warmup_mode = RW_WARMUP_R_LINEAR; break;
    case 5: c.strategy = RW_LINUPPER; c.warmup_steps = 10; step = 9; break;
    case 6: c.strategy = RW_INFOBATCH; c.infobatch_prune = 0.9; break;
    case 7: c.strategy = RW_INFOBATCH; c.seed = 99; break;
    case 8: c.strategy = RW_TOPQ; c.topq_q = 0.25; break;
    case 9: c.strategy = RW_DRO; c.dro_tau = 0.3; break;
    default: c.strategy = RW_LINUPPER; c.outlier_k = 0.5; break; /* cuts 2.5, 3 and 4 */
    }
    double want[8], dflt[8];
    struct rw_state s;
    struct herr e;
    rw_state_init(&s, &c);
    ck_assert(rw_compute(&c, &s, step, L, NULL, NULL, 0, 8, want, NULL, &e) == 0);
    struct rw_config d;
    rw_config_default(&d);
    d.strategy = c.strategy;
    rw_state_init(&s, &d);
    ck_assert(rw_compute(&d, &s, 0, L, NULL, NULL, 0, 8, dflt, NULL, &e) == 0);
    if (_i != 0)  /* the case must matter, or it tests nothing */
        ck_assert(memcmp(want, dflt, sizeof want) != 0);

    char *argv[10] = { "weights" };
    for (int k = 0; k < 8 && cases[_i][k]; k++)
        argv[k + 1] = cases[_i][k];
    struct result r;
    run(&r, input, argv);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    assert_printed_weights(r.out, want, 8, 0.0, _i);
}
END_TEST

/* Domain centering reaches the library with the input's domain ids: the
 * weights are test_reweight_robust's first call (python: e=math.exp(-1);
 * e/(2+2*e), 1/(2+2*e)), where raw losses would favour domain 1. */
START_TEST(domain_ema_uses_the_domain_column)
{
    static const double want[4] = { 0.13447071068499755, 0.36552928931500245,
                                    0.13447071068499755, 0.36552928931500245 };
    char *argv[] = { "weights", "--strategy", "linupper", "--r", "1", "--domain-ema", "0.5",
                     NULL };
    struct result r;
    run(&r, "1 1 0\n2 1 0\n5 1 1\n6 1 1\n", argv);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    assert_printed_weights(r.out, want, 4, 1e-15, 0);
}
END_TEST

/* --outlier-domains is a flag: the cut by domain of test_reweight_robust's
 * first call (domain 1 is all above the cut 2.58434, so all of it is cut). */
START_TEST(outlier_domains_is_a_flag)
{
    static const double want[8] = { 0.2, 0.2, 0.2, 0.2, 0.2, 0.0, 0.0, 0.0 };
    char *argv[] = { "weights", "--outlier-k", "3", "--outlier-domains", NULL };
    struct result r;
    run(&r, "1.0 1 0\n1.1 1 0\n1.2 1 0\n0.9 1 0\n1.3 1 0\n5.0 1 1\n5.1 1 1\n4.9 1 1\n", argv);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "# outlier cut 2.58434: 3 outliers"), "%s", r.out);
    assert_printed_weights(r.out, want, 8, 0.0, 0);
}
END_TEST

/* The REF column reaches reducible: test_reweight_learn's hand-computed case
 * (python there), the last line without a reference loss. */
START_TEST(ref_column_feeds_reducible)
{
    static const double want[5] = { 0.11051448005058051, 0.15155309524861474,
                                    0.07253679294116987, 0.5359784322788209,
                                    0.12941719948081384 };
    char *argv[] = { "weights", "--strategy", "reducible", "--r", "0.5", NULL };
    struct result r;
    run(&r, "2 1 0 1.5\n1 1 0 0.2\n4 1 0 3.9\n3 1 0 1.0\n2.5 1 0 nan\n", argv);
    ck_assert_msg(r.rc == 0, "%s", r.err);
    ck_assert_msg(strstr(r.out, "# reference losses: 1 active sample without one"), "%s", r.out);
    assert_printed_weights(r.out, want, 5, 1e-15, 0); /* tokenizes r.out */
}
END_TEST

/* Usage errors: exit 2, nothing on stdout, exactly one line on stderr that
 * names the problem. */
static const struct {
    char *args[4];
    const char *input;   /* stdin; NULL leaves it alone */
    const char *needle;  /* must appear in the message */
} usage_errors[] = {
    { { "--bogus", "3" }, "", "unknown option '--bogus'" },
    { { NULL }, "1.5\n# fine\nabc\n", "stdin: line 3: cannot read the loss 'abc'" },
    { { "--r", "-1" }, "1\n", "r = -1" },
    { { "--r", "0.4x" }, "1\n", "--r: '0.4x' is not a number" },
    { { "--seed", "-5" }, "1\n", "--seed: '-5' must be >= 0" },
    { { "--strategy", "focal" }, "1\n", "'focal' (valid: uniform, linupper" },
    { { "--rw-warmup-mode", "cosine" }, "1\n", "'cosine' (valid: uniform, r-step, r-linear)" },
    { { "--topq-q" }, "1\n", "--topq-q needs a value" },
    { { "--topq-q=0" }, "1\n", "topq_q = 0 must be in (0, 1]" },
    { { NULL }, "1 2 0\n1 2 1 9 8\n", "line 2: expected 'LOSS [NTOKENS [DOMAIN [REF]]]'" },
    { { NULL }, "1 2 0 x\n", "line 1: cannot read the reference loss 'x'" },
    { { "--strategy", "reducible" }, "1 1 0\n2 1 0\n", "reducible needs reference losses" },
    { { "--strategy", "learnability" }, "1\n2\n", "learnability weighs domains" },
    { { NULL }, "1 2\n1 2 1\n", "line 2 has a domain id but line 1 has none" },
    { { NULL }, "1 -2\n", "line 1: token count '-2'" },
    { { NULL }, "1 2 64\n", "line 1: domain id '64'" },
    { { "/nonexistent/losses.txt" }, NULL, "/nonexistent/losses.txt: cannot open" },
    { { "a.txt", "b.txt" }, NULL, "more than one input file ('a.txt' and 'b.txt')" },
    { { "--step", "-3" }, "1\n", "step -3" },
    { { "--outlier-k", "-1" }, "1\n", "outlier_k = -1" },
    { { "--domain-ema", "0.5" }, "1\n2\n", "needs the samples' domain ids" },
    { { "--domain-ema", "1" }, "1 1 0\n", "domain_ema = 1 must be in [0, 1)" },
    { { "--outlier-domains=1" }, "1 1 0\n", "--outlier-domains takes no value" },
    { { "--outlier-k", "3", "--outlier-domains" }, "1\n2\n", "cut by domain needs" },
};

START_TEST(usage_error_is_one_line_exit_2)
{
    char *argv[6] = { "weights" };
    for (int k = 0; k < 4 && usage_errors[_i].args[k]; k++)
        argv[k + 1] = usage_errors[_i].args[k];
    struct result r;
    run(&r, usage_errors[_i].input, argv);
    ck_assert_msg(r.rc == 2, "case %d: rc %d", _i, r.rc);
    ck_assert_msg(r.out[0] == '\0', "stdout: %s", r.out);
    char *nl = strchr(r.err, '\n');
    ck_assert_msg(nl != NULL && nl[1] == '\0', "not one line: '%s'", r.err);
    ck_assert_msg(strncmp(r.err, "heft weights: ", 14) == 0, "'%s'", r.err);
    ck_assert_msg(strstr(r.err, usage_errors[_i].needle) != NULL, "'%s' lacks '%s'", r.err,
                  usage_errors[_i].needle);
}
END_TEST

static Suite *cmd_suite(void)
{
    Suite *s = suite_create("heft weights");
    TCase *tc = tcase_create("command");
    tcase_add_test(tc, help_prints_usage);
    tcase_add_test(tc, file_input_gives_the_library_weights);
    tcase_add_test(tc, stdin_input_and_warmup);
    tcase_add_loop_test(tc, every_option_reaches_the_config, 0, 11);
    tcase_add_test(tc, domain_ema_uses_the_domain_column);
    tcase_add_test(tc, ref_column_feeds_reducible);
    tcase_add_test(tc, outlier_domains_is_a_flag);
    tcase_add_loop_test(tc, usage_error_is_one_line_exit_2, 0,
                        (int)(sizeof usage_errors / sizeof usage_errors[0]));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cmd_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
