/* core/jsonl.h — building one JSON object per line for metrics files.
 *
 * A fixed-capacity line builder: keys and values are appended in order and
 * the object is closed by jsonl_end. Non-finite numbers are written as null
 * (JSON has no NaN), so every line stays valid JSON. */
#ifndef HEFT_CORE_JSONL_H
#define HEFT_CORE_JSONL_H

#include <stddef.h>
#include <stdio.h>

struct jsonl {
    char buf[16384];
    size_t len;
    int need_comma;
    int overflow;
};

void jsonl_begin(struct jsonl *j);
void jsonl_num(struct jsonl *j, const char *key, double v);
void jsonl_int(struct jsonl *j, const char *key, long long v);
void jsonl_str(struct jsonl *j, const char *key, const char *v);
/* Nested object: jsonl_obj(j, "domains") ... jsonl_close(j). */
void jsonl_obj(struct jsonl *j, const char *key);
void jsonl_close(struct jsonl *j);
/* Closes the top-level object and writes it plus a newline to f (flushed, so
 * a crash loses at most the current line). Returns -1 if the line overflowed
 * or the write failed. */
int jsonl_end(struct jsonl *j, FILE *f);

#endif
