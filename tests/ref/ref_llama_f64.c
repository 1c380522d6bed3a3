/* tests/ref/ref_llama_f64.c — see ref_llama_f64.h. */
#include "tests/ref/ref_llama_f64.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ref/ref_ops_f64.h"
#include "tests/ref/vectors.h"

#define LLAMA_FILE_MAGIC 20241210
#define LLAMA_FILE_VERSION 1

/* ---- shape and layout ------------------------------------------------------ */

static const char *const tensor_names[REF_LLAMA_NUM_TENSORS] = {
    "wte", "attn_norm", "wqkv", "wo", "ffn_norm", "w13", "w2", "norm", "lm_head",
};

const char *ref_llama_tensor_name(int t)
{
    return t >= 0 && t < REF_LLAMA_NUM_TENSORS ? tensor_names[t] : "?";
}

int ref_llama_tensor_decays(int t)
{
    return t != REF_LLAMA_ATTN_NORM && t != REF_LLAMA_FFN_NORM && t != REF_LLAMA_NORM;
}

int ref_llama_shape_validate(const struct ref_llama_shape *s, struct herr *err)
{
    if (s->max_seq_len < 1 || s->vocab_size < 1 || s->num_layers < 1 || s->channels < 1 ||
        s->ffn < 1)
        return herr_set(err, "llama shape: maxT %d, V %d, L %d, C %d, F %d must all be >= 1",
                        s->max_seq_len, s->vocab_size, s->num_layers, s->channels, s->ffn);
    if (s->padded_vocab_size < s->vocab_size)
        return herr_set(err, "llama shape: Vp %d < V %d", s->padded_vocab_size, s->vocab_size);
    if (s->num_heads < 1 || s->channels % s->num_heads != 0)
        return herr_set(err, "llama shape: C %d not a multiple of NH %d", s->channels,
                        s->num_heads);
    if ((s->channels / s->num_heads) % 2 != 0)
        return herr_set(err, "llama shape: head size %d is odd (RoPE rotates pairs)",
                        s->channels / s->num_heads);
    if (s->num_kv_heads < 1 || s->num_heads % s->num_kv_heads != 0)
        return herr_set(err, "llama shape: NH %d not a multiple of KVH %d", s->num_heads,
                        s->num_kv_heads);
    if (s->tied != 0 && s->tied != 1)
        return herr_set(err, "llama shape: tied %d is neither 0 nor 1", s->tied);
    if (!(s->norm_eps > 0.0) || !isfinite(s->norm_eps))
        return herr_set(err, "llama shape: norm_eps %g must be finite and > 0", s->norm_eps);
    if (!(s->rope_theta > 0.0) || !isfinite(s->rope_theta))
        return herr_set(err, "llama shape: rope_theta %g must be finite and > 0",
                        s->rope_theta);
    return 0;
}

void ref_llama_tensor_sizes(const struct ref_llama_shape *s, size_t sz[REF_LLAMA_NUM_TENSORS])
{
    size_t Vp = (size_t)s->padded_vocab_size, C = (size_t)s->channels;
    size_t L = (size_t)s->num_layers, F = (size_t)s->ffn;
    size_t kvd = (size_t)s->num_kv_heads * (C / (size_t)s->num_heads);
    sz[REF_LLAMA_WTE] = Vp * C;
    sz[REF_LLAMA_ATTN_NORM] = L * C;
    sz[REF_LLAMA_WQKV] = L * (C + 2 * kvd) * C;
    sz[REF_LLAMA_WO] = L * C * C;
    sz[REF_LLAMA_FFN_NORM] = L * C;
    sz[REF_LLAMA_W13] = L * 2 * F * C;
    sz[REF_LLAMA_W2] = L * C * F;
    sz[REF_LLAMA_NORM] = C;
    sz[REF_LLAMA_LM_HEAD] = s->tied ? 0 : Vp * C;
}

void ref_llama_tensor_offsets(const struct ref_llama_shape *s,
                              size_t offs[REF_LLAMA_NUM_TENSORS])
{
    size_t sz[REF_LLAMA_NUM_TENSORS], acc = 0;
    ref_llama_tensor_sizes(s, sz);
    for (int t = 0; t < REF_LLAMA_NUM_TENSORS; t++) {
        offs[t] = acc;
        acc += sz[t];
    }
}

