/* tests/ref/ref_gpt2_f64.c — see ref_gpt2_f64.h. */
#include "tests/ref/ref_gpt2_f64.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ref/ref_ops_f64.h"
#include "tests/ref/vectors.h"

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

static void carve_all(struct ref_gpt2 *m, struct carver *cv)
{
    size_t B = m->B, T = m->T, C = m->cfg.channels, L = m->cfg.num_layers;
    size_t NH = m->cfg.num_heads, Vp = m->cfg.padded_vocab_size, BT = B * T;
    struct ref_gpt2_acts *a = &m->a;
    struct ref_gpt2_dacts *d = &m->d;
    m->params = carve(cv, m->num_params);
    m->grads = carve(cv, m->num_params);
    a->encoded = carve(cv, BT * C);
    a->ln1 = carve(cv, L * BT * C);
    a->ln1_mean = carve(cv, L * BT);
    a->ln1_rstd = carve(cv, L * BT);
    a->qkv = carve(cv, L * BT * 3 * C);
    a->preatt = carve(cv, L * B * NH * T * T);
    a->att = carve(cv, L * B * NH * T * T);
    a->atty = carve(cv, L * BT * C);
    a->res2 = carve(cv, L * BT * C);
    a->ln2 = carve(cv, L * BT * C);
    a->ln2_mean = carve(cv, L * BT);
    a->ln2_rstd = carve(cv, L * BT);
    a->fch = carve(cv, L * BT * 4 * C);
    a->fch_gelu = carve(cv, L * BT * 4 * C);
    a->res3 = carve(cv, L * BT * C);
    a->lnf = carve(cv, BT * C);
    a->lnf_mean = carve(cv, BT);
    a->lnf_rstd = carve(cv, BT);
    a->logits = carve(cv, BT * Vp);
    a->lse = carve(cv, BT);
    a->losses = carve(cv, BT);
    d->dx = carve(cv, BT * C);
    d->dln = carve(cv, BT * C);
    d->datty = carve(cv, BT * C);
    d->dqkv = carve(cv, BT * 3 * C);
    d->datt = carve(cv, B * NH * T * T);
    d->dfch = carve(cv, BT * 4 * C);
    d->dlogits = carve(cv, BT * Vp);
    m->sample_losses = carve(cv, B);
}

int ref_gpt2_create(struct ref_gpt2 *m, const struct gpt2_config *cfg, int B, int T,
                    struct herr *err)
{
    memset(m, 0, sizeof *m);
    if (gpt2_config_validate(cfg, err))
        return -1;
    if (B < 1 || T < 1 || T > cfg->max_seq_len)
        return herr_set(err, "ref model: batch B=%d T=%d invalid (need B >= 1, 1 <= T <= "
                             "max_seq_len %d)", B, T, cfg->max_seq_len);
    m->cfg = *cfg;
    m->B = B;
    m->T = T;
    m->num_params = gpt2_num_params(cfg);
    struct carver cv = { NULL, 0 };
    carve_all(m, &cv);
    m->mem = calloc(cv.used, sizeof(double));
    m->inputs = calloc((size_t)B * T, sizeof(int32_t));
    m->targets = calloc((size_t)B * T, sizeof(int32_t));
    m->counts = calloc((size_t)B, sizeof(int));
    if (!m->mem || !m->inputs || !m->targets || !m->counts) {
        ref_gpt2_destroy(m);
        return herr_set(err, "ref model: out of memory (%zu doubles)", cv.used);
    }
    cv.base = m->mem;
    cv.used = 0;
    carve_all(m, &cv);
    size_t off[GPT2_NUM_TENSORS];
    gpt2_tensor_offsets(cfg, off);
    for (int t = 0; t < GPT2_NUM_TENSORS; t++) {
        m->param[t] = m->params + off[t];
        m->grad[t] = m->grads + off[t];
    }
    return 0;
}

void ref_gpt2_destroy(struct ref_gpt2 *m)
{
    free(m->mem);
    free(m->inputs);
    free(m->targets);
    free(m->counts);
    memset(m, 0, sizeof *m);
}

