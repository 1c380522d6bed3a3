/* backends/opencl/opencl_ops.c — the non-GEMM ops: argument checks, then one
 * or two kernel launches each. The math lives in the .cl files in kernels/; this file
 * decides grids and work-group sizes. Every op returns at once when the
 * backend has already failed (sticky errors). */
#include <limits.h>
#include <stdlib.h>

#include "backends/opencl/opencl_internal.h"

#define CHECK(op, arg, p, n) opencl_check_range(be, op, arg, p, n)

/* Kernels take row counts such as B*T as int (a position is an int in the
 * token links); products are formed in size_t, so one past INT_MAX is
 * refused here instead of wrapping. */
static int int_count(struct backend *be, const char *op, const char *what, size_t v)
{
    if (be->failed)
        return -1;
    if (v > (size_t)INT_MAX) {
        backend_fail(be, "%s: %s = %zu is more than the kernels' int row count (%d)", op, what,
                     v, INT_MAX);
        return -1;
    }
    return 0;
}

/* 1-D launch over n independent items. */
static void run_linear(struct kcall *c, size_t n)
{
    struct opencl_impl *cl = opencl_impl_of(c->be);
    size_t local = opencl_wg_linear(cl, c->id);
    kcall_run(c, 1, &n, &local);
}

/* 2-D launch over (n0, n1) independent items. */
static void run_grid(struct kcall *c, size_t n0, size_t n1)
{
    struct opencl_impl *cl = opencl_impl_of(c->be);
    size_t global[2] = { n0, n1 }, local[2];
    opencl_wg_grid(cl, c->id, n0, n1, local);
    kcall_run(c, 2, global, local);
}

/* One work-group per row for `rows` rows of `len` elements; appends the
 * local scratch argument (one float per item) and launches. */
static void run_rows(struct kcall *c, size_t rows, size_t len)
{
    struct opencl_impl *cl = opencl_impl_of(c->be);
    size_t local = opencl_wg_rows(cl, c->id, len, 1);
    size_t global = rows * local;
    kcall_local(c, local * sizeof(float));
    kcall_run(c, 1, &global, &local);
}

/* Column reduction over `rows` rows of `cols` columns in (columns, lanes)
 * groups; appends the scratch argument and launches. */
static void run_columns(struct kcall *c, size_t rows, size_t cols)
{
    struct opencl_impl *cl = opencl_impl_of(c->be);
    size_t local[2];
    opencl_wg_columns(cl, c->id, rows, 1, local);
    size_t global[2] = { cols, local[1] };
    kcall_local(c, local[0] * local[1] * sizeof(float));
    kcall_run(c, 2, global, local);
}

static void opencl_add_bias(struct backend *be, dptr out, dptr bias, int N, int OC)
{
    if (CHECK("add_bias", "out", out, (size_t)N * OC) || CHECK("add_bias", "bias", bias, OC))
        return;
    struct kcall c = kcall_begin(be, KERNEL_add_bias);
    kcall_tensor(&c, out);
    kcall_tensor(&c, bias);
    kcall_int(&c, N);
    kcall_int(&c, OC);
    run_grid(&c, OC, N);
}

static void opencl_col_sums(struct backend *be, dptr out, dptr in, int N, int OC)
{
    if (CHECK("col_sums", "out", out, OC) || CHECK("col_sums", "in", in, (size_t)N * OC))
        return;
    struct kcall c = kcall_begin(be, KERNEL_col_sums);
    kcall_tensor(&c, out);
    kcall_tensor(&c, in);
    kcall_int(&c, N);
    kcall_int(&c, OC);
    run_columns(&c, N, OC);
}

static void opencl_row_sums(struct backend *be, dptr out, dptr in, int R, int K)
{
    if (CHECK("row_sums", "out", out, R) || CHECK("row_sums", "in", in, (size_t)R * K))
        return;
    struct kcall c = kcall_begin(be, KERNEL_row_sums);
    kcall_tensor(&c, out);
    kcall_tensor(&c, in);
    kcall_int(&c, R);
    kcall_int(&c, K);
    run_rows(&c, R, K);
}

