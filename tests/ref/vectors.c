/* tests/ref/vectors.c — see vectors.h. */
#include "tests/ref/vectors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char magic[8] = { 'H', 'E', 'F', 'T', 'V', 'E', 'C', '1' };

/* A cursor over the file image; every read checks the bytes left. */
struct cursor {
    const unsigned char *p;
    size_t left;
    size_t pos; /* offset from the start, for messages */
};

static int take(struct cursor *c, size_t n, const unsigned char **out)
{
    if (c->left < n)
        return -1;
    *out = c->p;
    c->p += n;
    c->left -= n;
    c->pos += n;
    return 0;
}

/* Decoded byte by byte so the reader does not depend on host byte order. */
static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int take_i32(struct cursor *c, int32_t *out)
{
    const unsigned char *b;
    if (take(c, 4, &b))
        return -1;
    uint32_t u = le32(b);
    memcpy(out, &u, 4);
    return 0;
}

void ref_vectors_free(struct ref_vectors *v)
{
    for (int i = 0; i < v->count; i++)
        free(v->recs[i].data);
    free(v->recs);
    v->recs = NULL;
    v->count = 0;
}

/* Parses record number i at the cursor into r (r->data allocated). */
static int parse_record(struct cursor *c, struct ref_vec *r, int i, const char *what,
                        struct herr *err)
{
    int32_t name_len, dtype, ndims;
    const unsigned char *b;
    size_t at = c->pos;
    if (take_i32(c, &name_len))
        return herr_set(err, "%s: record %d at byte %zu: truncated name length", what, i, at);
    if (name_len < 1 || name_len > REF_VEC_MAX_NAME)
        return herr_set(err, "%s: record %d at byte %zu: name length %d out of range [1, %d]",
                        what, i, at, (int)name_len, REF_VEC_MAX_NAME);
    if (take(c, (size_t)name_len, &b))
        return herr_set(err, "%s: record %d at byte %zu: truncated name", what, i, at);
    memcpy(r->name, b, (size_t)name_len);
    r->name[name_len] = '\0';
    if (strlen(r->name) != (size_t)name_len)
        return herr_set(err, "%s: record %d at byte %zu: name contains a NUL byte", what, i, at);
    if (take_i32(c, &dtype) || take_i32(c, &ndims))
        return herr_set(err, "%s: record '%s': truncated header", what, r->name);
    if (dtype != REF_VEC_F32 && dtype != REF_VEC_I32)
        return herr_set(err, "%s: record '%s': unknown dtype %d (expected 1 = f32 or 2 = i32)",
                        what, r->name, (int)dtype);
    if (ndims < 0 || ndims > REF_VEC_MAX_DIMS)
        return herr_set(err, "%s: record '%s': ndims %d out of range [0, %d]", what, r->name,
                        (int)ndims, REF_VEC_MAX_DIMS);
    r->dtype = (enum ref_vec_dtype)dtype;
    r->ndims = ndims;
    r->count = 1;
    for (int d = 0; d < ndims; d++) {
        int32_t dim;
        if (take_i32(c, &dim))
            return herr_set(err, "%s: record '%s': truncated dims", what, r->name);
        if (dim < 1)
            return herr_set(err, "%s: record '%s': dim %d is %d (must be >= 1)", what, r->name,
                            d, (int)dim);
        r->dims[d] = dim;
        /* The data must fit in the bytes left, which bounds the product. */
        if (r->count > c->left / 4 / (size_t)dim)
            return herr_set(err, "%s: record '%s': shape needs more data than the %zu bytes "
                                 "left in the file (truncated?)", what, r->name, c->left);
        r->count *= (size_t)dim;
    }
    if (take(c, r->count * 4, &b))
        return herr_set(err, "%s: record '%s': %zu elements but only %zu bytes left "
                             "(truncated?)", what, r->name, r->count, c->left);
    r->data = malloc(r->count * 4);
    if (!r->data)
        return herr_set(err, "%s: record '%s': out of memory for %zu elements", what, r->name,
                        r->count);
    /* Stored through the element type, so the data is a float/int32 array. */
    for (size_t k = 0; k < r->count; k++) {
        uint32_t u = le32(b + 4 * k);
        if (r->dtype == REF_VEC_F32) {
            float f;
            memcpy(&f, &u, 4);
            ((float *)r->data)[k] = f;
        } else {
            int32_t x;
            memcpy(&x, &u, 4);
            ((int32_t *)r->data)[k] = x;
        }
    }
    return 0;
}

