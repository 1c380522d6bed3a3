/* core/safetensors.c — see safetensors.h. */
#include "core/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"

/* Data moves in chunks of this many elements: bounded host memory whatever
 * the tensor's size. */
#define CHUNK_ELEMS ((size_t)1 << 20)

/* ---- dtypes ---------------------------------------------------------------- */

/* Every dtype safetensors defines, with its size, so a file's layout can be
 * checked whole even where heft would not read some tensor. */
static int dtype_bytes(const char *d)
{
    static const struct { const char *name; int bytes; } table[] = {
        { "BOOL", 1 }, { "U8", 1 }, { "I8", 1 }, { "F8_E5M2", 1 }, { "F8_E4M3", 1 },
        { "I16", 2 }, { "U16", 2 }, { "F16", 2 }, { "BF16", 2 }, { "I32", 4 }, { "U32", 4 },
        { "F32", 4 }, { "F64", 8 }, { "I64", 8 }, { "U64", 8 },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(table[i].name, d))
            return table[i].bytes;
    return 0;
}

int st_dtype_supported(const char *dtype)
{
    return !strcmp(dtype, "F32") || !strcmp(dtype, "F16") || !strcmp(dtype, "BF16");
}

static float bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16; /* bfloat16 is float32's top half */
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0x1f) {
        u = sign | 0x7f800000u | (man << 13); /* inf, nan */
    } else if (exp != 0) {
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    } else if (man == 0) {
        u = sign; /* +-0 */
    } else {
        /* subnormal: normalize the mantissa */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while (!(man & 0x400));
        u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
    }
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

size_t st_elements(const struct st_tensor *t)
{
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= (size_t)t->shape[i];
    return n;
}

/* ---- writer ---------------------------------------------------------------- */

static int64_t elements_of(const struct st_out *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

/* The header text, padded with spaces to a multiple of 8 (the data then
 * starts 8-byte aligned, as safetensors' own writer does). */
static char *make_header(const struct st_out *tensors, int n, size_t *len, struct herr *err)
{
    /* jansson's *_new calls take the value's reference even when they fail
     * and accept NULL (allocation failures), so errors can be collected */
    json_t *root = json_object();
    int bad = json_object_set_new(root, "__metadata__", json_pack("{ss}", "format", "pt"));
    uint64_t at = 0;
    for (int i = 0; i < n; i++) {
        const struct st_out *t = &tensors[i];
        uint64_t bytes = 4 * (uint64_t)elements_of(t);
        if (json_object_get(root, t->name)) {
            json_decref(root);
            herr_set(err, "tensor name %s appears twice", t->name);
            return NULL;
        }
        json_t *obj = json_object(), *shape = json_array();
        for (int d = 0; d < t->ndim; d++)
            bad |= json_array_append_new(shape, json_integer(t->shape[d]));
        bad |= json_object_set_new(obj, "dtype", json_string("F32"));
        bad |= json_object_set_new(obj, "shape", shape);
        bad |= json_object_set_new(obj, "data_offsets",
                                   json_pack("[II]", (json_int_t)at, (json_int_t)(at + bytes)));
        bad |= json_object_set_new(root, t->name, obj);
        at += bytes;
    }
    char *text = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (!text) {
        herr_set(err, "out of memory building the header");
        return NULL;
    }
    size_t raw = strlen(text), padded = (raw + 7) / 8 * 8;
    char *out = malloc(padded + 1);
    if (!out) {
        free(text);
        herr_set(err, "out of memory building the header");
        return NULL;
    }
    memcpy(out, text, raw);
    memset(out + raw, ' ', padded - raw);
    out[padded] = '\0';
    free(text);
    *len = padded;
    return out;
}

int st_write_f32(const char *path, const struct st_out *tensors, int n, st_produce_fn produce,
                 void *ctx, struct herr *err)
{
    size_t hlen = 0;
    char *header = make_header(tensors, n, &hlen, err);
    if (!header)
        return herr_wrap(err, "safetensors %s: ", path);
    float *buf = malloc(CHUNK_ELEMS * sizeof *buf);
    struct atomic_file af;
    if (!buf) {
        free(header);
        return herr_set(err, "safetensors %s: out of memory for a write buffer", path);
    }
    if (atomic_file_open(&af, path, err)) {
        free(header);
        free(buf);
        return herr_wrap(err, "safetensors: ");
    }
    uint64_t len64 = hlen;
    int rc = atomic_file_write(&af, &len64, sizeof len64, err) ||
             atomic_file_write(&af, header, hlen, err);
    for (int i = 0; i < n && rc == 0; i++) {
        size_t count = (size_t)elements_of(&tensors[i]);
        for (size_t first = 0; first < count && rc == 0; first += CHUNK_ELEMS) {
            size_t m = count - first < CHUNK_ELEMS ? count - first : CHUNK_ELEMS;
            rc = produce(ctx, i, buf, first, m, err);
            if (rc)
                herr_wrap(err, "tensor %s: ", tensors[i].name);
            else
                rc = atomic_file_write(&af, buf, m * sizeof *buf, err);
        }
    }
    free(header);
    free(buf);
    if (rc) {
        atomic_file_abort(&af);
        return herr_wrap(err, "safetensors %s: ", path);
    }
    if (atomic_file_commit(&af, err))
        return herr_wrap(err, "safetensors: ");
    return 0;
}

/* ---- reader ---------------------------------------------------------------- */

struct st_file {
    char path[4096];
    int fd;
    uint64_t data_start, data_bytes;
    int n;
    struct st_tensor *t;
};

const char *st_path(const struct st_file *f) { return f->path; }
int st_count(const struct st_file *f) { return f->n; }
const struct st_tensor *st_at(const struct st_file *f, int i) { return &f->t[i]; }

const struct st_tensor *st_find(const struct st_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name))
            return &f->t[i];
    return NULL;
}