/* ---- llm.c model file -------------------------------------------------------- */

int ref_gpt2_read_llmc(const char *path, struct gpt2_config *cfg, float **params,
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
        return herr_set(err, "%s: %zu bytes, too short for the 1024-byte llm.c header", path,
                        len);
    }
    memcpy(h, bytes, sizeof h); /* llm.c files are little-endian, as are our hosts */
    if (h[0] != 20240326 || h[1] != 3) {
        free(bytes);
        return herr_set(err, "%s: header magic %d version %d (expected 20240326 version 3, "
                             "an llm.c float32 model)", path, (int)h[0], (int)h[1]);
    }
    cfg->max_seq_len = h[2];
    cfg->vocab_size = h[3];
    cfg->num_layers = h[4];
    cfg->num_heads = h[5];
    cfg->channels = h[6];
    cfg->padded_vocab_size = h[7];
    if (gpt2_config_validate(cfg, err)) {
        free(bytes);
        return herr_wrap(err, "%s: ", path);
    }
    size_t n = gpt2_num_params(cfg);
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

/* ---- helpers for the attention GEMMs ---------------------------------------- */

/* Attention runs one (T x T) or (T x hs) product per (batch row b, head h) on
 * the gemm_batch grid. Operands live in one of three layouts:
 *   qkv-like (B, T, 3C): row stride 3C, (b, h) block at b*T*3C + h*hs
 *   y-like   (B, T, C):  row stride C,  (b, h) block at b*T*C + h*hs
 *   att-like (B, NH, T, T): row stride T, block at (b*NH + h)*T*T */
enum att_layout { QKV_LIKE, Y_LIKE, ATT_LIKE };

struct att_operand {
    size_t outer, inner;
    int ld;
};

static struct att_operand att_operand(enum att_layout lay, int T, int C, int NH)
{
    size_t hs = (size_t)(C / NH), t = (size_t)T;
    switch (lay) {
    case QKV_LIKE: return (struct att_operand){ t * 3 * C, hs, 3 * C };
    case Y_LIKE:   return (struct att_operand){ t * C, hs, C };
    default:       return (struct att_operand){ (size_t)NH * t * t, t * t, T };
    }
}

/* C_bh = alpha * op(A_bh) op(B_bh) for every (b, h); beta 0. */
static void att_gemm(int ta, int tb, int m, int n, int k, double alpha, const double *a,
                     enum att_layout la, const double *b, enum att_layout lb, double *c,
                     enum att_layout lc, int B, int T, int C, int NH)
{
    struct att_operand A = att_operand(la, T, C, NH), Bo = att_operand(lb, T, C, NH),
                       Co = att_operand(lc, T, C, NH);
    struct gemm_batch g = { B, NH, A.outer, A.inner, Bo.outer, Bo.inner, Co.outer, Co.inner };
    ref_gemm(ta, tb, m, n, k, alpha, a, A.ld, b, Bo.ld, 0.0, c, Co.ld, &g);
}

/* ---- linear layers ----------------------------------------------------------- */

/* out (N, OC) = beta * out + inp (N, IC) @ w^T + b, with w (OC, IC) and b (OC)
 * or NULL. beta = 1 makes it a residual add into a copy of the stream. */
static void linear_forward(double *out, const double *inp, const double *w, const double *b,
                           int N, int IC, int OC, double beta)
{
    ref_gemm(0, 1, N, OC, IC, 1.0, inp, IC, w, IC, beta, out, OC, NULL);
    if (b)
        ref_add_bias(out, b, N, OC);
}

/* Backward of linear_forward: dw (OC, IC) += dout^T (OC, N) @ inp (N, IC),
 * db (OC) += column sums of dout (skipped when NULL), dinp (N, IC) = dout @ w. */