static void opencl_encoder_forward(struct backend *be, dptr out, dptr tokens, dptr wte,
                                   dptr wpe, int B, int T, int C)
{
    const size_t BT = (size_t)B * T;
    /* wte's row count (V) is not an argument: only its start can be checked. */
    if (int_count(be, "encoder_forward", "B*T", BT) ||
        CHECK("encoder_forward", "out", out, BT * C) ||
        CHECK("encoder_forward", "tokens", tokens, BT) ||
        CHECK("encoder_forward", "wte", wte, C) ||
        CHECK("encoder_forward", "wpe", wpe, (size_t)T * C))
        return;
    struct kcall c = kcall_begin(be, KERNEL_encoder_forward);
    kcall_tensor(&c, out);
    kcall_tensor(&c, tokens);
    kcall_tensor(&c, wte);
    kcall_tensor(&c, wpe);
    kcall_int(&c, (int)BT);
    kcall_int(&c, T);
    kcall_int(&c, C);
    run_grid(&c, C, BT);
}

/* The links workspace holds two ints per position; it grows to the largest
 * B*T seen (once, on the first backward of a run). */
static int ensure_links(struct backend *be, size_t positions)
{
    struct opencl_impl *cl = opencl_impl_of(be);
    if (cl->links_capacity >= positions)
        return 0;
    opencl_release(be, cl->links);
    cl->links = NULL;
    cl->links_capacity = 0;
    cl->links = opencl_alloc(be, positions * 2 * sizeof(cl_int));
    if (!cl->links)
        return -1;
    cl->links_capacity = positions;
    return 0;
}

/* dwte (V, C) += rows of dout (N, C) at tokens[n], without atomics: links
 * chain the positions of each token, and the item of a token's first
 * position adds them in order (encoder.cl). Operands are checked by the
 * caller; N > 0. */
static void token_rows_backward(struct backend *be, dptr dwte, dptr dout, dptr tokens, size_t N,
                                int C)
{
    if (ensure_links(be, N))
        return;
    struct opencl_impl *cl = opencl_impl_of(be);

    struct kcall links = kcall_begin(be, KERNEL_encoder_links);
    kcall_mem(&links, cl->links->mem);
    kcall_tensor(&links, tokens);
    kcall_int(&links, (int)N);
    run_linear(&links, N);

    struct kcall wte = kcall_begin(be, KERNEL_encoder_backward_wte);
    kcall_tensor(&wte, dwte);
    kcall_tensor(&wte, dout);
    kcall_tensor(&wte, tokens);
    kcall_mem(&wte, cl->links->mem);
    kcall_int(&wte, (int)N);
    kcall_int(&wte, C);
    run_grid(&wte, C, N);
}

static void opencl_encoder_backward(struct backend *be, dptr dwte, dptr dwpe, dptr dout,
                                    dptr tokens, int B, int T, int C)
{
    const size_t BT = (size_t)B * T;
    if (int_count(be, "encoder_backward", "B*T", BT) ||
        CHECK("encoder_backward", "dwte", dwte, C) ||
        CHECK("encoder_backward", "dwpe", dwpe, (size_t)T * C) ||
        CHECK("encoder_backward", "dout", dout, BT * C) ||
        CHECK("encoder_backward", "tokens", tokens, BT) || BT == 0)
        return;
    token_rows_backward(be, dwte, dout, tokens, BT, C);

    struct kcall wpe = kcall_begin(be, KERNEL_encoder_backward_wpe);
    kcall_tensor(&wpe, dwpe);
    kcall_tensor(&wpe, dout);
    kcall_int(&wpe, B);
    kcall_int(&wpe, T);
    kcall_int(&wpe, C);
    run_grid(&wpe, C, T);
}

static void opencl_layernorm_forward(struct backend *be, dptr out, dptr mean, dptr rstd,
                                     dptr inp, dptr w, dptr b, int N, int C)
{
    const size_t NC = (size_t)N * C;
    if (CHECK("layernorm_forward", "out", out, NC) ||
        CHECK("layernorm_forward", "mean", mean, N) ||
        CHECK("layernorm_forward", "rstd", rstd, N) ||
        CHECK("layernorm_forward", "inp", inp, NC) || CHECK("layernorm_forward", "w", w, C) ||
        CHECK("layernorm_forward", "b", b, C))
        return;
    struct kcall c = kcall_begin(be, KERNEL_layernorm_forward);
    kcall_tensor(&c, out);
    kcall_tensor(&c, mean);
    kcall_tensor(&c, rstd);
    kcall_tensor(&c, inp);
    kcall_tensor(&c, w);
    kcall_tensor(&c, b);
    kcall_int(&c, N);
    kcall_int(&c, C);
    run_rows(&c, N, C);
}

