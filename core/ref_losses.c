/* core/ref_losses.c — see ref_losses.h. */
#include "core/ref_losses.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"

static const char magic[8] = { 'H', 'E', 'F', 'T', 'R', 'E', 'F', 'L' };

enum {
    SEQ_AT = 12, WINDOWS_AT = 16, COUNT_AT = 24, FINGERPRINT_AT = 32, SCORE_FLOPS_AT = 40,
    TRAIN_FLOPS_AT = 48, PARAMS_AT = 56, MODEL_AT = 64, TRAIN_TOKENS_AT = 128,
};
_Static_assert(TRAIN_TOKENS_AT + 8 == REF_LOSSES_HEADER_BYTES, "header layout");

static void put_u64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static void put_f64(unsigned char *p, double v) { memcpy(p, &v, 8); }
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
static double get_f64(const unsigned char *p)
{
    double v;
    memcpy(&v, p, 8);
    return v;
}

static void encode_header(const struct ref_losses *r, unsigned char *h)
{
    memset(h, 0, REF_LOSSES_HEADER_BYTES);
    memcpy(h, magic, sizeof magic);
    uint32_t version = REF_LOSSES_VERSION;
    memcpy(h + 8, &version, 4);
    memcpy(h + SEQ_AT, &r->seq, 4);
    put_u64(h + WINDOWS_AT, r->windows);
    put_u64(h + COUNT_AT, r->count);
    put_u64(h + FINGERPRINT_AT, r->fingerprint);
    put_f64(h + SCORE_FLOPS_AT, r->score_flops);
    put_f64(h + TRAIN_FLOPS_AT, r->train_flops);
    put_u64(h + PARAMS_AT, r->params);
    /* at most 63 characters: the field always ends in a NUL */
    memcpy(h + MODEL_AT, r->model, strnlen(r->model, sizeof r->model - 1));
    put_u64(h + TRAIN_TOKENS_AT, r->train_tokens);
}

int ref_losses_write(const char *path, struct ref_losses *r, struct herr *err)
{
    if (r->count > r->windows)
        return herr_set(err, "reference losses %s: %llu scored windows of %llu", path,
                        (unsigned long long)r->count, (unsigned long long)r->windows);
    unsigned char h[REF_LOSSES_HEADER_BYTES];
    encode_header(r, h);
    uint64_t sum = fnv1a64_update(FNV1A64_INIT, h, sizeof h);
    sum = fnv1a64_update(sum, r->owned, (size_t)r->count * sizeof(float));
    struct atomic_file af;
    if (atomic_file_open(&af, path, err))
        return -1;
    if (atomic_file_write(&af, h, sizeof h, err) ||
        atomic_file_write(&af, r->owned, (size_t)r->count * sizeof(float), err) ||
        atomic_file_write(&af, &sum, sizeof sum, err) || atomic_file_commit(&af, err)) {
        atomic_file_abort(&af);
        return herr_wrap(err, "writing reference losses %s: ", path);
    }
    r->checksum = sum;
    return 0;
}

int ref_losses_read(const char *path, struct ref_losses *r, struct herr *err)
{
    memset(r, 0, sizeof *r);
    struct mapped_file mf;
    if (mapped_file_open(&mf, path, "reference losses", err))
        return -1;
    const unsigned char *p = mf.data;
    const char *bad = NULL;
    uint32_t version = 0;
    if (mf.size < sizeof magic || memcmp(p, magic, sizeof magic) != 0)
        bad = "no HEFTREFL magic: not a reference-loss file (make one with heft score)";
    else if (mf.size < REF_LOSSES_HEADER_BYTES + 8)
        bad = "truncated in its header";
    if (bad) {
        mapped_file_close(&mf);
        return herr_set(err, "reference losses %s: %s", path, bad);
    }
    memcpy(&version, p + 8, 4);
    if (version != REF_LOSSES_VERSION) {
        mapped_file_close(&mf);
        return herr_set(err, "reference losses %s: format version %u, this heft reads version %d",
                        path, (unsigned)version, REF_LOSSES_VERSION);
    }
    memcpy(&r->seq, p + SEQ_AT, 4);
    r->windows = get_u64(p + WINDOWS_AT);
    r->count = get_u64(p + COUNT_AT);
    r->fingerprint = get_u64(p + FINGERPRINT_AT);
    r->score_flops = get_f64(p + SCORE_FLOPS_AT);
    r->train_flops = get_f64(p + TRAIN_FLOPS_AT);
    r->params = get_u64(p + PARAMS_AT);
    memcpy(r->model, p + MODEL_AT, sizeof r->model);
    r->model[sizeof r->model - 1] = '\0';
    r->train_tokens = get_u64(p + TRAIN_TOKENS_AT);
    /* count comes from the file: check it before multiplying */
    uint64_t want = r->count <= (UINT64_MAX - REF_LOSSES_HEADER_BYTES - 8) / 4
                        ? REF_LOSSES_HEADER_BYTES + 4 * r->count + 8 : 0;
    int rc = 0;
    if (want != mf.size)
        rc = herr_set(err, "reference losses %s: %zu bytes, but %llu windows need %llu (the file "
                      "is truncated or has trailing data)", path, mf.size,
                      (unsigned long long)r->count, (unsigned long long)want);
    if (rc == 0) {
        size_t body = mf.size - 8;
        uint64_t sum = fnv1a64_update(FNV1A64_INIT, p, body), stored = get_u64(p + body);
        if (sum != stored)
            rc = herr_set(err, "reference losses %s: checksum %016llx does not match its contents "
                          "(%016llx): the file is corrupt; score again with heft score", path,
                          (unsigned long long)stored, (unsigned long long)sum);
        r->checksum = stored;
    }
    if (rc == 0 && r->count > r->windows)
        rc = herr_set(err, "reference losses %s: %llu scored windows but the data had only %llu",
                      path, (unsigned long long)r->count, (unsigned long long)r->windows);
    if (rc) {
        mapped_file_close(&mf);
        memset(r, 0, sizeof *r);
        return -1;
    }
    r->mf = mf;
    r->mapped = p + REF_LOSSES_HEADER_BYTES;
    return 0;
}

void ref_losses_free(struct ref_losses *r)
{
    free(r->owned);
    if (r->mapped)
        mapped_file_close(&r->mf);
    memset(r, 0, sizeof *r);
}

int ref_losses_check(const struct ref_losses *r, const char *path, int T, uint64_t windows,
                     uint64_t fingerprint, struct herr *err)
{
    if (r->seq != (uint32_t)T)
        return herr_set(err, "reference losses %s were scored at --seq %u, but this run uses "
                        "--seq %d (score again with heft score --seq %d)", path,
                        (unsigned)r->seq, T, T);
    if (r->windows != windows)
        return herr_set(err, "reference losses %s describe %llu training windows, but the data "
                        "has %llu at --seq %d: they were scored on other data", path,
                        (unsigned long long)r->windows, (unsigned long long)windows, T);
    if (r->fingerprint != fingerprint)
        return herr_set(err, "reference losses %s were scored on other data than this run's (the "
                        "dataset fingerprint differs); score this --data with heft score", path);
    return 0;
}

double ref_losses_at(const struct ref_losses *r, uint64_t w)
{
    if (w >= r->count)
        return NAN;
    if (r->owned)
        return r->owned[w];
    float v;
    memcpy(&v, r->mapped + 4 * w, sizeof v);
    return v;
}