static void linear_backward(double *dinp, double *dw, double *db, const double *dout,
                            const double *inp, const double *w, int N, int IC, int OC)
{
    ref_gemm(1, 0, OC, IC, N, 1.0, dout, OC, inp, IC, 1.0, dw, IC, NULL);
    if (db)
        ref_col_sums(db, dout, N, OC);
    ref_gemm(0, 0, N, IC, OC, 1.0, dout, OC, w, IC, 0.0, dinp, IC, NULL);
}

/* ---- forward ----------------------------------------------------------------- */

int ref_gpt2_forward(struct ref_gpt2 *m, const int32_t *inputs, const int32_t *targets,
                     struct herr *err)
{
    const int B = m->B, T = m->T, C = m->cfg.channels, L = m->cfg.num_layers;
    const int NH = m->cfg.num_heads, V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab_size;
    const int BT = B * T, hs = C / NH;
    struct ref_gpt2_acts *a = &m->a;
    double *const *p = m->param;

    for (int i = 0; i < BT; i++) {
        if (inputs[i] < 0 || inputs[i] >= V)
            return herr_set(err, "ref model: input id %d at (%d, %d) not in [0, %d)",
                            (int)inputs[i], i / T, i % T, V);
        if (targets[i] >= V)
            return herr_set(err, "ref model: target id %d at (%d, %d) not below V=%d",
                            (int)targets[i], i / T, i % T, V);
    }
    memcpy(m->inputs, inputs, (size_t)BT * sizeof *inputs);
    memcpy(m->targets, targets, (size_t)BT * sizeof *targets);

