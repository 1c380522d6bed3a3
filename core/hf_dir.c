/* core/hf_dir.c — see hf_dir.h. */
#include "core/hf_dir.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/hf_json.h"
#include "core/safetensors.h"
#include "models/hf.h"

/* Rows of a transposed tensor moved per read: bounded host memory. */
#define CHUNK_FLOATS ((size_t)1 << 20)

int hf_dir_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- writing --------------------------------------------------------------- */

struct producer {
    const float *params;
    const struct hf_tensor *t;
};

/* Elements [first, first + n) of tensor i in Hugging Face's row-major order. */
static int produce(void *ctx, int i, float *buf, size_t first, size_t n, struct herr *err)
{
    (void)err;
    const struct producer *p = ctx;
    const struct hf_tensor *t = &p->t[i];
    const float *src = p->params + t->offset;
    if (!t->transposed) {
        memcpy(buf, src + first, n * sizeof *buf);
        return 0;
    }
    /* file (a, b) = transpose of heft's (b, a): file[r][c] = heft[c][r] */
    const size_t a = (size_t)t->shape[0], b = (size_t)t->shape[1];
    for (size_t k = 0; k < n; k++) {
        size_t e = first + k, r = e / b, c = e % b;
        buf[k] = src[c * a + r];
    }
    return 0;
}

int hf_dir_write(const char *dir, const struct model_config *cfg, const float *params,
                 const struct hf_extra *extra, struct herr *err)
{
    char path[4096];
    struct hf_config hc;
    struct hf_tensor *t = NULL;
    int n = 0;
    /* the tensor list first: it says whether the family has a mapping at all */
    if (hf_tensors_of(cfg, &t, &n, err))
        return herr_wrap(err, "exporting to %s: ", dir);
    hf_config_of(cfg, &hc);
    if (extra->bos_token_id >= 0)
        hf_put_int(&hc, "bos_token_id", extra->bos_token_id);
    else
        hf_put_null(&hc, "bos_token_id");
    if (extra->eos_token_id >= 0)
        hf_put_int(&hc, "eos_token_id", extra->eos_token_id);
    else
        hf_put_null(&hc, "eos_token_id");
    if (make_dirs(dir, err)) {
        free(t);
        return herr_wrap(err, "exporting to %s: ", dir);
    }
    struct st_out *out = calloc((size_t)n, sizeof *out);
    if (!out) {
        free(t);
        return herr_set(err, "exporting to %s: out of memory", dir);
    }
    for (int i = 0; i < n; i++) {
        out[i].name = t[i].name;
        out[i].ndim = t[i].ndim;
        out[i].shape[0] = t[i].shape[0];
        out[i].shape[1] = t[i].shape[1];
    }
    struct producer p = { params, t };
    int rc = path_join(path, sizeof path, dir, HF_WEIGHTS_FILE, err) ||
             st_write_f32(path, out, n, produce, &p, err) ||
             path_join(path, sizeof path, dir, HF_CONFIG_FILE, err) ||
             hf_json_write(path, &hc, err);
    free(out);
    free(t);
    return rc ? herr_wrap(err, "exporting to %s: ", dir) : 0;
}

int hf_dir_add_file(const char *dir, const char *name, const char *src, struct herr *err)
{
    char path[4096], *text = NULL;
    size_t len = 0;
    if (path_join(path, sizeof path, dir, name, err) ||
        read_text_file(src, "file to copy", &text, &len, err))
        return -1;
    int rc = atomic_write_file(path, text, len, err);
    free(text);
    return rc;
}

/* ---- reading: config ------------------------------------------------------- */

int hf_dir_read_config(const char *dir, struct model_config *cfg, struct herr *err)
{
    char path[4096];
    struct hf_config hc;
    struct stat st;
    if (path_join(path, sizeof path, dir, HF_CONFIG_FILE, err))
        return -1;
    if (stat(path, &st) != 0)
        return herr_set(err, "%s is a directory without %s (heft reads a Hugging Face model "
                             "directory: %s + %s)",
                        dir, HF_CONFIG_FILE, HF_CONFIG_FILE, HF_WEIGHTS_FILE);
    if (hf_json_read(path, &hc, err) || hf_config_read(&hc, cfg, err))
        return herr_wrap(err, "Hugging Face model %s: ", dir);
    return 0;
}

/* ---- reading: the safetensors files ---------------------------------------- */

#define MAX_SHARDS 4096

struct shards {
    int n;
    struct st_file *f[MAX_SHARDS];
};

