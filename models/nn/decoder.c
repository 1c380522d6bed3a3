/* models/nn/decoder.c — see decoder.h.
 *
 * Read forward and backward side by side: backward walks the layers in exact
 * reverse and quotes the forward line each part differentiates. */
#include "models/nn/decoder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The activation arena, carved once in decoder_create. Per-layer tensors are
 * kept for the backward; backward scratch is shared by all layers. "(L, ...)"
 * below is (1, ...) under recompute = layer, which keeps only each layer's
 * input (the res3 stream) and recomputes the rest; att is one chunk of rows
 * (chunk, NH, T, T) whenever probabilities are recomputed. */
struct decoder_acts {
    dptr encoded;              // (B, T, C)
    dptr n1;                   // (L, B, T, C)
    dptr n1_mean, n1_rstd;     // (L, B, T); mean for LayerNorm only
    dptr qkv;                  // (L, B, T, QKV) q, k rotated in place under rope
    dptr att;                  // (L, B, NH, T, T) scores, then probabilities in place
    dptr atty;                 // (L, B, T, C)
    dptr res2;                 // (L, B, T, C)
    dptr n2;                   // (L, B, T, C)
    dptr n2_mean, n2_rstd;     // (L, B, T)
    dptr fch;                  // (L, B, T, H) H = F (GELU) or 2F (SwiGLU: gate | up)
    dptr fchg;                 // (L, B, T, F)
    dptr res3;                 // (L, B, T, C) always: the layers' outputs
    dptr nf;                   // (B, T, C)
    dptr nf_mean, nf_rstd;     // (B, T)
    dptr logits;               // (B, T, Vp) then their gradient in place
    dptr lse;                  // (B, T)
    dptr losses;               // (B, T)
    dptr row_sums;             // (B)
    dptr dresidual;            // (B, T, C) gradient of the residual stream
    dptr dbig;                 // (B, T, H)
    dptr dsmall;               // (B, T, C)
    dptr dqkv;                 // (B, T, QKV)
    dptr datt;                 // (B, NH, T, T), or (chunk, NH, T, T) recomputing
    dptr dact;                 // (B, T, F) SwiGLU only (GELU works in place in dbig)
    dptr freqs;                // (T, hs/2, 2) rotary table, rope only
    dptr tokens, targets;      // (B, T) int32
    dptr row_scale;            // (B)
};

struct decoder {
    struct backend *be;
    struct decoder_spec s;
    int B, T;
    struct model_memory mem;
    enum model_recompute rc; /* mem.recompute */
    int chunk; /* rows per attention pass when probabilities are recomputed */
    dptr params, grads; // (P)
    dptr arena;
    struct decoder_acts a;
};

/* ------------------------------------------------------------------------ */
/* sizes and carving                                                          */

static int hs_of(const struct decoder_spec *s) { return s->C / s->NH; }
static size_t qkv_width(const struct decoder_spec *s)
{
    return (size_t)s->C + 2 * (size_t)s->KVH * hs_of(s);
}
static size_t hidden_of(const struct decoder_spec *s)
{
    return s->act == NN_SWIGLU ? 2 * (size_t)s->F : (size_t)s->F;
}

/* Element counts of the arena's tensors, in struct order (one table serves
 * both the size computation and the carving). */
enum { NUM_ACTS = 28 };

/* NULL memory settings: keep everything */
static const struct model_memory keep_all = { MODEL_RECOMPUTE_NONE, 0 };

int decoder_attention_chunk(const struct decoder_spec *s, int B, int T,
                            const struct model_memory *mem)
{
    size_t per_row = (size_t)s->NH * T * T, budget = (size_t)1 << 24; /* floats: 64 MiB */
    size_t rows = mem && mem->attn_chunk > 0 ? (size_t)mem->attn_chunk : budget / per_row;
    return rows < 1 ? 1 : rows > (size_t)B ? B : (int)rows;
}