    ref_encoder_forward(a->encoded, inputs, p[GPT2_WTE], p[GPT2_WPE], B, T, C);
    for (int l = 0; l < L; l++) {
        size_t lC = (size_t)l * C, lBT = (size_t)l * BT;
        const double *res_in = l == 0 ? a->encoded : a->res3 + (lBT - BT) * C; /* (B, T, C) */
        double *ln1 = a->ln1 + lBT * C, *qkv = a->qkv + lBT * 3 * C;
        double *preatt = a->preatt + (size_t)l * B * NH * T * T;
        double *att = a->att + (size_t)l * B * NH * T * T;
        double *atty = a->atty + lBT * C, *res2 = a->res2 + lBT * C;
        double *ln2 = a->ln2 + lBT * C, *res3 = a->res3 + lBT * C;
        double *fch = a->fch + lBT * 4 * C, *fch_gelu = a->fch_gelu + lBT * 4 * C;

        ref_layernorm_forward(ln1, a->ln1_mean + lBT, a->ln1_rstd + lBT, res_in,
                              p[GPT2_LN1W] + lC, p[GPT2_LN1B] + lC, BT, C);
        /* qkv (BT, 3C) = ln1 (BT, C) @ qkvw^T + qkvb */
        linear_forward(qkv, ln1, p[GPT2_QKVW] + lC * 3 * C, p[GPT2_QKVB] + lC * 3, BT, C, 3 * C,
                       0.0);
        /* preatt_bh (T, T) = q_bh (T, hs) @ k_bh^T / sqrt(hs) */
        att_gemm(0, 1, T, T, hs, 1.0 / sqrt((double)hs), qkv, QKV_LIKE, qkv + C, QKV_LIKE,
                 preatt, ATT_LIKE, B, T, C, NH);
        ref_softmax_causal_forward(att, preatt, B * NH, T);
        /* atty_bh (T, hs) = att_bh (T, T) @ v_bh (T, hs) */
        att_gemm(0, 0, T, hs, T, 1.0, att, ATT_LIKE, qkv + 2 * C, QKV_LIKE, atty, Y_LIKE, B, T,
                 C, NH);
        /* res2 = res_in + atty @ attprojw^T + attprojb: the residual add is a
         * copy followed by an accumulating (beta = 1) GEMM */
        ref_copy(res2, res_in, (size_t)BT * C);
        linear_forward(res2, atty, p[GPT2_ATTPROJW] + lC * C, p[GPT2_ATTPROJB] + lC, BT, C, C,
                       1.0);

        ref_layernorm_forward(ln2, a->ln2_mean + lBT, a->ln2_rstd + lBT, res2,
                              p[GPT2_LN2W] + lC, p[GPT2_LN2B] + lC, BT, C);
        /* fch (BT, 4C) = ln2 @ fcw^T + fcb */
        linear_forward(fch, ln2, p[GPT2_FCW] + lC * 4 * C, p[GPT2_FCB] + lC * 4, BT, C, 4 * C, 0.0);
        ref_gelu_forward(fch_gelu, fch, (size_t)BT * 4 * C);
        /* res3 = res2 + fch_gelu (BT, 4C) @ fcprojw^T (4C, C) + fcprojb */
        ref_copy(res3, res2, (size_t)BT * C);
        linear_forward(res3, fch_gelu, p[GPT2_FCPROJW] + lC * 4 * C, p[GPT2_FCPROJB] + lC, BT,
                       4 * C, C, 1.0);
    }
    const double *res_last = a->res3 + (size_t)(L - 1) * BT * C; /* (B, T, C) */
    ref_layernorm_forward(a->lnf, a->lnf_mean, a->lnf_rstd, res_last, p[GPT2_LNFW],
                          p[GPT2_LNFB], BT, C);
    /* logits (BT, Vp) = lnf (BT, C) @ wte^T: the tied head, no bias */
    linear_forward(a->logits, a->lnf, p[GPT2_WTE], NULL, BT, C, Vp, 0.0);
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

double ref_gpt2_objective(const struct ref_gpt2 *m, const double *weights)
{
    double s = 0.0;
    for (int b = 0; b < m->B; b++)
        s += weights[b] * m->sample_losses[b];
    return s;
}

void ref_gpt2_row_scales(const struct ref_gpt2 *m, const double *weights, double *row_scale)
{
    for (int b = 0; b < m->B; b++)
        row_scale[b] = m->counts[b] > 0 ? weights[b] / m->counts[b] : 0.0;
}

void ref_gpt2_zero_grad(struct ref_gpt2 *m)
{
    ref_fill(m->grads, 0.0, m->num_params);
}

/* ---- backward: the forward in exact reverse ------------------------------------ */

void ref_gpt2_backward(struct ref_gpt2 *m, const double *row_scale)
{
    const int B = m->B, T = m->T, C = m->cfg.channels, L = m->cfg.num_layers;
    const int NH = m->cfg.num_heads, V = m->cfg.vocab_size, Vp = m->cfg.padded_vocab_size;
    const int BT = B * T, hs = C / NH;
    const struct ref_gpt2_acts *a = &m->a;
    const struct ref_gpt2_dacts *d = &m->d;
    double *const *p = m->param, *const *g = m->grad;

    /* losses = crossentropy(logits, targets), seeded with the per-row scales */
    ref_crossentropy_backward(d->dlogits, a->logits, a->lse, m->targets, row_scale, T, BT, V,
                              Vp);
    /* logits = lnf @ wte^T */
    linear_backward(d->dln, g[GPT2_WTE], NULL, d->dlogits, a->lnf, p[GPT2_WTE], BT, C, Vp);
    /* lnf = layernorm(res_last): starts the residual stream's gradient */
    const double *res_last = a->res3 + (size_t)(L - 1) * BT * C;
    ref_fill(d->dx, 0.0, (size_t)BT * C);
    ref_layernorm_backward(d->dx, g[GPT2_LNFW], g[GPT2_LNFB], d->dln, res_last, p[GPT2_LNFW],
                           a->lnf_mean, a->lnf_rstd, BT, C);

    for (int l = L - 1; l >= 0; l--) {
        size_t lC = (size_t)l * C, lBT = (size_t)l * BT;
        const double *res_in = l == 0 ? a->encoded : a->res3 + (lBT - BT) * C;
        const double *ln1 = a->ln1 + lBT * C, *qkv = a->qkv + lBT * 3 * C;
        const double *att = a->att + (size_t)l * B * NH * T * T;
        const double *atty = a->atty + lBT * C, *res2 = a->res2 + lBT * C;
        const double *ln2 = a->ln2 + lBT * C;
        const double *fch = a->fch + lBT * 4 * C, *fch_gelu = a->fch_gelu + lBT * 4 * C;

        /* res3 = res2 + fch_gelu @ fcprojw^T + fcprojb: dx flows on to res2 unchanged */
        linear_backward(d->dfch, g[GPT2_FCPROJW] + lC * 4 * C, g[GPT2_FCPROJB] + lC, d->dx,
                        fch_gelu, p[GPT2_FCPROJW] + lC * 4 * C, BT, 4 * C, C);
        /* fch_gelu = gelu(fch) */
        ref_gelu_backward(d->dfch, fch, d->dfch, (size_t)BT * 4 * C);
        /* fch = ln2 @ fcw^T + fcb */
        linear_backward(d->dln, g[GPT2_FCW] + lC * 4 * C, g[GPT2_FCB] + lC * 4, d->dfch, ln2,
                        p[GPT2_FCW] + lC * 4 * C, BT, C, 4 * C);
        /* ln2 = layernorm(res2): adds into dx, which becomes d(res2) */
        ref_layernorm_backward(d->dx, g[GPT2_LN2W] + lC, g[GPT2_LN2B] + lC, d->dln, res2,
                               p[GPT2_LN2W] + lC, a->ln2_mean + lBT, a->ln2_rstd + lBT, BT, C);

        /* res2 = res_in + atty @ attprojw^T + attprojb */
        linear_backward(d->datty, g[GPT2_ATTPROJW] + lC * C, g[GPT2_ATTPROJB] + lC, d->dx, atty,
                        p[GPT2_ATTPROJW] + lC * C, BT, C, C);
        /* atty_bh = att_bh @ v_bh: datt_bh = datty_bh @ v_bh^T, dv_bh = att_bh^T @ datty_bh */
        att_gemm(0, 1, T, T, hs, 1.0, d->datty, Y_LIKE, qkv + 2 * C, QKV_LIKE, d->datt, ATT_LIKE,
                 B, T, C, NH);
        att_gemm(1, 0, T, hs, T, 1.0, att, ATT_LIKE, d->datty, Y_LIKE, d->dqkv + 2 * C, QKV_LIKE,
                 B, T, C, NH);
        /* att = softmax_causal(preatt), in place: datt becomes dpreatt */
        ref_softmax_causal_backward(d->datt, d->datt, att, B * NH, T);
        /* preatt_bh = q_bh @ k_bh^T / sqrt(hs): dq = dpre @ k / sqrt(hs), dk = dpre^T @ q / sqrt(hs) */
        double scale = 1.0 / sqrt((double)hs);
        att_gemm(0, 0, T, hs, T, scale, d->datt, ATT_LIKE, qkv + C, QKV_LIKE, d->dqkv, QKV_LIKE,
                 B, T, C, NH);
        att_gemm(1, 0, T, hs, T, scale, d->datt, ATT_LIKE, qkv, QKV_LIKE, d->dqkv + C, QKV_LIKE,
                 B, T, C, NH);
        /* qkv = ln1 @ qkvw^T + qkvb */
        linear_backward(d->dln, g[GPT2_QKVW] + lC * 3 * C, g[GPT2_QKVB] + lC * 3, d->dqkv, ln1,
                        p[GPT2_QKVW] + lC * 3 * C, BT, C, 3 * C);
        /* ln1 = layernorm(res_in): adds into dx, which becomes d(res_in) */
        ref_layernorm_backward(d->dx, g[GPT2_LN1W] + lC, g[GPT2_LN1B] + lC, d->dln, res_in,
                               p[GPT2_LN1W] + lC, a->ln1_mean + lBT, a->ln1_rstd + lBT, BT, C);
    }
    /* encoded = wte[inputs] + wpe[t] */
    ref_encoder_backward(g[GPT2_WTE], g[GPT2_WPE], d->dx, m->inputs, B, T, C);
}