size_t ref_llama_num_params(const struct ref_llama_shape *s)
{
    size_t sz[REF_LLAMA_NUM_TENSORS], n = 0;
    ref_llama_tensor_sizes(s, sz);
    for (int t = 0; t < REF_LLAMA_NUM_TENSORS; t++)
        n += sz[t];
    return n;
}

void ref_llama_rope_table(double *freqs, int T, int hs, double theta)
{
    int half = hs / 2;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < half; i++) {
            double angle = t * pow(theta, -2.0 * i / hs);
            freqs[((size_t)t * half + i) * 2] = cos(angle);
            freqs[((size_t)t * half + i) * 2 + 1] = sin(angle);
        }
}

/* ---- memory ---------------------------------------------------------------- */

/* Carves named arrays out of one allocation: a first pass with base == NULL
 * only counts, the second hands out pointers. */
struct carver {
    double *base;
    size_t used;
};

static double *carve(struct carver *cv, size_t n)
{
    double *p = cv->base ? cv->base + cv->used : NULL;
    cv->used += n;
    return p;
}

static void carve_all(struct ref_llama *m, struct carver *cv)
{
    const struct ref_llama_shape *s = &m->s;
    size_t B = m->B, T = m->T, C = s->channels, L = s->num_layers, NH = s->num_heads;
    size_t F = s->ffn, Vp = s->padded_vocab_size, BT = B * T;
    size_t QKV = C + 2 * (size_t)s->num_kv_heads * (C / NH);
    struct ref_llama_acts *a = &m->a;
    struct ref_llama_dacts *d = &m->d;
    m->params = carve(cv, m->num_params);
    m->grads = carve(cv, m->num_params);
    m->freqs = carve(cv, T * (C / NH));
    a->encoded = carve(cv, BT * C);
    a->an = carve(cv, L * BT * C);
    a->an_rstd = carve(cv, L * BT);
    a->qkv = carve(cv, L * BT * QKV);
    a->att = carve(cv, L * B * NH * T * T);
    a->atty = carve(cv, L * BT * C);
    a->res2 = carve(cv, L * BT * C);
    a->fn = carve(cv, L * BT * C);
    a->fn_rstd = carve(cv, L * BT);
    a->gu = carve(cv, L * BT * 2 * F);
    a->mlp = carve(cv, L * BT * F);
    a->res3 = carve(cv, L * BT * C);
    a->xf = carve(cv, BT * C);
    a->xf_rstd = carve(cv, BT);
    a->logits = carve(cv, BT * Vp);
    a->lse = carve(cv, BT);
    a->losses = carve(cv, BT);
    d->dx = carve(cv, BT * C);
    d->dln = carve(cv, BT * C);
    d->datty = carve(cv, BT * C);
    d->dqkv = carve(cv, BT * QKV);
    d->datt = carve(cv, B * NH * T * T);
    d->dgu = carve(cv, BT * 2 * F);
    d->dmlp = carve(cv, BT * F);
    d->dlogits = carve(cv, BT * Vp);
    m->sample_losses = carve(cv, B);
}

