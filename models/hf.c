/* models/hf.c — see hf.h: the key/value helpers and the dispatch to the
 * families' Hugging Face tables. */
#include "models/hf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/family.h"

/* ---- building ------------------------------------------------------------- */

static struct hf_kv *slot(struct hf_config *c, const char *key)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->kv[i].key, key))
            return &c->kv[i];
    if (c->n == HF_CONFIG_MAX)
        return NULL; /* families write a few dozen keys; the table has room */
    struct hf_kv *kv = &c->kv[c->n++];
    memset(kv, 0, sizeof *kv);
    snprintf(kv->key, sizeof kv->key, "%s", key);
    return kv;
}

static void put(struct hf_config *c, const char *key, enum hf_kind kind, double num,
                const char *str)
{
    struct hf_kv *kv = slot(c, key);
    if (!kv)
        return;
    kv->kind = kind;
    kv->num = num;
    snprintf(kv->str, sizeof kv->str, "%s", str ? str : "");
}

void hf_put_int(struct hf_config *c, const char *key, long long v)
{
    put(c, key, HF_INT, (double)v, NULL);
}

void hf_put_float(struct hf_config *c, const char *key, float v)
{
    /* the shortest decimal with this float's value: what a person would
     * have written in the config (1e-05), and it reads back exactly */
    double d = v;
    for (int digits = 1; digits <= 9; digits++) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.*g", digits, (double)v);
        double parsed = strtod(buf, NULL);
        if ((float)parsed == v) {
            d = parsed;
            break;
        }
    }
    put(c, key, HF_REAL, d, NULL);
}

void hf_put_real(struct hf_config *c, const char *key, double v) { put(c, key, HF_REAL, v, NULL); }
void hf_put_bool(struct hf_config *c, const char *key, int v) { put(c, key, HF_BOOL, v != 0, NULL); }
void hf_put_str(struct hf_config *c, const char *key, const char *v) { put(c, key, HF_STRING, 0, v); }
void hf_put_null(struct hf_config *c, const char *key) { put(c, key, HF_NULL, 0, NULL); }
void hf_put_list(struct hf_config *c, const char *key, const char *first)
{
    put(c, key, HF_LIST, 0, first);
}

const struct hf_kv *hf_find(const struct hf_config *c, const char *key)
{
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->kv[i].key, key))
            return &c->kv[i];
    return NULL;
}

/* ---- reading -------------------------------------------------------------- */

static const char *kind_name(enum hf_kind k)
{
    static const char *const names[] = { "null", "a boolean", "an integer", "a number",
                                         "a string", "a list", "an object or list" };
    return (k >= HF_NULL && k <= HF_OTHER) ? names[k] : "?";
}

static int int_value(const struct hf_kv *kv, int lo, int hi, int *out, struct herr *err)
{
    if (kv->kind != HF_INT && !(kv->kind == HF_REAL && kv->num == floor(kv->num)))
        return herr_set(err, "config.json: %s is %s, not an integer", kv->key, kind_name(kv->kind));
    if (kv->num < lo || kv->num > hi)
        return herr_set(err, "config.json: %s = %.17g is out of range [%d, %d]", kv->key, kv->num,
                        lo, hi);
    *out = (int)kv->num;
    return 0;
}

int hf_get_int(const struct hf_config *c, const char *key, int lo, int hi, int *out,
               struct herr *err)
{
    const struct hf_kv *kv = hf_find(c, key);
    if (!kv || kv->kind == HF_NULL)
        return herr_set(err, "config.json: %s is missing", key);
    return int_value(kv, lo, hi, out, err);
}

int hf_get_int_or(const struct hf_config *c, const char *key, int def, int lo, int hi, int *out,
                  struct herr *err)
{
    const struct hf_kv *kv = hf_find(c, key);
    if (!kv || kv->kind == HF_NULL) {
        *out = def;
        return 0;
    }
    return int_value(kv, lo, hi, out, err);
}

int hf_get_real_or(const struct hf_config *c, const char *key, double def, double *out,
                   struct herr *err)
{
    const struct hf_kv *kv = hf_find(c, key);
    if (!kv || kv->kind == HF_NULL) {
        *out = def;
        return 0;
    }
    if (kv->kind != HF_INT && kv->kind != HF_REAL)
        return herr_set(err, "config.json: %s is %s, not a number", key, kind_name(kv->kind));
    *out = kv->num;
    return 0;
}

int hf_get_bool_or(const struct hf_config *c, const char *key, int def, int *out,
                   struct herr *err)
{
    const struct hf_kv *kv = hf_find(c, key);
    if (!kv || kv->kind == HF_NULL) {
        *out = def;
        return 0;
    }
    if (kv->kind != HF_BOOL)
        return herr_set(err, "config.json: %s is %s, not true or false", key, kind_name(kv->kind));
    *out = kv->num != 0;
    return 0;
}

