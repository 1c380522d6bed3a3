/* tests/fuzz/fuzz_safetensors.c — a safetensors file (core/safetensors.c)
 * and, from the same bytes, a Hugging Face config.json (core/hf_json.c, then
 * the family's reading of it, models/hf.c).
 *
 * For a file st_open accepts, checks what safetensors.h promises: every
 * tensor's dtype, shape and offsets consistent (begin <= end, end inside the
 * data section, end - begin = elements x dtype size), names unique, no two
 * tensors overlapping; then reads every tensor of a supported dtype whole
 * (and a read past its end must be refused). Aborts if not. */
#include "tests/fuzz/fuzz_util.h"

#include <string.h>

#include "core/hf_dir.h"
#include "core/hf_json.h"
#include "core/safetensors.h"
#include "models/hf.h"

static void check_file(const struct st_file *f, const uint8_t *data, size_t n)
{
    uint64_t hlen = 0;
    if (n < 8)
        abort(); /* accepted without a header length */
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | data[i];
    if (hlen > n - 8)
        abort();
    uint64_t data_len = n - 8 - hlen;
    int count = st_count(f);
    if (count < 0)
        abort();
    for (int i = 0; i < count; i++) {
        const struct st_tensor *t = st_at(f, i);
        if (!t || memchr(t->name, '\0', sizeof t->name) == NULL ||
            memchr(t->dtype, '\0', sizeof t->dtype) == NULL)
            abort();
        if (t->ndim < 0 || t->ndim > ST_MAX_DIMS || t->dtype_bytes <= 0)
            abort();
        for (int d = 0; d < t->ndim; d++)
            if (t->shape[d] < 0)
                abort();
        if (t->begin > t->end || t->end > data_len)
            abort();
        if ((t->end - t->begin) != (uint64_t)st_elements(t) * (uint64_t)t->dtype_bytes)
            abort();
        if (st_find(f, t->name) != t)
            abort(); /* names are unique, and found */
        for (int j = 0; j < i; j++) {
            const struct st_tensor *u = st_at(f, j);
            if (!strcmp(u->name, t->name))
                abort();
            if (t->begin < u->end && u->begin < t->end)
                abort(); /* overlap of two non-empty ranges */
        }
    }
    for (int i = 0; i < count; i++) {
        const struct st_tensor *t = st_at(f, i);
        size_t el = st_elements(t);
        struct herr err;
        float *buf = malloc((el ? el : 1) * sizeof *buf);
        if (!buf)
            abort();
        int rc = st_read_f32(f, t, 0, el, buf, &err);
        if (rc != 0 && st_dtype_supported(t->dtype))
            abort(); /* a valid range of the file could not be read */
        if (rc == 0 && !st_dtype_supported(t->dtype))
            abort();
        if (st_read_f32(f, t, el ? el - 1 : 0, 2, buf, &err) == 0)
            abort(); /* past the end */
        free(buf);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *path = fuzz_file(data, n);
    struct herr err;
    struct st_file *f;
    if (st_open(&f, path, &err) == 0) {
        check_file(f, data, n);
        st_close(f);
    }
    /* the same bytes as config.json */
    static struct hf_config hc;
    static struct model_config cfg;
    if (hf_json_read(path, &hc, &err) == 0)
        (void)hf_config_read(&hc, &cfg, &err);
    return 0;
}
