/* models/nn/attention.c — causal self-attention, multi-head or grouped-query.
 *
 * Every product is a batched GEMM on the backend's two-level grid (outer =
 * batch row b, inner = key/value head k). Grouped-query attention runs the
 * grid once per position g in a group: query head k*G + g against key/value
 * head k. The grid then steps query heads, scores and outputs by G heads and
 * keys and values by one, so K and V are read in place, never copied per
 * query head. With G = 1 (GPT-2, LLaMA 1.4B/7B) this is one call per product.
 * Gradients of a shared K or V head are the sum over its group: the first
 * call of the loop overwrites (beta 0), the others accumulate, in a fixed
 * order, so results stay deterministic. */
#include "models/nn/nn.h"

#include <math.h>

/* The operands of the grid calls. */
enum operand { Q, K, V, SCORES, Y };

/* Where an operand of one grid call lives. */
struct place {
    size_t base;      /* element offset of head (k0, g) in row b = 0 */
    size_t outer;     /* step per batch row */
    size_t inner;     /* step per key/value head */
};

/* Q, K, V and Y are laid out by the whole layer (a->NH, a->KVH); a pass covers
 * key/value heads [k0, k0 + nk) and their query heads. The scores of a pass
 * are its own (rows, nk G, T, T) block: the kept (B, NH, T, T) probabilities
 * when nk = KVH, a chunk's scratch otherwise. */
static struct place place_of(const struct nn_attention *a, enum operand o, int g, int k0, int nk)
{
    const size_t G = (size_t)(a->NH / a->KVH), hs = (size_t)a->hs, T = (size_t)a->T;
    const size_t C = (size_t)a->NH * hs, KVD = (size_t)a->KVH * hs, QKV = C + 2 * KVD;
    const size_t TT = T * T, q0 = ((size_t)k0 * G + (size_t)g) * hs;
    switch (o) {
    case Q: return (struct place){ q0, T * QKV, G * hs };
    case K: return (struct place){ C + (size_t)k0 * hs, T * QKV, hs };
    case V: return (struct place){ C + KVD + (size_t)k0 * hs, T * QKV, hs };
    case SCORES: return (struct place){ (size_t)g * TT, (size_t)nk * G * TT, G * TT };
    case Y: default: return (struct place){ q0, T * C, G * hs };
    }
}

/* One pass: rows [b0, b0 + n) of the batch (a->B = n after rows_of) and
 * key/value heads [k0, k0 + nk). */
struct pass {
    int k0, nk;
};

/* One batched GEMM of the grid: c = alpha op(a) op(b) + beta c. */
static void grid_gemm(struct backend *be, const struct nn_attention *at, struct pass ps, int ta,
                      int tb, int m, int n, int k, float alpha, dptr a, enum operand ao, int lda,
                      dptr b, enum operand bo, int ldb, float beta, dptr c, enum operand co,
                      int ldc, int g)
{
    struct place pa = place_of(at, ao, g, ps.k0, ps.nk), pb = place_of(at, bo, g, ps.k0, ps.nk);
    struct place pc = place_of(at, co, g, ps.k0, ps.nk);
    struct gemm_batch grid = { at->B, ps.nk, pa.outer, pa.inner, pb.outer, pb.inner,
                               pc.outer, pc.inner };
    be->ops->gemm(be, ta, tb, m, n, k, alpha, dptr_at(a, pa.base), lda, dptr_at(b, pb.base), ldb,
                  beta, dptr_at(c, pc.base), ldc, &grid);
}

/* Rows [b0, b0 + n) of the batch as an attention of their own. */
static struct nn_attention rows_of(const struct nn_attention *a, int n)
{
    struct nn_attention r = *a;
    r.B = n;
    return r;
}

/* Rows and key/value heads per pass: all of them when the probabilities are
 * kept, a chunk of either when they are recomputed. */
static int rows_per_pass(const struct nn_attention *a)
{
    return a->recompute ? a->chunk : a->B;
}

static int heads_per_pass(const struct nn_attention *a)
{
    return a->recompute && a->head_chunk > 0 && a->head_chunk < a->KVH ? a->head_chunk : a->KVH;
}

static int min_int(int x, int y) { return x < y ? x : y; }