static void act_sizes(const struct decoder_spec *c, int B, int T, const struct model_memory *mem,
                      size_t s[NUM_ACTS])
{
    const enum model_recompute rc = (mem ? mem : &keep_all)->recompute;
    /* per-layer workspace: every layer's, or one layer's under recompute = layer */
    size_t L = rc == MODEL_RECOMPUTE_LAYER ? 1 : (size_t)c->L;
    size_t C = (size_t)c->C, NH = (size_t)c->NH, F = (size_t)c->F;
    size_t BT = (size_t)B * (size_t)T, Vp = (size_t)c->Vp, TT = (size_t)T * (size_t)T;
    size_t QKV = qkv_width(c), H = hidden_of(c);
    int ln = c->norm.kind == NN_LAYERNORM, swiglu = c->act == NN_SWIGLU;
    size_t att_rows = rc == MODEL_RECOMPUTE_NONE ? (size_t)c->L * B
                                                 : (size_t)decoder_attention_chunk(c, B, T, mem);
    size_t datt_rows = rc == MODEL_RECOMPUTE_NONE ? (size_t)B : att_rows;
    size_t k = 0;
    s[k++] = BT * C;              // encoded
    s[k++] = L * BT * C;          // n1
    s[k++] = ln ? L * BT : 0;     // n1_mean
    s[k++] = L * BT;              // n1_rstd
    s[k++] = L * BT * QKV;        // qkv
    s[k++] = att_rows * NH * TT;  // att
    s[k++] = L * BT * C;          // atty
    s[k++] = L * BT * C;          // res2
    s[k++] = L * BT * C;          // n2
    s[k++] = ln ? L * BT : 0;     // n2_mean
    s[k++] = L * BT;              // n2_rstd
    s[k++] = L * BT * H;          // fch
    s[k++] = L * BT * F;          // fchg
    s[k++] = (size_t)c->L * BT * C; // res3
    s[k++] = BT * C;              // nf
    s[k++] = ln ? BT : 0;         // nf_mean
    s[k++] = BT;                  // nf_rstd
    s[k++] = BT * Vp;             // logits
    s[k++] = BT;                  // lse
    s[k++] = BT;                  // losses
    s[k++] = (size_t)B;           // row_sums
    s[k++] = BT * C;              // dresidual
    s[k++] = BT * H;              // dbig
    s[k++] = BT * C;              // dsmall
    s[k++] = BT * QKV;            // dqkv
    s[k++] = datt_rows * NH * TT; // datt
    s[k++] = swiglu ? BT * F : 0; // dact
    s[k++] = c->rope ? (size_t)T * (size_t)hs_of(c) : 0; // freqs
}

/* tokens, targets and row_scale follow the float tensors */
static size_t io_floats(int B, int T) { return 2 * (size_t)B * T + (size_t)B; }

size_t decoder_activation_floats(const struct decoder_spec *s, int B, int T,
                                 const struct model_memory *mem)
{
    size_t sz[NUM_ACTS], n = io_floats(B, T);
    act_sizes(s, B, T, mem, sz);
    for (int i = 0; i < NUM_ACTS; i++)
        n += sz[i];
    return n;
}

double decoder_matmul_params(const struct decoder_spec *s)
{
    double C = s->C, L = s->L, QKV = (double)qkv_width(s), H = (double)hidden_of(s);
    return L * (QKV * C + C * C + H * C + C * s->F) + (double)s->Vp * C;
}

double decoder_flops_per_step(const struct decoder_spec *s, int B, int T)
{
    double tokens = (double)B * T;
    return tokens * (6.0 * decoder_matmul_params(s) + 12.0 * s->L * (double)s->C * T);
}

static void carve(struct decoder *d)
{
    size_t s[NUM_ACTS];
    act_sizes(&d->s, d->B, d->T, &d->mem, s);
    struct decoder_acts *a = &d->a;
    dptr *slots[NUM_ACTS] = {
        &a->encoded, &a->n1, &a->n1_mean, &a->n1_rstd, &a->qkv, &a->att, &a->atty, &a->res2,
        &a->n2, &a->n2_mean, &a->n2_rstd, &a->fch, &a->fchg, &a->res3, &a->nf, &a->nf_mean,
        &a->nf_rstd, &a->logits, &a->lse, &a->losses, &a->row_sums, &a->dresidual, &a->dbig,
        &a->dsmall, &a->dqkv, &a->datt, &a->dact, &a->freqs,
    };
    dptr p = d->arena;
    for (int i = 0; i < NUM_ACTS; i++) {
        *slots[i] = s[i] ? p : NN_NONE;
        p = dptr_at(p, s[i]);
    }
    if (d->s.act == NN_GELU)
        a->dact = a->dbig; /* GELU's backward works in place */
    size_t BT = (size_t)d->B * d->T;
    a->tokens = p;
    a->targets = dptr_at(p, BT);
    a->row_scale = dptr_at(p, 2 * BT);
}