static void shards_close(struct shards *s)
{
    for (int i = 0; i < s->n; i++)
        st_close(s->f[i]);
    s->n = 0;
}

static int shard_open(struct shards *s, const char *dir, const char *name, struct herr *err)
{
    char path[4096];
    if (strchr(name, '/'))
        return herr_set(err, "%s names shard '%s', which is not a file name in the directory",
                        HF_INDEX_FILE, name);
    if (s->n == MAX_SHARDS)
        return herr_set(err, "more than %d shards", MAX_SHARDS);
    if (path_join(path, sizeof path, dir, name, err) || st_open(&s->f[s->n], path, err))
        return -1;
    s->n++;
    return 0;
}

/* model.safetensors, or the shards model.safetensors.index.json names. */
static int shards_open(struct shards *s, const char *dir, struct herr *err)
{
    char path[4096];
    struct stat st;
    s->n = 0;
    if (path_join(path, sizeof path, dir, HF_WEIGHTS_FILE, err))
        return -1;
    if (stat(path, &st) == 0)
        return shard_open(s, dir, HF_WEIGHTS_FILE, err);
    if (path_join(path, sizeof path, dir, HF_INDEX_FILE, err))
        return -1;
    if (stat(path, &st) != 0)
        return herr_set(err, "no %s or %s (heft reads safetensors weights; save with "
                             "save_pretrained(..., safe_serialization=True))",
                        HF_WEIGHTS_FILE, HF_INDEX_FILE);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return herr_set(err, "%s: not valid JSON (%s, line %d)", path, je.text, je.line);
    json_t *map = json_object_get(root, "weight_map");
    int rc = 0;
    if (!json_is_object(map))
        rc = herr_set(err, "%s: no \"weight_map\" object", path);
    const char *key;
    json_t *v;
    if (rc == 0)
        json_object_foreach(map, key, v) {
            if (!json_is_string(v)) {
                rc = herr_set(err, "%s: weight_map entry %s is not a file name", path, key);
                break;
            }
            int seen = 0;
            for (int i = 0; i < s->n && !seen; i++) {
                const char *p = st_path(s->f[i]), *slash = strrchr(p, '/');
                seen = !strcmp(slash ? slash + 1 : p, json_string_value(v));
            }
            if (!seen && (rc = shard_open(s, dir, json_string_value(v), err)))
                break;
        }
    json_decref(root);
    if (rc == 0 && s->n == 0)
        rc = herr_set(err, "%s: weight_map names no file", path);
    if (rc)
        shards_close(s);
    return rc;
}

/* Where a tensor is among the shards. */
struct found {
    int shard;
    const struct st_tensor *t;
};

static int find_tensor(const struct shards *s, const char *name, struct found *out,
                       struct herr *err)
{
    out->t = NULL;
    for (int i = 0; i < s->n; i++) {
        const struct st_tensor *t = st_find(s->f[i], name);
        if (!t)
            continue;
        if (out->t)
            return herr_set(err, "tensor %s is in both %s and %s", name,
                            st_path(s->f[out->shard]), st_path(s->f[i]));
        out->shard = i;
        out->t = t;
    }
    return 0;
}

static void shape_text(char *buf, size_t cap, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, cap, "[");
    for (int d = 0; d < ndim && used < cap; d++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", d ? ", " : "",
                                 (long long)shape[d]);
    if (used < cap)
        snprintf(buf + used, cap - used, "]");
}

/* Finds every tensor the model needs, checks its shape and dtype, and checks
 * the files hold nothing else. */
