/* models/gpt2.c — GPT-2 forward and backward as backend ops.
 *
 * Read forward and backward side by side: backward walks the layers in exact
 * reverse and quotes the forward line each part differentiates. */
#include "models/gpt2.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/prng.h"

/* The activation arena, carved once in gpt2_create. Per-layer tensors are
 * kept for the backward; backward scratch is shared by all layers. */
struct gpt2_acts {
    dptr encoded;              // (B, T, C)
    dptr ln1;                  // (L, B, T, C)
    dptr ln1_mean, ln1_rstd;   // (L, B, T)
    dptr qkv;                  // (L, B, T, 3C)
    dptr att;                  // (L, B, NH, T, T) scores, then probabilities in place
    dptr atty;                 // (L, B, T, C)
    dptr residual2;            // (L, B, T, C)
    dptr ln2;                  // (L, B, T, C)
    dptr ln2_mean, ln2_rstd;   // (L, B, T)
    dptr fch;                  // (L, B, T, 4C)
    dptr fch_gelu;             // (L, B, T, 4C)
    dptr residual3;            // (L, B, T, C)
    dptr lnf;                  // (B, T, C)
    dptr lnf_mean, lnf_rstd;   // (B, T)
    dptr logits;               // (B, T, Vp) then their gradient in place
    dptr lse;                  // (B, T)
    dptr losses;               // (B, T)
    dptr row_sums;             // (B)
    dptr dresidual;            // (B, T, C) gradient of the residual stream
    dptr dbig;                 // (B, T, 4C)
    dptr dsmall;               // (B, T, C)
    dptr dqkv;                 // (B, T, 3C)
    dptr datt;                 // (B, NH, T, T)
    dptr tokens, targets;      // (B, T) int32
    dptr row_scale;            // (B)
};

struct gpt2 {
    struct backend *be;
    struct gpt2_config cfg;
    int B, T;
    size_t num_params;
    size_t off[GPT2_NUM_TENSORS];
    dptr params, grads; // (P)
    dptr arena;
    struct gpt2_acts a;
    int32_t *host_targets; // (B, T) kept for validation messages
};

/* ------------------------------------------------------------------------ */
/* sizes and carving                                                          */

/* Element counts of the arena's tensors, in struct order (one table serves
 * both the size computation and the carving). */
enum { NUM_ACTS = 26 };

static void act_sizes(const struct gpt2_config *c, int B, int T, size_t s[NUM_ACTS])
{
    size_t L = (size_t)c->num_layers, C = (size_t)c->channels, NH = (size_t)c->num_heads;
    size_t BT = (size_t)B * (size_t)T, Vp = (size_t)c->padded_vocab_size;
    size_t TT = (size_t)T * (size_t)T;
    size_t k = 0;
    s[k++] = BT * C;          // encoded
    s[k++] = L * BT * C;      // ln1
    s[k++] = L * BT;          // ln1_mean
    s[k++] = L * BT;          // ln1_rstd
    s[k++] = L * BT * 3 * C;  // qkv
    s[k++] = L * B * NH * TT; // att
    s[k++] = L * BT * C;      // atty
    s[k++] = L * BT * C;      // residual2
    s[k++] = L * BT * C;      // ln2
    s[k++] = L * BT;          // ln2_mean
    s[k++] = L * BT;          // ln2_rstd
    s[k++] = L * BT * 4 * C;  // fch
    s[k++] = L * BT * 4 * C;  // fch_gelu
    s[k++] = L * BT * C;      // residual3
    s[k++] = BT * C;          // lnf
    s[k++] = BT;              // lnf_mean
    s[k++] = BT;              // lnf_rstd
    s[k++] = BT * Vp;         // logits
    s[k++] = BT;              // lse
    s[k++] = BT;              // losses
    s[k++] = (size_t)B;       // row_sums
    s[k++] = BT * C;          // dresidual
    s[k++] = BT * 4 * C;      // dbig
    s[k++] = BT * C;          // dsmall
    s[k++] = BT * 3 * C;      // dqkv
    s[k++] = B * NH * TT;     // datt
}

/* tokens, targets and row_scale follow the float tensors */
static size_t io_floats(int B, int T) { return 2 * (size_t)B * T + (size_t)B; }

