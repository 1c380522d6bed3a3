/* tests/op_cases.c — see op_cases.h.
 *
 * Layout: a case is an op name, a shape label, up to MAX_T tensors with their
 * initial contents, sizes and scalars, a tolerance, and a call function that
 * issues the op either on a backend (dptr) or on the float64 reference
 * (double arrays), with the same argument order. One generator per op builds
 * its cases over a list of shapes and hands each to run_case, which runs it,
 * checks guards and inputs, gets the expected values and compares.
 *
 * Tolerances (normalized error, compare.h; floor 1), chosen from float32
 * round-off of each op's longest sum with ~10x headroom over what the CPU
 * backend measures (printed per case):
 *   fill, copy, embedding_forward                0 (bit-exact; a gather is too)
 *   add_bias, encoder_forward                    1e-6  (one addition)
 *   rope_forward/backward                        1e-6  (one rotation: two
 *                                                       products and a sum)
 *   gelu_forward/backward, softmax_causal_forward,
 *   softmax_rows_forward, swiglu_forward/backward 5e-6  (tanh/exp, a few ulp)
 *   adamw                                        1e-6  (lr 1e-2, so the update
 *                                                       and the decay show)
 *   col_sums, row_sums, encoder_backward, embedding_backward,
 *   layernorm_forward/backward, rmsnorm_forward/backward,
 *   softmax_causal_backward, crossentropy_forward/backward,
 *   sum_squares (relative)                        1e-5  (sums of up to ~1000
 *                                                       terms; 2e5 for sum_squares)
 *   gemm                                         1e-5  (K <= 257)
 */
#include "tests/op_cases.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ref/compare.h"
#include "tests/ref/ref_ops_f64.h"
#include "tests/ref/rng.h"

#define MAX_T 8
#define GUARD 37            /* guard elements before and after each tensor; odd, so
                               tensors start at offsets that are multiples of nothing */
#define SENTINEL 0x7FC0BEEFu /* guard bits: a quiet NaN, so an op reading out of
                               bounds also poisons its result */
#define ERR_FLOOR 1.0 /* normalized error = max|got - want| / max(1, max|want|) */

#define TOL_EXACT 0.0
#define TOL_ADD 1e-6
#define TOL_TRANSCENDENTAL 5e-6
#define TOL_ADAMW 1e-6
#define TOL_REDUCE 1e-5
#define TOL_GEMM 1e-5

/* IN: read only (must come back unchanged). OUT: "=" output, pre-filled with
 * garbage. INOUT: "+=" output or an in-place operand, pre-filled with data. */
enum kind { IN, OUT, INOUT };

struct tensor {
    const char *name;
    enum kind kind;
    int is_int;
    size_t n;
    float *f;   /* (n) initial contents, float tensors */
    int32_t *i; /* (n) initial contents, int32 tensors */
};

struct op_case;

/* What a call function gets: device pointers when be != NULL, else float64
 * host arrays for the reference. */
struct call {
    struct backend *be;
    dptr d[MAX_T];
    double *r[MAX_T];
    int32_t *ri[MAX_T];
    double scalar; /* an op's returned value (sum_squares) */
};

typedef void (*call_fn)(struct call *c, const struct op_case *k);

struct op_case {
    const char *op;
    char label[160];
    int nt;
    struct tensor t[MAX_T];
    int p[8];                 /* sizes, meaning per op (see each call function) */
    size_t n;                 /* element count for the flat ops */
    int ta, tb;               /* gemm */
    float alpha, beta, value; /* gemm scalars, fill value */
    float eps;                /* rmsnorm_forward */
    int batched;
    struct gemm_batch batch;
    struct adamw_args adam;
    int scalar_out; /* compare c.scalar */
    double tol;
    call_fn call;
};

struct env {
    struct backend *be, *ref;
    FILE *log;
    struct op_cases_result *res;
    struct rng rng;
    int op_cases; /* cases generated for the op in progress */
    int aborted;  /* a backend failed: its later calls would be no-ops */
    size_t base;  /* be's tensors start at this element of one buffer (0: own buffers) */
};

/* ---- reporting --------------------------------------------------------------- */

static void fail(struct env *e, const struct op_case *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct env *e, const struct op_case *k, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (e->res->failures++ == 0)
        snprintf(e->res->first, sizeof e->res->first, "%s [%s]: %s", k ? k->op : "-",
                 k ? k->label : "-", msg);
    if (e->log) {
        fprintf(e->log, "FAIL %-24s %-44s %s\n", k ? k->op : "-", k ? k->label : "", msg);
        fflush(e->log); /* a failing Check test may end its process without flushing */
    }
}

/* ---- building cases ---------------------------------------------------------- */

static struct op_case new_case(const char *op, call_fn call, double tol)
{
    struct op_case k;
    memset(&k, 0, sizeof k);
    k.op = op;
    k.call = call;
    k.tol = tol;
    return k;
}

static void label(struct op_case *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void label(struct op_case *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->label, sizeof k->label, fmt, ap);
    va_end(ap);
}

static struct tensor *add_tensor(struct op_case *k, const char *name, enum kind kind, int is_int,
                                 size_t n)
{
    struct tensor *t = &k->t[k->nt++];
    t->name = name;
    t->kind = kind;
    t->is_int = is_int;
    t->n = n;
    if (is_int)
        t->i = calloc(n ? n : 1, sizeof(int32_t));
    else
        t->f = calloc(n ? n : 1, sizeof(float));
    return t;
}

/* A float tensor of normal(mean, std) values; OUT tensors get garbage (large
 * values) whatever mean/std say, so "=" outputs must really be written. */
static float *add_f(struct env *e, struct op_case *k, const char *name, enum kind kind,
                    size_t n, double mean, double std)
{
    struct tensor *t = add_tensor(k, name, kind, 0, n);
    if (!t->f)
        return NULL;
    for (size_t i = 0; i < n; i++)
        t->f[i] = kind == OUT ? (float)(1e3 * rng_normal(&e->rng))
                              : (float)(mean + std * rng_normal(&e->rng));
    return t->f;
}

/* An int32 tensor of uniform ids in [lo, hi). */
static int32_t *add_i(struct env *e, struct op_case *k, const char *name, size_t n, int lo,
                      int hi)
{
    struct tensor *t = add_tensor(k, name, IN, 1, n);
    if (!t->i)
        return NULL;
    for (size_t i = 0; i < n; i++)
        t->i[i] = lo + rng_int(&e->rng, hi - lo);
    return t->i;
}

static void free_case(struct op_case *k)
{
    for (int i = 0; i < k->nt; i++) {
        free(k->t[i].f);
        free(k->t[i].i);
    }
}

/* ---- running one case ---------------------------------------------------------- */

/* Runs k on a backend: tensors in guarded buffers, the call, then the outputs
 * back into out[i] (malloc'd, n floats; NULL for int tensors). With
 * check_guards, guards and inputs must come back unchanged. With base > 0 the
 * tensors (with their guards) follow one another from element base of one
 * buffer of base + their size, so every op runs at offsets past base. */
