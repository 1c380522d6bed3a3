/* tests/test_ref_ops.c — properties of the float64 reference ops that the
 * whole-model checks (test_ref_fd, test_ref_torch) do not reach: every
 * transpose combination of gemm, its alpha/beta semantics and the two-level
 * batch grid, and the in-place (aliased) forms backend.h allows. Results must
 * be bit-identical to an independent formulation: the reference is exact
 * float64 code, so no tolerance is needed for re-orderings that do not change
 * the order of any sum.
 *
 * The LLaMA family's ops have no whole-model check yet, so their backwards
 * are checked here against finite differences of their forwards (RMSNorm,
 * SwiGLU) or as transposes (RoPE, embedding), with tolerances for the
 * differences and for sums in another order.
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

/* ---- the LLaMA family's references ------------------------------------------ */

/* Fourth-order central difference of f at x[i] (as test_ref_fd): truncation
 * and round-off both ~1e-13 for the smooth, O(1) functions below. */
#define FD_H 1e-3
#define FD_TOL 1e-8

static double fd(double (*f)(const void *ctx, double *x), const void *ctx, double *x, size_t i)
{
    double x0 = x[i], v[4];
    const double steps[4] = { -2, -1, 1, 2 };
    for (int s = 0; s < 4; s++) {
        x[i] = x0 + steps[s] * FD_H;
        v[s] = f(ctx, x);
    }
    x[i] = x0;
    return (v[0] - 8 * v[1] + 8 * v[2] - v[3]) / (12 * FD_H);
}

static void expect_fd(const char *what, size_t i, double g_fd, double g)
{
    double err = fabs(g_fd - g) / fmax(fmax(fabs(g_fd), fabs(g)), 1e-4);
    ck_assert_msg(err <= FD_TOL, "%s[%zu]: backward %.12g, finite difference %.12g", what, i, g,
                  g_fd);
}

enum { RMS_N = 3, RMS_C = 7, GLU_N = 3, GLU_F = 5 };

/* loss = sum(out * dout) for RMSNorm; x = [inp (N, C) | w (C)] */
static double rmsnorm_loss(const void *ctx, double *x)
{
    const double *dout = ctx;
    double out[RMS_N * RMS_C], rstd[RMS_N], loss = 0.0;
    ref_rmsnorm_forward(out, rstd, x, x + RMS_N * RMS_C, RMS_N, RMS_C, 1e-5);
    for (int i = 0; i < RMS_N * RMS_C; i++)
        loss += out[i] * dout[i];
    return loss;
}

START_TEST(test_rmsnorm_backward_is_the_gradient)
{
    struct rng r = rng_seed(8);
    const size_t nx = RMS_N * RMS_C;
    double *x = randn_array(&r, nx + RMS_C), *dout = randn_array(&r, nx);
    double out[RMS_N * RMS_C], rstd[RMS_N], dinp[RMS_N * RMS_C] = { 0 }, dw[RMS_C] = { 0 };
    for (size_t i = 0; i < nx; i++)
        x[i] = 0.3 + 1.5 * x[i]; /* not centered */
    ref_rmsnorm_forward(out, rstd, x, x + nx, RMS_N, RMS_C, 1e-5);
    ref_rmsnorm_backward(dinp, dw, dout, x, x + nx, rstd, RMS_N, RMS_C);
    for (size_t i = 0; i < nx; i++)
        expect_fd("rmsnorm dinp", i, fd(rmsnorm_loss, dout, x, i), dinp[i]);
    for (size_t c = 0; c < RMS_C; c++)
        expect_fd("rmsnorm dw", c, fd(rmsnorm_loss, dout, x, nx + c), dw[c]);
    free(x);
    free(dout);
}
END_TEST

/* loss = sum(out * dout) for SwiGLU; x = inp (N, 2F) */
static double swiglu_loss(const void *ctx, double *x)
{
    const double *dout = ctx;
    double out[GLU_N * GLU_F], loss = 0.0;
    ref_swiglu_forward(out, x, GLU_N, GLU_F);
    for (int i = 0; i < GLU_N * GLU_F; i++)
        loss += out[i] * dout[i];
    return loss;
}

START_TEST(test_swiglu_backward_is_the_gradient)
{
    struct rng r = rng_seed(9);
    const size_t nx = 2 * GLU_N * GLU_F;
    double *x = randn_array(&r, nx), *dout = randn_array(&r, GLU_N * GLU_F);
    double dinp[2 * GLU_N * GLU_F];
    for (size_t i = 0; i < nx; i++)
        x[i] *= 3.0; /* the gate well into both tails */
    ref_swiglu_backward(dinp, x, dout, GLU_N, GLU_F);
    for (size_t i = 0; i < nx; i++)
        expect_fd("swiglu dinp", i, fd(swiglu_loss, dout, x, i), dinp[i]);
    /* the layout: out[n, f] depends on inp[n, f] (gate) and inp[n, F + f] only */
    double out[GLU_N * GLU_F];
    ref_swiglu_forward(out, x, GLU_N, GLU_F);
    double g = x[2 * GLU_F + 1], u = x[2 * GLU_F + GLU_F + 1], want = g / (1.0 + exp(-g)) * u;
    ck_assert(fabs(out[GLU_F + 1] - want) <= 1e-15 * (1.0 + fabs(want)));
    free(x);
    free(dout);
}
END_TEST

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* RoPE: backward is the transpose and the inverse of forward; columns outside
 * the heads are untouched; and the score of a rotated query and key depends
 * on their positions only through the difference (what RoPE is for). */