int hf_expect_str(const struct hf_config *c, const char *key, const char *def,
                  const char *const *allowed, struct herr *err)
{
    const struct hf_kv *kv = hf_find(c, key);
    const char *v = def;
    if (kv && kv->kind != HF_NULL) {
        if (kv->kind != HF_STRING)
            return herr_set(err, "config.json: %s is %s, not a string", key, kind_name(kv->kind));
        v = kv->str;
    }
    for (int i = 0; v && allowed[i]; i++)
        if (!strcmp(v, allowed[i]))
            return 0;
    char list[256] = "";
    for (int i = 0; allowed[i]; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s\"%s\"", i ? ", " : "", allowed[i]);
    }
    return herr_set(err, "config.json: %s is \"%s\"; heft's model computes %s", key,
                    v ? v : "(missing)", list);
}

int hf_expect_unset(const struct hf_config *c, const char *key, const char *why,
                    struct herr *err)
{
    const struct hf_kv *kv = hf_find(c, key);
    if (!kv || kv->kind == HF_NULL || (kv->kind == HF_BOOL && kv->num == 0))
        return 0;
    return herr_set(err, "config.json: %s is set (%s), which heft does not support: %s", key,
                    kv->kind == HF_STRING ? kv->str : kind_name(kv->kind), why);
}

/* ---- dispatch ------------------------------------------------------------- */

const struct model_family *hf_family_by_type(const char *model_type)
{
    for (int i = 0; i < model_num_families(); i++) {
        const struct model_family *f = model_family_at(i);
        if (f->hf_model_type && !strcmp(f->hf_model_type, model_type))
            return f;
    }
    return NULL;
}

void hf_known_types(char *buf, size_t cap)
{
    size_t used = 0;
    if (cap)
        buf[0] = '\0';
    for (int i = 0; i < model_num_families() && used < cap; i++) {
        const struct model_family *f = model_family_at(i);
        if (!f->hf_model_type)
            continue;
        int n = snprintf(buf + used, cap - used, "%s%s (%s)", used ? ", " : "", f->hf_model_type,
                         f->hf_architecture);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

void hf_config_of(const struct model_config *cfg, struct hf_config *out)
{
    const struct model_family *f = cfg->family;
    memset(out, 0, sizeof *out);
    hf_put_list(out, "architectures", f->hf_architecture);
    hf_put_str(out, "model_type", f->hf_model_type);
    f->hf_config_write(cfg, out);
    /* heft's parameters are float32; transformers then loads them as they are */
    hf_put_str(out, "torch_dtype", "float32");
}

int hf_config_read(const struct hf_config *in, struct model_config *cfg, struct herr *err)
{
    memset(cfg, 0, sizeof *cfg);
    const struct hf_kv *type = hf_find(in, "model_type");
    char known[256];
    hf_known_types(known, sizeof known);
    if (!type || type->kind != HF_STRING)
        return herr_set(err, "config.json: model_type is missing (heft reads %s)", known);
    const struct model_family *f = hf_family_by_type(type->str);
    if (!f)
        return herr_set(err, "config.json: model_type \"%s\" is not a family heft has (it reads %s)",
                        type->str, known);
    /* "architectures" is not checked: a GPT2Model file holds every tensor heft's
     * GPT-2 needs, and what another class lacks or adds is named by the
     * tensor check (core/hf_dir.c) */
    cfg->family = f;
    if (f->hf_config_read(in, cfg, err))
        return -1;
    if (f->validate(cfg, err))
        return herr_wrap(err, "config.json describes a model heft cannot build: ");
    return 0;
}

int hf_tensors_of(const struct model_config *cfg, struct hf_tensor **list, int *n,
                  struct herr *err)
{
    *list = NULL;
    *n = 0;
    if (!cfg->family->hf_tensors)
        return herr_set(err, "the %s family has no Hugging Face correspondence",
                        cfg->family->name);
    int count = cfg->family->hf_tensors(cfg, NULL);
    struct hf_tensor *t = calloc((size_t)count, sizeof *t);
    if (!t)
        return herr_set(err, "out of memory for %d tensor descriptions", count);
    cfg->family->hf_tensors(cfg, t);
    *list = t;
    *n = count;
    return 0;
}

const char *hf_name_prefix(const struct model_config *cfg) { return cfg->family->hf_name_prefix; }

int hf_name_ignored(const struct model_config *cfg, const char *name)
{
    const char *const *suffixes = cfg->family->hf_ignored;
    size_t len = strlen(name);
    for (int i = 0; suffixes && suffixes[i]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (len >= sl && !strcmp(name + len - sl, suffixes[i]))
            return 1;
    }
    return 0;
}