static int run_backend(struct env *e, struct backend *be, const struct op_case *k,
                       float *out[MAX_T], double *scalar, int check_guards, size_t base)
{
    struct call c;
    struct dev_buffer *bufs[MAX_T] = { 0 }, *shared = NULL;
    size_t at[MAX_T] = { 0 }; /* where tensor i's leading guard starts in bufs[i] */
    uint32_t *stage[MAX_T] = { 0 };
    int rc = 0;
    memset(&c, 0, sizeof c);
    c.be = be;
    if (base > 0) {
        size_t end = base;
        for (int i = 0; i < k->nt; i++) {
            at[i] = end;
            end += k->t[i].n + 2 * GUARD;
        }
        shared = be->ops->alloc(be, end * 4);
        if (!shared) {
            fail(e, k, "%s backend: cannot allocate %zu floats for tensors at %zu: %s", be->name,
                 end, base, be->error);
            e->aborted = be->failed;
            return -1;
        }
    }
    for (int i = 0; i < k->nt; i++) {
        const struct tensor *t = &k->t[i];
        size_t total = t->n + 2 * GUARD;
        out[i] = NULL;
        stage[i] = malloc(total * 4);
        bufs[i] = shared ? shared : be->ops->alloc(be, total * 4);
        if (!stage[i] || !bufs[i]) {
            fail(e, k, "%s backend: cannot allocate %zu floats for %s: %s", be->name, total,
                 t->name, be->error);
            e->aborted = be->failed;
            rc = -1;
            goto done;
        }
        for (size_t j = 0; j < total; j++)
            stage[i][j] = SENTINEL;
        memcpy(stage[i] + GUARD, t->is_int ? (const void *)t->i : (const void *)t->f, t->n * 4);
        c.d[i] = (dptr){ bufs[i], at[i] + GUARD };
        be->ops->upload(be, (dptr){ bufs[i], at[i] }, stage[i], total * 4);
    }
    k->call(&c, k);
    *scalar = c.scalar;
    for (int i = 0; i < k->nt && !be->failed; i++) {
        const struct tensor *t = &k->t[i];
        size_t total = t->n + 2 * GUARD;
        uint32_t *back = malloc(total * 4);
        if (!back) {
            fail(e, k, "out of host memory");
            rc = -1;
            goto done;
        }
        be->ops->download(be, back, (dptr){ bufs[i], at[i] }, total * 4);
        if (check_guards && !be->failed) {
            for (size_t j = 0; j < total; j++) {
                int in_guard = j < GUARD || j >= GUARD + t->n;
                if ((in_guard || t->kind == IN) && back[j] != stage[i][j]) {
                    fail(e, k, "%s %s element %ld changed (0x%08x -> 0x%08x)",
                         in_guard ? "guard band of" : "input", t->name,
                         (long)j - GUARD, (unsigned)stage[i][j], (unsigned)back[j]);
                    rc = -1;
                    break;
                }
            }
        }
        if (!t->is_int && (out[i] = malloc(t->n * sizeof(float) + 1)))
            memcpy(out[i], back + GUARD, t->n * sizeof(float));
        free(back);
    }
    if (be->failed) {
        fail(e, k, "%s backend failed: %s", be->name, be->error);
        e->aborted = 1;
        rc = -1;
    }
done:
    for (int i = 0; i < k->nt; i++) {
        if (bufs[i] && !shared)
            be->ops->release(be, bufs[i]);
        free(stage[i]);
    }
    if (shared)
        be->ops->release(be, shared);
    return rc;
}

/* Runs k on the float64 reference; out[i] malloc'd (NULL for int tensors). */
static void run_reference(const struct op_case *k, double *out[MAX_T], double *scalar)
{
    struct call c;
    memset(&c, 0, sizeof c);
    for (int i = 0; i < k->nt; i++) {
        const struct tensor *t = &k->t[i];
        out[i] = NULL;
        if (t->is_int) {
            c.ri[i] = t->i;
            continue;
        }
        out[i] = c.r[i] = malloc(t->n * sizeof(double) + 1);
        for (size_t j = 0; c.r[i] && j < t->n; j++)
            c.r[i][j] = t->f[j];
    }
    k->call(&c, k);
    *scalar = c.scalar;
}

static void run_case(struct env *e, struct op_case *k)
{
    float *got[MAX_T] = { 0 }, *wantf[MAX_T] = { 0 };
    double *want[MAX_T] = { 0 }, got_s = 0, want_s = 0;
    e->op_cases++;
    for (int i = 0; i < k->nt; i++)
        if (!(k->t[i].is_int ? (void *)k->t[i].i : (void *)k->t[i].f)) {
            fail(e, k, "out of host memory");
            goto done;
        }
    if (e->aborted)
        goto done;
    e->res->cases++;
    if (run_backend(e, e->be, k, got, &got_s, 1, e->base))
        goto done;
    if (e->ref) {
        if (run_backend(e, e->ref, k, wantf, &want_s, 0, 0))
            goto done;
        for (int i = 0; i < k->nt; i++) {
            if (!wantf[i])
                continue;
            want[i] = malloc(k->t[i].n * sizeof(double) + 1);
            for (size_t j = 0; want[i] && j < k->t[i].n; j++)
                want[i][j] = wantf[i][j];
        }
    } else {
        run_reference(k, want, &want_s);
    }
    double worst = 0.0;
    for (int i = 0; i < k->nt; i++) {
        const struct tensor *t = &k->t[i];
        if (t->kind == IN || t->is_int)
            continue;
        if (!got[i] || !want[i]) {
            fail(e, k, "out of host memory");
            goto done;
        }
        struct ref_err r = ref_err_f_d(got[i], want[i], t->n, ERR_FLOOR);
        worst = fmax(worst, r.err);
        if (!(r.err <= k->tol)) {
            fail(e, k, "%s: normalized error %.3e > %.0e; worst element [%zu]: got %.9g, "
                       "expected %.9g", t->name, r.err, k->tol, r.worst, got[i][r.worst],
                 want[i][r.worst]);
            goto done;
        }
    }
    if (k->scalar_out) {
        double err = fabs(got_s - want_s) / fmax(fabs(want_s), ERR_FLOOR);
        worst = fmax(worst, err);
        if (!(err <= k->tol)) {
            fail(e, k, "result %.12g, expected %.12g: relative error %.3e > %.0e", got_s,
                 want_s, err, k->tol);
            goto done;
        }
    }
    if (e->log)
        fprintf(e->log, "ok   %-24s %-44s error %.2e (tol %.0e)\n", k->op, k->label, worst,
                k->tol);
done:
    for (int i = 0; i < MAX_T; i++) {
        free(got[i]);
        free(wantf[i]);
        free(want[i]);
    }
    free_case(k);
}

/* ---- memory and control: fill, copy ---------------------------------------------- */

static void call_fill(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->fill(c->be, c->d[0], k->value, k->n);
    else
        ref_fill(c->r[0], k->value, k->n);
}

static void cases_fill(struct env *e)
{
    const size_t sizes[] = { 1, 7, 1001, 65537 };
    const float values[] = { 0.0f, -2.5f, 3.0e-3f, 1.0f };
    for (int s = 0; s < 4; s++) {
        struct op_case k = new_case("fill", call_fill, TOL_EXACT);
        k.n = sizes[s];
        k.value = values[s];
        add_f(e, &k, "dst", OUT, k.n, 0, 0);
        label(&k, "n=%zu value=%g", k.n, k.value);
        run_case(e, &k);
    }
}

static void call_copy(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->copy(c->be, c->d[0], c->d[1], k->n);
    else
        ref_copy(c->r[0], c->r[1], k->n);
}

static void cases_copy(struct env *e)
{
    const size_t sizes[] = { 1, 13, 4099 };
    for (int s = 0; s < 3; s++) {
        struct op_case k = new_case("copy", call_copy, TOL_EXACT);
        k.n = sizes[s];
        add_f(e, &k, "dst", OUT, k.n, 0, 0);
        add_f(e, &k, "src", IN, k.n, 0, 1);
        label(&k, "n=%zu", k.n);
        run_case(e, &k);
    }
}

/* ---- gemm ------------------------------------------------------------------------- */

/* p: m, n, k, lda, ldb, ldc; tensors A, B, C */
static void call_gemm(struct call *c, const struct op_case *k)
{
    const int *p = k->p;
    const struct gemm_batch *g = k->batched ? &k->batch : NULL;
    if (c->be)
        c->be->ops->gemm(c->be, k->ta, k->tb, p[0], p[1], p[2], k->alpha, c->d[0], p[3],
                         c->d[1], p[4], k->beta, c->d[2], p[5], g);
    else
        ref_gemm(k->ta, k->tb, p[0], p[1], p[2], k->alpha, c->r[0], p[3], c->r[1], p[4],
                 k->beta, c->r[2], p[5], g);
}

