/* core/jsonl.c — see jsonl.h. */
#include "core/jsonl.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static void put(struct jsonl *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct jsonl *j, const char *fmt, ...)
{
    if (j->overflow)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(j->buf + j->len, sizeof j->buf - j->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof j->buf - j->len)
        j->overflow = 1;
    else
        j->len += (size_t)n;
}

static void put_string(struct jsonl *j, const char *s)
{
    put(j, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            put(j, "\\%c", c);
        else if (c < 0x20)
            put(j, "\\u%04x", c);
        else
            put(j, "%c", c);
    }
    put(j, "\"");
}

static void key(struct jsonl *j, const char *k)
{
    if (j->need_comma)
        put(j, ",");
    put_string(j, k);
    put(j, ":");
    j->need_comma = 1;
}

void jsonl_begin(struct jsonl *j)
{
    j->len = 0;
    j->overflow = 0;
    j->need_comma = 0;
    put(j, "{");
}

void jsonl_num(struct jsonl *j, const char *k, double v)
{
    key(j, k);
    if (isfinite(v))
        put(j, "%.9g", v);
    else
        put(j, "null");
}

void jsonl_int(struct jsonl *j, const char *k, long long v)
{
    key(j, k);
    put(j, "%lld", v);
}

void jsonl_str(struct jsonl *j, const char *k, const char *v)
{
    key(j, k);
    put_string(j, v);
}

void jsonl_obj(struct jsonl *j, const char *k)
{
    key(j, k);
    put(j, "{");
    j->need_comma = 0;
}

void jsonl_close(struct jsonl *j)
{
    put(j, "}");
    j->need_comma = 1;
}

int jsonl_end(struct jsonl *j, FILE *f)
{
    put(j, "}\n");
    if (j->overflow)
        return -1;
    if (fwrite(j->buf, 1, j->len, f) != j->len || fflush(f) != 0)
        return -1;
    return 0;
}
