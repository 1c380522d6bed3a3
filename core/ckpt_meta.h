/* core/ckpt_meta.h — key=value text, the "meta" section of a checkpoint.
 *
 * One `key=value` per line. Keys are [A-Za-z0-9_.-]+ and unique; values are
 * any text without a newline. Numbers are written so they read back exactly:
 * integers in decimal, doubles with 17 significant digits ("%.17g", which
 * round-trips every IEEE double, including inf and nan).
 *
 * Text is readable with `heft` tools and by eye, so a checkpoint can say what
 * it holds (step, model config, seed, data position) without a schema.
 */
#ifndef HEFT_CORE_CKPT_META_H
#define HEFT_CORE_CKPT_META_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct ckpt_meta {
    char *text; /* NUL-terminated */
    size_t len, cap;
};

void ckpt_meta_init(struct ckpt_meta *m);
void ckpt_meta_free(struct ckpt_meta *m);
int ckpt_meta_put_int(struct ckpt_meta *m, const char *key, int64_t v, struct herr *err);
int ckpt_meta_put_u64(struct ckpt_meta *m, const char *key, uint64_t v, struct herr *err);
int ckpt_meta_put_double(struct ckpt_meta *m, const char *key, double v, struct herr *err);
int ckpt_meta_put_str(struct ckpt_meta *m, const char *key, const char *v, struct herr *err);

/* Lookups in meta text (e.g. a section read with ckpt_reader_read_alloc).
 * Errors name the key: missing, or a value that is not of the asked type. */
int ckpt_meta_has(const char *text, const char *key);
int ckpt_meta_get_int(const char *text, const char *key, int64_t *v, struct herr *err);
int ckpt_meta_get_u64(const char *text, const char *key, uint64_t *v, struct herr *err);
int ckpt_meta_get_double(const char *text, const char *key, double *v, struct herr *err);
/* Copies the value into out (cap bytes); a longer value is an error. */
int ckpt_meta_get_str(const char *text, const char *key, char *out, size_t cap,
                      struct herr *err);

#endif