/* Elements spanned by one (rows, cols) operand with leading dimension ld,
 * over the batch grid (so, si: its outer and inner strides). */
static size_t span(int rows, int cols, int ld, int outer, int inner, size_t so, size_t si)
{
    return (size_t)(outer - 1) * so + (size_t)(inner - 1) * si + (size_t)(rows - 1) * ld + cols;
}

/* One gemm case; g == NULL for a single product. nan_c fills C with NaN
 * (only meaningful with beta == 0, which must not read C). */
static void gemm_case(struct env *e, int ta, int tb, int m, int n, int kk, int lda, int ldb,
                      int ldc, float alpha, float beta, const struct gemm_batch *g,
                      const char *what, int nan_c)
{
    struct op_case k = new_case("gemm", call_gemm, TOL_GEMM);
    const struct gemm_batch one = { 1, 1, 0, 0, 0, 0, 0, 0 };
    const struct gemm_batch *b = g ? g : &one;
    int ar = ta ? kk : m, ac = ta ? m : kk, br = tb ? n : kk, bc = tb ? kk : n;
    k.ta = ta;
    k.tb = tb;
    k.alpha = alpha;
    k.beta = beta;
    k.batched = g != NULL;
    k.batch = *b;
    int p[6] = { m, n, kk, lda, ldb, ldc };
    memcpy(k.p, p, sizeof p);
    add_f(e, &k, "A", IN, span(ar, ac, lda, b->outer, b->inner, b->a_outer, b->a_inner), 0, 1);
    add_f(e, &k, "B", IN, span(br, bc, ldb, b->outer, b->inner, b->b_outer, b->b_inner), 0, 1);
    float *c = add_f(e, &k, "C", INOUT,
                     span(m, n, ldc, b->outer, b->inner, b->c_outer, b->c_inner), 0, 1);
    if (nan_c && c)
        for (size_t i = 0; i < k.t[2].n; i++)
            c[i] = NAN;
    label(&k, "%s%c%c m=%d n=%d k=%d ld=%d,%d,%d a=%g b=%g%s", what, ta ? 'T' : 'N',
          tb ? 'T' : 'N', m, n, kk, lda, ldb, ldc, alpha, beta, nan_c ? " C=NaN" : "");
    run_case(e, &k);
}

static void cases_gemm(struct env *e)
{
    const int shapes[][3] = { { 1, 1, 1 }, { 7, 13, 5 }, { 33, 65, 17 },
                              { 64, 48, 129 }, { 100, 3, 257 }, { 5, 130, 64 } };
    const float ab[][2] = { { 1.0f, 0.0f }, { 0.5f, 1.0f }, { -1.25f, 0.75f } };
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            for (int s = 0; s < 6; s++) {
                int m = shapes[s][0], n = shapes[s][1], kk = shapes[s][2], pad = s % 3;
                int ac = ta ? m : kk, bc = tb ? kk : n;
                gemm_case(e, ta, tb, m, n, kk, ac + pad, bc + pad, n + pad, ab[s % 3][0],
                          ab[s % 3][1], NULL, "", 0);
            }
            /* beta = 0 must not read C: models write into uninitialized memory */
            gemm_case(e, ta, tb, 9, 11, 6, ta ? 9 : 6, tb ? 6 : 11, 11, 1.0f, 0.0f, NULL, "", 1);
            /* one row (generation: one token against the weights), large enough
             * to be split over threads (CPU), and small; op(A)'s row strided when
             * ta; rows within test_parity's 512-element CLBlast views */
            gemm_case(e, ta, tb, 1, 300, 440, ta ? 3 : 440, tb ? 441 : 303, 300, 1.0f, 0.0f,
                      NULL, "one row ", 1);
            gemm_case(e, ta, tb, 1, 50, 33, ta ? 2 : 33, tb ? 33 : 50, 50, -1.25f, 0.75f, NULL,
                      "one row ", 0);
        }

    /* Attention's batched products on the two-level grid (o = row b, j = head
     * h), operands read in place from (B, T, 3C), (B, T, C), (B, NH, T, T). */
    const int B = 3, NH = 5, T = 7, hs = 6, C = NH * hs;
    const size_t t = T, qo = t * 3 * C, yo = t * C, ao = (size_t)NH * t * t, ai = t * t;
    const float scale = 1.0f / sqrtf((float)hs);
    const struct gemm_batch qk = { B, NH, qo, hs, qo, hs, ao, ai };    /* q k^T   -> att */
    const struct gemm_batch av = { B, NH, ao, ai, qo, hs, yo, hs };    /* att v   -> y   */
    const struct gemm_batch dv = { B, NH, ao, ai, yo, hs, qo, hs };    /* att^T dy -> dv */
    const struct gemm_batch dq = { B, NH, ao, ai, qo, hs, qo, hs };    /* datt k  -> dq  */
    gemm_case(e, 0, 1, T, T, hs, 3 * C, 3 * C, T, scale, 0.0f, &qk, "attn qk^T ", 0);
    gemm_case(e, 0, 0, T, hs, T, T, 3 * C, C, 1.0f, 0.0f, &av, "attn att.v ", 1);
    gemm_case(e, 1, 0, T, hs, T, T, C, 3 * C, 1.0f, 0.0f, &dv, "attn att^T.dy ", 0);
    gemm_case(e, 0, 0, T, hs, T, T, 3 * C, 3 * C, scale, 0.0f, &dq, "attn datt.k ", 0);
    /* A general grid: overlapping A blocks, one B shared by all inner
     * problems (b_inner = 0), C blocks apart, accumulating (beta = 1). */
    const struct gemm_batch gen = { 2, 3, 50, 3, 17, 0, 3 * 4 * 7 + 5, 4 * 7 };
    gemm_case(e, 0, 1, 4, 5, 3, 4, 6, 7, 0.5f, 1.0f, &gen, "grid ", 0);
}

/* ---- bias and reductions ------------------------------------------------------------- */

/* Row-by-column shapes shared by add_bias, col_sums and row_sums. */
static const int matrix_shapes[][2] = { { 1, 1 }, { 7, 13 }, { 65, 129 }, { 300, 97 },
                                        { 1000, 67 } };
#define N_MATRIX_SHAPES 5

static void call_add_bias(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->add_bias(c->be, c->d[0], c->d[1], k->p[0], k->p[1]);
    else
        ref_add_bias(c->r[0], c->r[1], k->p[0], k->p[1]);
}

static void call_col_sums(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->col_sums(c->be, c->d[0], c->d[1], k->p[0], k->p[1]);
    else
        ref_col_sums(c->r[0], c->r[1], k->p[0], k->p[1]);
}

static void call_row_sums(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->row_sums(c->be, c->d[0], c->d[1], k->p[0], k->p[1]);
    else
        ref_row_sums(c->r[0], c->r[1], k->p[0], k->p[1]);
}

static void cases_add_bias(struct env *e)
{
    for (int s = 0; s < N_MATRIX_SHAPES; s++) {
        struct op_case k = new_case("add_bias", call_add_bias, TOL_ADD);
        int N = matrix_shapes[s][0], OC = matrix_shapes[s][1];
        k.p[0] = N;
        k.p[1] = OC;
        add_f(e, &k, "out", INOUT, (size_t)N * OC, 0, 1);
        add_f(e, &k, "bias", IN, OC, 0, 1);
        label(&k, "N=%d OC=%d", N, OC);
        run_case(e, &k);
    }
}

static void cases_col_sums(struct env *e)
{
    for (int s = 0; s < N_MATRIX_SHAPES; s++) {
        struct op_case k = new_case("col_sums", call_col_sums, TOL_REDUCE);
        int N = matrix_shapes[s][0], OC = matrix_shapes[s][1];
        k.p[0] = N;
        k.p[1] = OC;
        add_f(e, &k, "out", INOUT, OC, 0, 1);
        add_f(e, &k, "in", IN, (size_t)N * OC, 0, 1);
        label(&k, "N=%d OC=%d", N, OC);
        run_case(e, &k);
    }
}

