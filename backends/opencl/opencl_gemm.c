/* backends/opencl/opencl_gemm.c — GEMMs through CLBlast, row-major.
 *
 * A single product is CLBlastSgemm. A struct gemm_batch grid with one level
 * (outer == 1 or inner == 1) is a constant-stride batch, CLBlast's
 * SgemmStridedBatched; a true two-level grid (attention: batch row x head)
 * becomes SgemmBatched with one offset per problem.
 *
 * Past 2^31 elements. CLBlast takes size_t offsets but hands them to its
 * kernels as int and indexes in int, so an operand at element 3e9 of a 7B
 * model's flat parameter buffer, or one that spans more than 2^31 elements
 * (the logits of a large batch, the attention scores of a whole batch),
 * would be read at a wrapped index. Here every operand that reaches past
 * gemm_view_elements (2^30 by default) is handed to CLBlast as a sub-buffer
 * view that starts at an aligned origin just below it, so its offset is
 * small; and a product whose operand is longer than that by itself is cut:
 * a batch grid into smaller grids, a single product into row blocks of C
 * (along m or n, the same sums) or into slices of k accumulated with beta 1
 * (a different order of the k sums, used only when an operand spans over
 * 2^30 elements along k). Products under the limit go to CLBlast exactly as
 * before. */
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

/* Elements an operand spans: op(X) is (rows, cols); X is stored as
 * (rows, cols) with leading dimension ld, or transposed as (cols, rows). */
static size_t extent(int trans, int rows, int cols, int ld)
{
    return trans ? (size_t)(cols - 1) * ld + (size_t)rows : (size_t)(rows - 1) * ld + (size_t)cols;
}

/* Elements a batch grid's operand spans from its first problem's start
 * (strides are non-negative, so the last problem starts furthest). */
static size_t grid_extent(const struct gemm_batch *g, size_t outer_stride, size_t inner_stride,
                          size_t one)
{
    return (size_t)(g->outer - 1) * outer_stride + (size_t)(g->inner - 1) * inner_stride + one;
}

/* Whether CLBlast can take an operand of `ext` elements at p: in place, or
 * through a view whose offset is p's distance from the aligned origin. */
static int fits(const struct opencl_impl *cl, dptr p, size_t ext)
{
    size_t align = cl->base_align / sizeof(float);
    return p.off + ext <= cl->gemm_view_elements || p.off % align + ext <= cl->gemm_view_elements;
}

/* An operand as one CLBlast call gets it. */
struct view {
    cl_mem mem;
    size_t off;   /* elements from mem's start */
    cl_mem owned; /* the sub-buffer to release after the call, or NULL */
};

/* Checks p's range and gives CLBlast a cl_mem and offset it can index with
 * an int: p's own buffer when that reaches, else a sub-buffer from the
 * largest aligned origin at or below p (CL_DEVICE_MEM_BASE_ADDR_ALIGN).
 * Releasing the view right after the enqueue is safe: the runtime keeps a
 * sub-buffer alive until the commands that use it have run. */
static int view_open(struct backend *be, const char *arg, dptr p, size_t ext, struct view *v)
{
    struct opencl_impl *cl = opencl_impl_of(be);
    v->owned = NULL;
    if (opencl_check_range(be, "gemm", arg, p, ext))
        return -1;
    if (p.off + ext <= cl->gemm_view_elements) {
        v->mem = p.buf->mem;
        v->off = p.off;
        return 0;
    }
    cl_buffer_region region;
    region.origin = p.off * sizeof(float) / cl->base_align * cl->base_align;
    region.size = (p.off + ext) * sizeof(float) - region.origin;
    cl_int rc;
    v->owned = clCreateSubBuffer(p.buf->mem, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION,
                                 &region, &rc);
    if (rc != CL_SUCCESS) {
        v->owned = NULL;
        backend_fail(be, "gemm: view of operand %s (%zu elements at element %zu): "
                         "clCreateSubBuffer: %s (%d)",
                     arg, ext, p.off, cl_error_name(rc), rc);
        return -1;
    }
    v->mem = v->owned;
    v->off = p.off - region.origin / sizeof(float);
    return 0;
}

static void view_close(struct view *v)
{
    if (v->owned)
        clReleaseMemObject(v->owned);
    v->owned = NULL;
}

