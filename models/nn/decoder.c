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
    struct decoder_attn_chunk chunk; /* one attention pass when probabilities are recomputed */
    dptr params, grads; // (P); NN_NONE when the trainer lends them (hooks)
    dptr arena;
    struct decoder_acts a;
    struct param_hooks hooks; /* all NULL: the flat buffers above */
    size_t local[DEC_NUM_TENSORS]; /* each tensor's place in its group's buffer */
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

/* Elements of tensor t (of one layer, for the layers' tensors); 0 when the
 * family has none. One table for the views below and the groups. */
static size_t tensor_floats(const struct decoder_spec *s, enum dec_tensor t)
{
    if (s->off[t] == DEC_ABSENT)
        return 0;
    size_t C = (size_t)s->C, QKV = qkv_width(s), H = hidden_of(s), F = (size_t)s->F;
    switch (t) {
    case DEC_WTE: case DEC_HEAD: return (size_t)s->Vp * C;
    case DEC_WPE: return (size_t)s->maxT * C;
    case DEC_QKVW: return QKV * C;
    case DEC_QKVB: return QKV;
    case DEC_PROJW: return C * C;
    case DEC_FCW: return H * C;
    case DEC_FCB: return H;
    case DEC_FCPROJW: return C * F;
    default: return C; /* norms' weights and biases, the projections' biases */
    }
}

/* The groups' tensors in their buffers' order: a layer's, then the outer
 * group's (models/param_groups.h). */
static const enum dec_tensor layer_tensors[] = {
    DEC_N1W, DEC_N1B, DEC_QKVW, DEC_QKVB, DEC_PROJW, DEC_PROJB,
    DEC_N2W, DEC_N2B, DEC_FCW, DEC_FCB, DEC_FCPROJW, DEC_FCPROJB,
};
static const enum dec_tensor outer_tensors[] = { DEC_WTE, DEC_WPE, DEC_NFW, DEC_NFB, DEC_HEAD };
enum { NUM_LAYER_TENSORS = 12, NUM_OUTER_TENSORS = 5 };

int decoder_num_groups(const struct decoder_spec *s) { return s->L + 1; }

int decoder_group_slices(const struct decoder_spec *s, int g,
                         struct param_slice out[PARAM_GROUP_MAX_SLICES], size_t *floats)
{
    int layer = g < s->L;
    const enum dec_tensor *list = layer ? layer_tensors : outer_tensors;
    int n = 0, count = layer ? NUM_LAYER_TENSORS : NUM_OUTER_TENSORS;
    size_t local = 0;
    for (int i = 0; i < count; i++) {
        size_t size = tensor_floats(s, list[i]);
        if (!size)
            continue;
        out[n].flat = s->off[list[i]] + (layer ? (size_t)g * size : 0);
        out[n].count = size;
        out[n].local = local;
        local += size;
        n++;
    }
    *floats = local;
    return n;
}

/* Element counts of the arena's tensors, in struct order (one table serves
 * both the size computation and the carving). */
enum { NUM_ACTS = 28 };
/* positions in that order the planner's workspace figure needs */
enum { ACT_N1 = 1, ACT_ATT = 5, ACT_FCHG = 12, ACT_DATT = 25 };

/* NULL memory settings: keep everything */
static const struct model_memory keep_all = { .recompute = MODEL_RECOMPUTE_NONE };

struct decoder_attn_chunk decoder_attention_chunk(const struct decoder_spec *s, int B, int T,
                                                  const struct model_memory *mem)
{
    const size_t budget = (size_t)1 << 24; /* floats: 64 MiB */
    const size_t per_head = (size_t)(s->NH / s->KVH) * T * T, per_row = (size_t)s->KVH * per_head;
    const int want_rows = mem ? mem->attn_chunk : 0, want_heads = mem ? mem->attn_heads : 0;
    size_t rows = want_rows > 0 ? (size_t)want_rows : budget / per_row;
    size_t heads = want_heads > 0 ? (size_t)want_heads : (size_t)s->KVH;
    if (rows < 1) { /* not one whole row fits: one row, as many heads of it as fit */
        rows = 1;
        if (want_heads <= 0)
            heads = budget / per_head;
    }
    struct decoder_attn_chunk c = { rows > (size_t)B ? B : (int)rows,
                                    heads < 1 ? 1 : heads > (size_t)s->KVH ? s->KVH : (int)heads };
    return c;
}

