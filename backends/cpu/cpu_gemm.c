/* backends/cpu/cpu_gemm.c — every matrix product goes through OpenBLAS sgemm.
 *
 * Threading: OpenBLAS runs single-threaded (set at backend creation) and
 * heft splits each product over its own OpenMP threads, one sgemm call per
 * thread on a block of C. Two thread pools (OpenMP's and OpenBLAS's) on the
 * same cores spin-wait against each other between calls; measured here that
 * made steps up to 5x slower and very noisy. One pool avoids it, and the
 * thread count is then heft's --threads alone. */
#include "config.h"

#include <cblas.h>
#include <string.h>

#include "backends/cpu/cpu_internal.h"

/* Below this many multiply-adds a product is not worth splitting. */
#define SPLIT_MIN_WORK (1L << 18)
/* The same for one-row products, which read all of B once and do one
 * multiply-add per float read: memory-bound, they gain from a second core
 * sooner. */
#define GEMV_SPLIT_MIN_WORK (1L << 17)

static void one_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0)
        return;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* Part `part` of `parts` of one product: a block of rows of C when C is
 * taller than wide, else a block of columns. Blocks are multiples of 16 so
 * that every block keeps OpenBLAS's full-width kernels busy. */
static void gemm_part(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc, int part, int parts)
{
    int rows = m >= n;
    int len = rows ? m : n;
    int chunk = ((len + parts - 1) / parts + 15) / 16 * 16;
    int lo = part * chunk, hi = lo + chunk < len ? lo + chunk : len;
    if (lo >= hi)
        return;
    if (rows) {
        /* rows lo..hi of op(A): row r of A, or column r of A when transposed */
        const float *a0 = ta ? a + lo : a + (size_t)lo * lda;
        one_gemm(ta, tb, hi - lo, n, k, alpha, a0, lda, b, ldb, beta, c + (size_t)lo * ldc, ldc);
    } else {
        /* columns lo..hi of op(B): column c of B, or row c of B when transposed */
        const float *b0 = tb ? b + (size_t)lo * ldb : b + lo;
        one_gemm(ta, tb, m, hi - lo, k, alpha, a, lda, b0, ldb, beta, c + lo, ldc);
    }
}

/* Part `part` of `parts` of a one-row product c (1, n) = alpha op(a) op(B) +
 * beta c (generation's products: one new token against the weights), as a
 * matrix-vector product. sgemm packs all of op(B) into its own buffers before
 * multiplying; with one row that copy costs as much memory traffic as the
 * product itself, and sgemv streams B once. Column blocks as gemm_part's. */
static void gemv_part(int ta, int tb, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int part, int parts)
{
    int chunk = ((n + parts - 1) / parts + 15) / 16 * 16;
    int lo = part * chunk, hi = lo + chunk < n ? lo + chunk : n;
    if (lo >= hi)
        return;
    /* beta = 0: C is not read (backend.h), but sgemv scales y by beta, and
     * 0 times a NaN left in C would stay NaN */
    if (beta == 0.0f)
        memset(c + lo, 0, (size_t)(hi - lo) * sizeof *c);
    const int inca = ta ? lda : 1; /* op(A)'s one row: a row of A, or a column */
    if (tb) /* op(B) = B^T with B (n, ldb): c_j = a . B[j, :] */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, hi - lo, k, alpha, b + (size_t)lo * ldb, ldb, a,
                    inca, beta, c + lo, 1);
    else /* op(B) = B (k, ldb): c[lo..hi) = a B[:, lo..hi) */
        cblas_sgemv(CblasRowMajor, CblasTrans, k, hi - lo, alpha, b + lo, ldb, a, inca, beta,
                    c + lo, 1);
}

void cpu_gemm(struct backend *be, int ta, int tb, int m, int n, int k, float alpha, dptr a,
              int lda, dptr b, int ldb, float beta, dptr c, int ldc,
              const struct gemm_batch *batch)
{
    if (be->failed || m <= 0 || n <= 0)
        return;
    const float *A = cpu_f(a), *Bm = cpu_f(b);
    float *Cm = cpu_f(c);
    int nt = cpu_threads(be);
    long count = batch ? (long)batch->outer * batch->inner : 1;
    int inner = batch ? batch->inner : 1;
    double work = (double)m * n * k;
    if (m == 1 && !batch) {
        int parts = nt > 1 && work >= GEMV_SPLIT_MIN_WORK ? nt : 1;
#pragma omp parallel for schedule(static) num_threads(parts) if (parts > 1)
        for (int part = 0; part < parts; part++)
            gemv_part(ta, tb, n, k, alpha, A, lda, Bm, ldb, beta, Cm, part, parts);
        return;
    }
    if (count >= nt || nt == 1 || work < SPLIT_MIN_WORK) {
        /* many products (attention heads): one whole product per iteration */
#pragma omp parallel for schedule(static) num_threads(nt) if (count > 1 && nt > 1)
        for (long i = 0; i < count; i++) {
            size_t o = (size_t)(i / inner), j = (size_t)(i % inner);
            const float *Ai = batch ? A + o * batch->a_outer + j * batch->a_inner : A;
            const float *Bi = batch ? Bm + o * batch->b_outer + j * batch->b_inner : Bm;
            float *Ci = batch ? Cm + o * batch->c_outer + j * batch->c_inner : Cm;
            one_gemm(ta, tb, m, n, k, alpha, Ai, lda, Bi, ldb, beta, Ci, ldc);
        }
        return;
    }
    /* few large products: split each over the threads */
    for (long i = 0; i < count; i++) {
        size_t o = (size_t)(i / inner), j = (size_t)(i % inner);
        const float *Ai = batch ? A + o * batch->a_outer + j * batch->a_inner : A;
        const float *Bi = batch ? Bm + o * batch->b_outer + j * batch->b_inner : Bm;
        float *Ci = batch ? Cm + o * batch->c_outer + j * batch->c_inner : Cm;
#pragma omp parallel for schedule(static) num_threads(nt)
        for (int part = 0; part < nt; part++)
            gemm_part(ta, tb, m, n, k, alpha, Ai, lda, Bi, ldb, beta, Ci, ldc, part, nt);
    }
}