int ref_llama_create(struct ref_llama *m, const struct ref_llama_shape *s, int B, int T,
                     struct herr *err)
{
    memset(m, 0, sizeof *m);
    if (ref_llama_shape_validate(s, err))
        return -1;
    if (B < 1 || T < 1 || T > s->max_seq_len)
        return herr_set(err, "ref llama: batch B=%d T=%d invalid (need B >= 1, 1 <= T <= "
                             "max_seq_len %d)", B, T, s->max_seq_len);
    m->s = *s;
    m->B = B;
    m->T = T;
    m->num_params = ref_llama_num_params(s);
    struct carver cv = { NULL, 0 };
    carve_all(m, &cv);
    m->mem = calloc(cv.used, sizeof(double));
    m->inputs = calloc((size_t)B * T, sizeof(int32_t));
    m->targets = calloc((size_t)B * T, sizeof(int32_t));
    m->counts = calloc((size_t)B, sizeof(int));
    if (!m->mem || !m->inputs || !m->targets || !m->counts) {
        ref_llama_destroy(m);
        return herr_set(err, "ref llama: out of memory (%zu doubles)", cv.used);
    }
    cv.base = m->mem;
    cv.used = 0;
    carve_all(m, &cv);
    size_t off[REF_LLAMA_NUM_TENSORS];
    ref_llama_tensor_offsets(s, off);
    for (int t = 0; t < REF_LLAMA_NUM_TENSORS; t++) {
        m->param[t] = m->params + off[t];
        m->grad[t] = m->grads + off[t];
    }
    if (s->tied) /* no such tensor: a use is a bug that should crash, not alias */
        m->param[REF_LLAMA_LM_HEAD] = m->grad[REF_LLAMA_LM_HEAD] = NULL;
    ref_llama_rope_table(m->freqs, T, s->channels / s->num_heads, s->rope_theta);
    return 0;
}

void ref_llama_destroy(struct ref_llama *m)
{
    free(m->mem);
    free(m->inputs);
    free(m->targets);
    free(m->counts);
    memset(m, 0, sizeof *m);
}

/* ---- model file -------------------------------------------------------------- */