int decoder_create(struct decoder **out, struct backend *be, const struct decoder_spec *s, int B,
                   int T, const struct model_memory *mem, struct herr *err)
{
    *out = NULL;
    if (B < 1 || B > 1 << 20)
        return herr_set(err, "batch size B=%d out of range [1, 1048576]", B);
    if (T < 1 || T > s->maxT)
        return herr_set(err, "sequence length T=%d out of range [1, max_seq_len=%d]", T,
                        s->maxT);
    /* The ops index past 2^31 elements (logits of B*T*Vp may), but take the
     * row count B*T and the head rows B*NH as ints. */
    if ((double)B * T > 2147483647.0 || (double)B * s->NH > 2147483647.0 ||
        (double)B * s->NH * T * T > 2147483647.0 * 64)
        return herr_set(err, "B=%d x T=%d is too large for this head count", B, T);
    struct decoder *d = calloc(1, sizeof *d);
    if (!d)
        return herr_set(err, "out of host memory");
    d->be = be;
    d->s = *s;
    d->B = B;
    d->T = T;
    d->mem = mem ? *mem : keep_all;
    d->rc = d->mem.recompute;
    d->chunk = decoder_attention_chunk(s, B, T, mem);
    d->params = backend_alloc_named(be, s->num_params, "parameters");
    d->grads = backend_alloc_named(be, s->num_params, "gradients");
    d->arena = backend_alloc_named(be, decoder_activation_floats(s, B, T, mem), "activations");
    if (backend_check(be, err)) {
        decoder_destroy(d);
        return herr_wrap(err, "creating %s (%zu parameters, B=%d, T=%d): ", s->name,
                         s->num_params, B, T);
    }
    carve(d);
    be->ops->fill(be, d->params, 0.0f, s->num_params);
    be->ops->fill(be, d->grads, 0.0f, s->num_params);
    if (s->rope) {
        int hs = hs_of(s);
        float *table = malloc((size_t)T * hs * sizeof *table);
        if (!table) {
            decoder_destroy(d);
            return herr_set(err, "out of host memory for the rotary table");
        }
        nn_rope_table(table, T, hs, s->rope_theta);
        be->ops->upload(be, d->a.freqs, table, (size_t)T * hs * sizeof *table);
        free(table);
    }
    if (backend_check(be, err)) {
        decoder_destroy(d);
        return herr_wrap(err, "creating %s: ", s->name);
    }
    *out = d;
    return 0;
}

void decoder_destroy(struct decoder *d)
{
    if (!d)
        return;
    backend_release_ptr(d->be, d->params);
    backend_release_ptr(d->be, d->grads);
    backend_release_ptr(d->be, d->arena);
    free(d);
}

dptr decoder_params(const struct decoder *d) { return d->params; }
dptr decoder_grads(const struct decoder *d) { return d->grads; }

/* ------------------------------------------------------------------------ */
/* host <-> device                                                            */

static int transfer(struct decoder *d, int down, void *host, dptr dev, size_t n,
                    const char *what, struct herr *err)
{
    struct backend *be = d->be;
    if (down)
        be->ops->download(be, host, dev, n * sizeof(float));
    else
        be->ops->upload(be, dev, host, n * sizeof(float));
    if (backend_check(be, err))
        return herr_wrap(err, "%s %s: ", down ? "downloading" : "uploading", what);
    return 0;
}

int decoder_download_params(struct decoder *d, float *host, struct herr *err)
{
    return transfer(d, 1, host, d->params, d->s.num_params, "parameters", err);
}

int decoder_upload_params(struct decoder *d, const float *host, struct herr *err)
{
    return transfer(d, 0, (void *)host, d->params, d->s.num_params, "parameters", err);
}

int decoder_download_grads(struct decoder *d, float *host, struct herr *err)
{
    return transfer(d, 1, host, d->grads, d->s.num_params, "gradients", err);
}

int decoder_download_logits(struct decoder *d, float *host, struct herr *err)
{
    return transfer(d, 1, host, d->a.logits, (size_t)d->B * d->T * d->s.Vp, "logits", err);
}

int decoder_download_token_losses(struct decoder *d, float *host, struct herr *err)
{
    return transfer(d, 1, host, d->a.losses, (size_t)d->B * d->T, "token losses", err);
}

