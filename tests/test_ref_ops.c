/* tests/test_ref_ops.c — properties of the float64 reference ops that the
 * whole-model checks (test_ref_fd, test_ref_torch) do not reach: every
 * transpose combination of gemm, its alpha/beta semantics and the two-level
 * batch grid, and the in-place (aliased) forms backend.h allows. Results must
 * be bit-identical to an independent formulation: the reference is exact
 * float64 code, so no tolerance is needed for re-orderings that do not change
 * the order of any sum.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ref/ref_ops_f64.h"
#include "tests/ref/rng.h"
#include "tests/ref/run_suite.h"

static double *randn_array(struct rng *r, size_t n)
{
    double *x = malloc((n ? n : 1) * sizeof(double));
    ck_assert_ptr_nonnull(x);
    for (size_t i = 0; i < n; i++)
        x[i] = rng_normal(r);
    return x;
}

/* X^T of a (rows, cols) matrix stored with leading dimension ld. */
static double *transposed(const double *x, int rows, int cols, int ld)
{
    double *t = malloc((size_t)rows * cols * sizeof(double));
    ck_assert_ptr_nonnull(t);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            t[(size_t)j * rows + i] = x[(size_t)i * ld + j];
    return t;
}

/* A (rows, cols) matrix stored with leading dimension ld, packed (ld = cols). */
static double *packed(const double *x, int rows, int cols, int ld)
{
    double *p = malloc((size_t)rows * cols * sizeof(double));
    ck_assert_ptr_nonnull(p);
    for (int i = 0; i < rows; i++)
        memcpy(p + (size_t)i * cols, x + (size_t)i * ld, (size_t)cols * sizeof(double));
    return p;
}

START_TEST(test_gemm_transposes_and_scalars)
{
    struct rng r = rng_seed(5);
    const int m = 7, n = 5, k = 9, pad = 3; /* leading dimensions wider than the rows */
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            /* stored A is (m, k) or (k, m); stored B is (k, n) or (n, k) */
            int ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
            int lda = ac + pad, ldb = bc + pad, ldc = n + pad;
            double *a = randn_array(&r, (size_t)ar * lda), *b = randn_array(&r, (size_t)br * ldb);
            double *c = randn_array(&r, (size_t)m * ldc), *c0 = malloc((size_t)m * ldc * sizeof(double));
            ck_assert_ptr_nonnull(c0);
            memcpy(c0, c, (size_t)m * ldc * sizeof(double));
            /* plain (m, k) and (k, n) copies of op(A), op(B) */
            double *opa = ta ? transposed(a, ar, ac, lda) : packed(a, ar, ac, lda);
            double *opb = tb ? transposed(b, br, bc, ldb) : packed(b, br, bc, ldb);
            ref_gemm(ta, tb, m, n, k, 0.75, a, lda, b, ldb, -0.5, c, ldc, NULL);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0.0;
                    for (int p = 0; p < k; p++)
                        acc += opa[(size_t)i * k + p] * opb[(size_t)p * n + j];
                    double want = 0.75 * acc + -0.5 * c0[(size_t)i * ldc + j];
                    ck_assert_msg(c[(size_t)i * ldc + j] == want,
                                  "gemm ta=%d tb=%d C[%d][%d] = %.17g, want %.17g", ta, tb, i, j,
                                  c[(size_t)i * ldc + j], want);
                }
                for (int j = n; j < ldc; j++) /* padding columns untouched */
                    ck_assert(c[(size_t)i * ldc + j] == c0[(size_t)i * ldc + j]);
            }
            /* beta == 0: C is write-only, NaN in it does not propagate */
            for (size_t i = 0; i < (size_t)m * ldc; i++)
                c[i] = NAN;
            ref_gemm(ta, tb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, ldc, NULL);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    ck_assert_msg(isfinite(c[(size_t)i * ldc + j]), "beta=0 read C");
            free(a); free(b); free(c); free(c0); free(opa); free(opb);
        }
}
END_TEST

