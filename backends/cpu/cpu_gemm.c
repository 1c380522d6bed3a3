/* backends/cpu/cpu_gemm.c — every matrix product goes through OpenBLAS sgemm. */
#include "config.h"

#include <cblas.h>

#include "backends/cpu/cpu_internal.h"

static void one_gemm(int ta, int tb, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* Whether OpenBLAS may be called from several threads at once, each call then
 * running single-threaded: true for its OpenMP and serial builds. Its pthreads
 * build has one thread server, so there we call it from one thread and let it
 * parallelize each product itself. */
static int blas_nests_in_openmp(void)
{
#ifdef HAVE_OPENBLAS_GET_PARALLEL
    return openblas_get_parallel() != 1;
#else
    return 0;
#endif
}

void cpu_gemm(struct backend *be, int ta, int tb, int m, int n, int k, float alpha, dptr a,
              int lda, dptr b, int ldb, float beta, dptr c, int ldc,
              const struct gemm_batch *batch)
{
    if (be->failed || m <= 0 || n <= 0)
        return;
    const float *A = cpu_f(a), *Bm = cpu_f(b);
    float *Cm = cpu_f(c);
    if (!batch) {
        one_gemm(ta, tb, m, n, k, alpha, A, lda, Bm, ldb, beta, Cm, ldc);
        return;
    }
    long count = (long)batch->outer * batch->inner;
    int inner = batch->inner;
    int parallel = blas_nests_in_openmp() && count > 1;
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be)) if (parallel)
    for (long i = 0; i < count; i++) {
        size_t o = (size_t)(i / inner), j = (size_t)(i % inner);
        one_gemm(ta, tb, m, n, k, alpha, A + o * batch->a_outer + j * batch->a_inner, lda,
                 Bm + o * batch->b_outer + j * batch->b_inner, ldb, beta,
                 Cm + o * batch->c_outer + j * batch->c_inner, ldc);
    }
}