/* Opens views of the three operands spanning ea, eb, ec elements. */
static int views_open(struct backend *be, dptr a, size_t ea, dptr b, size_t eb, dptr c,
                      size_t ec, struct view v[3])
{
    v[0].owned = v[1].owned = v[2].owned = NULL;
    if (view_open(be, "a", a, ea, &v[0]) || view_open(be, "b", b, eb, &v[1]) ||
        view_open(be, "c", c, ec, &v[2])) {
        for (int i = 0; i < 3; i++)
            view_close(&v[i]);
        return -1;
    }
    return 0;
}

/* Two-level grid: explicit per-problem offsets (host-side parameters only;
 * the operands stay on the device). */
static void gemm_batched(struct backend *be, CLBlastTranspose ta, CLBlastTranspose tb, int m,
                         int n, int k, float alpha, const struct view *a, int lda,
                         const struct view *b, int ldb, float beta, const struct view *c,
                         int ldc, const struct gemm_batch *batch)
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
        a_off[i] = a->off + o * batch->a_outer + j * batch->a_inner;
        b_off[i] = b->off + o * batch->b_outer + j * batch->b_inner;
        c_off[i] = c->off + o * batch->c_outer + j * batch->c_inner;
        alphas[i] = alpha;
        betas[i] = beta;
    }
    CLBlastStatusCode status = CLBlastSgemmBatched(
        CLBlastLayoutRowMajor, ta, tb, m, n, k, alphas, a->mem, a_off, lda, b->mem, b_off, ldb,
        betas, c->mem, c_off, ldc, count, &cl->queue, NULL);
    free(offsets);
    free(scalars);
    if (status != CLBlastSuccess)
        fail_status(be, "CLBlastSgemmBatched", m, n, k, count, status);
}

/* One product on CLBlast, every operand within the view limit. */
static void gemm_single(struct backend *be, int trans_a, int trans_b, int m, int n, int k,
                        float alpha, dptr a, int lda, dptr b, int ldb, float beta, dptr c,
                        int ldc)
{
    struct opencl_impl *cl = opencl_impl_of(be);
    struct view v[3];
    if (views_open(be, a, extent(trans_a, m, k, lda), b, extent(trans_b, k, n, ldb), c,
                   extent(0, m, n, ldc), v))
        return;
    CLBlastStatusCode status =
        CLBlastSgemm(CLBlastLayoutRowMajor, transpose_of(trans_a), transpose_of(trans_b), m, n,
                     k, alpha, v[0].mem, v[0].off, lda, v[1].mem, v[1].off, ldb, beta, v[2].mem,
                     v[2].off, ldc, &cl->queue, NULL);
    for (int i = 0; i < 3; i++)
        view_close(&v[i]);
    if (status != CLBlastSuccess)
        fail_status(be, "CLBlastSgemm", m, n, k, 1, status);
}

/* A single product, cut in halves until every operand fits a view: along
 * the dimension in which the first operand that does not fit is stored row
 * by row (C: m; A: m, or k when transposed; B: k, or n when transposed).
 * Halves along m or n are separate blocks of C; halves along k add up, the
 * second with beta = 1. */