static void opencl_layernorm_backward(struct backend *be, dptr dinp, dptr dw, dptr db,
                                      dptr dout, dptr inp, dptr w, dptr mean, dptr rstd, int N,
                                      int C)
{
    const size_t NC = (size_t)N * C;
    if (CHECK("layernorm_backward", "dinp", dinp, NC) ||
        CHECK("layernorm_backward", "dw", dw, C) || CHECK("layernorm_backward", "db", db, C) ||
        CHECK("layernorm_backward", "dout", dout, NC) ||
        CHECK("layernorm_backward", "inp", inp, NC) || CHECK("layernorm_backward", "w", w, C) ||
        CHECK("layernorm_backward", "mean", mean, N) ||
        CHECK("layernorm_backward", "rstd", rstd, N))
        return;
    /* Parameter gradients first: they read dout, which the caller might have
     * laid over dinp. */
    struct kcall p = kcall_begin(be, KERNEL_layernorm_backward_params);
    kcall_tensor(&p, dw);
    kcall_tensor(&p, db);
    kcall_tensor(&p, dout);
    kcall_tensor(&p, inp);
    kcall_tensor(&p, mean);
    kcall_tensor(&p, rstd);
    kcall_int(&p, N);
    kcall_int(&p, C);
    run_columns(&p, N, C);

    struct kcall d = kcall_begin(be, KERNEL_layernorm_backward_dinp);
    kcall_tensor(&d, dinp);
    kcall_tensor(&d, dout);
    kcall_tensor(&d, inp);
    kcall_tensor(&d, w);
    kcall_tensor(&d, mean);
    kcall_tensor(&d, rstd);
    kcall_int(&d, N);
    kcall_int(&d, C);
    run_rows(&d, N, C);
}

static void opencl_gelu_forward(struct backend *be, dptr out, dptr inp, size_t n)
{
    if (CHECK("gelu_forward", "out", out, n) || CHECK("gelu_forward", "inp", inp, n))
        return;
    struct kcall c = kcall_begin(be, KERNEL_gelu_forward);
    kcall_tensor(&c, out);
    kcall_tensor(&c, inp);
    kcall_ulong(&c, n);
    run_linear(&c, n);
}

static void opencl_gelu_backward(struct backend *be, dptr dinp, dptr inp, dptr dout, size_t n)
{
    if (CHECK("gelu_backward", "dinp", dinp, n) || CHECK("gelu_backward", "inp", inp, n) ||
        CHECK("gelu_backward", "dout", dout, n))
        return;
    struct kcall c = kcall_begin(be, KERNEL_gelu_backward);
    kcall_tensor(&c, dinp);
    kcall_tensor(&c, inp);
    kcall_tensor(&c, dout);
    kcall_ulong(&c, n);
    run_linear(&c, n);
}

static void opencl_softmax_causal_forward(struct backend *be, dptr att, dptr pre, int R, int T)
{
    const size_t rows = (size_t)R * T;
    if (CHECK("softmax_causal_forward", "att", att, rows * T) ||
        CHECK("softmax_causal_forward", "pre", pre, rows * T))
        return;
    struct kcall c = kcall_begin(be, KERNEL_softmax_causal_forward);
    kcall_tensor(&c, att);
    kcall_tensor(&c, pre);
    kcall_ulong(&c, rows);
    kcall_int(&c, T);
    run_rows(&c, rows, T);
}

static void opencl_softmax_causal_backward(struct backend *be, dptr dpre, dptr datt, dptr att,
                                           int R, int T)
{
    const size_t rows = (size_t)R * T;
    if (CHECK("softmax_causal_backward", "dpre", dpre, rows * T) ||
        CHECK("softmax_causal_backward", "datt", datt, rows * T) ||
        CHECK("softmax_causal_backward", "att", att, rows * T))
        return;
    struct kcall c = kcall_begin(be, KERNEL_softmax_causal_backward);
    kcall_tensor(&c, dpre);
    kcall_tensor(&c, datt);
    kcall_tensor(&c, att);
    kcall_ulong(&c, rows);
    kcall_int(&c, T);
    run_rows(&c, rows, T);
}

static void opencl_softmax_rows_forward(struct backend *be, dptr out, dptr inp, int R, int n,
                                        int ld)
{
    if (R <= 0 || n <= 0)
        return;
    const size_t span = (size_t)(R - 1) * ld + n;
    if (CHECK("softmax_rows_forward", "out", out, span) ||
        CHECK("softmax_rows_forward", "inp", inp, span))
        return;
    struct kcall c = kcall_begin(be, KERNEL_softmax_rows_forward);
    kcall_tensor(&c, out);
    kcall_tensor(&c, inp);
    kcall_int(&c, R);
    kcall_int(&c, n);
    kcall_int(&c, ld);
    run_rows(&c, (size_t)R, (size_t)n);
}