/* Under recompute = layer the backward recomputes the layer's forward just
 * before differentiating it: when one pass holds the whole batch and every
 * head, that forward can leave the probabilities for the backward instead of
 * the backward computing them a third time. */
static int layer_keeps_probs(const struct decoder_spec *s, int B, struct decoder_attn_chunk c,
                             enum model_recompute rc)
{
    return rc == MODEL_RECOMPUTE_LAYER && c.rows >= B && c.kv_heads >= s->KVH;
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
    /* probabilities kept: (L, B, NH, T, T); recomputed: one pass's (rows, heads G, T, T) */
    struct decoder_attn_chunk ch = decoder_attention_chunk(c, B, T, mem);
    size_t pass = (size_t)ch.rows * ch.kv_heads * (NH / (size_t)c->KVH) * TT;
    size_t att = rc == MODEL_RECOMPUTE_NONE ? (size_t)c->L * B * NH * TT : pass;
    size_t datt = rc == MODEL_RECOMPUTE_NONE ? (size_t)B * NH * TT : pass;
    size_t k = 0;
    s[k++] = BT * C;              // encoded
    s[k++] = L * BT * C;          // n1
    s[k++] = ln ? L * BT : 0;     // n1_mean
    s[k++] = L * BT;              // n1_rstd
    s[k++] = L * BT * QKV;        // qkv
    s[k++] = att;                 // att
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
    s[k++] = datt;                // datt
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

size_t decoder_recompute_workspace_floats(const struct decoder_spec *s, int B, int T,
                                          const struct model_memory *mem)
{
    const enum model_recompute rc = (mem ? mem : &keep_all)->recompute;
    size_t sz[NUM_ACTS], n = 0;
    act_sizes(s, B, T, mem, sz);
    if (rc == MODEL_RECOMPUTE_LAYER) /* n1 .. fchg: one layer's, shared by all */
        for (int i = ACT_N1; i <= ACT_FCHG; i++)
            n += sz[i];
    else if (rc == MODEL_RECOMPUTE_ATTN)
        n += sz[ACT_ATT]; /* a chunk of rows' probabilities */
    if (rc != MODEL_RECOMPUTE_NONE)
        n += sz[ACT_DATT]; /* the same chunk's gradient */
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
    for (int g = 0; g < 2; g++) { /* a layer's tensors, then the outer ones */
        size_t local = 0;
        for (int i = 0; i < (g ? NUM_OUTER_TENSORS : NUM_LAYER_TENSORS); i++) {
            enum dec_tensor t = g ? outer_tensors[i] : layer_tensors[i];
            d->local[t] = local;
            local += tensor_floats(s, t);
        }
    }
    d->params = d->mem.hook_params ? NN_NONE
                                   : backend_alloc_named(be, s->num_params, "parameters");
    d->grads = d->mem.hook_grads ? NN_NONE : backend_alloc_named(be, s->num_params, "gradients");
    d->arena = backend_alloc_named(be, decoder_activation_floats(s, B, T, mem), "activations");
    if (backend_check(be, err)) {
        decoder_destroy(d);
        return herr_wrap(err, "creating %s (%zu parameters, B=%d, T=%d): ", s->name,
                         s->num_params, B, T);
    }
    carve(d);
    if (nn_has(d->params))
        be->ops->fill(be, d->params, 0.0f, s->num_params);
    if (nn_has(d->grads))
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

void decoder_set_hooks(struct decoder *d, const struct param_hooks *hooks)
{
    memset(&d->hooks, 0, sizeof d->hooks);
    if (hooks)
        d->hooks = *hooks;
}

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

/* A model whose trainer lends it the parameters or gradients has no flat
 * copy of them to move. */
static int flat_buffer(const struct decoder *d, dptr p, const char *what, struct herr *err)
{
    if (!nn_has(p))
        return herr_set(err, "%s: the %s are sharded over the ranks (ZeRO); this model holds "
                             "no whole copy", d->s.name, what);
    return 0;
}

int decoder_download_params(struct decoder *d, float *host, struct herr *err)
{
    if (flat_buffer(d, d->params, "parameters", err))
        return -1;
    return transfer(d, 1, host, d->params, d->s.num_params, "parameters", err);
}

int decoder_upload_params(struct decoder *d, const float *host, struct herr *err)
{
    if (flat_buffer(d, d->params, "parameters", err))
        return -1;
    return transfer(d, 0, (void *)host, d->params, d->s.num_params, "parameters", err);
}

int decoder_download_grads(struct decoder *d, float *host, struct herr *err)
{
    if (flat_buffer(d, d->grads, "gradients", err))
        return -1;
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

/* Where a group's tensors are: the flat buffer (parameters or gradients:
 * they share a layout), or a group buffer a hook lent (`local`). */
struct view {
    dptr base;
    int local;
};

/* Tensor t, of layer l for the layers' tensors; NN_NONE when absent. */
static dptr tensor_at(const struct decoder *d, struct view v, enum dec_tensor t, int l)
{
    if (d->s.off[t] == DEC_ABSENT)
        return NN_NONE;
    if (v.local)
        return dptr_at(v.base, d->local[t]);
    return dptr_at(v.base, d->s.off[t] + (size_t)l * tensor_floats(&d->s, t));
}

/* One layer's slice of the parameters or of the gradients. */
struct layer_weights {
    dptr n1w, n1b, qkvw, qkvb, projw, projb, n2w, n2b, fcw, fcb, fcprojw, fcprojb;
};

static struct layer_weights layer_weights_at(const struct decoder *d, struct view v, int l)
{
    struct layer_weights w = {
        tensor_at(d, v, DEC_N1W, l),  tensor_at(d, v, DEC_N1B, l),
        tensor_at(d, v, DEC_QKVW, l), tensor_at(d, v, DEC_QKVB, l),
        tensor_at(d, v, DEC_PROJW, l), tensor_at(d, v, DEC_PROJB, l),
        tensor_at(d, v, DEC_N2W, l),  tensor_at(d, v, DEC_N2B, l),
        tensor_at(d, v, DEC_FCW, l),  tensor_at(d, v, DEC_FCB, l),
        tensor_at(d, v, DEC_FCPROJW, l), tensor_at(d, v, DEC_FCPROJB, l),
    };
    return w;
}

/* The LM head: its own tensor, or the token embedding when tied. */
static dptr head_of(const struct decoder *d, struct view v)
{
    return tensor_at(d, v, d->s.off[DEC_HEAD] == DEC_ABSENT ? DEC_WTE : DEC_HEAD, 0);
}

/* Group g's weights (g = L: the outer group): the flat buffer, or the
 * trainer's gathered copy. */
static int group_params(struct decoder *d, int g, struct view *v, struct herr *err)
{
    v->local = d->hooks.params != NULL;
    v->base = d->params;
    if (v->local)
        return d->hooks.params(d->hooks.ctx, g, &v->base, err);
    if (!nn_has(d->params))
        return herr_set(err, "%s: created without parameters and given no hooks", d->s.name);
    return 0;
}

/* Where group g's gradients go: the flat buffer, or a zeroed group buffer
 * the trainer takes back in group_grads_done. */
static int group_grads(struct decoder *d, int g, struct view *v, struct herr *err)
{
    v->local = d->hooks.grads != NULL;
    v->base = d->grads;
    if (v->local)
        return d->hooks.grads(d->hooks.ctx, g, &v->base, err);
    if (!nn_has(d->grads))
        return herr_set(err, "%s: created without gradients and given no hooks", d->s.name);
    return 0;
}

static int group_grads_done(struct decoder *d, int g, struct herr *err)
{
    return d->hooks.grads_done ? d->hooks.grads_done(d->hooks.ctx, g, err) : 0;
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
    int recompute = d->rc != MODEL_RECOMPUTE_NONE && !layer_keeps_probs(&d->s, d->B, d->chunk, d->rc);
    struct nn_attention at = { d->B, d->T, d->s.NH, d->s.KVH, hs_of(&d->s),
                               d->s.rope ? d->a.freqs : NN_NONE, recompute, d->chunk.rows,
                               d->chunk.kv_heads };
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
static void layer_forward(struct decoder *d, int l, struct view wv)
{
    struct backend *be = d->be;
    const struct backend_ops *op = be->ops;
    const int BT = d->B * d->T, C = d->s.C, QKV = (int)qkv_width(&d->s);
    const struct nn_norm *norm = &d->s.norm;
    const struct nn_attention at = attention_of(d);
    const struct nn_mlp mlp = mlp_of(d);
    struct layer_weights w = layer_weights_at(d, wv, l);
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
    struct view p;

    if (check_ids(d, inputs, targets, err))
        return -1;
    op->upload(be, a->tokens, inputs, (size_t)BT * sizeof(int32_t));
    op->upload(be, a->targets, targets, (size_t)BT * sizeof(int32_t));

    if (group_params(d, L, &p, err))
        return herr_wrap(err, "%s forward, outer weights: ", d->s.name);
    nn_embed_forward(be, a->encoded, a->tokens, tensor_at(d, p, DEC_WTE, 0),
                     tensor_at(d, p, DEC_WPE, 0), B, T, C);
    for (int l = 0; l < L; l++) {
        struct view w;
        if (group_params(d, l, &w, err))
            return herr_wrap(err, "%s forward, weights of layer %d: ", d->s.name, l);
        layer_forward(d, l, w);
    }
    dptr last = dptr_at(a->res3, (size_t)(L - 1) * BT * C);
    nn_norm_forward(be, norm, a->nf, a->nf_mean, a->nf_rstd, last, tensor_at(d, p, DEC_NFW, 0),
                    tensor_at(d, p, DEC_NFB, 0), BT, C);
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
    /* lent gradient buffers come zeroed from the hooks */
    if (nn_has(d->grads))
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
    struct view p, g;

    for (int b = 0; b < B; b++)
        if (!isfinite(row_scale[b]))
            return herr_set(err, "%s backward: row %d has a non-finite gradient scale", d->s.name,
                            b);
    op->upload(be, a->row_scale, row_scale, (size_t)B * sizeof(float));
    if (group_params(d, L, &p, err) || group_grads(d, L, &g, err))
        return herr_wrap(err, "%s backward, outer weights: ", d->s.name);

    /* logits = nf head^T; losses = crossentropy(logits, targets) */
    nn_lm_loss_backward(be, a->dsmall, head_of(d, g), a->logits, a->lse, a->targets, a->row_scale,
                        a->nf, head_of(d, p), T, BT, C, d->s.V, d->s.Vp);
    /* nf = norm(last residual) */
    dptr last = dptr_at(a->res3, (size_t)(L - 1) * BT * C);
    op->fill(be, a->dresidual, 0.0f, (size_t)BT * C);
    nn_norm_backward(be, norm, a->dresidual, tensor_at(d, g, DEC_NFW, 0),
                     tensor_at(d, g, DEC_NFB, 0), a->dsmall, last, tensor_at(d, p, DEC_NFW, 0),
                     a->nf_mean, a->nf_rstd, BT, C);

    dptr dres = a->dresidual;
    for (int l = L - 1; l >= 0; l--) {
        struct view wv, dwv;
        if (group_params(d, l, &wv, err))
            return herr_wrap(err, "%s backward, weights of layer %d: ", d->s.name, l);
        if (d->rc == MODEL_RECOMPUTE_LAYER)
            layer_forward(d, l, wv); /* the layer's activations, from its kept input */
        if (group_grads(d, l, &dwv, err))
            return herr_wrap(err, "%s backward, gradients of layer %d: ", d->s.name, l);
        struct layer_weights w = layer_weights_at(d, wv, l), dw = layer_weights_at(d, dwv, l);
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
        if (group_grads_done(d, l, err))
            return herr_wrap(err, "%s backward, gradients of layer %d: ", d->s.name, l);
    }
    /* encoded = wte[tokens] (+ wpe) */
    nn_embed_backward(be, tensor_at(d, g, DEC_WTE, 0), tensor_at(d, g, DEC_WPE, 0), dres,
                      a->tokens, B, T, C);
    if (backend_check(be, err))
        return herr_wrap(err, "%s backward: ", d->s.name);
    if (group_grads_done(d, L, err))
        return herr_wrap(err, "%s backward, outer gradients: ", d->s.name);
    return 0;
}