static double f32_bits(int32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

int ref_llama_read_model(const char *path, struct ref_llama_shape *s, float **params,
                         struct herr *err)
{
    unsigned char *bytes;
    size_t len;
    int32_t h[256];
    *params = NULL;
    if (ref_read_file(path, &bytes, &len, err))
        return -1;
    if (len < sizeof h) {
        free(bytes);
        return herr_set(err, "%s: %zu bytes, too short for the 1024-byte header", path, len);
    }
    memcpy(h, bytes, sizeof h); /* the files are little-endian, as are our hosts */
    if (h[0] != LLAMA_FILE_MAGIC || h[1] != LLAMA_FILE_VERSION) {
        free(bytes);
        return herr_set(err, "%s: header magic %d version %d (expected %d version %d, "
                             "a heft LLaMA model)", path, (int)h[0], (int)h[1],
                        LLAMA_FILE_MAGIC, LLAMA_FILE_VERSION);
    }
    for (int i = 13; i < 256; i++)
        if (h[i] != 0) {
            free(bytes);
            return herr_set(err, "%s: header int %d is %d (unused fields must be 0)", path, i,
                            (int)h[i]);
        }
    s->max_seq_len = h[2];
    s->vocab_size = h[3];
    s->num_layers = h[4];
    s->num_heads = h[5];
    s->channels = h[6];
    s->padded_vocab_size = h[7];
    s->num_kv_heads = h[8];
    s->ffn = h[9];
    s->tied = h[10];
    s->norm_eps = f32_bits(h[11]);
    s->rope_theta = f32_bits(h[12]);
    if (ref_llama_shape_validate(s, err)) {
        free(bytes);
        return herr_wrap(err, "%s: ", path);
    }
    size_t n = ref_llama_num_params(s);
    if (len != sizeof h + n * sizeof(float)) {
        free(bytes);
        return herr_set(err, "%s: %zu bytes, expected %zu (header + %zu float32 parameters)",
                        path, len, sizeof h + n * sizeof(float), n);
    }
    *params = malloc(n * sizeof(float));
    if (!*params) {
        free(bytes);
        return herr_set(err, "%s: out of memory for %zu parameters", path, n);
    }
    memcpy(*params, bytes + sizeof h, n * sizeof(float));
    free(bytes);
    return 0;
}

/* ---- the LLaMA ops, as loops --------------------------------------------------
 * Same signatures and "=" / "+=" semantics as backend.h's LLaMA ops (doubles
 * for dptr). They live here rather than in ref_ops_f64.c so this file does
 * not depend on that file's LLaMA additions; each backward sits next to its
 * forward and names the expression it differentiates. */

/* out (N, C) = wte[tokens[n]] */
static void embedding_forward(double *out, const int32_t *tokens, const double *wte, int N,
                              int C)
{
    for (int n = 0; n < N; n++)
        ref_copy(out + (size_t)n * C, wte + (size_t)tokens[n] * C, (size_t)C);
}

/* dwte (V, C) += dout (N, C) at the rows tokens[n] */
static void embedding_backward(double *dwte, const double *dout, const int32_t *tokens, int N,
                               int C)
{
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            dwte[(size_t)tokens[n] * C + c] += dout[(size_t)n * C + c];
}

/* out (N, C) = inp * rstd * w, rstd (N) = 1 / sqrt(mean_c(inp^2) + eps) */
static void rmsnorm_forward(double *out, double *rstd, const double *inp, const double *w,
                            int N, int C, double eps)
{
    for (int n = 0; n < N; n++) {
        const double *x = inp + (size_t)n * C;
        double ms = 0.0;
        for (int c = 0; c < C; c++)
            ms += x[c] * x[c];
        ms /= C;
        double r = 1.0 / sqrt(ms + eps);
        for (int c = 0; c < C; c++)
            out[(size_t)n * C + c] = x[c] * r * w[c];
        rstd[n] = r;
    }
}

/* y_c = w_c x_c r with r = (mean(x^2) + eps)^(-1/2), dr/dx_k = -r^3 x_k / C:
 *   dx_k = r (w_k dy_k - x_k r^2 mean_c(w_c dy_c x_c)),  dw_c = dy_c x_c r.
 * dinp (N, C) +=, dw (C) += */
static void rmsnorm_backward(double *dinp, double *dw, const double *dout, const double *inp,
                             const double *w, const double *rstd, int N, int C)
{
    for (int n = 0; n < N; n++) {
        const double *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
        double r = rstd[n], dot = 0.0;
        for (int c = 0; c < C; c++)
            dot += w[c] * dy[c] * x[c];
        dot /= C;
        for (int c = 0; c < C; c++) {
            dw[c] += dy[c] * x[c] * r;
            dinp[(size_t)n * C + c] += r * (w[c] * dy[c] - x[c] * r * r * dot);
        }
    }
}

/* Rotates each pair (i, i + hs/2) of the nh heads (at columns h*hs) of the
 * B*T rows of ld doubles in x by +angle (sign 1) or -angle (sign -1); row
 * (b, t) uses freqs[t]. The rotation by -angle is the transpose of the one by
 * +angle, hence the backward. */
static void rope_rotate(double *x, const double *freqs, int B, int T, int nh, int hs, int ld,
                        double sign)
{
    int half = hs / 2;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < nh; h++) {
                double *v = x + ((size_t)b * T + t) * ld + (size_t)h * hs;
                for (int i = 0; i < half; i++) {
                    double c = freqs[((size_t)t * half + i) * 2];
                    double s = sign * freqs[((size_t)t * half + i) * 2 + 1];
                    double x1 = v[i], x2 = v[i + half];
                    v[i] = x1 * c - x2 * s;
                    v[i + half] = x1 * s + x2 * c;
                }
            }
}

static void rope_forward(double *x, const double *freqs, int B, int T, int nh, int hs, int ld)
{
    rope_rotate(x, freqs, B, T, nh, hs, ld, 1.0);
}

static void rope_backward(double *dx, const double *freqs, int B, int T, int nh, int hs, int ld)
{
    rope_rotate(dx, freqs, B, T, nh, hs, ld, -1.0);
}

/* out (N, F) = silu(g) * u, g = inp[:, :F], u = inp[:, F:], silu(g) = g sigmoid(g) */
static void swiglu_forward(double *out, const double *inp, int N, int F)
{
    for (int n = 0; n < N; n++)
        for (int f = 0; f < F; f++) {
            double g = inp[(size_t)n * 2 * F + f], u = inp[(size_t)n * 2 * F + F + f];
            out[(size_t)n * F + f] = g / (1.0 + exp(-g)) * u;
        }
}

/* d silu(g) / dg = s (1 + g (1 - s)) with s = sigmoid(g):
 *   dg = dout u s (1 + g (1 - s)),  du = dout g s.   dinp (N, 2F) = */