void st_close(struct st_file *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f->t);
    free(f);
}

/* A non-negative integer of a JSON value, or -1. */
static int64_t json_nonneg(const json_t *v)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    return (int64_t)json_integer_value(v);
}

static int parse_entry(const char *name, json_t *obj, uint64_t data_bytes, struct st_tensor *t,
                       struct herr *err)
{
    memset(t, 0, sizeof *t);
    if (strlen(name) >= sizeof t->name)
        return herr_set(err, "tensor name '%.40s...' is longer than %d bytes", name,
                        ST_NAME_MAX - 1);
    strcpy(t->name, name);
    if (!json_is_object(obj))
        return herr_set(err, "tensor %s: its entry is not an object", name);
    json_t *dtype = json_object_get(obj, "dtype"), *shape = json_object_get(obj, "shape"),
           *offs = json_object_get(obj, "data_offsets");
    if (!json_is_string(dtype) || !json_is_array(shape) || !json_is_array(offs))
        return herr_set(err, "tensor %s: needs \"dtype\" (a string), \"shape\" and "
                             "\"data_offsets\" (lists)", name);
    snprintf(t->dtype, sizeof t->dtype, "%s", json_string_value(dtype));
    t->dtype_bytes = dtype_bytes(json_string_value(dtype));
    if (!t->dtype_bytes)
        return herr_set(err, "tensor %s: \"%s\" is not a safetensors dtype", name,
                        json_string_value(dtype));
    size_t nd = json_array_size(shape);
    if (nd > ST_MAX_DIMS)
        return herr_set(err, "tensor %s: %zu dimensions (heft reads up to %d)", name, nd,
                        ST_MAX_DIMS);
    t->ndim = (int)nd;
    uint64_t elems = 1;
    for (size_t d = 0; d < nd; d++) {
        int64_t v = json_nonneg(json_array_get(shape, d));
        if (v < 0 || v > ((int64_t)1 << 40))
            return herr_set(err, "tensor %s: shape entry %zu is not a size", name, d);
        t->shape[d] = v;
        elems *= (uint64_t)v;
        if (elems > ((uint64_t)1 << 44))
            return herr_set(err, "tensor %s: shape is absurdly large", name);
    }
    if (json_array_size(offs) != 2)
        return herr_set(err, "tensor %s: data_offsets must be [begin, end]", name);
    int64_t b = json_nonneg(json_array_get(offs, 0)), e = json_nonneg(json_array_get(offs, 1));
    if (b < 0 || e < 0)
        return herr_set(err, "tensor %s: data_offsets are not non-negative integers", name);
    if (b > e)
        return herr_set(err, "tensor %s: data_offsets [%lld, %lld] end before they begin", name,
                        (long long)b, (long long)e);
    if ((uint64_t)e > data_bytes)
        return herr_set(err, "tensor %s: data_offsets [%lld, %lld] run past the end of the data "
                             "(%llu bytes after the header)",
                        name, (long long)b, (long long)e, (unsigned long long)data_bytes);
    if ((uint64_t)(e - b) != elems * (uint64_t)t->dtype_bytes)
        return herr_set(err, "tensor %s: data_offsets [%lld, %lld] hold %lld bytes but its "
                             "%llu %s elements need %llu",
                        name, (long long)b, (long long)e, (long long)(e - b),
                        (unsigned long long)elems, t->dtype,
                        (unsigned long long)(elems * (uint64_t)t->dtype_bytes));
    t->begin = (uint64_t)b;
    t->end = (uint64_t)e;
    return 0;
}