/* ---- LLaMA family -------------------------------------------------------- */

static void opencl_embedding_forward(struct backend *be, dptr out, dptr tokens, dptr wte, int N,
                                     int C)
{
    /* wte's row count (V) is not an argument: only its start can be checked. */
    if (CHECK("embedding_forward", "out", out, (size_t)N * C) ||
        CHECK("embedding_forward", "tokens", tokens, N) ||
        CHECK("embedding_forward", "wte", wte, C))
        return;
    struct kcall c = kcall_begin(be, KERNEL_embedding_forward);
    kcall_tensor(&c, out);
    kcall_tensor(&c, tokens);
    kcall_tensor(&c, wte);
    kcall_int(&c, N);
    kcall_int(&c, C);
    run_grid(&c, C, N);
}

static void opencl_embedding_backward(struct backend *be, dptr dwte, dptr dout, dptr tokens,
                                      int N, int C)
{
    if (CHECK("embedding_backward", "dwte", dwte, C) ||
        CHECK("embedding_backward", "dout", dout, (size_t)N * C) ||
        CHECK("embedding_backward", "tokens", tokens, N) || N <= 0)
        return;
    token_rows_backward(be, dwte, dout, tokens, (size_t)N, C);
}

static void opencl_rmsnorm_forward(struct backend *be, dptr out, dptr rstd, dptr inp, dptr w,
                                   int N, int C, float eps)
{
    const size_t NC = (size_t)N * C;
    if (CHECK("rmsnorm_forward", "out", out, NC) || CHECK("rmsnorm_forward", "rstd", rstd, N) ||
        CHECK("rmsnorm_forward", "inp", inp, NC) || CHECK("rmsnorm_forward", "w", w, C))
        return;
    struct kcall c = kcall_begin(be, KERNEL_rmsnorm_forward);
    kcall_tensor(&c, out);
    kcall_tensor(&c, rstd);
    kcall_tensor(&c, inp);
    kcall_tensor(&c, w);
    kcall_int(&c, N);
    kcall_int(&c, C);
    kcall_float(&c, eps);
    run_rows(&c, N, C);
}

static void opencl_rmsnorm_backward(struct backend *be, dptr dinp, dptr dw, dptr dout, dptr inp,
                                    dptr w, dptr rstd, int N, int C)
{
    const size_t NC = (size_t)N * C;
    if (CHECK("rmsnorm_backward", "dinp", dinp, NC) || CHECK("rmsnorm_backward", "dw", dw, C) ||
        CHECK("rmsnorm_backward", "dout", dout, NC) ||
        CHECK("rmsnorm_backward", "inp", inp, NC) || CHECK("rmsnorm_backward", "w", w, C) ||
        CHECK("rmsnorm_backward", "rstd", rstd, N))
        return;
    /* dw first, as in layernorm_backward: it reads dout, which a caller
     * might have laid over dinp. */
    struct kcall p = kcall_begin(be, KERNEL_rmsnorm_backward_dw);
    kcall_tensor(&p, dw);
    kcall_tensor(&p, dout);
    kcall_tensor(&p, inp);
    kcall_tensor(&p, rstd);
    kcall_int(&p, N);
    kcall_int(&p, C);
    run_columns(&p, N, C);

    struct kcall d = kcall_begin(be, KERNEL_rmsnorm_backward_dinp);
    kcall_tensor(&d, dinp);
    kcall_tensor(&d, dout);
    kcall_tensor(&d, inp);
    kcall_tensor(&d, w);
    kcall_tensor(&d, rstd);
    kcall_int(&d, N);
    kcall_int(&d, C);
    run_rows(&d, N, C);
}