static void swiglu_backward(double *dinp, const double *inp, const double *dout, int N, int F)
{
    for (int n = 0; n < N; n++)
        for (int f = 0; f < F; f++) {
            double g = inp[(size_t)n * 2 * F + f], u = inp[(size_t)n * 2 * F + F + f];
            double s = 1.0 / (1.0 + exp(-g)), dy = dout[(size_t)n * F + f];
            dinp[(size_t)n * 2 * F + f] = dy * u * s * (1.0 + g * (1.0 - s));
            dinp[(size_t)n * 2 * F + F + f] = dy * g * s;
        }
}

/* ---- grouped-query attention GEMMs -------------------------------------------
 * Query head h = j G + g (G = NH / KVH) reads kv head j. For a fixed g, the
 * products over all (batch row b, kv head j) form one gemm_batch grid
 * (outer b, inner j), since every operand's offset is linear in b and j:
 *   Q   qkv-like (B, T, QKV), ld QKV: at g*hs,      b: T*QKV, j: G*hs
 *   K   (same rows),                  at C,         b: T*QKV, j: hs
 *   V   (same rows),                  at C + KVD,   b: T*QKV, j: hs
 *   Y   y-like (B, T, C), ld C:       at g*hs,      b: T*C,   j: G*hs
 *   ATT (B, NH, T, T), ld T:          at g*T*T,     b: NH*T*T, j: G*T*T
 * G = 1 is plain multi-head attention. */
enum att_view { VIEW_Q, VIEW_K, VIEW_V, VIEW_Y, VIEW_ATT };

struct view {
    size_t off, outer, inner;
    int ld;
};

static struct view att_view(const struct ref_llama *m, enum att_view v, int g)
{
    size_t T = m->T, C = m->s.channels, NH = m->s.num_heads, hs = C / NH;
    size_t G = NH / m->s.num_kv_heads, kvd = (size_t)m->s.num_kv_heads * hs;
    size_t qkv = C + 2 * kvd;
    switch (v) {
    case VIEW_Q:   return (struct view){ g * hs, T * qkv, G * hs, (int)qkv };
    case VIEW_K:   return (struct view){ C, T * qkv, hs, (int)qkv };
    case VIEW_V:   return (struct view){ C + kvd, T * qkv, hs, (int)qkv };
    case VIEW_Y:   return (struct view){ g * hs, T * C, G * hs, (int)C };
    default:       return (struct view){ g * T * T, NH * T * T, G * T * T, (int)T };
    }
}

/* c_bj = alpha op(a_bj) op(b_bj) + beta c_bj over the (b, j) grid of query
 * heads j G + g. */
static void att_gemm(const struct ref_llama *m, int g, int ta, int tb, int M, int N, int K,
                     double alpha, const double *a, enum att_view va, const double *b,
                     enum att_view vb, double beta, double *c, enum att_view vc)
{
    struct view A = att_view(m, va, g), Bv = att_view(m, vb, g), Cv = att_view(m, vc, g);
    struct gemm_batch grid = { m->B, m->s.num_kv_heads, A.outer, A.inner, Bv.outer, Bv.inner,
                               Cv.outer, Cv.inner };
    ref_gemm(ta, tb, M, N, K, alpha, a + A.off, A.ld, b + Bv.off, Bv.ld, beta, c + Cv.off,
             Cv.ld, &grid);
}

/* ---- linear layers (no biases in LLaMA) ----------------------------------------- */

/* out (N, OC) = beta * out + inp (N, IC) @ w^T, w (OC, IC). beta = 1 makes it
 * a residual add into a copy of the stream. */
static void linear_forward(double *out, const double *inp, const double *w, int N, int IC,
                           int OC, double beta)
{
    ref_gemm(0, 1, N, OC, IC, 1.0, inp, IC, w, IC, beta, out, OC, NULL);
}

/* dw (OC, IC) += dout^T @ inp, dinp (N, IC) = dout @ w */
static void linear_backward(double *dinp, double *dw, const double *dout, const double *inp,
                            const double *w, int N, int IC, int OC)
{
    ref_gemm(1, 0, OC, IC, N, 1.0, dout, OC, inp, IC, 1.0, dw, IC, NULL);
    ref_gemm(0, 0, N, IC, OC, 1.0, dout, OC, w, IC, 0.0, dinp, IC, NULL);
}

