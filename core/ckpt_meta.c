/* core/ckpt_meta.c — see ckpt_meta.h. */
#include "core/ckpt_meta.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ckpt_meta_init(struct ckpt_meta *m)
{
    m->text = NULL;
    m->len = m->cap = 0;
}

void ckpt_meta_free(struct ckpt_meta *m)
{
    free(m->text);
    ckpt_meta_init(m);
}

static int key_ok(const char *key)
{
    if (!*key)
        return 0;
    for (const char *p = key; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

/* The value of `key` in text: a pointer to its first byte and its length. */
static const char *lookup(const char *text, const char *key, size_t *vlen)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t llen = nl ? (size_t)(nl - line) : strlen(line);
        if (llen > klen && memcmp(line, key, klen) == 0 && line[klen] == '=') {
            *vlen = llen - klen - 1;
            return line + klen + 1;
        }
        line = nl ? nl + 1 : NULL;
    }
    return NULL;
}

int ckpt_meta_has(const char *text, const char *key)
{
    size_t n;
    return text && lookup(text, key, &n) != NULL;
}

int ckpt_meta_put_str(struct ckpt_meta *m, const char *key, const char *v, struct herr *err)
{
    if (!key_ok(key))
        return herr_set(err, "meta: bad key '%s' (use letters, digits, '_', '.', '-')", key);
    if (strchr(v, '\n'))
        return herr_set(err, "meta: value of key '%s' contains a newline", key);
    if (m->text && ckpt_meta_has(m->text, key))
        return herr_set(err, "meta: key '%s' written twice", key);
    size_t need = m->len + strlen(key) + strlen(v) + 3;
    if (need > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        while (cap < need)
            cap *= 2;
        char *p = realloc(m->text, cap);
        if (!p)
            return herr_set(err, "meta: out of memory");
        m->text = p;
        m->cap = cap;
    }
    m->len += (size_t)snprintf(m->text + m->len, m->cap - m->len, "%s=%s\n", key, v);
    return 0;
}

int ckpt_meta_put_int(struct ckpt_meta *m, const char *key, int64_t v, struct herr *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return ckpt_meta_put_str(m, key, buf, err);
}

int ckpt_meta_put_u64(struct ckpt_meta *m, const char *key, uint64_t v, struct herr *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return ckpt_meta_put_str(m, key, buf, err);
}

int ckpt_meta_put_double(struct ckpt_meta *m, const char *key, double v, struct herr *err)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", v);
    return ckpt_meta_put_str(m, key, buf, err);
}

/* Copies the value of key into buf as a C string. */
static int value_of(const char *text, const char *key, char *buf, size_t cap,
                    struct herr *err)
{
    size_t n;
    const char *v = text ? lookup(text, key, &n) : NULL;
    if (!v)
        return herr_set(err, "meta: no key '%s'", key);
    if (n >= cap)
        return herr_set(err, "meta: value of key '%s' is longer than %zu bytes", key, cap - 1);
    memcpy(buf, v, n);
    buf[n] = '\0';
    return 0;
}

int ckpt_meta_get_str(const char *text, const char *key, char *out, size_t cap,
                      struct herr *err)
{
    return value_of(text, key, out, cap, err);
}

int ckpt_meta_get_int(const char *text, const char *key, int64_t *v, struct herr *err)
{
    char buf[64], *end;
    if (value_of(text, key, buf, sizeof buf, err))
        return -1;
    errno = 0;
    long long x = strtoll(buf, &end, 10);
    if (!buf[0] || *end || errno)
        return herr_set(err, "meta: key '%s' has value '%s', not a 64-bit integer", key, buf);
    *v = (int64_t)x;
    return 0;
}

int ckpt_meta_get_u64(const char *text, const char *key, uint64_t *v, struct herr *err)
{
    char buf[64], *end;
    if (value_of(text, key, buf, sizeof buf, err))
        return -1;
    errno = 0;
    unsigned long long x = strtoull(buf, &end, 10);
    if (!buf[0] || buf[0] == '-' || *end || errno)
        return herr_set(err, "meta: key '%s' has value '%s', not an unsigned 64-bit integer",
                        key, buf);
    *v = (uint64_t)x;
    return 0;
}

int ckpt_meta_get_double(const char *text, const char *key, double *v, struct herr *err)
{
    char buf[64], *end;
    if (value_of(text, key, buf, sizeof buf, err))
        return -1;
    /* errno is not checked: strtod flags exact subnormal values with ERANGE. */
    double x = strtod(buf, &end);
    if (!buf[0] || *end)
        return herr_set(err, "meta: key '%s' has value '%s', not a number", key, buf);
    *v = x;
    return 0;
}