size_t gpt2_activation_floats(const struct gpt2_config *cfg, int B, int T)
{
    size_t s[NUM_ACTS], n = io_floats(B, T);
    act_sizes(cfg, B, T, s);
    for (int i = 0; i < NUM_ACTS; i++)
        n += s[i];
    return n;
}

static void carve(struct gpt2 *m)
{
    size_t s[NUM_ACTS];
    act_sizes(&m->cfg, m->B, m->T, s);
    dptr *slots[NUM_ACTS] = {
        &m->a.encoded, &m->a.ln1, &m->a.ln1_mean, &m->a.ln1_rstd, &m->a.qkv, &m->a.att,
        &m->a.atty, &m->a.residual2, &m->a.ln2, &m->a.ln2_mean, &m->a.ln2_rstd, &m->a.fch,
        &m->a.fch_gelu, &m->a.residual3, &m->a.lnf, &m->a.lnf_mean, &m->a.lnf_rstd,
        &m->a.logits, &m->a.lse, &m->a.losses, &m->a.row_sums, &m->a.dresidual, &m->a.dbig,
        &m->a.dsmall, &m->a.dqkv, &m->a.datt,
    };
    dptr p = m->arena;
    for (int i = 0; i < NUM_ACTS; i++) {
        *slots[i] = p;
        p = dptr_at(p, s[i]);
    }
    size_t BT = (size_t)m->B * m->T;
    m->a.tokens = p;
    m->a.targets = dptr_at(p, BT);
    m->a.row_scale = dptr_at(p, 2 * BT);
}

int gpt2_create(struct gpt2 **out, struct backend *be, const struct gpt2_config *cfg, int B,
                int T, struct herr *err)
{
    *out = NULL;
    if (gpt2_config_validate(cfg, err))
        return -1;
    if (B < 1 || B > 1 << 20)
        return herr_set(err, "batch size B=%d out of range [1, 1048576]", B);
    if (T < 1 || T > cfg->max_seq_len)
        return herr_set(err, "sequence length T=%d out of range [1, max_seq_len=%d]", T,
                        cfg->max_seq_len);
    if ((double)B * T * cfg->padded_vocab_size > 2147483647.0 ||
        (double)B * cfg->num_heads * T * T > 2147483647.0 * 64)
        return herr_set(err, "B=%d x T=%d is too large for this vocabulary/head count", B, T);
    struct gpt2 *m = calloc(1, sizeof *m);
    if (!m)
        return herr_set(err, "out of host memory");
    m->be = be;
    m->cfg = *cfg;
    m->B = B;
    m->T = T;
    m->num_params = gpt2_num_params(cfg);
    gpt2_tensor_offsets(cfg, m->off);
    m->host_targets = calloc((size_t)B * T, sizeof(int32_t));
    m->params = backend_alloc_floats(be, m->num_params);
    m->grads = backend_alloc_floats(be, m->num_params);
    m->arena = backend_alloc_floats(be, gpt2_activation_floats(cfg, B, T));
    if (!m->host_targets || backend_check(be, err)) {
        if (!m->host_targets)
            herr_set(err, "out of host memory");
        gpt2_destroy(m);
        return herr_wrap(err, "creating GPT-2 (%zu parameters, B=%d, T=%d): ",
                         gpt2_num_params(cfg), B, T);
    }
    carve(m);
    be->ops->fill(be, m->params, 0.0f, m->num_params);
    be->ops->fill(be, m->grads, 0.0f, m->num_params);
    *out = m;
    return 0;
}

void gpt2_destroy(struct gpt2 *m)
{
    if (!m)
        return;
    backend_release_ptr(m->be, m->params);
    backend_release_ptr(m->be, m->grads);
    backend_release_ptr(m->be, m->arena);
    free(m->host_targets);
    free(m);
}

const struct gpt2_config *gpt2_config_of(const struct gpt2 *m) { return &m->cfg; }
size_t gpt2_param_count(const struct gpt2 *m) { return m->num_params; }
dptr gpt2_params(const struct gpt2 *m) { return m->params; }
dptr gpt2_grads(const struct gpt2 *m) { return m->grads; }