int ref_vectors_parse(struct ref_vectors *v, const void *bytes, size_t len, const char *what,
                      struct herr *err)
{
    struct cursor c = { bytes, len, 0 };
    const unsigned char *b;
    int32_t n;
    v->count = 0;
    v->recs = NULL;
    if (take(&c, sizeof magic, &b) || memcmp(b, magic, sizeof magic) != 0)
        return herr_set(err, "%s: not a heft vectors file (magic \"HEFTVEC1\" missing)", what);
    if (take_i32(&c, &n))
        return herr_set(err, "%s: truncated after the magic", what);
    if (n < 1 || n > REF_VEC_MAX_RECORDS)
        return herr_set(err, "%s: record count %d out of range [1, %d]", what, (int)n,
                        REF_VEC_MAX_RECORDS);
    v->recs = calloc((size_t)n, sizeof *v->recs);
    if (!v->recs)
        return herr_set(err, "%s: out of memory for %d records", what, (int)n);
    for (int i = 0; i < n; i++) {
        struct ref_vec *r = &v->recs[i];
        v->count = i + 1; /* so that free releases a partly parsed record */
        if (parse_record(&c, r, i, what, err))
            goto fail;
        for (int j = 0; j < i; j++)
            if (strcmp(v->recs[j].name, r->name) == 0) {
                herr_set(err, "%s: record name '%s' appears twice", what, r->name);
                goto fail;
            }
    }
    if (c.left != 0) {
        herr_set(err, "%s: %zu unexpected bytes after the last of %d records", what, c.left,
                 (int)n);
        goto fail;
    }
    return 0;
fail:
    ref_vectors_free(v);
    return -1;
}

int ref_read_file(const char *path, unsigned char **bytes, size_t *len, struct herr *err)
{
    *bytes = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return herr_set(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return herr_set(err, "%s: out of memory reading the file", path);
    if (bad) {
        free(buf);
        return herr_set(err, "%s: read error", path);
    }
    *bytes = buf;
    *len = n;
    return 0;
}

int ref_vectors_load(struct ref_vectors *v, const char *path, struct herr *err)
{
    unsigned char *bytes;
    size_t len;
    v->count = 0;
    v->recs = NULL;
    if (ref_read_file(path, &bytes, &len, err))
        return -1;
    int rc = ref_vectors_parse(v, bytes, len, path, err);
    free(bytes);
    return rc;
}

const struct ref_vec *ref_vectors_find(const struct ref_vectors *v, const char *name)
{
    for (int i = 0; i < v->count; i++)
        if (strcmp(v->recs[i].name, name) == 0)
            return &v->recs[i];
    return NULL;
}

static const void *typed(const struct ref_vectors *v, const char *name, size_t count,
                         enum ref_vec_dtype dtype, struct herr *err)
{
    const struct ref_vec *r = ref_vectors_find(v, name);
    if (!r) {
        herr_set(err, "vectors: no record '%s'", name);
        return NULL;
    }
    if (r->dtype != dtype) {
        herr_set(err, "vectors: record '%s' is %s, expected %s", name,
                 r->dtype == REF_VEC_F32 ? "f32" : "i32", dtype == REF_VEC_F32 ? "f32" : "i32");
        return NULL;
    }
    if (r->count != count) {
        herr_set(err, "vectors: record '%s' has %zu elements, expected %zu", name, r->count,
                 count);
        return NULL;
    }
    return r->data;
}

const float *ref_vectors_f32(const struct ref_vectors *v, const char *name, size_t count,
                             struct herr *err)
{
    return typed(v, name, count, REF_VEC_F32, err);
}

const int32_t *ref_vectors_i32(const struct ref_vectors *v, const char *name, size_t count,
                               struct herr *err)
{
    return typed(v, name, count, REF_VEC_I32, err);
}