static void cases_row_sums(struct env *e)
{
    for (int s = 0; s < N_MATRIX_SHAPES; s++) {
        struct op_case k = new_case("row_sums", call_row_sums, TOL_REDUCE);
        /* transposed shapes: few long rows as well as many short ones */
        int R = matrix_shapes[s][1], K = matrix_shapes[s][0];
        k.p[0] = R;
        k.p[1] = K;
        add_f(e, &k, "out", OUT, R, 0, 0);
        add_f(e, &k, "in", IN, (size_t)R * K, 0.5, 1); /* non-zero mean, like losses */
        label(&k, "R=%d K=%d", R, K);
        run_case(e, &k);
    }
}

/* ---- embeddings ------------------------------------------------------------------------ */

/* p: B, T, C, V, maxT; tensors out/dwte, tokens/dwpe, ... (see calls) */
static void call_encoder_forward(struct call *c, const struct op_case *k)
{
    const int *p = k->p;
    if (c->be)
        c->be->ops->encoder_forward(c->be, c->d[0], c->d[1], c->d[2], c->d[3], p[0], p[1], p[2]);
    else
        ref_encoder_forward(c->r[0], c->ri[1], c->r[2], c->r[3], p[0], p[1], p[2]);
}

static void call_encoder_backward(struct call *c, const struct op_case *k)
{
    const int *p = k->p;
    if (c->be)
        c->be->ops->encoder_backward(c->be, c->d[0], c->d[1], c->d[2], c->d[3], p[0], p[1],
                                     p[2]);
    else
        ref_encoder_backward(c->r[0], c->r[1], c->r[2], c->ri[3], p[0], p[1], p[2]);
}

/* B, T, C, V, maxT: few tokens (V small) so ids repeat within and across rows */
static const int encoder_shapes[][5] = { { 1, 1, 1, 1, 1 }, { 3, 9, 24, 61, 12 },
                                         { 2, 5, 67, 3, 7 }, { 5, 30, 130, 11, 33 } };

static void cases_encoder_forward(struct env *e)
{
    for (int s = 0; s < 4; s++) {
        struct op_case k = new_case("encoder_forward", call_encoder_forward, TOL_ADD);
        const int *sh = encoder_shapes[s];
        int B = sh[0], T = sh[1], C = sh[2], V = sh[3], maxT = sh[4];
        memcpy(k.p, sh, sizeof encoder_shapes[0]);
        add_f(e, &k, "out", OUT, (size_t)B * T * C, 0, 0);
        add_i(e, &k, "tokens", (size_t)B * T, 0, V);
        add_f(e, &k, "wte", IN, (size_t)V * C, 0, 1);
        add_f(e, &k, "wpe", IN, (size_t)maxT * C, 0, 1);
        label(&k, "B=%d T=%d C=%d V=%d maxT=%d", B, T, C, V, maxT);
        run_case(e, &k);
    }
}

static void cases_encoder_backward(struct env *e)
{
    for (int s = 0; s < 4; s++) {
        struct op_case k = new_case("encoder_backward", call_encoder_backward, TOL_REDUCE);
        const int *sh = encoder_shapes[s];
        int B = sh[0], T = sh[1], C = sh[2], V = sh[3], maxT = sh[4];
        memcpy(k.p, sh, sizeof encoder_shapes[0]);
        add_f(e, &k, "dwte", INOUT, (size_t)V * C, 0, 1);
        add_f(e, &k, "dwpe", INOUT, (size_t)maxT * C, 0, 1);
        add_f(e, &k, "dout", IN, (size_t)B * T * C, 0, 1);
        add_i(e, &k, "tokens", (size_t)B * T, 0, V);
        label(&k, "B=%d T=%d C=%d V=%d maxT=%d", B, T, C, V, maxT);
        run_case(e, &k);
    }
}

/* ---- layer norm ------------------------------------------------------------------------- */

static const int ln_shapes[][2] = { { 1, 1 }, { 7, 24 }, { 33, 67 }, { 5, 771 }, { 200, 130 } };

/* tensors: out, mean, rstd, inp, w, b; p: N, C */
static void call_layernorm_forward(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->layernorm_forward(c->be, c->d[0], c->d[1], c->d[2], c->d[3], c->d[4],
                                      c->d[5], k->p[0], k->p[1]);
    else
        ref_layernorm_forward(c->r[0], c->r[1], c->r[2], c->r[3], c->r[4], c->r[5], k->p[0],
                              k->p[1]);
}

/* tensors: dinp, dw, db, dout, inp, w, mean, rstd; p: N, C */
static void call_layernorm_backward(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->layernorm_backward(c->be, c->d[0], c->d[1], c->d[2], c->d[3], c->d[4],
                                       c->d[5], c->d[6], c->d[7], k->p[0], k->p[1]);
    else
        ref_layernorm_backward(c->r[0], c->r[1], c->r[2], c->r[3], c->r[4], c->r[5], c->r[6],
                               c->r[7], k->p[0], k->p[1]);
}

static void cases_layernorm_forward(struct env *e)
{
    for (int s = 0; s < 5; s++) {
        struct op_case k = new_case("layernorm_forward", call_layernorm_forward, TOL_REDUCE);
        int N = ln_shapes[s][0], C = ln_shapes[s][1];
        k.p[0] = N;
        k.p[1] = C;
        add_f(e, &k, "out", OUT, (size_t)N * C, 0, 0);
        add_f(e, &k, "mean", OUT, N, 0, 0);
        add_f(e, &k, "rstd", OUT, N, 0, 0);
        add_f(e, &k, "inp", IN, (size_t)N * C, 3.0, 2.0); /* mean far from 0 */
        add_f(e, &k, "w", IN, C, 1.0, 0.2);
        add_f(e, &k, "b", IN, C, 0.0, 0.2);
        label(&k, "N=%d C=%d", N, C);
        run_case(e, &k);
    }
}

static void cases_layernorm_backward(struct env *e)
{
    for (int s = 0; s < 5; s++) {
        struct op_case k = new_case("layernorm_backward", call_layernorm_backward, TOL_REDUCE);
        int N = ln_shapes[s][0], C = ln_shapes[s][1];
        k.p[0] = N;
        k.p[1] = C;
        add_f(e, &k, "dinp", INOUT, (size_t)N * C, 0, 1);
        add_f(e, &k, "dw", INOUT, C, 0, 1);
        add_f(e, &k, "db", INOUT, C, 0, 1);
        add_f(e, &k, "dout", IN, (size_t)N * C, 0, 1);
        const float *x = add_f(e, &k, "inp", IN, (size_t)N * C, 3.0, 2.0);
        add_f(e, &k, "w", IN, C, 1.0, 0.2);
        float *mean = add_f(e, &k, "mean", IN, N, 0, 0);
        float *rstd = add_f(e, &k, "rstd", IN, N, 0, 0);
        /* the statistics a forward of inp produces (float64, rounded once) */
        for (int i = 0; x && mean && rstd && i < N; i++) {
            double mu = 0, var = 0;
            for (int c = 0; c < C; c++)
                mu += x[(size_t)i * C + c];
            mu /= C;
            for (int c = 0; c < C; c++)
                var += (x[(size_t)i * C + c] - mu) * (x[(size_t)i * C + c] - mu);
            mean[i] = (float)mu;
            rstd[i] = (float)(1.0 / sqrt(var / C + 1e-5));
        }
        label(&k, "N=%d C=%d", N, C);
        run_case(e, &k);
    }
}

/* ---- GELU ----------------------------------------------------------------------------- */

static const size_t flat_sizes[] = { 1, 7, 1000, 4099, 65541 };
#define N_FLAT_SIZES 5

/* p[0] = 1: in place (out = inp is tensor 0 alone) */
static void call_gelu_forward(struct call *c, const struct op_case *k)
{
    int in_place = k->p[0];
    if (c->be)
        c->be->ops->gelu_forward(c->be, c->d[0], c->d[in_place ? 0 : 1], k->n);
    else
        ref_gelu_forward(c->r[0], c->r[in_place ? 0 : 1], k->n);
}