static void gemm_pieces(struct backend *be, int ta, int tb, int m, int n, int k, float alpha,
                        dptr a, int lda, dptr b, int ldb, float beta, dptr c, int ldc)
{
    if (be->failed)
        return;
    const struct opencl_impl *cl = opencl_impl_of(be);
    int fa = fits(cl, a, extent(ta, m, k, lda)), fb = fits(cl, b, extent(tb, k, n, ldb));
    int fc = fits(cl, c, extent(0, m, n, ldc));
    if (fa && fb && fc) {
        gemm_single(be, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    enum { DIM_M, DIM_N, DIM_K } dim = !fc || (!fa && !ta) ? DIM_M : !fa ? DIM_K
                                       : tb                 ? DIM_N
                                                            : DIM_K;
    int len = dim == DIM_M ? m : dim == DIM_N ? n : k;
    if (len < 2) {
        backend_fail(be, "gemm (m=%d n=%d k=%d, lda=%d ldb=%d ldc=%d): one row of an operand "
                         "spans more than %zu elements, past what CLBlast can index",
                     m, n, k, lda, ldb, ldc, cl->gemm_view_elements);
        return;
    }
    int h = len / 2;
    switch (dim) {
    case DIM_M:
        gemm_pieces(be, ta, tb, h, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        gemm_pieces(be, ta, tb, m - h, n, k, alpha, dptr_at(a, ta ? (size_t)h : (size_t)h * lda),
                    lda, b, ldb, beta, dptr_at(c, (size_t)h * ldc), ldc);
        break;
    case DIM_N:
        gemm_pieces(be, ta, tb, m, h, k, alpha, a, lda, b, ldb, beta, c, ldc);
        gemm_pieces(be, ta, tb, m, n - h, k, alpha, a, lda,
                    dptr_at(b, tb ? (size_t)h * ldb : (size_t)h), ldb, beta,
                    dptr_at(c, (size_t)h), ldc);
        break;
    case DIM_K:
        gemm_pieces(be, ta, tb, m, n, h, alpha, a, lda, b, ldb, beta, c, ldc);
        gemm_pieces(be, ta, tb, m, n, k - h, alpha, dptr_at(a, ta ? (size_t)h * lda : (size_t)h),
                    lda, dptr_at(b, tb ? (size_t)h : (size_t)h * ldb), ldb, 1.0f, c, ldc);
        break;
    }
}

/* A batch grid: one CLBlast call when its operands fit views, else halves of
 * the grid (outer first), down to single products. */
static void gemm_grid(struct backend *be, int trans_a, int trans_b, int m, int n, int k,
                      float alpha, dptr a, int lda, dptr b, int ldb, float beta, dptr c, int ldc,
                      const struct gemm_batch *g)
{
    if (be->failed)
        return;
    struct opencl_impl *cl = opencl_impl_of(be);
    size_t count = (size_t)g->outer * (size_t)g->inner;
    size_t ea = grid_extent(g, g->a_outer, g->a_inner, extent(trans_a, m, k, lda));
    size_t eb = grid_extent(g, g->b_outer, g->b_inner, extent(trans_b, k, n, ldb));
    size_t ec = grid_extent(g, g->c_outer, g->c_inner, extent(0, m, n, ldc));
    if (!(fits(cl, a, ea) && fits(cl, b, eb) && fits(cl, c, ec))) {
        if (count == 1) {
            gemm_pieces(be, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        struct gemm_batch half = *g;
        int by_outer = g->outer > 1;
        int len = by_outer ? g->outer : g->inner, h = len / 2;
        size_t sa = by_outer ? g->a_outer : g->a_inner, sb = by_outer ? g->b_outer : g->b_inner;
        size_t sc = by_outer ? g->c_outer : g->c_inner;
        *(by_outer ? &half.outer : &half.inner) = h;
        gemm_grid(be, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, &half);
        *(by_outer ? &half.outer : &half.inner) = len - h;
        gemm_grid(be, trans_a, trans_b, m, n, k, alpha, dptr_at(a, (size_t)h * sa), lda,
                  dptr_at(b, (size_t)h * sb), ldb, beta, dptr_at(c, (size_t)h * sc), ldc, &half);
        return;
    }
    struct view v[3];
    if (views_open(be, a, ea, b, eb, c, ec, v))
        return;
    CLBlastTranspose ta = transpose_of(trans_a), tb = transpose_of(trans_b);
    if (g->outer == 1 || g->inner == 1) {
        /* One level: the problems are a constant stride apart. */
        int by_inner = g->outer == 1;
        size_t sa = by_inner ? g->a_inner : g->a_outer;
        size_t sb = by_inner ? g->b_inner : g->b_outer;
        size_t sc = by_inner ? g->c_inner : g->c_outer;
        CLBlastStatusCode status = CLBlastSgemmStridedBatched(
            CLBlastLayoutRowMajor, ta, tb, m, n, k, alpha, v[0].mem, v[0].off, lda, sa, v[1].mem,
            v[1].off, ldb, sb, beta, v[2].mem, v[2].off, ldc, sc, count, &cl->queue, NULL);
        if (status != CLBlastSuccess)
            fail_status(be, "CLBlastSgemmStridedBatched", m, n, k, count, status);
    } else {
        gemm_batched(be, ta, tb, m, n, k, alpha, &v[0], lda, &v[1], ldb, beta, &v[2], ldc, g);
    }
    for (int i = 0; i < 3; i++)
        view_close(&v[i]);
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
    if (!batch)
        gemm_pieces(be, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    else
        gemm_grid(be, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, batch);
}