static int match_all(const struct shards *s, const struct model_config *cfg,
                     const struct hf_tensor *want, int n, struct found *where, struct herr *err)
{
    const char *prefix = hf_name_prefix(cfg);
    size_t plen = prefix ? strlen(prefix) : 0;
    char desc[256];
    model_config_describe(cfg, desc, sizeof desc);
    for (int i = 0; i < n; i++) {
        const struct hf_tensor *w = &want[i];
        if (find_tensor(s, w->name, &where[i], err))
            return -1;
        if (!where[i].t && plen && !strncmp(w->name, prefix, plen) &&
            find_tensor(s, w->name + plen, &where[i], err))
            return -1;
        if (!where[i].t)
            return herr_set(err, "tensor %s is missing (config.json describes %s %s)", w->name,
                            model_config_family(cfg), desc);
        const struct st_tensor *t = where[i].t;
        int same = t->ndim == w->ndim;
        for (int d = 0; d < w->ndim && same; d++)
            same = t->shape[d] == w->shape[d];
        if (!same) {
            char got[96], need[96];
            shape_text(got, sizeof got, t->ndim, t->shape);
            shape_text(need, sizeof need, w->ndim, w->shape);
            return herr_set(err, "tensor %s has shape %s in %s, but config.json (%s %s) needs %s",
                            t->name, got, st_path(s->f[where[i].shard]),
                            model_config_family(cfg), desc, need);
        }
        if (!st_dtype_supported(t->dtype))
            return herr_set(err, "tensor %s in %s has dtype %s; heft reads F32, F16 and BF16",
                            t->name, st_path(s->f[where[i].shard]), t->dtype);
    }
    /* everything else in the files must be a buffer the family skips */
    for (int k = 0; k < s->n; k++)
        for (int j = 0; j < st_count(s->f[k]); j++) {
            const struct st_tensor *t = st_at(s->f[k], j);
            int used = 0;
            for (int i = 0; i < n && !used; i++)
                used = where[i].t == t;
            if (!used && !hf_name_ignored(cfg, t->name))
                return herr_set(err, "tensor %s in %s is not part of the %s model config.json "
                                     "describes (%s); heft would have to drop it",
                                t->name, st_path(s->f[k]), model_config_family(cfg), desc);
        }
    return 0;
}

/* One tensor into heft's buffer, transposing where the family says so. */
static int read_tensor(const struct st_file *f, const struct st_tensor *t,
                       const struct hf_tensor *w, float *params, float *bounce,
                       struct herr *err)
{
    float *dst = params + w->offset;
    if (!w->transposed)
        return st_read_f32(f, t, 0, hf_tensor_count(w), dst, err);
    /* file (a, b) -> heft (b, a), a block of file rows at a time */
    const size_t a = (size_t)w->shape[0], b = (size_t)w->shape[1];
    size_t rows = CHUNK_FLOATS / b ? CHUNK_FLOATS / b : 1;
    for (size_t r0 = 0; r0 < a; r0 += rows) {
        size_t m = a - r0 < rows ? a - r0 : rows;
        if (st_read_f32(f, t, r0 * b, m * b, bounce, err))
            return -1;
        for (size_t r = 0; r < m; r++)
            for (size_t c = 0; c < b; c++)
                dst[c * a + r0 + r] = bounce[r * b + c];
    }
    return 0;
}

int hf_dir_read_params(const char *dir, const struct model_config *cfg, float *params,
                       struct herr *err)
{
    struct model_config file_cfg;
    if (hf_dir_read_config(dir, &file_cfg, err))
        return -1;
    if (!model_config_equal(cfg, &file_cfg)) {
        char want[256], got[256];
        model_config_describe(cfg, want, sizeof want);
        model_config_describe(&file_cfg, got, sizeof got);
        return herr_set(err, "Hugging Face model %s: holds %s %s, not the requested %s %s", dir,
                        model_config_family(&file_cfg), got, model_config_family(cfg), want);
    }
    struct shards s;
    struct hf_tensor *want = NULL;
    struct found *where = NULL;
    float *bounce = NULL;
    int n = 0;
    if (shards_open(&s, dir, err))
        return herr_wrap(err, "Hugging Face model %s: ", dir);
    int rc = hf_tensors_of(cfg, &want, &n, err);
    size_t bounce_floats = CHUNK_FLOATS; /* at least one row of every transposed tensor */
    for (int i = 0; i < n; i++)
        if (want[i].transposed && (size_t)want[i].shape[1] > bounce_floats)
            bounce_floats = (size_t)want[i].shape[1];
    if (rc == 0 && (!(where = calloc((size_t)n, sizeof *where)) ||
                    !(bounce = malloc(bounce_floats * sizeof *bounce))))
        rc = herr_set(err, "out of memory");
    if (rc == 0)
        rc = match_all(&s, cfg, want, n, where, err);
    if (rc == 0) {
        /* the vocabulary's padding rows, which no tensor covers, stay zero */
        memset(params, 0, model_config_num_params(cfg) * sizeof *params);
        for (int i = 0; i < n && rc == 0; i++)
            rc = read_tensor(s.f[where[i].shard], where[i].t, &want[i], params, bounce, err);
    }
    shards_close(&s);
    free(want);
    free(where);
    free(bounce);
    return rc ? herr_wrap(err, "Hugging Face model %s: ", dir) : 0;
}