/* ------------------------------------------------------------------------ */
/* layer views                                                                */

/* A tensor of the flat buffer `base` (parameters or gradients: they share a
 * layout), at layer l for per-layer tensors; NN_NONE when absent. */
static dptr tensor_at(const struct decoder *d, dptr base, enum dec_tensor t, size_t per_layer,
                      int l)
{
    if (d->s.off[t] == DEC_ABSENT)
        return NN_NONE;
    return dptr_at(base, d->s.off[t] + (size_t)l * per_layer);
}

/* One layer's slice of the parameters or of the gradients. */
struct layer_weights {
    dptr n1w, n1b, qkvw, qkvb, projw, projb, n2w, n2b, fcw, fcb, fcprojw, fcprojb;
};

static struct layer_weights layer_weights_at(const struct decoder *d, dptr base, int l)
{
    size_t C = (size_t)d->s.C, QKV = qkv_width(&d->s), H = hidden_of(&d->s);
    size_t F = (size_t)d->s.F;
    struct layer_weights w = {
        tensor_at(d, base, DEC_N1W, C, l),      tensor_at(d, base, DEC_N1B, C, l),
        tensor_at(d, base, DEC_QKVW, QKV * C, l), tensor_at(d, base, DEC_QKVB, QKV, l),
        tensor_at(d, base, DEC_PROJW, C * C, l), tensor_at(d, base, DEC_PROJB, C, l),
        tensor_at(d, base, DEC_N2W, C, l),      tensor_at(d, base, DEC_N2B, C, l),
        tensor_at(d, base, DEC_FCW, H * C, l),  tensor_at(d, base, DEC_FCB, H, l),
        tensor_at(d, base, DEC_FCPROJW, C * F, l), tensor_at(d, base, DEC_FCPROJB, C, l),
    };
    return w;
}

/* The LM head: its own tensor, or the token embedding when tied. */
static dptr head_of(const struct decoder *d, dptr base)
{
    return tensor_at(d, base, d->s.off[DEC_HEAD] == DEC_ABSENT ? DEC_WTE : DEC_HEAD, 0, 0);
}

/* One layer's activations: its input (the residual stream before it) and
 * everything the forward keeps for the backward. */
struct layer_acts {
    dptr residual, n1, n1_mean, n1_rstd, qkv, att, atty, res2, n2, n2_mean, n2_rstd, fch, fchg,
        res3;
};

static dptr at_or_none(dptr p, size_t n) { return nn_has(p) ? dptr_at(p, n) : NN_NONE; }

static struct layer_acts layer_acts_at(const struct decoder *d, int l)
{
    const struct decoder_acts *a = &d->a;
    size_t BT = (size_t)d->B * d->T, C = (size_t)d->s.C;
    /* the workspace slot: the layer's own, or the one shared slot */
    size_t L = d->rc == MODEL_RECOMPUTE_LAYER ? 0 : (size_t)l;
    size_t att = d->rc == MODEL_RECOMPUTE_NONE ? L * d->B * d->s.NH * d->T * d->T : 0;
    struct layer_acts x = {
        l == 0 ? a->encoded : dptr_at(a->res3, ((size_t)l - 1) * BT * C),
        dptr_at(a->n1, L * BT * C), at_or_none(a->n1_mean, L * BT), dptr_at(a->n1_rstd, L * BT),
        dptr_at(a->qkv, L * BT * qkv_width(&d->s)), dptr_at(a->att, att),
        dptr_at(a->atty, L * BT * C), dptr_at(a->res2, L * BT * C), dptr_at(a->n2, L * BT * C),
        at_or_none(a->n2_mean, L * BT), dptr_at(a->n2_rstd, L * BT),
        dptr_at(a->fch, L * BT * hidden_of(&d->s)), dptr_at(a->fchg, L * BT * d->s.F),
        dptr_at(a->res3, (size_t)l * BT * C),
    };
    return x;
}

static struct nn_attention attention_of(const struct decoder *d)
{
    struct nn_attention at = { d->B, d->T, d->s.NH, d->s.KVH, hs_of(&d->s),
                               d->s.rope ? d->a.freqs : NN_NONE, d->rc != MODEL_RECOMPUTE_NONE,
                               d->chunk };
    return at;
}

