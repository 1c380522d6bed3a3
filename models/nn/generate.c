/* models/nn/generate.c — see generate.h.
 *
 * One step at position t, per layer, with the decoder's own layers where they
 * apply (nn.h) and each line naming the decoder.c forward line it stands for:
 *   n1     = norm(x)                                   nn_norm_forward, N = 1
 *   qkv    = n1 qkvw^T + qkvb                          nn_linear_forward, N = 1
 *   q, k   = rope(q, k) at position t                  rope_forward, table row t
 *   K[t], V[t] = k, v                                  copy into the cache
 *   s_h    = scale q_h K[0..t]^T (h's key/value head)  gemm m = 1, grid over heads
 *   p_h    = softmax(s_h)                              softmax_rows_forward
 *   y_h    = p_h V[0..t]                               gemm m = 1, grid over heads
 *   x     += y projw^T + projb                         nn_linear_forward, beta 1
 *   x     += mlp(norm(x))                              nn_norm_forward, nn_mlp_forward
 * then logits = norm(x) head^T. The per-head grid is attention.c's: inner
 * index = key/value head, one call per position g in a group, so grouped
 * keys and values are read in place. */
#include "models/nn/generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct generator {
    struct backend *be;
    struct decoder_spec s;
    dptr p;        /* the parameters (borrowed) */
    int maxT, t;   /* capacity and tokens fed */
    int hs, KVD, QKV, H;
    dptr arena;
    dptr x, xn, mean, rstd, qkv, att, y, h, a, logits, kc, vc, freqs, token;
};

static dptr param(const struct generator *g, enum dec_tensor t, size_t per_layer, int l)
{
    if (g->s.off[t] == DEC_ABSENT)
        return NN_NONE;
    return dptr_at(g->p, g->s.off[t] + (size_t)l * per_layer);
}

int generator_create(struct generator **out, struct backend *be, const struct decoder_spec *s,
                     dptr params, int maxT, struct herr *err)
{
    *out = NULL;
    if (maxT < 1 || maxT > s->maxT)
        return herr_set(err, "generation length %d out of range [1, max_seq_len=%d]", maxT,
                        s->maxT);
    struct generator *g = calloc(1, sizeof *g);
    if (!g)
        return herr_set(err, "out of host memory");
    g->be = be;
    g->s = *s;
    g->p = params;
    g->maxT = maxT;
    g->hs = s->C / s->NH;
    g->KVD = s->KVH * g->hs;
    g->QKV = s->C + 2 * g->KVD;
    g->H = s->act == NN_SWIGLU ? 2 * s->F : s->F;
    const size_t C = (size_t)s->C, L = (size_t)s->L, T = (size_t)maxT;
    /* sizes in carving order: x, xn, mean, rstd, qkv, att, y, h, a, logits,
     * K cache, V cache, rotary table, token */
    const size_t sizes[] = {
        C, C, 1, 1, (size_t)g->QKV, (size_t)s->NH * T, C, (size_t)g->H, (size_t)s->F,
        (size_t)s->Vp, L * T * g->KVD, L * T * g->KVD, s->rope ? T * g->hs : 0, 1,
    };
    dptr *slots[] = { &g->x, &g->xn, &g->mean, &g->rstd, &g->qkv, &g->att, &g->y, &g->h,
                      &g->a, &g->logits, &g->kc, &g->vc, &g->freqs, &g->token };
    enum { NSLOTS = sizeof sizes / sizeof sizes[0] };
    _Static_assert(sizeof slots / sizeof slots[0] == NSLOTS, "one size per slot");
    size_t total = 0;
    for (int i = 0; i < NSLOTS; i++)
        total += sizes[i];
    g->arena = backend_alloc_floats(be, total);
    if (backend_check(be, err)) {
        free(g);
        return herr_wrap(err, "KV cache for %d tokens of %s: ", maxT, s->name);
    }
    dptr at = g->arena;
    for (int i = 0; i < NSLOTS; i++) {
        *slots[i] = sizes[i] ? at : NN_NONE;
        at = dptr_at(at, sizes[i]);
    }
    if (s->rope) {
        float *table = malloc(T * g->hs * sizeof *table);
        if (!table) {
            generator_destroy(g);
            return herr_set(err, "out of host memory for the rotary table");
        }
        nn_rope_table(table, maxT, g->hs, s->rope_theta);
        be->ops->upload(be, g->freqs, table, T * g->hs * sizeof *table);
        free(table);
    }
    if (backend_check(be, err)) {
        generator_destroy(g);
        return herr_wrap(err, "KV cache of %s: ", s->name);
    }
    *out = g;
    return 0;
}

void generator_destroy(struct generator *g)
{
    if (!g)
        return;
    backend_release_ptr(g->be, g->arena);
    free(g);
}

void generator_reset(struct generator *g) { g->t = 0; }
int generator_length(const struct generator *g) { return g->t; }

/* scores or outputs of the G query heads that share each key/value head:
 * one grid call per position in a group (see attention.c) */