/* Forward (dir = 1) and backward (dir = -1) share one kernel (rope.cl). */
static void rope(struct backend *be, const char *op, dptr x, dptr freqs, int B, int T, int nh,
                 int hs, int ld, float dir)
{
    const size_t rows = (size_t)B * T;
    if (int_count(be, op, "B*T", rows))
        return;
    if (hs <= 0 || hs % 2 != 0 || nh < 0 || (size_t)nh * hs > (size_t)ld) {
        backend_fail(be, "%s: heads must be even and fit their rows: nh=%d hs=%d ld=%d", op, nh,
                     hs, ld);
        return;
    }
    /* the last row ends at its last head, not at ld */
    if (rows == 0 || nh == 0 ||
        CHECK(op, "x", x, (rows - 1) * (size_t)ld + (size_t)nh * hs) ||
        CHECK(op, "freqs", freqs, (size_t)T * hs))
        return;
    struct kcall c = kcall_begin(be, KERNEL_rope);
    kcall_tensor(&c, x);
    kcall_tensor(&c, freqs);
    kcall_int(&c, (int)rows);
    kcall_int(&c, T);
    kcall_int(&c, nh);
    kcall_int(&c, hs);
    kcall_int(&c, ld);
    kcall_float(&c, dir);
    run_grid(&c, (size_t)nh * (hs / 2), rows);
}

static void opencl_rope_forward(struct backend *be, dptr x, dptr freqs, int B, int T, int nh,
                                int hs, int ld)
{
    rope(be, "rope_forward", x, freqs, B, T, nh, hs, ld, 1.0f);
}

static void opencl_rope_backward(struct backend *be, dptr dx, dptr freqs, int B, int T, int nh,
                                 int hs, int ld)
{
    rope(be, "rope_backward", dx, freqs, B, T, nh, hs, ld, -1.0f);
}

static void opencl_swiglu_forward(struct backend *be, dptr out, dptr inp, int N, int F)
{
    if (CHECK("swiglu_forward", "out", out, (size_t)N * F) ||
        CHECK("swiglu_forward", "inp", inp, (size_t)N * 2 * F))
        return;
    struct kcall c = kcall_begin(be, KERNEL_swiglu_forward);
    kcall_tensor(&c, out);
    kcall_tensor(&c, inp);
    kcall_int(&c, N);
    kcall_int(&c, F);
    run_grid(&c, F, N);
}

static void opencl_swiglu_backward(struct backend *be, dptr dinp, dptr inp, dptr dout, int N,
                                   int F)
{
    if (CHECK("swiglu_backward", "dinp", dinp, (size_t)N * 2 * F) ||
        CHECK("swiglu_backward", "inp", inp, (size_t)N * 2 * F) ||
        CHECK("swiglu_backward", "dout", dout, (size_t)N * F))
        return;
    struct kcall c = kcall_begin(be, KERNEL_swiglu_backward);
    kcall_tensor(&c, dinp);
    kcall_tensor(&c, inp);
    kcall_tensor(&c, dout);
    kcall_int(&c, N);
    kcall_int(&c, F);
    run_grid(&c, F, N);
}

static void opencl_crossentropy_forward(struct backend *be, dptr losses, dptr lse,
                                        dptr logits, dptr targets, int N, int V, int Vp)
{
    if (CHECK("crossentropy_forward", "losses", losses, N) ||
        CHECK("crossentropy_forward", "lse", lse, N) ||
        CHECK("crossentropy_forward", "logits", logits, (size_t)N * Vp) ||
        CHECK("crossentropy_forward", "targets", targets, N))
        return;
    struct kcall c = kcall_begin(be, KERNEL_crossentropy_forward);
    kcall_tensor(&c, losses);
    kcall_tensor(&c, lse);
    kcall_tensor(&c, logits);
    kcall_tensor(&c, targets);
    kcall_int(&c, N);
    kcall_int(&c, V);
    kcall_int(&c, Vp);
    run_rows(&c, N, V);
}

static void opencl_crossentropy_backward(struct backend *be, dptr dlogits, dptr logits,
                                         dptr lse, dptr targets, dptr row_scale, int T, int N,
                                         int V, int Vp)
{
    if (T <= 0 || N % T != 0) {
        if (!be->failed)
            backend_fail(be, "crossentropy_backward: N=%d is not a multiple of T=%d", N, T);
        return;
    }
    if (CHECK("crossentropy_backward", "dlogits", dlogits, (size_t)N * Vp) ||
        CHECK("crossentropy_backward", "logits", logits, (size_t)N * Vp) ||
        CHECK("crossentropy_backward", "lse", lse, N) ||
        CHECK("crossentropy_backward", "targets", targets, N) ||
        CHECK("crossentropy_backward", "row_scale", row_scale, N / T))
        return;
    struct kcall c = kcall_begin(be, KERNEL_crossentropy_backward);
    kcall_tensor(&c, dlogits);
    kcall_tensor(&c, logits);
    kcall_tensor(&c, lse);
    kcall_tensor(&c, targets);
    kcall_tensor(&c, row_scale);
    kcall_int(&c, T);
    kcall_int(&c, N);
    kcall_int(&c, V);
    kcall_int(&c, Vp);
    run_grid(&c, Vp, N);
}