static int by_begin(const void *a, const void *b)
{
    const struct st_tensor *x = *(const struct st_tensor *const *)a,
                           *y = *(const struct st_tensor *const *)b;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

/* No byte of the data belongs to two tensors. */
static int check_overlap(struct st_file *f, struct herr *err)
{
    const struct st_tensor **order = malloc((size_t)(f->n ? f->n : 1) * sizeof *order);
    if (!order)
        return herr_set(err, "out of memory");
    for (int i = 0; i < f->n; i++)
        order[i] = &f->t[i];
    qsort(order, (size_t)f->n, sizeof *order, by_begin);
    const struct st_tensor *prev = NULL;
    int rc = 0;
    for (int i = 0; i < f->n && rc == 0; i++) {
        const struct st_tensor *t = order[i];
        if (t->begin == t->end)
            continue; /* empty tensors occupy nothing */
        if (prev && t->begin < prev->end)
            rc = herr_set(err, "tensors %s (bytes [%llu, %llu)) and %s (bytes [%llu, %llu)) "
                               "overlap",
                          prev->name, (unsigned long long)prev->begin,
                          (unsigned long long)prev->end, t->name, (unsigned long long)t->begin,
                          (unsigned long long)t->end);
        if (!prev || t->end > prev->end)
            prev = t;
    }
    free(order);
    return rc;
}

static int parse_header(struct st_file *f, const char *text, size_t len, struct herr *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return herr_set(err, "header is not valid JSON (%s, at byte %d)", je.text, je.position);
    int rc = 0;
    if (!json_is_object(root)) {
        rc = herr_set(err, "header is not a JSON object");
    } else {
        f->t = calloc(json_object_size(root) + 1, sizeof *f->t);
        if (!f->t)
            rc = herr_set(err, "out of memory for %zu tensor entries", json_object_size(root));
        const char *key;
        json_t *value;
        json_object_foreach(root, key, value) {
            if (rc)
                break;
            if (!strcmp(key, "__metadata__"))
                continue; /* free-form strings; nothing heft needs */
            rc = parse_entry(key, value, f->data_bytes, &f->t[f->n], err);
            if (rc == 0)
                f->n++;
        }
    }
    json_decref(root);
    return rc ? rc : check_overlap(f, err);
}

int st_open(struct st_file **out, const char *path, struct herr *err)
{
    *out = NULL;
    struct st_file *f = calloc(1, sizeof *f);
    if (!f)
        return herr_set(err, "safetensors %s: out of memory", path);
    snprintf(f->path, sizeof f->path, "%s", path);
    f->fd = open(path, O_RDONLY);
    if (f->fd < 0) {
        herr_set(err, "safetensors %s: cannot open: %s", path, strerror(errno));
        st_close(f);
        return -1;
    }
    uint64_t size = 0, hlen = 0;
    char *text = NULL;
    int rc = file_size_of(f->fd, &size, "safetensors", path, err);
    if (rc == 0 && size < 8)
        rc = herr_set(err, "safetensors %s: %llu bytes, too short for the 8-byte header length",
                      path, (unsigned long long)size);
    if (rc == 0)
        rc = read_exact_at(f->fd, &hlen, 8, 0, "safetensors", path, err);
    if (rc == 0 && hlen > size - 8)
        rc = herr_set(err, "safetensors %s: header of %llu bytes is longer than the file "
                           "(%llu bytes after the length)",
                      path, (unsigned long long)hlen, (unsigned long long)(size - 8));
    if (rc == 0 && hlen > ST_HEADER_MAX)
        rc = herr_set(err, "safetensors %s: header of %llu bytes is over the 100 MB limit", path,
                      (unsigned long long)hlen);
    if (rc == 0 && hlen < 2)
        rc = herr_set(err, "safetensors %s: header of %llu bytes cannot hold a JSON object", path,
                      (unsigned long long)hlen);
    if (rc == 0 && !(text = malloc((size_t)hlen)))
        rc = herr_set(err, "safetensors %s: out of memory for the header", path);
    if (rc == 0)
        rc = read_exact_at(f->fd, text, (size_t)hlen, 8, "safetensors", path, err);
    if (rc == 0) {
        f->data_start = 8 + hlen;
        f->data_bytes = size - 8 - hlen;
        if (parse_header(f, text, (size_t)hlen, err))
            rc = herr_wrap(err, "safetensors %s: ", path);
    }
    free(text);
    if (rc) {
        st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

int st_read_f32(const struct st_file *f, const struct st_tensor *t, size_t first, size_t n,
                float *dst, struct herr *err)
{
    if (!st_dtype_supported(t->dtype))
        return herr_set(err, "safetensors %s: tensor %s has dtype %s; heft reads F32, F16 and "
                             "BF16", f->path, t->name, t->dtype);
    if (first + n > st_elements(t))
        return herr_set(err, "safetensors %s: tensor %s: elements [%zu, %zu) of %zu asked for",
                        f->path, t->name, first, first + n, st_elements(t));
    uint64_t at = f->data_start + t->begin + (uint64_t)first * t->dtype_bytes;
    if (t->dtype_bytes == 4) /* F32: straight into place */
        return read_exact_at(f->fd, dst, n * sizeof *dst, at, "safetensors", f->path, err);
    uint16_t *half = malloc((n < CHUNK_ELEMS ? n : CHUNK_ELEMS) * sizeof *half + 1);
    if (!half)
        return herr_set(err, "safetensors %s: out of memory", f->path);
    int bf16 = !strcmp(t->dtype, "BF16"), rc = 0;
    for (size_t done = 0; done < n && rc == 0;) {
        size_t m = n - done < CHUNK_ELEMS ? n - done : CHUNK_ELEMS;
        rc = read_exact_at(f->fd, half, m * sizeof *half, at + done * sizeof *half,
                           "safetensors", f->path, err);
        for (size_t i = 0; i < m && rc == 0; i++)
            dst[done + i] = bf16 ? bf16_to_f32(half[i]) : f16_to_f32(half[i]);
        done += m;
    }
    free(half);
    return rc;
}