/* tensors dinp, inp, dout; in place: dinp = dout is tensor 0, inp tensor 1 */
static void call_gelu_backward(struct call *c, const struct op_case *k)
{
    int in_place = k->p[0];
    if (c->be)
        c->be->ops->gelu_backward(c->be, c->d[0], c->d[1], c->d[in_place ? 0 : 2], k->n);
    else
        ref_gelu_backward(c->r[0], c->r[1], c->r[in_place ? 0 : 2], k->n);
}

static void cases_gelu_forward(struct env *e)
{
    for (int s = 0; s < N_FLAT_SIZES; s++)
        for (int in_place = 0; in_place < 2; in_place++) {
            struct op_case k = new_case("gelu_forward", call_gelu_forward, TOL_TRANSCENDENTAL);
            k.n = flat_sizes[s];
            k.p[0] = in_place;
            if (in_place) {
                add_f(e, &k, "out=inp", INOUT, k.n, 0, 3); /* tails out to |x| ~ 10 */
            } else {
                add_f(e, &k, "out", OUT, k.n, 0, 0);
                add_f(e, &k, "inp", IN, k.n, 0, 3);
            }
            label(&k, "n=%zu%s", k.n, in_place ? " in place" : "");
            run_case(e, &k);
        }
}

static void cases_gelu_backward(struct env *e)
{
    for (int s = 0; s < N_FLAT_SIZES; s++)
        for (int in_place = 0; in_place < 2; in_place++) {
            struct op_case k = new_case("gelu_backward", call_gelu_backward, TOL_TRANSCENDENTAL);
            k.n = flat_sizes[s];
            k.p[0] = in_place;
            add_f(e, &k, in_place ? "dinp=dout" : "dinp", in_place ? INOUT : OUT, k.n, 0, 1);
            add_f(e, &k, "inp", IN, k.n, 0, 3);
            if (!in_place)
                add_f(e, &k, "dout", IN, k.n, 0, 1);
            label(&k, "n=%zu%s", k.n, in_place ? " in place" : "");
            run_case(e, &k);
        }
}

/* ---- causal softmax ----------------------------------------------------------------------- */

static const int softmax_shapes[][2] = { { 1, 1 }, { 3, 7 }, { 15, 33 }, { 2, 64 }, { 4, 129 } };

/* tensors att, pre (forward) or dpre, datt, att (backward); p[0], p[1] = R, T;
 * p[2] = 1: in place (att = pre, or dpre = datt, is tensor 0) */
static void call_softmax_causal_forward(struct call *c, const struct op_case *k)
{
    int src = k->p[2] ? 0 : 1;
    if (c->be)
        c->be->ops->softmax_causal_forward(c->be, c->d[0], c->d[src], k->p[0], k->p[1]);
    else
        ref_softmax_causal_forward(c->r[0], c->r[src], k->p[0], k->p[1]);
}

static void call_softmax_causal_backward(struct call *c, const struct op_case *k)
{
    int src = k->p[2] ? 0 : 2;
    if (c->be)
        c->be->ops->softmax_causal_backward(c->be, c->d[0], c->d[src], c->d[1], k->p[0],
                                            k->p[1]);
    else
        ref_softmax_causal_backward(c->r[0], c->r[src], c->r[1], k->p[0], k->p[1]);
}

static void cases_softmax_causal_forward(struct env *e)
{
    for (int s = 0; s < 5; s++)
        for (int in_place = 0; in_place < 2; in_place++) {
            struct op_case k = new_case("softmax_causal_forward", call_softmax_causal_forward,
                                        TOL_TRANSCENDENTAL);
            int R = softmax_shapes[s][0], T = softmax_shapes[s][1];
            size_t n = (size_t)R * T * T;
            k.p[0] = R;
            k.p[1] = T;
            k.p[2] = in_place;
            if (in_place) {
                add_f(e, &k, "att=pre", INOUT, n, 0, 3);
            } else {
                add_f(e, &k, "att", OUT, n, 0, 0);
                add_f(e, &k, "pre", IN, n, 0, 3);
            }
            label(&k, "R=%d T=%d%s", R, T, in_place ? " in place" : "");
            run_case(e, &k);
        }
}

static void cases_softmax_causal_backward(struct env *e)
{
    for (int s = 0; s < 5; s++)
        for (int in_place = 0; in_place < 2; in_place++) {
            struct op_case k = new_case("softmax_causal_backward", call_softmax_causal_backward,
                                        TOL_REDUCE);
            int R = softmax_shapes[s][0], T = softmax_shapes[s][1];
            size_t n = (size_t)R * T * T;
            k.p[0] = R;
            k.p[1] = T;
            k.p[2] = in_place;
            add_f(e, &k, in_place ? "dpre=datt" : "dpre", in_place ? INOUT : OUT, n, 0, 1);
            float *att = add_f(e, &k, "att", IN, n, 0, 3);
            if (!in_place)
                add_f(e, &k, "datt", IN, n, 0, 1);
            /* att must be a causal softmax, as a forward makes it */
            double *tmp = malloc(n * sizeof(double));
            if (att && tmp) {
                for (size_t i = 0; i < n; i++)
                    tmp[i] = att[i];
                ref_softmax_causal_forward(tmp, tmp, R, T);
                for (size_t i = 0; i < n; i++)
                    att[i] = (float)tmp[i];
            }
            free(tmp);
            label(&k, "R=%d T=%d%s", R, T, in_place ? " in place" : "");
            run_case(e, &k);
        }
}

/* ---- row softmax (one query over a KV cache) ------------------------------------------------ */

/* R, n, ld: single rows and many, n = 1, odd n, rows wider than n (a cache
 * row holds maxT scores, n of them in use) */
static const int softmax_rows_shapes[][3] = {
    { 1, 1, 1 }, { 3, 7, 7 }, { 12, 33, 40 }, { 2, 129, 130 }, { 4, 1000, 1031 },
};

/* tensors out, inp; p = R, n, ld, in place (out = inp is tensor 0) */
static void call_softmax_rows_forward(struct call *c, const struct op_case *k)
{
    int src = k->p[3] ? 0 : 1;
    if (c->be)
        c->be->ops->softmax_rows_forward(c->be, c->d[0], c->d[src], k->p[0], k->p[1], k->p[2]);
    else
        ref_softmax_rows_forward(c->r[0], c->r[src], k->p[0], k->p[1], k->p[2]);
}

static void cases_softmax_rows_forward(struct env *e)
{
    for (int s = 0; s < 5; s++)
        for (int in_place = 0; in_place < 2; in_place++) {
            struct op_case k = new_case("softmax_rows_forward", call_softmax_rows_forward,
                                        TOL_TRANSCENDENTAL);
            const int *sh = softmax_rows_shapes[s];
            size_t n = (size_t)sh[0] * sh[2];
            k.p[0] = sh[0];
            k.p[1] = sh[1];
            k.p[2] = sh[2];
            k.p[3] = in_place;
            /* "out" holds data of the size of probabilities (not OUT's garbage,
             * which would swamp the normalized error): its columns past n must
             * come back as they were, the others overwritten */
            add_f(e, &k, in_place ? "out=inp" : "out", INOUT, n, 0, in_place ? 3 : 0.5);
            if (!in_place)
                add_f(e, &k, "inp", IN, n, 0, 3);
            label(&k, "R=%d n=%d ld=%d%s", sh[0], sh[1], sh[2], in_place ? " in place" : "");
            run_case(e, &k);
        }
}

/* ---- LLaMA family: token embedding --------------------------------------------------------- */

/* N, C, V: few tokens (V small) so ids repeat, and one V much larger than N
 * so most rows of dwte must come back untouched */
static const int embedding_shapes[][3] = { { 1, 1, 1 }, { 7, 13, 5 }, { 30, 67, 11 },
                                           { 64, 130, 3 }, { 5, 24, 1000 } };