static void opencl_adamw(struct backend *be, dptr params, dptr grads, dptr m, dptr v, size_t n,
                         const struct adamw_args *a)
{
    if (CHECK("adamw", "params", params, n) || CHECK("adamw", "grads", grads, n) ||
        CHECK("adamw", "m", m, n) || CHECK("adamw", "v", v, n))
        return;
    struct kcall c = kcall_begin(be, KERNEL_adamw);
    kcall_tensor(&c, params);
    kcall_tensor(&c, grads);
    kcall_tensor(&c, m);
    kcall_tensor(&c, v);
    kcall_ulong(&c, n);
    kcall_float(&c, a->lr);
    kcall_float(&c, a->beta1);
    kcall_float(&c, a->beta2);
    kcall_float(&c, a->eps);
    kcall_float(&c, a->weight_decay);
    kcall_float(&c, a->grad_scale);
    kcall_float(&c, a->bias_correction1);
    kcall_float(&c, a->bias_correction2);
    run_linear(&c, n);
}

static double opencl_sum_squares(struct backend *be, dptr x, size_t n)
{
    if (CHECK("sum_squares", "x", x, n) || n == 0)
        return 0.0;
    struct opencl_impl *cl = opencl_impl_of(be);
    size_t local = opencl_wg_rows(cl, KERNEL_sum_squares_partial, n, 1);
    size_t groups = (n + local - 1) / local;
    if (groups > cl->max_partials)
        groups = cl->max_partials;
    /* whole multiples of the group size per chunk; the last chunk is short */
    size_t chunk = ((n + groups - 1) / groups + local - 1) / local * local;
    groups = (n + chunk - 1) / chunk;
    size_t global = groups * local;
    struct kcall c = kcall_begin(be, KERNEL_sum_squares_partial);
    kcall_mem(&c, cl->partials->mem);
    kcall_tensor(&c, x);
    kcall_ulong(&c, n);
    kcall_ulong(&c, chunk);
    kcall_local(&c, local * sizeof(float));
    kcall_run(&c, 1, &global, &local);

    /* The last stage on the host, in double and in group order. */
    float *partials = malloc(groups * sizeof *partials);
    if (!partials) {
        backend_fail(be, "sum_squares: out of host memory for %zu partial sums", groups);
        return 0.0;
    }
    dptr at = { cl->partials, 0 };
    opencl_download(be, partials, at, groups * sizeof *partials);
    double total = 0.0;
    for (size_t g = 0; g < groups; g++)
        total += partials[g];
    free(partials);
    return be->failed ? 0.0 : total;
}

const struct backend_ops opencl_backend_ops = {
    .alloc = opencl_alloc,
    .release = opencl_release,
    .upload = opencl_upload,
    .download = opencl_download,
    .fill = opencl_fill,
    .copy = opencl_copy,
    .finish = opencl_finish,
    .destroy = opencl_destroy,
    .gemm = opencl_gemm,
    .add_bias = opencl_add_bias,
    .col_sums = opencl_col_sums,
    .row_sums = opencl_row_sums,
    .encoder_forward = opencl_encoder_forward,
    .encoder_backward = opencl_encoder_backward,
    .layernorm_forward = opencl_layernorm_forward,
    .layernorm_backward = opencl_layernorm_backward,
    .gelu_forward = opencl_gelu_forward,
    .gelu_backward = opencl_gelu_backward,
    .softmax_causal_forward = opencl_softmax_causal_forward,
    .softmax_causal_backward = opencl_softmax_causal_backward,
    .softmax_rows_forward = opencl_softmax_rows_forward,
    .embedding_forward = opencl_embedding_forward,
    .embedding_backward = opencl_embedding_backward,
    .rmsnorm_forward = opencl_rmsnorm_forward,
    .rmsnorm_backward = opencl_rmsnorm_backward,
    .rope_forward = opencl_rope_forward,
    .rope_backward = opencl_rope_backward,
    .swiglu_forward = opencl_swiglu_forward,
    .swiglu_backward = opencl_swiglu_backward,
    .crossentropy_forward = opencl_crossentropy_forward,
    .crossentropy_backward = opencl_crossentropy_backward,
    .adamw = opencl_adamw,
    .sum_squares = opencl_sum_squares,
};