/* att = softmax_causal(scale * q k^T) per (b, h) of the pass */
static void probabilities(struct backend *be, const struct nn_attention *a, struct pass ps,
                          dptr qkv, dptr att)
{
    const int T = a->T, hs = a->hs, G = a->NH / a->KVH;
    const int QKV = a->NH * hs + 2 * a->KVH * hs;
    const float scale = 1.0f / sqrtf((float)hs);
    for (int g = 0; g < G; g++)
        grid_gemm(be, a, ps, 0, 1, T, T, hs, scale, qkv, Q, QKV, qkv, K, QKV, 0.0f, att, SCORES,
                  T, g);
    be->ops->softmax_causal_forward(be, att, att, a->B * ps.nk * G, T);
}

void nn_attention_forward(struct backend *be, const struct nn_attention *a, dptr qkv, dptr att,
                          dptr y)
{
    const int T = a->T, hs = a->hs, G = a->NH / a->KVH;
    const int C = a->NH * hs, QKV = C + 2 * a->KVH * hs;
    /* q, k = rope(q), rope(k): the query and key heads are adjacent in a row */
    if (nn_has(a->freqs))
        be->ops->rope_forward(be, qkv, a->freqs, a->B, T, a->NH + a->KVH, hs, QKV);
    const int step = rows_per_pass(a), hstep = heads_per_pass(a);
    for (int b0 = 0; b0 < a->B; b0 += step) {
        const struct nn_attention r = rows_of(a, min_int(step, a->B - b0));
        dptr q = dptr_at(qkv, (size_t)b0 * T * QKV), yr = dptr_at(y, (size_t)b0 * T * C);
        for (int k0 = 0; k0 < a->KVH; k0 += hstep) {
            const struct pass ps = { k0, min_int(hstep, a->KVH - k0) };
            dptr p = a->recompute ? att : dptr_at(att, (size_t)b0 * a->NH * T * T);
            probabilities(be, &r, ps, q, p);
            /* y = att v */
            for (int g = 0; g < G; g++)
                grid_gemm(be, &r, ps, 0, 0, T, hs, T, 1.0f, p, SCORES, T, q, V, QKV, 0.0f, yr, Y,
                          C, g);
        }
    }
}

void nn_attention_backward(struct backend *be, const struct nn_attention *a, dptr dqkv,
                           dptr datt, dptr dy, dptr qkv, dptr att)
{
    const int T = a->T, hs = a->hs, G = a->NH / a->KVH;
    const int C = a->NH * hs, QKV = C + 2 * a->KVH * hs;
    const float scale = 1.0f / sqrtf((float)hs);
    const int step = rows_per_pass(a), hstep = heads_per_pass(a);
    for (int b0 = 0; b0 < a->B; b0 += step) {
        const int n = min_int(step, a->B - b0);
        const struct nn_attention r = rows_of(a, n);
        const size_t rq = (size_t)b0 * T * QKV;
        dptr q = dptr_at(qkv, rq), dq = dptr_at(dqkv, rq), dyr = dptr_at(dy, (size_t)b0 * T * C);
        for (int k0 = 0; k0 < a->KVH; k0 += hstep) {
            const struct pass ps = { k0, min_int(hstep, a->KVH - k0) };
            dptr p = a->recompute ? att : dptr_at(att, (size_t)b0 * a->NH * T * T);
            if (a->recompute)
                probabilities(be, &r, ps, q, p);
            /* y = att v: d att = dy v^T, d v = sum over the group of att^T dy */
            for (int g = 0; g < G; g++) {
                grid_gemm(be, &r, ps, 0, 1, T, T, hs, 1.0f, dyr, Y, C, q, V, QKV, 0.0f, datt,
                          SCORES, T, g);
                grid_gemm(be, &r, ps, 1, 0, T, hs, T, 1.0f, p, SCORES, T, dyr, Y, C,
                          g ? 1.0f : 0.0f, dq, V, QKV, g);
            }
            /* att = softmax_causal(pre) */
            be->ops->softmax_causal_backward(be, datt, datt, p, n * ps.nk * G, T);
            /* pre = scale q k^T: d q = scale d pre k, d k = sum over the group of scale d pre^T q */
            for (int g = 0; g < G; g++) {
                grid_gemm(be, &r, ps, 0, 0, T, hs, T, scale, datt, SCORES, T, q, K, QKV, 0.0f,
                          dq, Q, QKV, g);
                grid_gemm(be, &r, ps, 1, 0, T, hs, T, scale, datt, SCORES, T, q, Q, QKV,
                          g ? 1.0f : 0.0f, dq, K, QKV, g);
            }
        }
    }
    /* q, k = rope(q), rope(k) */
    if (nn_has(a->freqs))
        be->ops->rope_backward(be, dqkv, a->freqs, a->B, T, a->NH + a->KVH, hs, QKV);
}