static struct nn_mlp mlp_of(const struct decoder *d)
{
    struct nn_mlp m = { d->s.act, d->s.C, d->s.F };
    return m;
}

/* ------------------------------------------------------------------------ */
/* forward                                                                    */

static int check_ids(const struct decoder *d, const int32_t *inputs, const int32_t *targets,
                     struct herr *err)
{
    int V = d->s.V;
    for (int i = 0; i < d->B * d->T; i++) {
        if (inputs[i] < 0 || inputs[i] >= V)
            return herr_set(err, "input token id %d at row %d position %d is outside the vocabulary [0, %d)",
                            inputs[i], i / d->T, i % d->T, V);
        if (targets[i] >= V)
            return herr_set(err, "target token id %d at row %d position %d is outside the vocabulary [0, %d)",
                            targets[i], i / d->T, i % d->T, V);
    }
    return 0;
}

/* One layer: from its input (the residual stream) to its output res3, keeping
 * what its backward needs in its workspace. The backward calls it again under
 * recompute = layer: same ops on the same inputs, so the same values. */
static void layer_forward(struct decoder *d, int l)
{
    struct backend *be = d->be;
    const struct backend_ops *op = be->ops;
    const int BT = d->B * d->T, C = d->s.C, QKV = (int)qkv_width(&d->s);
    const struct nn_norm *norm = &d->s.norm;
    const struct nn_attention at = attention_of(d);
    const struct nn_mlp mlp = mlp_of(d);
    struct layer_weights w = layer_weights_at(d, d->params, l);
    struct layer_acts x = layer_acts_at(d, l);
    nn_norm_forward(be, norm, x.n1, x.n1_mean, x.n1_rstd, x.residual, w.n1w, w.n1b, BT, C);
    nn_linear_forward(be, x.qkv, x.n1, w.qkvw, w.qkvb, BT, C, QKV, 0.0f);
    nn_attention_forward(be, &at, x.qkv, x.att, x.atty);
    /* res2 = residual + atty projw^T + projb */
    op->copy(be, x.res2, x.residual, (size_t)BT * C);
    nn_linear_forward(be, x.res2, x.atty, w.projw, w.projb, BT, C, C, 1.0f);
    nn_norm_forward(be, norm, x.n2, x.n2_mean, x.n2_rstd, x.res2, w.n2w, w.n2b, BT, C);
    /* res3 = res2 + mlp(n2) */
    op->copy(be, x.res3, x.res2, (size_t)BT * C);
    nn_mlp_forward(be, &mlp, x.res3, x.fch, x.fchg, x.n2, w.fcw, w.fcb, w.fcprojw, w.fcprojb, BT);
}

int decoder_forward(struct decoder *d, const int32_t *inputs, const int32_t *targets,
                    struct herr *err)
{
    struct backend *be = d->be;
    const struct backend_ops *op = be->ops;
    const int B = d->B, T = d->T, BT = B * T, C = d->s.C, L = d->s.L;
    struct decoder_acts *a = &d->a;
    const struct nn_norm *norm = &d->s.norm;
    dptr p = d->params;

    if (check_ids(d, inputs, targets, err))
        return -1;
    op->upload(be, a->tokens, inputs, (size_t)BT * sizeof(int32_t));
    op->upload(be, a->targets, targets, (size_t)BT * sizeof(int32_t));

    nn_embed_forward(be, a->encoded, a->tokens, tensor_at(d, p, DEC_WTE, 0, 0),
                     tensor_at(d, p, DEC_WPE, 0, 0), B, T, C);
    for (int l = 0; l < L; l++)
        layer_forward(d, l);
    dptr last = dptr_at(a->res3, (size_t)(L - 1) * BT * C);
    nn_norm_forward(be, norm, a->nf, a->nf_mean, a->nf_rstd, last, tensor_at(d, p, DEC_NFW, 0, 0),
                    tensor_at(d, p, DEC_NFB, 0, 0), BT, C);
    nn_lm_loss_forward(be, a->logits, a->lse, a->losses, a->nf, head_of(d, p), a->targets, BT, C,
                       d->s.V, d->s.Vp);
    if (backend_check(be, err))
        return herr_wrap(err, "%s forward: ", d->s.name);
    return 0;
}

