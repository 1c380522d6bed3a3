/* tests/test_cpu_big.c — the CPU backend past 2^31 elements (8 GiB of floats).
 *
 * A 7B model's flat parameter, gradient and Adam buffers hold 6.7e9 floats,
 * so ops run on tensors that start past element 2^31 and the optimizer's
 * element-wise ops run over more than 2^31 elements. An int index or an int
 * row * cols product anywhere on those paths wraps.
 *
 * In make check (seconds, little memory):
 *  - every op's cases (tests/op_cases.h) with all of their tensors past
 *    element 2^31 + 4099 of one buffer, against a second CPU backend at small
 *    offsets; the buffer is 8 GiB of address space of which only the pages
 *    the cases touch become resident, and the test checks that the peak
 *    resident memory stayed small;
 *  - the same run with a fill that keeps 31 bits of its offset must fail;
 *  - sum_squares over 2^31 + 4099 elements whose last ones, past 2^31, are
 *    the only non-zero ones: the untouched pages read as zeros from the
 *    kernel's shared zero page (a fresh buffer this large is a fresh mmap;
 *    Linux hands out zero-filled pages), so the sum costs no memory.
 *
 * Opt-in (HEFT_TEST_BIG=1): fill, copy, gelu_forward, sum_squares and adamw
 * over 2^31 + 4099 elements, every element written: 8 GiB of resident memory
 * per written buffer (adamw: 24 GiB), too heavy for make check on a small
 * machine. Each checks MemAvailable first and skips when it does not fit.
 *
 * Under AddressSanitizer (--enable-sanitizers) the whole test skips (77): ASan
 * fills the first 4 KiB of every allocation (so a fresh buffer is not all
 * zero pages), and its instrumented loops over 2^31 elements run past the
 * tests' time limit. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/op_cases.h"
#include "tests/ref/run_suite.h"

#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define UNDER_ASAN 1
#elif defined(__has_feature) /* clang */
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* Past 2^31 by an amount that divides nothing (cases start at odd offsets). */
#define PAST ((size_t)1 << 31)
#define BIG_N (PAST + 4099)

static struct backend *cpu(void)
{
    struct herr err;
    struct backend *be = backend_create(&(struct backend_options){ .name = "cpu" }, &err);
    ck_assert_msg(be != NULL, "%s", err.msg);
    return be;
}

/* A line of /proc/self/status or /proc/meminfo in KiB ("VmHWM:", ...); -1 if
 * absent. */