void gpt2_param_spans(const struct gpt2 *m, struct param_span spans[GPT2_NUM_TENSORS])
{
    size_t sizes[GPT2_NUM_TENSORS];
    gpt2_tensor_sizes(&m->cfg, sizes);
    for (int t = 0; t < GPT2_NUM_TENSORS; t++) {
        spans[t].name = gpt2_tensor_name((enum gpt2_tensor)t);
        spans[t].offset = m->off[t];
        spans[t].count = sizes[t];
        spans[t].decays = gpt2_tensor_decays((enum gpt2_tensor)t);
    }
}

/* ------------------------------------------------------------------------ */
/* initialization                                                             */

/* Standard normal from two uniform draws (Box-Muller): deterministic given
 * the generator, identical on every platform with IEEE doubles and libm. */
static double normal01(struct prng *g)
{
    double u1 = ((double)(prng_next(g) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
    double u2 = (double)(prng_next(g) >> 11) * 0x1.0p-53;         /* [0, 1) */
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void gpt2_init_params(const struct gpt2_config *cfg, uint64_t seed, float *host)
{
    size_t sizes[GPT2_NUM_TENSORS], off[GPT2_NUM_TENSORS];
    gpt2_tensor_sizes(cfg, sizes);
    gpt2_tensor_offsets(cfg, off);
    /* GPT-2: residual projections scaled by 1/sqrt(2L) so the residual
     * stream's variance does not grow with depth. */
    double resid_std = 0.02 / sqrt(2.0 * cfg->num_layers);
    for (int t = 0; t < GPT2_NUM_TENSORS; t++) {
        struct prng g;
        prng_seed(&g, prng_mix(seed, (uint64_t)t)); /* per tensor: stable under layout changes */
        float *p = host + off[t];
        switch ((enum gpt2_tensor)t) {
        case GPT2_LN1W: case GPT2_LN2W: case GPT2_LNFW:
            for (size_t i = 0; i < sizes[t]; i++)
                p[i] = 1.0f;
            break;
        case GPT2_LN1B: case GPT2_LN2B: case GPT2_LNFB: case GPT2_QKVB: case GPT2_ATTPROJB:
        case GPT2_FCB: case GPT2_FCPROJB:
            memset(p, 0, sizes[t] * sizeof(float));
            break;
        case GPT2_WTE: {
            size_t real = (size_t)cfg->vocab_size * cfg->channels;
            for (size_t i = 0; i < real; i++)
                p[i] = (float)(0.02 * normal01(&g));
            memset(p + real, 0, (sizes[t] - real) * sizeof(float)); /* padding rows */
            break;
        }
        default: {
            double std = (t == GPT2_ATTPROJW || t == GPT2_FCPROJW) ? resid_std : 0.02;
            for (size_t i = 0; i < sizes[t]; i++)
                p[i] = (float)(std * normal01(&g));
        }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* host <-> device                                                            */

static int transfer(struct gpt2 *m, int down, void *host, dptr dev, size_t n, const char *what,
                    struct herr *err)
{
    struct backend *be = m->be;
    if (down)
        be->ops->download(be, host, dev, n * sizeof(float));
    else
        be->ops->upload(be, dev, host, n * sizeof(float));
    if (backend_check(be, err))
        return herr_wrap(err, "%s %s: ", down ? "downloading" : "uploading", what);
    return 0;
}

int gpt2_download_params(struct gpt2 *m, float *host, struct herr *err)
{
    return transfer(m, 1, host, m->params, m->num_params, "parameters", err);
}

int gpt2_upload_params(struct gpt2 *m, const float *host, struct herr *err)
{
    return transfer(m, 0, (void *)host, m->params, m->num_params, "parameters", err);
}

int gpt2_download_grads(struct gpt2 *m, float *host, struct herr *err)
{
    return transfer(m, 1, host, m->grads, m->num_params, "gradients", err);
}

int gpt2_download_logits(struct gpt2 *m, float *host, struct herr *err)
{
    return transfer(m, 1, host, m->a.logits, (size_t)m->B * m->T * m->cfg.padded_vocab_size,
                    "logits", err);
}

int gpt2_download_token_losses(struct gpt2 *m, float *host, struct herr *err)
{
    return transfer(m, 1, host, m->a.losses, (size_t)m->B * m->T, "token losses", err);
}

/* ------------------------------------------------------------------------ */
/* forward                                                                    */

/* y (N, OC) = x (N, IC) W^T + b with W (OC, IC); beta = 1 adds to y. */
static void linear_forward(struct backend *be, dptr y, dptr x, dptr W, dptr b, int N, int IC,
                           int OC, float beta)
{
    be->ops->gemm(be, 0, 1, N, OC, IC, 1.0f, x, IC, W, IC, beta, y, OC, NULL);
    be->ops->add_bias(be, y, b, N, OC);
}

/* dx (N, IC) = dy W; dW (OC, IC) += dy^T x; db (OC) += column sums of dy */
static void linear_backward(struct backend *be, dptr dx, dptr dW, dptr db, dptr dy, dptr x,
                            dptr W, int N, int IC, int OC)
{
    be->ops->gemm(be, 0, 0, N, IC, OC, 1.0f, dy, OC, W, IC, 0.0f, dx, IC, NULL);
    be->ops->gemm(be, 1, 0, OC, IC, N, 1.0f, dy, OC, x, IC, 1.0f, dW, IC, NULL);
    be->ops->col_sums(be, db, dy, N, OC);
}

/* The (b, h) grid of attention's GEMMs: an operand is either one of q, k, v
 * or y inside a (B, T, ld) tensor (head h at column h*hs), or a (T, T) block of
 * the (B, NH, T, T) score tensor. */
static struct gemm_batch heads_grid(int B, int NH, int T, int hs, size_t a_ld, int a_is_scores,
                                    size_t b_ld, int b_is_scores, size_t c_ld, int c_is_scores)
{
    size_t TT = (size_t)T * T;
    struct gemm_batch g = { B, NH, 0, 0, 0, 0, 0, 0 };
    g.a_outer = a_is_scores ? NH * TT : T * a_ld;
    g.a_inner = a_is_scores ? TT : (size_t)hs;
    g.b_outer = b_is_scores ? NH * TT : T * b_ld;
    g.b_inner = b_is_scores ? TT : (size_t)hs;
    g.c_outer = c_is_scores ? NH * TT : T * c_ld;
    g.c_inner = c_is_scores ? TT : (size_t)hs;
    return g;
}

/* One layer's slice of the parameters (or, with base = the gradient buffer,
 * of the gradients: the two share a layout). */
struct layer_weights {
    dptr ln1w, ln1b, qkvw, qkvb, attprojw, attprojb, ln2w, ln2b, fcw, fcb, fcprojw, fcprojb;
};

static struct layer_weights layer_weights_at(const struct gpt2 *m, dptr base, int l)
{
    size_t C = (size_t)m->cfg.channels, lc = (size_t)l * C;
    const size_t *o = m->off;
    struct layer_weights w = {
        dptr_at(base, o[GPT2_LN1W] + lc),          dptr_at(base, o[GPT2_LN1B] + lc),
        dptr_at(base, o[GPT2_QKVW] + 3 * lc * C),  dptr_at(base, o[GPT2_QKVB] + 3 * lc),
        dptr_at(base, o[GPT2_ATTPROJW] + lc * C),  dptr_at(base, o[GPT2_ATTPROJB] + lc),
        dptr_at(base, o[GPT2_LN2W] + lc),          dptr_at(base, o[GPT2_LN2B] + lc),
        dptr_at(base, o[GPT2_FCW] + 4 * lc * C),   dptr_at(base, o[GPT2_FCB] + 4 * lc),
        dptr_at(base, o[GPT2_FCPROJW] + 4 * lc * C), dptr_at(base, o[GPT2_FCPROJB] + lc),
    };
    return w;
}

/* One layer's activations: its input (the residual stream before it) and
 * everything the forward keeps for the backward. */
struct layer_acts {
    dptr residual, ln1, ln1_mean, ln1_rstd, qkv, att, atty, res2, ln2, ln2_mean, ln2_rstd, fch,
        fchg, res3;
};

static struct layer_acts layer_acts_at(const struct gpt2 *m, int l)
{
    const struct gpt2_acts *a = &m->a;
    size_t BT = (size_t)m->B * m->T, C = (size_t)m->cfg.channels;
    size_t btc = (size_t)l * BT * C, bt = (size_t)l * BT;
    size_t att = (size_t)l * m->B * m->cfg.num_heads * m->T * m->T;
    struct layer_acts x = {
        l == 0 ? a->encoded : dptr_at(a->residual3, btc - BT * C),
        dptr_at(a->ln1, btc), dptr_at(a->ln1_mean, bt), dptr_at(a->ln1_rstd, bt),
        dptr_at(a->qkv, 3 * btc), dptr_at(a->att, att), dptr_at(a->atty, btc),
        dptr_at(a->residual2, btc), dptr_at(a->ln2, btc), dptr_at(a->ln2_mean, bt),
        dptr_at(a->ln2_rstd, bt), dptr_at(a->fch, 4 * btc), dptr_at(a->fch_gelu, 4 * btc),
        dptr_at(a->residual3, btc),
    };
    return x;
}

static int check_ids(const struct gpt2 *m, const int32_t *inputs, const int32_t *targets,
                     struct herr *err)
{
    int V = m->cfg.vocab_size;
    for (int i = 0; i < m->B * m->T; i++) {
        if (inputs[i] < 0 || inputs[i] >= V)
            return herr_set(err, "input token id %d at row %d position %d is outside the vocabulary [0, %d)",
                            inputs[i], i / m->T, i % m->T, V);
        if (targets[i] >= V)
            return herr_set(err, "target token id %d at row %d position %d is outside the vocabulary [0, %d)",
                            targets[i], i / m->T, i % m->T, V);
    }
    return 0;
}

int gpt2_forward(struct gpt2 *m, const int32_t *inputs, const int32_t *targets,
                 struct herr *err)
{
    struct backend *be = m->be;
    const struct backend_ops *op = be->ops;
    const int B = m->B, T = m->T, BT = B * T, C = m->cfg.channels, L = m->cfg.num_layers;
    const int NH = m->cfg.num_heads, hs = C / NH, V = m->cfg.vocab_size;
    const int Vp = m->cfg.padded_vocab_size;
    const float scale = 1.0f / sqrtf((float)hs);
    struct gpt2_acts *a = &m->a;
    dptr p = m->params;

    if (check_ids(m, inputs, targets, err))
        return -1;
    memcpy(m->host_targets, targets, (size_t)BT * sizeof(int32_t));
    op->upload(be, a->tokens, inputs, (size_t)BT * sizeof(int32_t));
    op->upload(be, a->targets, targets, (size_t)BT * sizeof(int32_t));

    op->encoder_forward(be, a->encoded, a->tokens, dptr_at(p, m->off[GPT2_WTE]),
                        dptr_at(p, m->off[GPT2_WPE]), B, T, C);
    struct gemm_batch qk = heads_grid(B, NH, T, hs, 3 * C, 0, 3 * C, 0, 0, 1);
    struct gemm_batch av = heads_grid(B, NH, T, hs, 0, 1, 3 * C, 0, C, 0);
    for (int l = 0; l < L; l++) {
        struct layer_weights w = layer_weights_at(m, p, l);
        struct layer_acts x = layer_acts_at(m, l);
        op->layernorm_forward(be, x.ln1, x.ln1_mean, x.ln1_rstd, x.residual, w.ln1w, w.ln1b, BT,
                              C);
        linear_forward(be, x.qkv, x.ln1, w.qkvw, w.qkvb, BT, C, 3 * C, 0.0f);
        /* att = softmax_causal(scale * q k^T) per (b, h); atty = att v */
        op->gemm(be, 0, 1, T, T, hs, scale, x.qkv, 3 * C, dptr_at(x.qkv, C), 3 * C, 0.0f, x.att,
                 T, &qk);
        op->softmax_causal_forward(be, x.att, x.att, B * NH, T);
        op->gemm(be, 0, 0, T, hs, T, 1.0f, x.att, T, dptr_at(x.qkv, 2 * C), 3 * C, 0.0f, x.atty,
                 C, &av);
        /* res2 = residual + atty attprojw^T + attprojb */
        op->copy(be, x.res2, x.residual, (size_t)BT * C);
        linear_forward(be, x.res2, x.atty, w.attprojw, w.attprojb, BT, C, C, 1.0f);
        op->layernorm_forward(be, x.ln2, x.ln2_mean, x.ln2_rstd, x.res2, w.ln2w, w.ln2b, BT, C);
        linear_forward(be, x.fch, x.ln2, w.fcw, w.fcb, BT, C, 4 * C, 0.0f);
        op->gelu_forward(be, x.fchg, x.fch, (size_t)BT * 4 * C);
        /* res3 = res2 + fchg fcprojw^T + fcprojb */
        op->copy(be, x.res3, x.res2, (size_t)BT * C);
        linear_forward(be, x.res3, x.fchg, w.fcprojw, w.fcprojb, BT, 4 * C, C, 1.0f);
    }
    dptr last = dptr_at(a->residual3, (size_t)(L - 1) * BT * C);
    op->layernorm_forward(be, a->lnf, a->lnf_mean, a->lnf_rstd, last,
                          dptr_at(p, m->off[GPT2_LNFW]), dptr_at(p, m->off[GPT2_LNFB]), BT, C);
    /* logits = lnf wte^T (the LM head is tied to the token embedding) */
    op->gemm(be, 0, 1, BT, Vp, C, 1.0f, a->lnf, C, dptr_at(p, m->off[GPT2_WTE]), C, 0.0f,
             a->logits, Vp, NULL);
    op->crossentropy_forward(be, a->losses, a->lse, a->logits, a->targets, BT, V, Vp);
    if (backend_check(be, err))
        return herr_wrap(err, "GPT-2 forward: ");
    return 0;
}

int gpt2_row_loss_sums(struct gpt2 *m, float *sums, struct herr *err)
{
    struct backend *be = m->be;
    be->ops->row_sums(be, m->a.row_sums, m->a.losses, m->B, m->T);
    return transfer(m, 1, sums, m->a.row_sums, (size_t)m->B, "per-sample losses", err);
}

void gpt2_zero_grads(struct gpt2 *m)
{
    m->be->ops->fill(m->be, m->grads, 0.0f, m->num_params);
}

/* ------------------------------------------------------------------------ */
/* backward                                                                   */

int gpt2_backward(struct gpt2 *m, const float *row_scale, struct herr *err)
{
    struct backend *be = m->be;
    const struct backend_ops *op = be->ops;
    const int B = m->B, T = m->T, BT = B * T, C = m->cfg.channels, L = m->cfg.num_layers;
    const int NH = m->cfg.num_heads, hs = C / NH, V = m->cfg.vocab_size;
    const int Vp = m->cfg.padded_vocab_size;
    const float scale = 1.0f / sqrtf((float)hs);
    struct gpt2_acts *a = &m->a;
    dptr p = m->params, g = m->grads;

    for (int b = 0; b < B; b++)
        if (!isfinite(row_scale[b]))
            return herr_set(err, "GPT-2 backward: row %d has a non-finite gradient scale", b);
    op->upload(be, a->row_scale, row_scale, (size_t)B * sizeof(float));

    /* losses = crossentropy(logits, targets), each token scaled by its row's scale */
    op->crossentropy_backward(be, a->logits, a->logits, a->lse, a->targets, a->row_scale, T, BT,
                              V, Vp);
    /* logits = lnf wte^T */
    dptr wte = dptr_at(p, m->off[GPT2_WTE]), dwte = dptr_at(g, m->off[GPT2_WTE]);
    op->gemm(be, 0, 0, BT, C, Vp, 1.0f, a->logits, Vp, wte, C, 0.0f, a->dsmall, C, NULL);
    op->gemm(be, 1, 0, Vp, C, BT, 1.0f, a->logits, Vp, a->lnf, C, 1.0f, dwte, C, NULL);
    /* lnf = layernorm(last residual) */
    dptr last = dptr_at(a->residual3, (size_t)(L - 1) * BT * C);
    op->fill(be, a->dresidual, 0.0f, (size_t)BT * C);
    op->layernorm_backward(be, a->dresidual, dptr_at(g, m->off[GPT2_LNFW]),
                           dptr_at(g, m->off[GPT2_LNFB]), a->dsmall, last,
                           dptr_at(p, m->off[GPT2_LNFW]), a->lnf_mean, a->lnf_rstd, BT, C);

    struct gemm_batch dav_att = heads_grid(B, NH, T, hs, C, 0, 3 * C, 0, 0, 1);
    struct gemm_batch dav_v = heads_grid(B, NH, T, hs, 0, 1, C, 0, 3 * C, 0);
    struct gemm_batch dqk = heads_grid(B, NH, T, hs, 0, 1, 3 * C, 0, 3 * C, 0);
    dptr dres = a->dresidual;
    for (int l = L - 1; l >= 0; l--) {
        struct layer_weights w = layer_weights_at(m, p, l), dw = layer_weights_at(m, g, l);
        struct layer_acts x = layer_acts_at(m, l);
        /* res3 = res2 + fchg fcprojw^T + fcprojb  (dres already holds d res3,
         * which is also the skip path's share of d res2) */
        linear_backward(be, a->dbig, dw.fcprojw, dw.fcprojb, dres, x.fchg, w.fcprojw, BT, 4 * C,
                        C);
        /* fchg = gelu(fch) */
        op->gelu_backward(be, a->dbig, x.fch, a->dbig, (size_t)BT * 4 * C);
        /* fch = ln2 fcw^T + fcb */
        linear_backward(be, a->dsmall, dw.fcw, dw.fcb, a->dbig, x.ln2, w.fcw, BT, C, 4 * C);
        /* ln2 = layernorm(res2): adds into dres, which becomes d res2 */
        op->layernorm_backward(be, dres, dw.ln2w, dw.ln2b, a->dsmall, x.res2, w.ln2w, x.ln2_mean,
                               x.ln2_rstd, BT, C);
        /* res2 = residual + atty attprojw^T + attprojb */
        linear_backward(be, a->dsmall, dw.attprojw, dw.attprojb, dres, x.atty, w.attprojw, BT, C,
                        C);
        /* atty = att v: d att = d atty v^T, d v = att^T d atty */
        op->gemm(be, 0, 1, T, T, hs, 1.0f, a->dsmall, C, dptr_at(x.qkv, 2 * C), 3 * C, 0.0f,
                 a->datt, T, &dav_att);
        op->gemm(be, 1, 0, T, hs, T, 1.0f, x.att, T, a->dsmall, C, 0.0f,
                 dptr_at(a->dqkv, 2 * C), 3 * C, &dav_v);
        /* att = softmax_causal(pre) */
        op->softmax_causal_backward(be, a->datt, a->datt, x.att, B * NH, T);
        /* pre = scale q k^T: d q = scale d pre k, d k = scale d pre^T q */
        op->gemm(be, 0, 0, T, hs, T, scale, a->datt, T, dptr_at(x.qkv, C), 3 * C, 0.0f, a->dqkv,
                 3 * C, &dqk);
        op->gemm(be, 1, 0, T, hs, T, scale, a->datt, T, x.qkv, 3 * C, 0.0f,
                 dptr_at(a->dqkv, C), 3 * C, &dqk);
        /* qkv = ln1 qkvw^T + qkvb */
        linear_backward(be, a->dsmall, dw.qkvw, dw.qkvb, a->dqkv, x.ln1, w.qkvw, BT, C, 3 * C);
        /* ln1 = layernorm(residual): adds into dres, which becomes d residual */
        op->layernorm_backward(be, dres, dw.ln1w, dw.ln1b, a->dsmall, x.residual, w.ln1w,
                               x.ln1_mean, x.ln1_rstd, BT, C);
    }
    /* encoded = wte[tokens] + wpe */
    op->encoder_backward(be, dwte, dptr_at(g, m->off[GPT2_WPE]), dres, a->tokens, B, T, C);
    if (backend_check(be, err))
        return herr_wrap(err, "GPT-2 backward: ");
    return 0;
}

double gpt2_flops_per_step(const struct gpt2_config *c, int B, int T)
{
    double C = c->channels, L = c->num_layers, Vp = c->padded_vocab_size;
    double matmul_params = L * 12.0 * C * C + Vp * C;
    double tokens = (double)B * T;
    return tokens * (6.0 * matmul_params + 12.0 * L * C * T);
}