/* ---- forward ----------------------------------------------------------------- */

int ref_llama_forward(struct ref_llama *m, const int32_t *inputs, const int32_t *targets,
                      struct herr *err)
{
    const struct ref_llama_shape *s = &m->s;
    const int B = m->B, T = m->T, C = s->channels, L = s->num_layers, F = s->ffn;
    const int NH = s->num_heads, KVH = s->num_kv_heads, V = s->vocab_size;
    const int Vp = s->padded_vocab_size, BT = B * T, hs = C / NH, G = NH / KVH;
    const int QKV = C + 2 * KVH * hs;
    const double eps = s->norm_eps;
    struct ref_llama_acts *a = &m->a;
    double *const *p = m->param;
    const double *head = s->tied ? p[REF_LLAMA_WTE] : p[REF_LLAMA_LM_HEAD];

    for (int i = 0; i < BT; i++) {
        if (inputs[i] < 0 || inputs[i] >= V)
            return herr_set(err, "ref llama: input id %d at (%d, %d) not in [0, %d)",
                            (int)inputs[i], i / T, i % T, V);
        if (targets[i] >= V)
            return herr_set(err, "ref llama: target id %d at (%d, %d) not below V=%d",
                            (int)targets[i], i / T, i % T, V);
    }
    memcpy(m->inputs, inputs, (size_t)BT * sizeof *inputs);
    memcpy(m->targets, targets, (size_t)BT * sizeof *targets);

    embedding_forward(a->encoded, inputs, p[REF_LLAMA_WTE], BT, C);
    for (int l = 0; l < L; l++) {
        size_t lC = (size_t)l * C, lBT = (size_t)l * BT;
        const double *res_in = l == 0 ? a->encoded : a->res3 + (lBT - BT) * C; /* (B, T, C) */
        double *an = a->an + lBT * C, *qkv = a->qkv + lBT * QKV;
        double *att = a->att + (size_t)l * B * NH * T * T;
        double *atty = a->atty + lBT * C, *res2 = a->res2 + lBT * C;
        double *fn = a->fn + lBT * C, *gu = a->gu + lBT * 2 * F, *mlp = a->mlp + lBT * F;
        double *res3 = a->res3 + lBT * C;

        rmsnorm_forward(an, a->an_rstd + lBT, res_in, p[REF_LLAMA_ATTN_NORM] + lC, BT, C, eps);
        /* qkv (BT, QKV) = an @ wqkv^T; then RoPE on the NH q and KVH k heads,
         * which are adjacent (k starts at column C = NH hs) */
        linear_forward(qkv, an, p[REF_LLAMA_WQKV] + lC * QKV, BT, C, QKV, 0.0);
        rope_forward(qkv, m->freqs, B, T, NH + KVH, hs, QKV);
        /* att_bh (T, T) = q_bh k_b(h/G)^T / sqrt(hs), then causal softmax in place */
        for (int g = 0; g < G; g++)
            att_gemm(m, g, 0, 1, T, T, hs, 1.0 / sqrt((double)hs), qkv, VIEW_Q, qkv, VIEW_K,
                     0.0, att, VIEW_ATT);
        ref_softmax_causal_forward(att, att, B * NH, T);
        /* atty_bh (T, hs) = att_bh v_b(h/G) */
        for (int g = 0; g < G; g++)
            att_gemm(m, g, 0, 0, T, hs, T, 1.0, att, VIEW_ATT, qkv, VIEW_V, 0.0, atty, VIEW_Y);
        /* res2 = res_in + atty @ wo^T: a copy, then an accumulating GEMM */
        ref_copy(res2, res_in, (size_t)BT * C);
        linear_forward(res2, atty, p[REF_LLAMA_WO] + lC * C, BT, C, C, 1.0);

        rmsnorm_forward(fn, a->fn_rstd + lBT, res2, p[REF_LLAMA_FFN_NORM] + lC, BT, C, eps);
        /* gu (BT, 2F) = fn @ w13^T: gate and up in one GEMM */
        linear_forward(gu, fn, p[REF_LLAMA_W13] + lC * 2 * F, BT, C, 2 * F, 0.0);
        swiglu_forward(mlp, gu, BT, F);
        /* res3 = res2 + mlp (BT, F) @ w2^T (F, C) */
        ref_copy(res3, res2, (size_t)BT * C);
        linear_forward(res3, mlp, p[REF_LLAMA_W2] + lC * F, BT, F, C, 1.0);
    }
    const double *res_last = a->res3 + (size_t)(L - 1) * BT * C;
    rmsnorm_forward(a->xf, a->xf_rstd, res_last, p[REF_LLAMA_NORM], BT, C, eps);
    /* logits (BT, Vp) = xf @ head^T; head rows >= V are zero, so are those logits */
    linear_forward(a->logits, a->xf, head, BT, C, Vp, 0.0);
    ref_crossentropy_forward(a->losses, a->lse, a->logits, targets, BT, V, Vp);