START_TEST(test_rope_properties)
{
    struct rng r = rng_seed(10);
    const int B = 2, T = 9, nh = 3, hs = 10, col0 = 4, ld = col0 + nh * hs + 5;
    const size_t n = (size_t)B * T * ld;
    double *freqs = malloc((size_t)T * hs * sizeof(double));
    ck_assert_ptr_nonnull(freqs);
    ref_rope_table(freqs, T, hs, 1e4);
    ck_assert(freqs[0] == 1.0 && freqs[1] == 0.0); /* position 0: no rotation */
    double *x = randn_array(&r, n), *y = randn_array(&r, n), *x0 = malloc(n * sizeof(double));
    double *y0 = malloc(n * sizeof(double));
    ck_assert_ptr_nonnull(x0);
    ck_assert_ptr_nonnull(y0);
    memcpy(x0, x, n * sizeof(double));
    memcpy(y0, y, n * sizeof(double));

    /* <R x, y> = <x, R^T y> */
    ref_rope_forward(x + col0, freqs, B, T, nh, hs, ld);
    ref_rope_backward(y + col0, freqs, B, T, nh, hs, ld);
    double lhs = dot(x, y0, n), rhs = dot(x0, y, n);
    ck_assert_msg(fabs(lhs - rhs) <= 1e-12 * fabs(lhs) + 1e-12, "<Rx,y> %.17g != <x,R'y> %.17g",
                  lhs, rhs);
    /* R^T R x = x, and the columns outside the heads never changed */
    ref_rope_backward(x + col0, freqs, B, T, nh, hs, ld);
    for (size_t i = 0; i < n; i++) {
        size_t col = i % ld;
        if (col < (size_t)col0 || col >= (size_t)(col0 + nh * hs))
            ck_assert_msg(x[i] == x0[i] && y[i] == y0[i], "column %zu outside the heads changed",
                          col);
        else
            ck_assert_msg(fabs(x[i] - x0[i]) <= 1e-14, "R^T R x != x at %zu", i);
    }

    /* q at position m, k at position m + d: the score depends on d alone */
    const int one_head = 1;
    double q[10], k[10], q2[10], k2[10];
    for (int i = 0; i < hs; i++) {
        q[i] = rng_normal(&r);
        k[i] = rng_normal(&r);
    }
    double *row = calloc((size_t)T * hs, sizeof(double));
    ck_assert_ptr_nonnull(row);
    for (int m = 0; m + 3 < T; m += 2) {
        /* rows of one head each: position t is row t */
        for (int t = 0; t < T; t++)
            memcpy(row + (size_t)t * hs, t == m ? q : k, sizeof q);
        ref_rope_forward(row, freqs, 1, T, one_head, hs, hs);
        memcpy(q2, row + (size_t)m * hs, sizeof q2);
        memcpy(k2, row + (size_t)(m + 3) * hs, sizeof k2);
        double score = dot(q2, k2, (size_t)hs);
        if (m == 0) {
            lhs = score;
        } else {
            ck_assert_msg(fabs(score - lhs) <= 1e-12 * (1.0 + fabs(lhs)),
                          "score at positions (%d, %d) %.17g != at (0, 3) %.17g", m, m + 3,
                          score, lhs);
        }
    }
    free(row);
    free(freqs);
    free(x);
    free(y);
    free(x0);
    free(y0);
}
END_TEST

/* embedding_backward is the transpose of embedding_forward: <E wte, dout> =
 * <wte, E^T dout>, with ids that repeat. */
START_TEST(test_embedding_adjoint)
{
    struct rng r = rng_seed(11);
    enum { N = 11, C = 6, V = 4 };
    int32_t tokens[N];
    for (int i = 0; i < N; i++)
        tokens[i] = rng_int(&r, V);
    double *wte = randn_array(&r, V * C), *dout = randn_array(&r, N * C);
    double out[N * C], dwte[V * C] = { 0 };
    ref_embedding_forward(out, tokens, wte, N, C);
    ref_embedding_backward(dwte, dout, tokens, N, C);
    double lhs = dot(out, dout, N * C), rhs = dot(wte, dwte, V * C);
    ck_assert_msg(fabs(lhs - rhs) <= 1e-12 * (1.0 + fabs(lhs)), "%.17g != %.17g", lhs, rhs);
    for (int c = 0; c < C; c++)
        ck_assert(out[5 * C + c] == wte[(size_t)tokens[5] * C + c]);
    free(wte);
    free(dout);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ref_ops");
    TCase *tc = tcase_create("ops_f64");
    tcase_add_test(tc, test_gemm_transposes_and_scalars);
    tcase_add_test(tc, test_gemm_batch_grid);
    tcase_add_test(tc, test_in_place_forms);
    tcase_add_test(tc, test_rmsnorm_backward_is_the_gradient);
    tcase_add_test(tc, test_swiglu_backward_is_the_gradient);
    tcase_add_test(tc, test_rope_properties);
    tcase_add_test(tc, test_embedding_adjoint);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