static void attend(struct generator *g, dptr K, dptr V, int n)
{
    struct backend *be = g->be;
    const int hs = g->hs, G = g->s.NH / g->s.KVH, T = g->maxT;
    const float scale = 1.0f / sqrtf((float)hs);
    for (int j = 0; j < G; j++) {
        /* s_h (1, n) = scale q_h K^T, h = k G + j reads key head k */
        struct gemm_batch sb = { 1, g->s.KVH, 0, (size_t)G * hs, 0, (size_t)hs, 0,
                                 (size_t)G * T };
        be->ops->gemm(be, 0, 1, 1, n, hs, scale, dptr_at(g->qkv, (size_t)j * hs), g->QKV, K,
                      g->KVD, 0.0f, dptr_at(g->att, (size_t)j * T), T, &sb);
    }
    be->ops->softmax_rows_forward(be, g->att, g->att, g->s.NH, n, T);
    for (int j = 0; j < G; j++) {
        /* y_h (1, hs) = p_h V */
        struct gemm_batch yb = { 1, g->s.KVH, 0, (size_t)G * T, 0, (size_t)hs, 0,
                                 (size_t)G * hs };
        be->ops->gemm(be, 0, 0, 1, hs, n, 1.0f, dptr_at(g->att, (size_t)j * T), T, V, g->KVD,
                      0.0f, dptr_at(g->y, (size_t)j * hs), g->s.C, &yb);
    }
}

int generator_step(struct generator *g, int32_t token, float *logits, struct herr *err)
{
    struct backend *be = g->be;
    const struct backend_ops *op = be->ops;
    const struct decoder_spec *s = &g->s;
    const int C = s->C, t = g->t, QKV = g->QKV, KVD = g->KVD;
    if (token < 0 || token >= s->V)
        return herr_set(err, "token id %d is outside the vocabulary [0, %d)", token, s->V);
    if (t >= g->maxT)
        return herr_set(err, "the sequence is full (%d tokens)", g->maxT);
    const struct nn_norm *norm = &s->norm;
    const struct nn_mlp mlp = { s->act, C, s->F };
    const size_t cache_layer = (size_t)g->maxT * KVD;

    /* x = wte[token] (+ wpe[t]) */
    op->upload(be, g->token, &token, sizeof token);
    dptr wpe = param(g, DEC_WPE, 0, 0);
    nn_embed_forward(be, g->x, g->token, param(g, DEC_WTE, 0, 0),
                     nn_has(wpe) ? dptr_at(wpe, (size_t)t * C) : NN_NONE, 1, 1, C);
    for (int l = 0; l < s->L; l++) {
        const size_t sC = (size_t)C, sQKV = (size_t)QKV, sH = (size_t)g->H, sF = (size_t)s->F;
        nn_norm_forward(be, norm, g->xn, g->mean, g->rstd, g->x, param(g, DEC_N1W, sC, l),
                        param(g, DEC_N1B, sC, l), 1, C);
        nn_linear_forward(be, g->qkv, g->xn, param(g, DEC_QKVW, sQKV * sC, l),
                          param(g, DEC_QKVB, sQKV, l), 1, C, QKV, 0.0f);
        if (s->rope)
            op->rope_forward(be, g->qkv, dptr_at(g->freqs, (size_t)t * g->hs), 1, 1,
                             s->NH + s->KVH, g->hs, QKV);
        dptr K = dptr_at(g->kc, l * cache_layer), V = dptr_at(g->vc, l * cache_layer);
        op->copy(be, dptr_at(K, (size_t)t * KVD), dptr_at(g->qkv, sC), (size_t)KVD);
        op->copy(be, dptr_at(V, (size_t)t * KVD), dptr_at(g->qkv, sC + KVD), (size_t)KVD);
        attend(g, K, V, t + 1);
        nn_linear_forward(be, g->x, g->y, param(g, DEC_PROJW, sC * sC, l),
                          param(g, DEC_PROJB, sC, l), 1, C, C, 1.0f);
        nn_norm_forward(be, norm, g->xn, g->mean, g->rstd, g->x, param(g, DEC_N2W, sC, l),
                        param(g, DEC_N2B, sC, l), 1, C);
        nn_mlp_forward(be, &mlp, g->x, g->h, g->a, g->xn, param(g, DEC_FCW, sH * sC, l),
                       param(g, DEC_FCB, sH, l), param(g, DEC_FCPROJW, sC * sF, l),
                       param(g, DEC_FCPROJB, sC, l), 1);
    }
    g->t++;
    if (!logits)
        return backend_check(be, err) ? herr_wrap(err, "%s generation step: ", s->name) : 0;
    nn_norm_forward(be, norm, g->xn, g->mean, g->rstd, g->x, param(g, DEC_NFW, 0, 0),
                    param(g, DEC_NFB, 0, 0), 1, C);
    dptr head = param(g, s->off[DEC_HEAD] == DEC_ABSENT ? DEC_WTE : DEC_HEAD, 0, 0);
    op->gemm(be, 0, 1, 1, s->Vp, C, 1.0f, g->xn, C, head, C, 0.0f, g->logits, s->Vp, NULL);
    op->download(be, logits, g->logits, (size_t)s->V * sizeof *logits);
    if (backend_check(be, err))
        return herr_wrap(err, "%s generation step: ", s->name);
    return 0;
}
