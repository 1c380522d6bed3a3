/* tests/test_cpu_ops.c — every compute op of the CPU backend against the
 * float64 reference, through the reusable case table of tests/op_cases.h
 * (shapes, tolerances and what is checked are listed there).
 *
 * The harness itself is tested too: deliberately broken copies of the CPU
 * backend (an op that computes the wrong thing, one that overwrites instead
 * of accumulating, one that writes past its tensor, one that ignores an
 * offset, one that ignores a row stride, a missing op) must each make the
 * run fail and name the op.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/op_cases.h"
#include "tests/ref/run_suite.h"

static struct backend *cpu(void)
{
    struct herr err;
    struct backend *be = backend_create(&(struct backend_options){ .name = "cpu" }, &err);
    ck_assert_msg(be != NULL, "%s", err.msg);
    return be;
}

START_TEST(test_cpu_against_f64_reference)
{
    struct backend *be = cpu();
    struct op_cases_result res;
    int failures = op_cases_run(be, NULL, stdout, &res);
    ck_assert_msg(failures == 0, "%d of %d cases failed; first: %s", failures, res.cases,
                  res.first);
    ck_assert_int_gt(res.cases, 100);
    be->ops->destroy(be);
}
END_TEST

/* The backend-against-backend path: the CPU against a second CPU backend
 * must agree exactly (same code, same inputs). */
START_TEST(test_cpu_against_cpu)
{
    struct backend *be = cpu(), *ref = cpu();
    struct op_cases_result res;
    int failures = op_cases_run(be, ref, NULL, &res);
    ck_assert_msg(failures == 0, "%d failed; first: %s", failures, res.first);
    be->ops->destroy(be);
    ref->ops->destroy(ref);
}
END_TEST

/* ---- broken backends: a CPU backend whose ops table has one op replaced ---- */

/* The wrapper is the backend the harness sees; `real` is the CPU's table, so
 * a broken op can still call the real ones. */
struct broken {
    struct backend be; /* first: a struct backend * to it is a struct broken * */
    struct backend_ops ops;
    const struct backend_ops *real;
};

static const struct backend_ops *real_ops(struct backend *be)
{
    return ((struct broken *)be)->real;
}

/* GELU that is the identity */
static void gelu_identity(struct backend *be, dptr out, dptr inp, size_t n)
{
    if (out.buf != inp.buf || out.off != inp.off)
        real_ops(be)->copy(be, out, inp, n);
}

/* col_sums that overwrites instead of accumulating */
static void col_sums_overwrites(struct backend *be, dptr out, dptr in, int N, int OC)
{
    real_ops(be)->fill(be, out, 0.0f, (size_t)OC);
    real_ops(be)->col_sums(be, out, in, N, OC);
}

/* fill that writes one element too many */
static void fill_one_past(struct backend *be, dptr dst, float value, size_t n)
{
    real_ops(be)->fill(be, dst, value, n + 1);
}

/* crossentropy_backward that ignores row_scale's offset (reads its buffer from the start) */
static void ce_backward_ignores_offset(struct backend *be, dptr dlogits, dptr logits, dptr lse,
                                       dptr targets, dptr row_scale, int T, int N, int V, int Vp)
{
    real_ops(be)->crossentropy_backward(be, dlogits, logits, lse, targets,
                                        (dptr){ row_scale.buf, 0 }, T, N, V, Vp);
}

/* rope_forward that ignores ld: heads of packed rows (ld = nh * hs) */
static void rope_ignores_ld(struct backend *be, dptr x, dptr freqs, int B, int T, int nh, int hs,
                            int ld)
{
    (void)ld;
    real_ops(be)->rope_forward(be, x, freqs, B, T, nh, hs, nh * hs);
}

/* One broken variant: which op is replaced, by what, and the words the
 * first failure must contain. */
struct breakage {
    const char *op;
    void (*apply)(struct backend_ops *ops);
    const char *needle;
};

static void break_gelu(struct backend_ops *o) { o->gelu_forward = gelu_identity; }
static void break_col_sums(struct backend_ops *o) { o->col_sums = col_sums_overwrites; }
static void break_fill(struct backend_ops *o) { o->fill = fill_one_past; }
static void break_ce(struct backend_ops *o) { o->crossentropy_backward = ce_backward_ignores_offset; }
static void break_softmax(struct backend_ops *o) { o->softmax_causal_backward = NULL; }
static void break_rope(struct backend_ops *o) { o->rope_forward = rope_ignores_ld; }

static const struct breakage breakages[] = {
    { "gelu_forward", break_gelu, "normalized error" },             /* wrong result */
    { "col_sums", break_col_sums, "normalized error" },             /* = instead of += */
    { "fill", break_fill, "guard band" },                           /* writes past the end */
    { "crossentropy_backward", break_ce, "dlogits" },               /* ignores an offset */
    { "softmax_causal_backward", break_softmax, "lacks op softmax_causal_backward" },
    { "rope_forward", break_rope, "normalized error" },             /* ignores a stride */
};

/* Runs the cases on a CPU backend with one op broken: they must fail, and the
 * first failure must name that op. */
START_TEST(test_broken_op_is_caught)
{
    const struct breakage *bk = &breakages[_i];
    struct broken b;
    struct backend *be = cpu();
    b.be = *be; /* shares impl (threads) with the real backend */
    b.ops = *be->ops;
    b.real = be->ops;
    b.be.ops = &b.ops;
    bk->apply(&b.ops);
    struct op_cases_result res;
    int failures = op_cases_run(&b.be, NULL, NULL, &res);
    ck_assert_msg(failures > 0, "a broken %s went unnoticed", bk->op);
    ck_assert_msg(strncmp(res.first, bk->op, strlen(bk->op)) == 0 && strstr(res.first, bk->needle),
                  "broken %s: first failure does not name it with '%s': %s", bk->op, bk->needle,
                  res.first);
    be->ops->destroy(be);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu_ops");
    TCase *tc = tcase_create("parity");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_cpu_against_f64_reference);
    tcase_add_test(tc, test_cpu_against_cpu);
    tcase_add_loop_test(tc, test_broken_op_is_caught, 0,
                        (int)(sizeof breakages / sizeof breakages[0]));
    suite_add_tcase(s, tc);
    return run_suite(s);
}