/* tensors out, tokens, wte; p: N, C */
static void call_embedding_forward(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->embedding_forward(c->be, c->d[0], c->d[1], c->d[2], k->p[0], k->p[1]);
    else
        ref_embedding_forward(c->r[0], c->ri[1], c->r[2], k->p[0], k->p[1]);
}

/* tensors dwte, dout, tokens; p: N, C */
static void call_embedding_backward(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->embedding_backward(c->be, c->d[0], c->d[1], c->d[2], k->p[0], k->p[1]);
    else
        ref_embedding_backward(c->r[0], c->r[1], c->ri[2], k->p[0], k->p[1]);
}

static void cases_embedding_forward(struct env *e)
{
    for (int s = 0; s < 5; s++) {
        /* a gather: every backend must return wte's floats as they are */
        struct op_case k = new_case("embedding_forward", call_embedding_forward, TOL_EXACT);
        int N = embedding_shapes[s][0], C = embedding_shapes[s][1], V = embedding_shapes[s][2];
        k.p[0] = N;
        k.p[1] = C;
        add_f(e, &k, "out", OUT, (size_t)N * C, 0, 0);
        add_i(e, &k, "tokens", N, 0, V);
        add_f(e, &k, "wte", IN, (size_t)V * C, 0, 1);
        label(&k, "N=%d C=%d V=%d", N, C, V);
        run_case(e, &k);
    }
}

static void cases_embedding_backward(struct env *e)
{
    for (int s = 0; s < 5; s++) {
        struct op_case k = new_case("embedding_backward", call_embedding_backward, TOL_REDUCE);
        int N = embedding_shapes[s][0], C = embedding_shapes[s][1], V = embedding_shapes[s][2];
        k.p[0] = N;
        k.p[1] = C;
        add_f(e, &k, "dwte", INOUT, (size_t)V * C, 0, 1);
        add_f(e, &k, "dout", IN, (size_t)N * C, 0, 1);
        add_i(e, &k, "tokens", N, 0, V);
        label(&k, "N=%d C=%d V=%d", N, C, V);
        run_case(e, &k);
    }
}

/* ---- LLaMA family: RMSNorm ----------------------------------------------------------------- */

/* N, C, and the inputs' standard deviation: at 3e-3, mean(x^2) is about the
 * size of eps, so an op that drops or rounds eps differently fails */
static const struct {
    int N, C;
    double std;
    float eps;
} rmsnorm_shapes[] = { { 1, 1, 2.0, 1e-5f }, { 7, 13, 3e-3, 1e-5f }, { 33, 67, 2.0, 1e-6f },
                       { 5, 771, 2.0, 1e-5f }, { 200, 130, 2.0, 1e-6f } };

/* tensors out, rstd, inp, w; p: N, C; eps */
static void call_rmsnorm_forward(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->rmsnorm_forward(c->be, c->d[0], c->d[1], c->d[2], c->d[3], k->p[0], k->p[1],
                                    k->eps);
    else
        ref_rmsnorm_forward(c->r[0], c->r[1], c->r[2], c->r[3], k->p[0], k->p[1], k->eps);
}

/* tensors dinp, dw, dout, inp, w, rstd; p: N, C */
static void call_rmsnorm_backward(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->rmsnorm_backward(c->be, c->d[0], c->d[1], c->d[2], c->d[3], c->d[4],
                                     c->d[5], k->p[0], k->p[1]);
    else
        ref_rmsnorm_backward(c->r[0], c->r[1], c->r[2], c->r[3], c->r[4], c->r[5], k->p[0],
                             k->p[1]);
}

static void cases_rmsnorm_forward(struct env *e)
{
    for (int s = 0; s < 5; s++) {
        struct op_case k = new_case("rmsnorm_forward", call_rmsnorm_forward, TOL_REDUCE);
        int N = rmsnorm_shapes[s].N, C = rmsnorm_shapes[s].C;
        double std = rmsnorm_shapes[s].std;
        k.p[0] = N;
        k.p[1] = C;
        k.eps = rmsnorm_shapes[s].eps;
        add_f(e, &k, "out", OUT, (size_t)N * C, 0, 0);
        add_f(e, &k, "rstd", OUT, N, 0, 0);
        add_f(e, &k, "inp", IN, (size_t)N * C, 0.25 * std, std); /* not centered */
        add_f(e, &k, "w", IN, C, 1.0, 0.2);
        label(&k, "N=%d C=%d std=%g eps=%g", N, C, std, k.eps);
        run_case(e, &k);
    }
}

static void cases_rmsnorm_backward(struct env *e)
{
    for (int s = 0; s < 5; s++) {
        struct op_case k = new_case("rmsnorm_backward", call_rmsnorm_backward, TOL_REDUCE);
        int N = rmsnorm_shapes[s].N, C = rmsnorm_shapes[s].C;
        double std = rmsnorm_shapes[s].std;
        k.p[0] = N;
        k.p[1] = C;
        add_f(e, &k, "dinp", INOUT, (size_t)N * C, 0, 1);
        add_f(e, &k, "dw", INOUT, C, 0, 1);
        add_f(e, &k, "dout", IN, (size_t)N * C, 0, 1);
        const float *x = add_f(e, &k, "inp", IN, (size_t)N * C, 0.25 * std, std);
        add_f(e, &k, "w", IN, C, 1.0, 0.2);
        float *rstd = add_f(e, &k, "rstd", IN, N, 0, 0);
        /* the rstd a forward of inp produces (float64, rounded once) */
        for (int i = 0; x && rstd && i < N; i++) {
            double ms = 0;
            for (int c = 0; c < C; c++)
                ms += (double)x[(size_t)i * C + c] * x[(size_t)i * C + c];
            rstd[i] = (float)(1.0 / sqrt(ms / C + rmsnorm_shapes[s].eps));
        }
        label(&k, "N=%d C=%d std=%g", N, C, std);
        run_case(e, &k);
    }
}

/* ---- LLaMA family: rotary position embedding ------------------------------------------------ */

/* Heads nh of hs at column col0 of rows of ld floats: like q (col0 = 0) or k
 * (col0 = C) inside a fused qkv row, so ld > col0 + nh*hs leaves columns on
 * either side that the op must not touch (they are compared too, and any
 * rotation of them moves them by O(1), far outside the tolerance). */
static const struct {
    int B, T, nh, hs, ld, col0;
    double theta;
} rope_shapes[] = { { 1, 1, 1, 2, 2, 0, 1e4 },       { 2, 7, 3, 6, 54, 18, 1e4 },
                    { 3, 5, 3, 10, 90, 0, 1e4 },      { 1, 33, 4, 10, 43, 1, 5e5 },
                    { 2, 17, 2, 64, 128 + 3, 0, 1e4 } };

/* tensors x (B*T rows of ld; heads from column p[5]), freqs; p: B, T, nh, hs, ld, col0 */
static void call_rope(struct call *c, const struct op_case *k, int backward)
{
    const int *p = k->p;
    if (c->be) {
        void (*op)(struct backend *, dptr, dptr, int, int, int, int, int) =
            backward ? c->be->ops->rope_backward : c->be->ops->rope_forward;
        op(c->be, dptr_at(c->d[0], (size_t)p[5]), c->d[1], p[0], p[1], p[2], p[3], p[4]);
    } else if (backward) {
        ref_rope_backward(c->r[0] + p[5], c->r[1], p[0], p[1], p[2], p[3], p[4]);
    } else {
        ref_rope_forward(c->r[0] + p[5], c->r[1], p[0], p[1], p[2], p[3], p[4]);
    }
}

static void call_rope_forward(struct call *c, const struct op_case *k) { call_rope(c, k, 0); }
static void call_rope_backward(struct call *c, const struct op_case *k) { call_rope(c, k, 1); }