static long kib_field(const char *file, const char *key)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t len = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, len) == 0) {
            v = strtol(line + len, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

/* ---- make check ---------------------------------------------------------- */

START_TEST(test_ops_past_2_31)
{
    struct backend *be = cpu(), *ref = cpu();
    struct op_cases_result res;
    int failures = op_cases_run_at(be, ref, stdout, &res, BIG_N);
    ck_assert_msg(failures == 0, "%d of %d cases failed; first: %s", failures, res.cases,
                  res.first);
    ck_assert_int_gt(res.cases, 100);
    /* Every case allocated 8 GiB; only what it touched may have become
     * resident (the cases' tensors are at most a few MiB). */
    long hwm = kib_field("/proc/self/status", "VmHWM:");
    printf("peak resident memory: %ld KiB\n", hwm);
    ck_assert_msg(hwm > 0 && hwm < 512L * 1024, "peak resident memory %ld KiB: pages below the "
                  "tensors were touched", hwm);
    be->ops->destroy(be);
    ref->ops->destroy(ref);
}
END_TEST

/* The CPU backend's fill, but at an offset cut to 31 bits, as an int index
 * that wrapped would place it. */
struct broken {
    struct backend be; /* first: the harness's struct backend * is a struct broken * */
    struct backend_ops ops;
    const struct backend_ops *real;
};

static void fill_31_bit_offset(struct backend *be, dptr dst, float value, size_t n)
{
    dst.off &= 0x7FFFFFFFu;
    ((struct broken *)be)->real->fill(be, dst, value, n);
}

START_TEST(test_wrapped_offset_is_caught)
{
    struct backend *be = cpu(), *ref = cpu();
    struct broken b;
    b.be = *be;
    b.ops = *be->ops;
    b.real = be->ops;
    b.be.ops = &b.ops;
    b.ops.fill = fill_31_bit_offset;
    struct op_cases_result res;
    ck_assert_int_gt(op_cases_run_at(&b.be, ref, NULL, &res, BIG_N), 0);
    ck_assert_msg(strncmp(res.first, "fill", 4) == 0, "first failure: %s", res.first);
    /* at small offsets the same op is right: only the base makes it fail */
    ck_assert_int_eq(op_cases_run(&b.be, ref, NULL, &res), 0);
    be->ops->destroy(be);
    ref->ops->destroy(ref);
}
END_TEST

START_TEST(test_sum_squares_past_2_31)
{
    struct backend *be = cpu();
    long rss0 = kib_field("/proc/self/status", "VmRSS:");
    dptr x = backend_alloc_floats(be, BIG_N);
    ck_assert_msg(x.buf, "%s", be->error);
    /* the last 4099 elements, all past 2^31: small integers, exact sums */
    float tail[4099];
    double want = 0.0;
    for (int i = 0; i < 4099; i++) {
        tail[i] = (float)(i % 7 + 1);
        want += (double)tail[i] * tail[i];
    }
    be->ops->upload(be, dptr_at(x, PAST), tail, sizeof tail);
    double got = be->ops->sum_squares(be, x, BIG_N);
    ck_assert_int_eq(be->failed, 0);
    ck_assert_msg(got == want, "sum of squares over %zu elements: %.17g, expected %.17g", BIG_N,
                  got, want);
    /* a range that ends before 2^31 sees none of them */
    ck_assert(be->ops->sum_squares(be, x, PAST) == 0.0);
    long rss1 = kib_field("/proc/self/status", "VmRSS:");
    printf("resident memory: %ld KiB before, %ld KiB after\n", rss0, rss1);
    ck_assert_msg(rss1 - rss0 < 64L * 1024, "reading zero pages made %ld KiB resident",
                  rss1 - rss0);
    backend_release_ptr(be, x);
    be->ops->destroy(be);
}
END_TEST

/* ---- opt-in: every element written --------------------------------------- */

/* 1 when HEFT_TEST_BIG=1 and `gib` GiB fit in MemAvailable with 2 GiB to
 * spare; otherwise says why not and returns 0. */
static int can_run_big(const char *what, double gib)
{
    const char *opt = getenv("HEFT_TEST_BIG");
    if (!opt || strcmp(opt, "1") != 0) {
        printf("%s: skipped (set HEFT_TEST_BIG=1 to run; needs %.0f GiB of memory)\n", what,
               gib);
        return 0;
    }
    long avail = kib_field("/proc/meminfo", "MemAvailable:");
    if (avail < 0 || (double)avail / (1024.0 * 1024.0) < gib + 2.0) {
        printf("%s: skipped, needs %.0f GiB + 2 GiB spare, MemAvailable is %.1f GiB\n", what, gib,
               avail / (1024.0 * 1024.0));
        return 0;
    }
    return 1;
}

/* Element i of p. */
static float at(struct backend *be, dptr p, size_t i)
{
    float v = NAN;
    be->ops->download(be, &v, dptr_at(p, i), sizeof v);
    return v;
}

/* The elements on both sides of 2^31 and the ends. */
static const size_t probes[] = { 0, PAST - 1, PAST, PAST + 1, BIG_N - 1 };
#define NPROBES (sizeof probes / sizeof probes[0])

START_TEST(test_elementwise_over_2_31)
{
    if (!can_run_big("fill, copy, gelu_forward, sum_squares over 2^31 + 4099", 16.5))
        return;
    struct backend *be = cpu();
    /* fill: one element more than n, so the element past the end shows the
     * op stopped at n */
    dptr x = backend_alloc_floats(be, BIG_N + 1);
    ck_assert_msg(x.buf, "%s", be->error);
    be->ops->fill(be, dptr_at(x, BIG_N), -7.0f, 1);
    be->ops->fill(be, x, 1.5f, BIG_N);
    for (size_t i = 0; i < NPROBES; i++)
        ck_assert_msg(at(be, x, probes[i]) == 1.5f, "fill: element %zu", probes[i]);
    ck_assert(at(be, x, BIG_N) == -7.0f);
    /* sum_squares: 2.25 n is exact in double, and so is every partial sum */
    double ss = be->ops->sum_squares(be, x, BIG_N);
    ck_assert_msg(ss == 2.25 * (double)BIG_N, "sum_squares %.17g, expected %.17g", ss,
                  2.25 * (double)BIG_N);
    /* copy into a second buffer */
    dptr y = backend_alloc_floats(be, BIG_N);
    ck_assert_msg(y.buf, "%s", be->error);
    be->ops->fill(be, dptr_at(x, BIG_N - 1), 3.0f, 1);
    be->ops->copy(be, y, x, BIG_N);
    for (size_t i = 0; i + 1 < NPROBES; i++)
        ck_assert_msg(at(be, y, probes[i]) == 1.5f, "copy: element %zu", probes[i]);
    ck_assert(at(be, y, BIG_N - 1) == 3.0f);
    backend_release_ptr(be, y);
    /* gelu in place, against the op on one element */
    dptr one = backend_alloc_floats(be, 1);
    be->ops->fill(be, one, 1.5f, 1);
    be->ops->gelu_forward(be, one, one, 1);
    float want = at(be, one, 0);
    be->ops->gelu_forward(be, x, x, BIG_N);
    for (size_t i = 0; i + 1 < NPROBES; i++)
        ck_assert_msg(at(be, x, probes[i]) == want, "gelu: element %zu", probes[i]);
    ck_assert(at(be, x, BIG_N) == -7.0f);
    ck_assert_int_eq(be->failed, 0);
    backend_release_ptr(be, one);
    backend_release_ptr(be, x);
    be->ops->destroy(be);
}
END_TEST

START_TEST(test_adamw_over_2_31)
{
    if (!can_run_big("adamw over 2^31 + 4099", 32.5))
        return;
    struct backend *be = cpu();
    dptr p = backend_alloc_floats(be, BIG_N), g = backend_alloc_floats(be, BIG_N);
    dptr m = backend_alloc_floats(be, BIG_N), v = backend_alloc_floats(be, BIG_N);
    ck_assert_msg(p.buf && g.buf && m.buf && v.buf, "%s", be->error);
    be->ops->fill(be, p, 1.0f, BIG_N);
    be->ops->fill(be, g, 0.5f, BIG_N);
    be->ops->fill(be, m, 0.0f, BIG_N);
    be->ops->fill(be, v, 0.0f, BIG_N);
    const struct adamw_args a = { 1e-2f, 0.9f, 0.95f, 1e-8f, 0.1f, 1.0f, 0.1f, 0.05f };
    /* the expected values: the same op on one element */
    dptr one = backend_alloc_floats(be, 4);
    be->ops->fill(be, one, 1.0f, 1);
    be->ops->fill(be, dptr_at(one, 1), 0.5f, 1);
    be->ops->fill(be, dptr_at(one, 2), 0.0f, 2);
    be->ops->adamw(be, one, dptr_at(one, 1), dptr_at(one, 2), dptr_at(one, 3), 1, &a);
    float wp = at(be, one, 0), wm = at(be, one, 2), wv = at(be, one, 3);
    be->ops->adamw(be, p, g, m, v, BIG_N, &a);
    for (size_t i = 0; i < NPROBES; i++) {
        size_t j = probes[i];
        ck_assert_msg(at(be, p, j) == wp && at(be, m, j) == wm && at(be, v, j) == wv,
                      "adamw: element %zu", j);
    }
    ck_assert_int_eq(be->failed, 0);
    dptr all[] = { p, g, m, v, one };
    for (size_t i = 0; i < 5; i++)
        backend_release_ptr(be, all[i]);
    be->ops->destroy(be);
}
END_TEST

int main(void)
{
    if (UNDER_ASAN) {
        printf("SKIP: built with AddressSanitizer, which fills the first 4 KiB of every "
               "allocation and runs 2^31-element loops past the time limit\n");
        return 77;
    }
    Suite *s = suite_create("cpu_big");
    TCase *tc = tcase_create("past_2_31");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_ops_past_2_31);
    tcase_add_test(tc, test_wrapped_offset_is_caught);
    tcase_add_test(tc, test_sum_squares_past_2_31);
    tcase_add_test(tc, test_elementwise_over_2_31);
    tcase_add_test(tc, test_adamw_over_2_31);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
