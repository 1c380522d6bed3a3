/* backends/opencl/opencl_gemm.c — GEMMs through CLBlast, row-major.
 *
 * A single product is CLBlastSgemm. A struct gemm_batch grid with one level
 * (outer == 1 or inner == 1) is a constant-stride batch, CLBlast's
 * SgemmStridedBatched; a true two-level grid (attention: batch row x head)
 * becomes SgemmBatched with one offset per problem. */
#include <stdlib.h>

#include <clblast_c.h>

#include "backends/opencl/opencl_internal.h"

static CLBlastTranspose transpose_of(int trans)
{
    return trans ? CLBlastTransposeYes : CLBlastTransposeNo;
}

static void fail_status(struct backend *be, const char *call, int m, int n, int k, size_t count,
                        CLBlastStatusCode status)
{
    backend_fail(be, "%s(m=%d n=%d k=%d, %zu problem%s): %s (%d)", call, m, n, k, count,
                 count == 1 ? "" : "s", clblast_status_name(status), (int)status);
}

/* With k = 0 the product is empty and C = beta * C; CLBlast rejects k = 0,
 * so this case runs heft's own kernel on every problem's C block. */
static void scale_c(struct backend *be, int m, int n, float beta, dptr c, int ldc,
                    const struct gemm_batch *batch)
{
    struct opencl_impl *cl = opencl_impl_of(be);
    int outer = batch ? batch->outer : 1, inner = batch ? batch->inner : 1;
    for (int o = 0; o < outer; o++)
        for (int j = 0; j < inner; j++) {
            dptr block = c;
            if (batch)
                block.off += (size_t)o * batch->c_outer + (size_t)j * batch->c_inner;
            if (opencl_check_range(be, "gemm", "c", block, (size_t)(m - 1) * ldc + n))
                return;
            struct kcall call = kcall_begin(be, KERNEL_scale_matrix);
            kcall_tensor(&call, block);
            kcall_int(&call, m);
            kcall_int(&call, n);
            kcall_int(&call, ldc);
            kcall_float(&call, beta);
            size_t global[2] = { (size_t)n, (size_t)m }, local[2];
            opencl_wg_grid(cl, KERNEL_scale_matrix, global[0], global[1], local);
            kcall_run(&call, 2, global, local);
        }
}

/* Two-level grid: explicit per-problem offsets (host-side parameters only;
 * the operands stay on the device). */
static void gemm_batched(struct backend *be, CLBlastTranspose ta, CLBlastTranspose tb, int m,
                         int n, int k, float alpha, dptr a, int lda, dptr b, int ldb, float beta,
                         dptr c, int ldc, const struct gemm_batch *batch)
{
    struct opencl_impl *cl = opencl_impl_of(be);
    size_t count = (size_t)batch->outer * (size_t)batch->inner;
    size_t *offsets = calloc(3 * count, sizeof *offsets);
    float *scalars = calloc(2 * count, sizeof *scalars);
    if (!offsets || !scalars) {
        free(offsets);
        free(scalars);
        backend_fail(be, "gemm: out of host memory for %zu batched problem offsets", count);
        return;
    }
    size_t *a_off = offsets, *b_off = offsets + count, *c_off = offsets + 2 * count;
    float *alphas = scalars, *betas = scalars + count;
    for (size_t i = 0; i < count; i++) {
        size_t o = i / (size_t)batch->inner, j = i % (size_t)batch->inner;
        a_off[i] = a.off + o * batch->a_outer + j * batch->a_inner;
        b_off[i] = b.off + o * batch->b_outer + j * batch->b_inner;
        c_off[i] = c.off + o * batch->c_outer + j * batch->c_inner;
        alphas[i] = alpha;
        betas[i] = beta;
    }
    CLBlastStatusCode status = CLBlastSgemmBatched(
        CLBlastLayoutRowMajor, ta, tb, m, n, k, alphas, a.buf->mem, a_off, lda, b.buf->mem,
        b_off, ldb, betas, c.buf->mem, c_off, ldc, count, &cl->queue, NULL);
    free(offsets);
    free(scalars);
    if (status != CLBlastSuccess)
        fail_status(be, "CLBlastSgemmBatched", m, n, k, count, status);
}

void opencl_gemm(struct backend *be, int trans_a, int trans_b, int m, int n, int k, float alpha,
                 dptr a, int lda, dptr b, int ldb, float beta, dptr c, int ldc,
                 const struct gemm_batch *batch)
{
    if (be->failed)
        return;
    if (!a.buf || !b.buf || !c.buf) {
        backend_fail(be, "gemm: operand %s has no buffer (NULL)",
                     !a.buf ? "a" : !b.buf ? "b" : "c");
        return;
    }
    if (m < 0 || n < 0 || k < 0 || (batch && (batch->outer < 0 || batch->inner < 0))) {
        backend_fail(be, "gemm: negative size (m=%d n=%d k=%d)", m, n, k);
        return;
    }
    size_t count = batch ? (size_t)batch->outer * (size_t)batch->inner : 1;
    if (m == 0 || n == 0 || count == 0)
        return;
    if (k == 0) {
        scale_c(be, m, n, beta, c, ldc, batch);
        return;
    }
    struct opencl_impl *cl = opencl_impl_of(be);
    CLBlastTranspose ta = transpose_of(trans_a), tb = transpose_of(trans_b);
    CLBlastStatusCode status;
    if (!batch) {
        status = CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, alpha, a.buf->mem, a.off,
                              lda, b.buf->mem, b.off, ldb, beta, c.buf->mem, c.off, ldc,
                              &cl->queue, NULL);
        if (status != CLBlastSuccess)
            fail_status(be, "CLBlastSgemm", m, n, k, 1, status);
        return;
    }
    if (batch->outer == 1 || batch->inner == 1) {
        /* One level: the problems are a constant stride apart. */
        int by_inner = batch->outer == 1;
        size_t sa = by_inner ? batch->a_inner : batch->a_outer;
        size_t sb = by_inner ? batch->b_inner : batch->b_outer;
        size_t sc = by_inner ? batch->c_inner : batch->c_outer;
        status = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta, tb, m, n, k, alpha,
                                            a.buf->mem, a.off, lda, sa, b.buf->mem, b.off, ldb,
                                            sb, beta, c.buf->mem, c.off, ldc, sc, count,
                                            &cl->queue, NULL);
        if (status != CLBlastSuccess)
            fail_status(be, "CLBlastSgemmStridedBatched", m, n, k, count, status);
        return;
    }
    gemm_batched(be, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, batch);
}