static void rope_cases(struct env *e, const char *op, call_fn call)
{
    for (size_t s = 0; s < sizeof rope_shapes / sizeof rope_shapes[0]; s++) {
        /* one rotation per pair: two products and a sum, like one addition */
        struct op_case k = new_case(op, call, TOL_ADD);
        int B = rope_shapes[s].B, T = rope_shapes[s].T, nh = rope_shapes[s].nh;
        int hs = rope_shapes[s].hs, ld = rope_shapes[s].ld, col0 = rope_shapes[s].col0;
        int p[6] = { B, T, nh, hs, ld, col0 };
        memcpy(k.p, p, sizeof p);
        add_f(e, &k, "x", INOUT, (size_t)B * T * ld, 0, 1);
        float *freqs = add_f(e, &k, "freqs", IN, (size_t)T * hs, 0, 0);
        /* the table a model builds: float64, rounded once */
        double *tab = malloc((size_t)T * hs * sizeof(double));
        if (freqs && tab) {
            ref_rope_table(tab, T, hs, rope_shapes[s].theta);
            for (size_t i = 0; i < (size_t)T * hs; i++)
                freqs[i] = (float)tab[i];
        } else { /* no table: run_case reports the missing tensor */
            free(k.t[1].f);
            k.t[1].f = NULL;
        }
        free(tab);
        label(&k, "B=%d T=%d nh=%d hs=%d ld=%d col0=%d theta=%.0e", B, T, nh, hs, ld, col0,
              rope_shapes[s].theta);
        run_case(e, &k);
    }
}

static void cases_rope_forward(struct env *e)
{
    rope_cases(e, "rope_forward", call_rope_forward);
}

static void cases_rope_backward(struct env *e)
{
    rope_cases(e, "rope_backward", call_rope_backward);
}

/* ---- LLaMA family: SwiGLU ------------------------------------------------------------------- */

/* N, F, and whether the gate values span [-100, 100] (e^-g overflows float
 * below -88: the op must still give finite values) instead of normal(0, 3) */
static const int swiglu_shapes[][3] = { { 1, 1, 0 }, { 7, 5, 0 }, { 3, 33, 0 }, { 64, 130, 0 },
                                        { 17, 1000, 0 }, { 4, 33, 1 } };

/* inp (N, 2F) = [g | u] */
static void swiglu_inp(struct env *e, struct op_case *k, int N, int F, int wide)
{
    float *x = add_f(e, k, "inp", IN, (size_t)N * 2 * F, 0, 3);
    for (int i = 0; x && wide && i < N; i++)
        for (int f = 0; f < F; f++)
            x[(size_t)i * 2 * F + f] = (float)(200.0 * rng_uniform(&e->rng) - 100.0);
}

/* tensors out, inp; p: N, F */
static void call_swiglu_forward(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->swiglu_forward(c->be, c->d[0], c->d[1], k->p[0], k->p[1]);
    else
        ref_swiglu_forward(c->r[0], c->r[1], k->p[0], k->p[1]);
}

/* tensors dinp, inp, dout; p: N, F */
static void call_swiglu_backward(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->swiglu_backward(c->be, c->d[0], c->d[1], c->d[2], k->p[0], k->p[1]);
    else
        ref_swiglu_backward(c->r[0], c->r[1], c->r[2], k->p[0], k->p[1]);
}

static void cases_swiglu_forward(struct env *e)
{
    for (size_t s = 0; s < sizeof swiglu_shapes / sizeof swiglu_shapes[0]; s++) {
        struct op_case k = new_case("swiglu_forward", call_swiglu_forward, TOL_TRANSCENDENTAL);
        int N = swiglu_shapes[s][0], F = swiglu_shapes[s][1], wide = swiglu_shapes[s][2];
        k.p[0] = N;
        k.p[1] = F;
        add_f(e, &k, "out", OUT, (size_t)N * F, 0, 0);
        swiglu_inp(e, &k, N, F, wide);
        label(&k, "N=%d F=%d%s", N, F, wide ? " g in [-100, 100]" : "");
        run_case(e, &k);
    }
}

static void cases_swiglu_backward(struct env *e)
{
    for (size_t s = 0; s < sizeof swiglu_shapes / sizeof swiglu_shapes[0]; s++) {
        struct op_case k = new_case("swiglu_backward", call_swiglu_backward, TOL_TRANSCENDENTAL);
        int N = swiglu_shapes[s][0], F = swiglu_shapes[s][1], wide = swiglu_shapes[s][2];
        k.p[0] = N;
        k.p[1] = F;
        add_f(e, &k, "dinp", OUT, (size_t)N * 2 * F, 0, 0);
        swiglu_inp(e, &k, N, F, wide);
        add_f(e, &k, "dout", IN, (size_t)N * F, 0, 1);
        label(&k, "N=%d F=%d%s", N, F, wide ? " g in [-100, 100]" : "");
        run_case(e, &k);
    }
}

/* ---- cross-entropy ------------------------------------------------------------------------ */

/* N = B*T, V, Vp, T */
static const int ce_shapes[][4] = { { 1, 2, 2, 1 }, { 27, 61, 64, 9 }, { 37, 1000, 1024, 37 },
                                    { 10, 7, 7, 5 }, { 12, 50, 53, 4 } };

/* Targets in [0, V) with about one in five ignored (-1). */
static void ce_targets(struct env *e, struct op_case *k, int N, int V)
{
    int32_t *t = add_i(e, k, "targets", N, 0, V);
    for (int i = 0; t && i < N; i++)
        if (N > 1 && rng_uniform(&e->rng) < 0.2)
            t[i] = -1;
}

/* Logits (N, Vp): real columns normal(0, 3), padding columns huge (they must
 * not enter any sum). */
static float *ce_logits(struct env *e, struct op_case *k, const char *name, enum kind kind,
                        int N, int V, int Vp)
{
    float *z = add_f(e, k, name, kind, (size_t)N * Vp, 0, 3);
    for (int i = 0; z && i < N; i++)
        for (int v = V; v < Vp; v++)
            z[(size_t)i * Vp + v] = 1e4f;
    return z;
}

/* tensors losses, lse, logits, targets; p: N, V, Vp */
static void call_crossentropy_forward(struct call *c, const struct op_case *k)
{
    const int *p = k->p;
    if (c->be)
        c->be->ops->crossentropy_forward(c->be, c->d[0], c->d[1], c->d[2], c->d[3], p[0], p[1],
                                         p[2]);
    else
        ref_crossentropy_forward(c->r[0], c->r[1], c->r[2], c->ri[3], p[0], p[1], p[2]);
}

/* tensors dlogits, logits, lse, targets, row_scale; p: N, V, Vp, T, in place
 * (dlogits = logits is tensor 0) */
static void call_crossentropy_backward(struct call *c, const struct op_case *k)
{
    const int *p = k->p;
    int lg = p[4] ? 0 : 1;
    if (c->be)
        c->be->ops->crossentropy_backward(c->be, c->d[0], c->d[lg], c->d[2], c->d[3], c->d[4],
                                          p[3], p[0], p[1], p[2]);
    else
        ref_crossentropy_backward(c->r[0], c->r[lg], c->r[2], c->ri[3], c->r[4], p[3], p[0],
                                  p[1], p[2]);
}

static void cases_crossentropy_forward(struct env *e)
{
    for (int s = 0; s < 5; s++) {
        struct op_case k = new_case("crossentropy_forward", call_crossentropy_forward,
                                    TOL_REDUCE);
        int N = ce_shapes[s][0], V = ce_shapes[s][1], Vp = ce_shapes[s][2];
        k.p[0] = N;
        k.p[1] = V;
        k.p[2] = Vp;
        add_f(e, &k, "losses", OUT, N, 0, 0);
        add_f(e, &k, "lse", OUT, N, 0, 0);
        ce_logits(e, &k, "logits", IN, N, V, Vp);
        ce_targets(e, &k, N, V);
        label(&k, "N=%d V=%d Vp=%d", N, V, Vp);
        run_case(e, &k);
    }
}