int decoder_row_loss_sums(struct decoder *d, float *sums, struct herr *err)
{
    struct backend *be = d->be;
    be->ops->row_sums(be, d->a.row_sums, d->a.losses, d->B, d->T);
    return transfer(d, 1, sums, d->a.row_sums, (size_t)d->B, "per-sample losses", err);
}

void decoder_zero_grads(struct decoder *d)
{
    d->be->ops->fill(d->be, d->grads, 0.0f, d->s.num_params);
}

/* ------------------------------------------------------------------------ */
/* backward                                                                   */

int decoder_backward(struct decoder *d, const float *row_scale, struct herr *err)
{
    struct backend *be = d->be;
    const struct backend_ops *op = be->ops;
    const int B = d->B, T = d->T, BT = B * T, C = d->s.C, L = d->s.L;
    const int QKV = (int)qkv_width(&d->s);
    struct decoder_acts *a = &d->a;
    const struct nn_norm *norm = &d->s.norm;
    const struct nn_attention at = attention_of(d);
    const struct nn_mlp mlp = mlp_of(d);
    dptr p = d->params, g = d->grads;

    for (int b = 0; b < B; b++)
        if (!isfinite(row_scale[b]))
            return herr_set(err, "%s backward: row %d has a non-finite gradient scale", d->s.name,
                            b);
    op->upload(be, a->row_scale, row_scale, (size_t)B * sizeof(float));

    /* logits = nf head^T; losses = crossentropy(logits, targets) */
    nn_lm_loss_backward(be, a->dsmall, head_of(d, g), a->logits, a->lse, a->targets, a->row_scale,
                        a->nf, head_of(d, p), T, BT, C, d->s.V, d->s.Vp);
    /* nf = norm(last residual) */
    dptr last = dptr_at(a->res3, (size_t)(L - 1) * BT * C);
    op->fill(be, a->dresidual, 0.0f, (size_t)BT * C);
    nn_norm_backward(be, norm, a->dresidual, tensor_at(d, g, DEC_NFW, 0, 0),
                     tensor_at(d, g, DEC_NFB, 0, 0), a->dsmall, last,
                     tensor_at(d, p, DEC_NFW, 0, 0), a->nf_mean, a->nf_rstd, BT, C);

    dptr dres = a->dresidual;
    for (int l = L - 1; l >= 0; l--) {
        if (d->rc == MODEL_RECOMPUTE_LAYER)
            layer_forward(d, l); /* the layer's activations, from its kept input */
        struct layer_weights w = layer_weights_at(d, p, l), dw = layer_weights_at(d, g, l);
        struct layer_acts x = layer_acts_at(d, l);
        /* res3 = res2 + mlp(n2)  (dres already holds d res3, which is also the
         * skip path's share of d res2) */
        nn_mlp_backward(be, &mlp, a->dsmall, a->dbig, a->dact, dres, x.fch, x.fchg, x.n2, w.fcw,
                        dw.fcw, dw.fcb, w.fcprojw, dw.fcprojw, dw.fcprojb, BT);
        /* n2 = norm(res2): adds into dres, which becomes d res2 */
        nn_norm_backward(be, norm, dres, dw.n2w, dw.n2b, a->dsmall, x.res2, w.n2w, x.n2_mean,
                         x.n2_rstd, BT, C);
        /* res2 = residual + atty projw^T + projb */
        nn_linear_backward(be, a->dsmall, dw.projw, dw.projb, dres, x.atty, w.projw, BT, C, C);
        /* atty = attention(qkv) */
        nn_attention_backward(be, &at, a->dqkv, a->datt, a->dsmall, x.qkv, x.att);
        /* qkv = n1 qkvw^T + qkvb */
        nn_linear_backward(be, a->dsmall, dw.qkvw, dw.qkvb, a->dqkv, x.n1, w.qkvw, BT, C, QKV);
        /* n1 = norm(residual): adds into dres, which becomes d residual */
        nn_norm_backward(be, norm, dres, dw.n1w, dw.n1b, a->dsmall, x.residual, w.n1w, x.n1_mean,
                         x.n1_rstd, BT, C);
    }
    /* encoded = wte[tokens] (+ wpe) */
    nn_embed_backward(be, tensor_at(d, g, DEC_WTE, 0, 0), tensor_at(d, g, DEC_WPE, 0, 0), dres,
                      a->tokens, B, T, C);
    if (backend_check(be, err))
        return herr_wrap(err, "%s backward: ", d->s.name);
    return 0;
}