    /* l_i = (sum of row i's token losses) / n_i; ignored tokens have loss 0 */
    ref_row_sums(m->sample_losses, a->losses, B, T);
    for (int b = 0; b < B; b++) {
        int n = 0;
        for (int t = 0; t < T; t++)
            n += targets[b * T + t] >= 0;
        m->counts[b] = n;
        m->sample_losses[b] = n > 0 ? m->sample_losses[b] / n : 0.0;
    }
    return 0;
}

double ref_llama_objective(const struct ref_llama *m, const double *weights)
{
    double sum = 0.0;
    for (int b = 0; b < m->B; b++)
        sum += weights[b] * m->sample_losses[b];
    return sum;
}

void ref_llama_row_scales(const struct ref_llama *m, const double *weights, double *row_scale)
{
    for (int b = 0; b < m->B; b++)
        row_scale[b] = m->counts[b] > 0 ? weights[b] / m->counts[b] : 0.0;
}

void ref_llama_zero_grad(struct ref_llama *m)
{
    ref_fill(m->grads, 0.0, m->num_params);
}

/* ---- backward: the forward in exact reverse ------------------------------------ */

void ref_llama_backward(struct ref_llama *m, const double *row_scale)
{
    const struct ref_llama_shape *s = &m->s;
    const int B = m->B, T = m->T, C = s->channels, L = s->num_layers, F = s->ffn;
    const int NH = s->num_heads, KVH = s->num_kv_heads, V = s->vocab_size;
    const int Vp = s->padded_vocab_size, BT = B * T, hs = C / NH, G = NH / KVH;
    const int QKV = C + 2 * KVH * hs;
    const struct ref_llama_acts *a = &m->a;
    const struct ref_llama_dacts *d = &m->d;
    double *const *p = m->param, *const *g = m->grad;
    const double *head = s->tied ? p[REF_LLAMA_WTE] : p[REF_LLAMA_LM_HEAD];
    double *dhead = s->tied ? g[REF_LLAMA_WTE] : g[REF_LLAMA_LM_HEAD];

    /* losses = crossentropy(logits, targets), seeded with the per-row scales */
    ref_crossentropy_backward(d->dlogits, a->logits, a->lse, m->targets, row_scale, T, BT, V,
                              Vp);
    /* logits = xf @ head^T (tied: wte gets this and, below, the embedding's part) */
    linear_backward(d->dln, dhead, d->dlogits, a->xf, head, BT, C, Vp);
    /* xf = rmsnorm(res_last): starts the residual stream's gradient */
    const double *res_last = a->res3 + (size_t)(L - 1) * BT * C;
    ref_fill(d->dx, 0.0, (size_t)BT * C);
    rmsnorm_backward(d->dx, g[REF_LLAMA_NORM], d->dln, res_last, p[REF_LLAMA_NORM], a->xf_rstd,
                     BT, C);

    const double scale = 1.0 / sqrt((double)hs);
    for (int l = L - 1; l >= 0; l--) {
        size_t lC = (size_t)l * C, lBT = (size_t)l * BT;
        const double *res_in = l == 0 ? a->encoded : a->res3 + (lBT - BT) * C;
        const double *an = a->an + lBT * C, *qkv = a->qkv + lBT * QKV;
        const double *att = a->att + (size_t)l * B * NH * T * T;
        const double *atty = a->atty + lBT * C, *res2 = a->res2 + lBT * C;
        const double *fn = a->fn + lBT * C, *gu = a->gu + lBT * 2 * F, *mlp = a->mlp + lBT * F;

        /* res3 = res2 + mlp @ w2^T: dx flows on to res2 unchanged */
        linear_backward(d->dmlp, g[REF_LLAMA_W2] + lC * F, d->dx, mlp, p[REF_LLAMA_W2] + lC * F,
                        BT, F, C);
        /* mlp = silu(gate) * up */
        swiglu_backward(d->dgu, gu, d->dmlp, BT, F);
        /* gu = fn @ w13^T */
        linear_backward(d->dln, g[REF_LLAMA_W13] + lC * 2 * F, d->dgu, fn,
                        p[REF_LLAMA_W13] + lC * 2 * F, BT, C, 2 * F);
        /* fn = rmsnorm(res2): adds into dx, which becomes d(res2) */
        rmsnorm_backward(d->dx, g[REF_LLAMA_FFN_NORM] + lC, d->dln, res2,
                         p[REF_LLAMA_FFN_NORM] + lC, a->fn_rstd + lBT, BT, C);

        /* res2 = res_in + atty @ wo^T */
        linear_backward(d->datty, g[REF_LLAMA_WO] + lC * C, d->dx, atty, p[REF_LLAMA_WO] + lC * C,
                        BT, C, C);
        /* atty_bh = att_bh v_bj: datt_bh = datty_bh v_bj^T, dv_bj = sum over the
         * group's g of att_bh^T datty_bh (the first g writes, the rest add) */
        for (int gi = 0; gi < G; gi++) {
            att_gemm(m, gi, 0, 1, T, T, hs, 1.0, d->datty, VIEW_Y, qkv, VIEW_V, 0.0, d->datt,
                     VIEW_ATT);
            att_gemm(m, gi, 1, 0, T, hs, T, 1.0, att, VIEW_ATT, d->datty, VIEW_Y,
                     gi == 0 ? 0.0 : 1.0, d->dqkv, VIEW_V);
        }
        /* att = causal softmax(pre), in place: datt becomes dpre */
        ref_softmax_causal_backward(d->datt, d->datt, att, B * NH, T);
        /* pre_bh = q_bh k_bj^T / sqrt(hs): dq_bh = dpre_bh k_bj / sqrt(hs),
         * dk_bj = sum over the group of dpre_bh^T q_bh / sqrt(hs) */
        for (int gi = 0; gi < G; gi++) {
            att_gemm(m, gi, 0, 0, T, hs, T, scale, d->datt, VIEW_ATT, qkv, VIEW_K, 0.0, d->dqkv,
                     VIEW_Q);
            att_gemm(m, gi, 1, 0, T, hs, T, scale, d->datt, VIEW_ATT, qkv, VIEW_Q,
                     gi == 0 ? 0.0 : 1.0, d->dqkv, VIEW_K);
        }
        /* q, k = rope(q, k): the gradient rotates back */
        rope_backward(d->dqkv, m->freqs, B, T, NH + KVH, hs, QKV);
        /* qkv = an @ wqkv^T */
        linear_backward(d->dln, g[REF_LLAMA_WQKV] + lC * QKV, d->dqkv, an,
                        p[REF_LLAMA_WQKV] + lC * QKV, BT, C, QKV);
        /* an = rmsnorm(res_in): adds into dx, which becomes d(res_in) */
        rmsnorm_backward(d->dx, g[REF_LLAMA_ATTN_NORM] + lC, d->dln, res_in,
                         p[REF_LLAMA_ATTN_NORM] + lC, a->an_rstd + lBT, BT, C);
    }
    /* encoded = wte[inputs] */
    embedding_backward(g[REF_LLAMA_WTE], d->dx, m->inputs, BT, C);
}
