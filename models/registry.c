/* models/registry.c — the model families heft knows, and the dispatch of
 * models/model_config.h to them. Adding a family is one line in `families`. */
#include "models/family.h"

#include <stdio.h>
#include <string.h>

#include "models/nn/decoder.h"

extern const struct model_family gpt2_family;
extern const struct model_family llama_family;

static const struct model_family *const families[] = {
    &gpt2_family,
    &llama_family,
};

enum { NUM_FAMILIES = sizeof families / sizeof families[0] };

int model_num_families(void) { return NUM_FAMILIES; }

const struct model_family *model_family_at(int i)
{
    return i >= 0 && i < NUM_FAMILIES ? families[i] : NULL;
}

const struct model_family *model_family_by_name(const char *name)
{
    for (int f = 0; f < NUM_FAMILIES; f++)
        if (!strcmp(families[f]->name, name))
            return families[f];
    return NULL;
}

const struct model_family *model_family_by_magic(int32_t magic)
{
    for (int f = 0; f < NUM_FAMILIES; f++)
        if (families[f]->file_magic == magic)
            return families[f];
    return NULL;
}

/* 1 if `name` is one of the space-separated words of `list` */
static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    if (n == 0)
        return 0;
    for (const char *p = list; (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

const struct model_family *model_family_by_preset(const char *preset)
{
    for (int f = 0; f < NUM_FAMILIES; f++)
        if (in_list(families[f]->preset_names(), preset))
            return families[f];
    return NULL;
}

void model_presets_list(char *buf, size_t cap)
{
    size_t used = 0;
    if (cap)
        buf[0] = '\0';
    for (int f = 0; f < NUM_FAMILIES && used < cap; f++) {
        int n = snprintf(buf + used, cap - used, "%s%s: %s", f ? "; " : "", families[f]->name,
                         families[f]->preset_names());
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

void model_file_magics(char *buf, size_t cap)
{
    size_t used = 0;
    if (cap)
        buf[0] = '\0';
    for (int f = 0; f < NUM_FAMILIES && used < cap; f++) {
        int n = snprintf(buf + used, cap - used, "%s%d (%s)", f ? ", " : "",
                         (int)families[f]->file_magic, families[f]->file_name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* ---- model_config.h: each call goes to the config's family ---------------- */

int model_config_preset(const char *name, int vocab, struct model_config *cfg, struct herr *err)
{
    memset(cfg, 0, sizeof *cfg);
    const struct model_family *f = model_family_by_preset(name);
    if (!f) {
        char known[512];
        model_presets_list(known, sizeof known);
        return herr_set(err, "unknown model '%s' (known: %s)", name, known);
    }
    cfg->family = f;
    return f->preset(name, vocab > 0 ? vocab : f->default_vocab, cfg, err);
}

int model_config_override(struct model_config *cfg, const struct model_overrides *ov,
                          struct herr *err)
{
    if (cfg->family->override(cfg, ov, err))
        return -1;
    return cfg->family->validate(cfg, err);
}

int model_config_validate(const struct model_config *cfg, struct herr *err)
{
    if (!cfg->family)
        return herr_set(err, "model: no family");
    return cfg->family->validate(cfg, err);
}

const char *model_config_family(const struct model_config *cfg) { return cfg->family->name; }

const char *model_config_file_format(const struct model_config *cfg)
{
    return cfg->family->file_name;
}

void model_config_dims(const struct model_config *cfg, struct model_dims *out)
{
    cfg->family->dims(cfg, out);
}

void model_config_describe(const struct model_config *cfg, char *buf, size_t cap)
{
    cfg->family->describe(cfg, buf, cap);
}

int model_config_fields(const struct model_config *cfg, struct model_field out[MODEL_MAX_FIELDS])
{
    return cfg->family->fields(cfg, out);
}

int model_field_get(const struct model_field *f, int n, const char *name, double *v,
                    struct herr *err)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i].name, name)) {
            *v = f[i].value;
            return 0;
        }
    return herr_set(err, "model field %s is missing", name);
}

int model_config_field_names(const char *family, struct model_field out[MODEL_MAX_FIELDS],
                             struct herr *err)
{
    struct model_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.family = model_family_by_name(family);
    if (!cfg.family)
        return herr_set(err, "model family '%s' is not one heft has", family);
    return cfg.family->fields(&cfg, out);
}

int model_config_from_fields(const char *family, const struct model_field *f, int n,
                             struct model_config *cfg, struct herr *err)
{
    memset(cfg, 0, sizeof *cfg);
    const struct model_family *fam = model_family_by_name(family);
    if (!fam)
        return herr_set(err, "model family '%s' is not one heft has", family);
    cfg->family = fam;
    if (fam->from_fields(cfg, f, n, err))
        return -1;
    return fam->validate(cfg, err);
}

int model_config_equal(const struct model_config *a, const struct model_config *b)
{
    if (a->family != b->family)
        return 0;
    struct model_field fa[MODEL_MAX_FIELDS], fb[MODEL_MAX_FIELDS];
    int na = model_config_fields(a, fa), nb = model_config_fields(b, fb);
    if (na != nb)
        return 0;
    for (int i = 0; i < na; i++)
        if (fa[i].value != fb[i].value)
            return 0;
    return 1;
}

/* Every family is a decoder spec: counts, FLOPs, memory and the parameter
 * groups are the decoder's. */
static struct decoder_spec spec_of(const struct model_config *cfg)
{
    struct decoder_spec s;
    cfg->family->spec(cfg, &s);
    return s;
}

size_t model_config_num_params(const struct model_config *cfg)
{
    return spec_of(cfg).num_params;
}

size_t model_config_activation_floats(const struct model_config *cfg, int B, int T,
                                      const struct model_memory *mem)
{
    struct decoder_spec s = spec_of(cfg);
    return decoder_activation_floats(&s, B, T, mem);
}

static const char *const recompute_names[] = { "none", "attn", "layer" };

int model_recompute_parse(const char *word, enum model_recompute *out, struct herr *err)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(word, recompute_names[i])) {
            *out = (enum model_recompute)i;
            return 0;
        }
    return herr_set(err, "--recompute '%s': expected none, attn or layer", word);
}

const char *model_recompute_name(enum model_recompute r)
{
    return r >= 0 && r <= MODEL_RECOMPUTE_LAYER ? recompute_names[r] : "?";
}

double model_config_flops_per_step(const struct model_config *cfg, int B, int T)
{
    struct decoder_spec s = spec_of(cfg);
    return decoder_flops_per_step(&s, B, T);
}

double model_config_matmul_params(const struct model_config *cfg)
{
    struct decoder_spec s = spec_of(cfg);
    return decoder_matmul_params(&s);
}

int model_config_num_groups(const struct model_config *cfg)
{
    struct decoder_spec s = spec_of(cfg);
    return decoder_num_groups(&s);
}

int model_config_group_slices(const struct model_config *cfg, int g,
                              struct param_slice out[PARAM_GROUP_MAX_SLICES], size_t *floats)
{
    struct decoder_spec s = spec_of(cfg);
    return decoder_group_slices(&s, g, out, floats);
}

size_t model_config_recompute_workspace(const struct model_config *cfg, int B, int T,
                                        const struct model_memory *mem)
{
    struct decoder_spec s = spec_of(cfg);
    return decoder_recompute_workspace_floats(&s, B, T, mem);
}

int model_config_from_header(const int32_t h[MODEL_FILE_HEADER_INTS], struct model_config *cfg,
                             struct herr *err)
{
    memset(cfg, 0, sizeof *cfg);
    const struct model_family *f = model_family_by_magic(h[0]);
    if (!f) {
        char magics[256];
        model_file_magics(magics, sizeof magics);
        return herr_set(err, "bad magic %d (expected one of %s)%s", (int)h[0], magics,
                        h[0] == 20240520 ? ": this is a token shard, not a model" : "");
    }
    cfg->family = f;
    if (f->header_read(h, cfg, err))
        return -1;
    return f->validate(cfg, err);
}

void model_config_to_header(const struct model_config *cfg, int32_t h[MODEL_FILE_HEADER_INTS])
{
    memset(h, 0, MODEL_FILE_HEADER_INTS * sizeof *h);
    h[0] = cfg->family->file_magic;
    cfg->family->header_write(cfg, h);
}