/* The batched form equals one single gemm per (o, j) at the stated offsets. */
START_TEST(test_gemm_batch_grid)
{
    struct rng r = rng_seed(6);
    const int m = 3, n = 4, k = 5, outer = 2, inner = 3;
    /* A blocks (m, k) side by side within a row group, like heads in qkv */
    struct gemm_batch g = { outer, inner, (size_t)m * inner * k + 7, k, (size_t)k * inner * n + 2, n,
                            (size_t)m * inner * n, n };
    int lda = inner * k, ldb = inner * n, ldc = inner * n;
    size_t asz = outer * g.a_outer, bsz = outer * g.b_outer, csz = outer * g.c_outer;
    double *a = randn_array(&r, asz), *b = randn_array(&r, bsz);
    double *c1 = randn_array(&r, csz), *c2 = malloc(csz * sizeof(double));
    ck_assert_ptr_nonnull(c2);
    memcpy(c2, c1, csz * sizeof(double));
    ref_gemm(0, 0, m, n, k, 1.5, a, lda, b, ldb, 1.0, c1, ldc, &g);
    for (int o = 0; o < outer; o++)
        for (int j = 0; j < inner; j++)
            ref_gemm(0, 0, m, n, k, 1.5, a + o * g.a_outer + j * g.a_inner, lda,
                     b + o * g.b_outer + j * g.b_inner, ldb, 1.0,
                     c2 + o * g.c_outer + j * g.c_inner, ldc, NULL);
    ck_assert_msg(memcmp(c1, c2, csz * sizeof(double)) == 0, "batched gemm != per-problem gemm");
    free(a); free(b); free(c1); free(c2);
}
END_TEST

/* Aliased calls give exactly what the out-of-place calls give. */
START_TEST(test_in_place_forms)
{
    struct rng r = rng_seed(7);
    const int R = 4, T = 6, N = 10, V = 7, Vp = 9;
    size_t n = (size_t)R * T * T;
    double *x = randn_array(&r, n), *y = randn_array(&r, n), *out = malloc(n * sizeof(double));
    double *att = malloc(n * sizeof(double));
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(att);

    ref_gelu_forward(out, x, n);
    double *xi = malloc(n * sizeof(double));
    ck_assert_ptr_nonnull(xi);
    memcpy(xi, x, n * sizeof(double));
    ref_gelu_forward(xi, xi, n);
    ck_assert_msg(memcmp(out, xi, n * sizeof(double)) == 0, "gelu_forward in place differs");

    ref_gelu_backward(out, x, y, n);
    memcpy(xi, y, n * sizeof(double));
    ref_gelu_backward(xi, x, xi, n);
    ck_assert_msg(memcmp(out, xi, n * sizeof(double)) == 0, "gelu_backward in place differs");

    ref_softmax_causal_forward(att, x, R, T);
    memcpy(xi, x, n * sizeof(double));
    ref_softmax_causal_forward(xi, xi, R, T);
    ck_assert_msg(memcmp(att, xi, n * sizeof(double)) == 0, "softmax forward in place differs");
    for (size_t row = 0; row < (size_t)R * T; row++) { /* rows sum to 1, zero above diagonal */
        double s = 0.0;
        for (int j = 0; j < T; j++) {
            if (j > (int)(row % T))
                ck_assert(att[row * T + j] == 0.0);
            s += att[row * T + j];
        }
        ck_assert(fabs(s - 1.0) < 1e-14);
    }

    ref_softmax_causal_backward(out, y, att, R, T);
    memcpy(xi, y, n * sizeof(double));
    ref_softmax_causal_backward(xi, xi, att, R, T);
    ck_assert_msg(memcmp(out, xi, n * sizeof(double)) == 0, "softmax backward in place differs");

    /* crossentropy_backward with dlogits = logits */
    int32_t targets[10] = { 3, -1, 0, 6, 2, -1, 5, 1, 4, 0 };
    double scales[2] = { 0.3, 0.05 }, lse[10], losses[10];
    double *logits = randn_array(&r, (size_t)N * Vp);
    ref_crossentropy_forward(losses, lse, logits, targets, N, V, Vp);
    ref_crossentropy_backward(out, logits, lse, targets, scales, 5, N, V, Vp);
    ref_crossentropy_backward(logits, logits, lse, targets, scales, 5, N, V, Vp);
    ck_assert_msg(memcmp(out, logits, (size_t)N * Vp * sizeof(double)) == 0,
                  "crossentropy_backward in place differs");
    ck_assert(losses[1] == 0.0 && losses[5] == 0.0);
    for (int i = 0; i < N; i++) {
        double s = 0.0;
        for (int v = 0; v < Vp; v++) {
            if (v >= V || targets[i] < 0)
                ck_assert(logits[(size_t)i * Vp + v] == 0.0);
            s += logits[(size_t)i * Vp + v];
        }
        ck_assert(fabs(s) < 1e-15); /* softmax - onehot sums to 0 */
    }
    free(x); free(y); free(out); free(att); free(xi); free(logits);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ref_ops");
    TCase *tc = tcase_create("ops_f64");
    tcase_add_test(tc, test_gemm_transposes_and_scalars);
    tcase_add_test(tc, test_gemm_batch_grid);
    tcase_add_test(tc, test_in_place_forms);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