static void cases_crossentropy_backward(struct env *e)
{
    for (int s = 0; s < 5; s++)
        for (int in_place = 0; in_place < 2; in_place++) {
            struct op_case k = new_case("crossentropy_backward", call_crossentropy_backward,
                                        TOL_REDUCE);
            int N = ce_shapes[s][0], V = ce_shapes[s][1], Vp = ce_shapes[s][2];
            int T = ce_shapes[s][3], rows = N / T;
            int p[5] = { N, V, Vp, T, in_place };
            memcpy(k.p, p, sizeof p);
            const float *z;
            if (in_place) {
                z = ce_logits(e, &k, "dlogits=logits", INOUT, N, V, Vp);
                add_f(e, &k, "unused", IN, 1, 0, 1); /* keeps tensor indices fixed */
            } else {
                add_f(e, &k, "dlogits", OUT, (size_t)N * Vp, 0, 0);
                z = ce_logits(e, &k, "logits", IN, N, V, Vp);
            }
            float *lse = add_f(e, &k, "lse", IN, N, 0, 0);
            ce_targets(e, &k, N, V);
            float *scale = add_f(e, &k, "row_scale", IN, rows, 0, 0);
            /* lse as the forward makes it; per-row scales w_i / n_i, one of them 0 */
            for (int i = 0; z && lse && i < N; i++) {
                double mx = z[(size_t)i * Vp], sum = 0;
                for (int v = 1; v < V; v++)
                    mx = fmax(mx, z[(size_t)i * Vp + v]);
                for (int v = 0; v < V; v++)
                    sum += exp(z[(size_t)i * Vp + v] - mx);
                lse[i] = (float)(mx + log(sum));
            }
            for (int r = 0; scale && r < rows; r++)
                scale[r] = r == 1 ? 0.0f : (float)(0.01 + rng_uniform(&e->rng) / T);
            label(&k, "N=%d V=%d Vp=%d T=%d%s", N, V, Vp, T, in_place ? " in place" : "");
            run_case(e, &k);
        }
}

/* ---- optimizer ---------------------------------------------------------------------------- */

/* tensors params, grads, m, v */
static void call_adamw(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->be->ops->adamw(c->be, c->d[0], c->d[1], c->d[2], c->d[3], k->n, &k->adam);
    else
        ref_adamw(c->r[0], c->r[1], c->r[2], c->r[3], k->n, &k->adam);
}

static void cases_adamw(struct env *e)
{
    const size_t sizes[] = { 1, 1000, 65537 };
    for (int s = 0; s < 3; s++)
        for (int variant = 0; variant < 2; variant++) {
            struct op_case k = new_case("adamw", call_adamw, TOL_ADAMW);
            int step = variant ? 10 : 1;
            k.n = sizes[s];
            k.adam = (struct adamw_args){
                .lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f,
                .weight_decay = variant ? 0.0f : 0.1f, .grad_scale = variant ? 1.0f : 0.37f,
                .bias_correction1 = (float)(1.0 - pow(0.9, step)),
                .bias_correction2 = (float)(1.0 - pow(0.95, step)),
            };
            add_f(e, &k, "params", INOUT, k.n, 0, 1);
            add_f(e, &k, "grads", IN, k.n, 0, 1);
            add_f(e, &k, "m", INOUT, k.n, 0, 0.1);
            float *v = add_f(e, &k, "v", INOUT, k.n, 0, 0);
            for (size_t i = 0; v && i < k.n; i++)
                v[i] = (float)(0.05 * rng_uniform(&e->rng)); /* second moments are >= 0 */
            label(&k, "n=%zu step=%d wd=%g grad_scale=%g", k.n, step, k.adam.weight_decay,
                  k.adam.grad_scale);
            run_case(e, &k);
        }
}

static void call_sum_squares(struct call *c, const struct op_case *k)
{
    if (c->be)
        c->scalar = c->be->ops->sum_squares(c->be, c->d[0], k->n);
    else
        c->scalar = ref_sum_squares(c->r[0], k->n);
}

static void cases_sum_squares(struct env *e)
{
    const size_t sizes[] = { 1, 1000, 65536 * 3 + 5 };
    for (int s = 0; s < 3; s++) {
        struct op_case k = new_case("sum_squares", call_sum_squares, TOL_REDUCE);
        k.n = sizes[s];
        k.scalar_out = 1;
        add_f(e, &k, "x", IN, k.n, 0.1, 1);
        label(&k, "n=%zu", k.n);
        run_case(e, &k);
    }
}

/* ---- the table -------------------------------------------------------------------------- */

struct op_entry {
    const char *op;
    void (*cases)(struct env *e);
};

static const struct op_entry op_table[] = {
    { "fill", cases_fill },
    { "copy", cases_copy },
    { "gemm", cases_gemm },
    { "add_bias", cases_add_bias },
    { "col_sums", cases_col_sums },
    { "row_sums", cases_row_sums },
    { "encoder_forward", cases_encoder_forward },
    { "encoder_backward", cases_encoder_backward },
    { "layernorm_forward", cases_layernorm_forward },
    { "layernorm_backward", cases_layernorm_backward },
    { "gelu_forward", cases_gelu_forward },
    { "gelu_backward", cases_gelu_backward },
    { "softmax_causal_forward", cases_softmax_causal_forward },
    { "softmax_causal_backward", cases_softmax_causal_backward },
    { "softmax_rows_forward", cases_softmax_rows_forward },
    { "embedding_forward", cases_embedding_forward },
    { "embedding_backward", cases_embedding_backward },
    { "rmsnorm_forward", cases_rmsnorm_forward },
    { "rmsnorm_backward", cases_rmsnorm_backward },
    { "rope_forward", cases_rope_forward },
    { "rope_backward", cases_rope_backward },
    { "swiglu_forward", cases_swiglu_forward },
    { "swiglu_backward", cases_swiglu_backward },
    { "crossentropy_forward", cases_crossentropy_forward },
    { "crossentropy_backward", cases_crossentropy_backward },
    { "adamw", cases_adamw },
    { "sum_squares", cases_sum_squares },
};

/* Whether backend be implements the op named `op` (NULL member = lacks it). */
static int backend_has(const struct backend *be, const char *op)
{
#define HAS(name) if (strcmp(op, #name) == 0) return be->ops->name != NULL;
    BACKEND_COMPUTE_OPS(HAS)
#undef HAS
    return 0;
}

int op_cases_run(struct backend *be, struct backend *ref, FILE *log,
                 struct op_cases_result *res)
{
    return op_cases_run_at(be, ref, log, res, 0);
}

int op_cases_run_at(struct backend *be, struct backend *ref, FILE *log,
                    struct op_cases_result *res, size_t base)
{
    struct env e = { be, ref, log, res, rng_seed(0x5EED0F0Bu), 0, 0, base };
    static const char *const ops[] = {
#define NAME(name) #name,
        BACKEND_COMPUTE_OPS(NAME)
#undef NAME
    };
    memset(res, 0, sizeof *res);
    if (log)
        fprintf(log, "op cases: %s backend (%s), tensors from element %zu, against %s\n",
                be->name, be->device, base, ref ? ref->name : "the float64 reference");
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const struct op_entry *entry = NULL;
        for (size_t j = 0; j < sizeof op_table / sizeof op_table[0]; j++)
            if (strcmp(op_table[j].op, ops[i]) == 0)
                entry = &op_table[j];
        struct op_case named = new_case(ops[i], NULL, 0);
        if (!entry) {
            fail(&e, &named, "op %s of BACKEND_COMPUTE_OPS has no test case", ops[i]);
            continue;
        }
        if (!backend_has(be, ops[i]) || (ref && !backend_has(ref, ops[i]))) {
            fail(&e, &named, "%s backend lacks op %s",
                 backend_has(be, ops[i]) ? ref->name : be->name, ops[i]);
            continue;
        }
        e.op_cases = 0;
        entry->cases(&e);
        if (e.op_cases == 0)
            fail(&e, &named, "op %s has an entry but generated no case", ops[i]);
    }
    if (log)
        fprintf(log, "op cases: %d run, %d failed\n", res->cases, res->failures);
    return res->failures;
}
