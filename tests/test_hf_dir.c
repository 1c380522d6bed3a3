/* tests/test_hf_dir.c — Hugging Face model directories without transformers:
 * export then import gives back the same bits for every family shape (GPT-2
 * with vocabulary padding, LLaMA untied with GQA, LLaMA tied with MQA); the
 * file holds GPT-2's Conv1D weights transposed and LLaMA's q/k/v and
 * gate/up as row blocks of heft's fused tensors; F16 and BF16 convert
 * exactly (subnormals, infinities, signed zero); files saved from GPT2Model
 * (no "transformer." prefix), sharded files with an index, and skippable
 * buffers read; a tensor heft would drop is refused; config.json round trips
 * and writes float32 hyper-parameters as their shortest decimals. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hf_dir.h"
#include "core/hf_json.h"
#include "core/safetensors.h"
#include "models/family.h"
#include "models/gpt2/gpt2_config.h"
#include "models/hf.h"
#include "models/llama/llama_config.h"
#include "tests/test_data_util.h"

static char dir[512];
static void setup(void) { tmpdir_make(dir, sizeof dir); }
static void teardown(void) { tmpdir_remove(dir); }

static struct model_config make_config(const char *family, const void *body, size_t size)
{
    struct model_config c;
    memset(&c, 0, sizeof c);
    c.family = model_family_by_name(family);
    memcpy(model_config_body(&c), body, size);
    struct herr err;
    ck_assert_msg(model_config_validate(&c, &err) == 0, "%s", err.msg);
    return c;
}

/* maxT 12, V 50, Vp 64, L 2, NH 2, C 8 */
static struct model_config gpt2_cfg(void)
{
    static const struct gpt2_config g = { 12, 50, 64, 2, 2, 8 };
    return make_config("gpt2", &g, sizeof g);
}

static struct model_config llama_cfg(int kv_heads, int tied)
{
    struct llama_config l = { .max_seq_len = 16, .vocab_size = 50, .padded_vocab_size = 64,
                              .num_layers = 2, .num_heads = 4, .num_kv_heads = kv_heads,
                              .channels = 16, .ffn = 24, .tied = tied, .norm_eps = 1e-6f,
                              .rope_theta = 500000.0f };
    return make_config("llama", &l, sizeof l);
}

/* Distinct values everywhere but the padding rows of wte / lm_head, which
 * stay zero (no Hugging Face tensor holds them). */
static float *distinct_params(const struct model_config *cfg)
{
    size_t P = model_config_num_params(cfg);
    float *p = malloc(P * sizeof *p);
    for (size_t i = 0; i < P; i++)
        p[i] = (float)i * 1e-3f + 0.5f;
    struct hf_tensor *t;
    int n;
    struct herr err;
    ck_assert(hf_tensors_of(cfg, &t, &n, &err) == 0);
    /* zero what no tensor covers */
    char *covered = calloc(P, 1);
    for (int i = 0; i < n; i++)
        memset(covered + t[i].offset, 1, hf_tensor_count(&t[i]));
    for (size_t i = 0; i < P; i++)
        if (!covered[i])
            p[i] = 0;
    free(covered);
    free(t);
    return p;
}

static void roundtrip(const struct model_config *cfg, const char *name)
{
    char out[1024];
    tpath(out, sizeof out, dir, name);
    size_t P = model_config_num_params(cfg);
    float *p = distinct_params(cfg), *q = malloc(P * sizeof *q);
    struct hf_extra x = { 7, 9 };
    struct herr err;
    ck_assert_msg(hf_dir_write(out, cfg, p, &x, &err) == 0, "%s", err.msg);
    struct model_config back;
    ck_assert_msg(hf_dir_read_config(out, &back, &err) == 0, "%s", err.msg);
    ck_assert(model_config_equal(cfg, &back));
    memset(q, 0xFF, P * sizeof *q); /* padding must come back zero, not left alone */
    ck_assert_msg(hf_dir_read_params(out, &back, q, &err) == 0, "%s", err.msg);
    ck_assert_msg(memcmp(p, q, P * sizeof *p) == 0, "%s: parameters differ after a round trip",
                  name);
    free(p);
    free(q);
}

START_TEST(test_roundtrips)
{
    struct model_config g = gpt2_cfg(), gqa = llama_cfg(2, 0), mqa = llama_cfg(1, 1);
    roundtrip(&g, "gpt2");
    roundtrip(&gqa, "llama_gqa");
    roundtrip(&mqa, "llama_mqa_tied");
    /* every float except the padding rows is in some tensor, once */
    struct hf_tensor *t;
    int n;
    struct herr err;
    const struct model_config *all[] = { &g, &gqa, &mqa };
    for (int k = 0; k < 3; k++) {
        ck_assert(hf_tensors_of(all[k], &t, &n, &err) == 0);
        struct model_dims d;
        model_config_dims(all[k], &d);
        size_t P = model_config_num_params(all[k]), sum = 0;
        for (int i = 0; i < n; i++)
            sum += hf_tensor_count(&t[i]);
        int heads = k == 1; /* the untied LLaMA has a padded lm_head too */
        ck_assert_uint_eq(sum, P - (size_t)(1 + heads) * (d.padded_vocab_size - d.vocab_size) *
                                       d.channels);
        free(t);
    }
}
END_TEST

static float *read_named(const char *sub, const char *name, size_t *count)
{
    char path[1024], file[1200];
    tpath(path, sizeof path, dir, sub);
    snprintf(file, sizeof file, "%s/model.safetensors", path);
    struct st_file *f;
    struct herr err;
    ck_assert_msg(st_open(&f, file, &err) == 0, "%s", err.msg);
    const struct st_tensor *t = st_find(f, name);
    ck_assert_msg(t != NULL, "no tensor %s", name);
    *count = st_elements(t);
    float *v = malloc(*count * sizeof *v);
    ck_assert(st_read_f32(f, t, 0, *count, v, &err) == 0);
    st_close(f);
    return v;
}

START_TEST(test_layouts)
{
    struct model_config g = gpt2_cfg(), l = llama_cfg(2, 0);
    float *gp = distinct_params(&g), *lp = distinct_params(&l);
    struct hf_extra x = { -1, -1 };
    struct herr err;
    char out[1024];
    tpath(out, sizeof out, dir, "g");
    ck_assert(hf_dir_write(out, &g, gp, &x, &err) == 0);
    tpath(out, sizeof out, dir, "l");
    ck_assert(hf_dir_write(out, &l, lp, &x, &err) == 0);

    /* GPT-2 layer 1: c_attn.weight (C, 3C)[i][o] = heft qkvw (3C, C)[o][i] */
    const size_t C = 8;
    size_t off[GPT2_NUM_TENSORS], n;
    gpt2_tensor_offsets(model_config_cbody(&g), off);
    float *w = read_named("g", "transformer.h.1.attn.c_attn.weight", &n);
    ck_assert_uint_eq(n, 3 * C * C);
    const float *qkvw = gp + off[GPT2_QKVW] + 3 * C * C;
    for (size_t i = 0; i < C; i++)
        for (size_t o = 0; o < 3 * C; o++)
            ck_assert_float_eq(w[i * 3 * C + o], qkvw[o * C + i]);
    free(w);
    /* mlp.c_proj.weight (4C, C)[i][o] = heft fcprojw (C, 4C)[o][i] */
    w = read_named("g", "transformer.h.0.mlp.c_proj.weight", &n);
    const float *fcproj = gp + off[GPT2_FCPROJW];
    for (size_t i = 0; i < 4 * C; i++)
        for (size_t o = 0; o < C; o++)
            ck_assert_float_eq(w[i * C + o], fcproj[o * 4 * C + i]);
    free(w);
    /* wte: the first V of Vp rows */
    w = read_named("g", "transformer.wte.weight", &n);
    ck_assert_uint_eq(n, 50 * C);
    ck_assert(memcmp(w, gp + off[GPT2_WTE], n * sizeof *w) == 0);
    free(w);

    /* LLaMA layer 1: k_proj = rows [C, C + KVD) of wqkv; up_proj = rows [F, 2F) of w13 */
    const size_t LC = 16, KVD = 2 * 4, QKV = LC + 2 * KVD, F = 24;
    size_t loff[LLAMA_NUM_TENSORS];
    llama_tensor_offsets(model_config_cbody(&l), loff);
    w = read_named("l", "model.layers.1.self_attn.k_proj.weight", &n);
    ck_assert_uint_eq(n, KVD * LC);
    ck_assert(memcmp(w, lp + loff[LLAMA_WQKV] + QKV * LC + LC * LC, n * sizeof *w) == 0);
    free(w);
    w = read_named("l", "model.layers.1.mlp.up_proj.weight", &n);
    ck_assert(memcmp(w, lp + loff[LLAMA_W13] + 2 * F * LC + F * LC, n * sizeof *w) == 0);
    free(w);
    free(gp);
    free(lp);
}
END_TEST

/* Writes a safetensors file from a header and raw data. */
static void write_st(const char *path, const char *header, const void *data, size_t bytes)
{
    size_t hl = strlen(header);
    unsigned char *raw = malloc(8 + hl + bytes);
    uint64_t len = hl;
    memcpy(raw, &len, 8);
    memcpy(raw + 8, header, hl);
    memcpy(raw + 8 + hl, data, bytes);
    write_bytes(path, raw, 8 + hl + bytes);
    free(raw);
}

START_TEST(test_half_conversions)
{
    /* F16 bits and the float each is exactly */
    static const uint16_t f16[] = { 0x3C00, 0xC000, 0x0001, 0x03FF, 0x0400, 0x7BFF,
                                    0x7C00, 0xFC00, 0x8000, 0x3555 };
    const float f16_want[] = { 1.0f, -2.0f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, 65504.0f,
                               INFINITY, -INFINITY, -0.0f, 0x1.554p-2f };
    static const uint16_t bf16[] = { 0x3F80, 0xC040, 0x0001, 0x7F80, 0x8000 };
    const float bf16_want[] = { 1.0f, -3.0f, 0x1p-133f, INFINITY, -0.0f };
    unsigned char data[sizeof f16 + sizeof bf16];
    memcpy(data, f16, sizeof f16);
    memcpy(data + sizeof f16, bf16, sizeof bf16);
    char path[1024];
    tpath(path, sizeof path, dir, "half.safetensors");
    write_st(path,
             "{\"h\":{\"dtype\":\"F16\",\"shape\":[10],\"data_offsets\":[0,20]},"
             "\"b\":{\"dtype\":\"BF16\",\"shape\":[5],\"data_offsets\":[20,30]}}",
             data, sizeof data);
    struct st_file *f;
    struct herr err;
    ck_assert_msg(st_open(&f, path, &err) == 0, "%s", err.msg);
    float got[10];
    ck_assert(st_read_f32(f, st_find(f, "h"), 0, 10, got, &err) == 0);
    for (int i = 0; i < 10; i++)
        ck_assert_msg(memcmp(&got[i], &f16_want[i], 4) == 0, "F16 0x%04x -> %a, want %a",
                      f16[i], got[i], f16_want[i]);
    ck_assert(st_read_f32(f, st_find(f, "b"), 0, 5, got, &err) == 0);
    for (int i = 0; i < 5; i++)
        ck_assert_msg(memcmp(&got[i], &bf16_want[i], 4) == 0, "BF16 0x%04x -> %a, want %a",
                      bf16[i], got[i], bf16_want[i]);
    /* a slice in the middle */
    ck_assert(st_read_f32(f, st_find(f, "h"), 4, 2, got, &err) == 0);
    ck_assert_float_eq(got[0], 0x1p-14f);
    ck_assert_float_eq(got[1], 65504.0f);
    st_close(f);
}
END_TEST

/* A GPT-2 directory written by heft, then its safetensors rewritten by
 * `edit`: each tensor renamed (or dropped: NULL), plus extra tensors. */
static void rewrite(const char *sub, const char *(*rename)(const char *), const char *extra,
                    const char *file_name)
{
    char d[1024], path[1200];
    tpath(d, sizeof d, dir, sub);
    snprintf(path, sizeof path, "%s/model.safetensors", d);
    struct st_file *f;
    struct herr err;
    ck_assert(st_open(&f, path, &err) == 0);
    size_t hcap = 1 << 16, hl = 0, bytes = 0;
    char *h = malloc(hcap);
    unsigned char *data = malloc(1 << 22);
    hl += (size_t)snprintf(h + hl, hcap - hl, "{");
    for (int i = 0; i < st_count(f); i++) {
        const struct st_tensor *t = st_at(f, i);
        const char *name = rename(t->name);
        if (!name)
            continue;
        size_t n = st_elements(t);
        ck_assert(st_read_f32(f, t, 0, n, (float *)(data + bytes), &err) == 0);
        hl += (size_t)snprintf(h + hl, hcap - hl, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[",
                               hl > 1 ? "," : "", name);
        for (int k = 0; k < t->ndim; k++)
            hl += (size_t)snprintf(h + hl, hcap - hl, "%s%lld", k ? "," : "",
                                   (long long)t->shape[k]);
        hl += (size_t)snprintf(h + hl, hcap - hl, "],\"data_offsets\":[%zu,%zu]}", bytes,
                               bytes + 4 * n);
        bytes += 4 * n;
    }
    if (extra) {
        hl += (size_t)snprintf(h + hl, hcap - hl, ",%s", extra);
        memset(data + bytes, 0, 64);
        bytes += 64; /* extra tensors take [bytes, bytes + 64) by convention below */
    }
    snprintf(h + hl, hcap - hl, "}");
    st_close(f);
    unlink(path);
    snprintf(path, sizeof path, "%s/%s", d, file_name);
    write_st(path, h, data, bytes);
    free(h);
    free(data);
}

static const char *same(const char *n) { return n; }
static const char *strip_prefix(const char *n)
{
    return strncmp(n, "transformer.", 12) ? n : n + 12;
}

static int read_back(const char *sub, const struct model_config *cfg, float *q, struct herr *err)
{
    char d[1024];
    tpath(d, sizeof d, dir, sub);
    return hf_dir_read_params(d, cfg, q, err);
}

static void export_gpt2(const char *sub, const struct model_config *g, const float *p)
{
    char d[1024];
    struct hf_extra x = { -1, -1 };
    struct herr err;
    tpath(d, sizeof d, dir, sub);
    ck_assert(hf_dir_write(d, g, p, &x, &err) == 0);
}

START_TEST(test_names_and_extras)
{
    struct model_config g = gpt2_cfg();
    size_t P = model_config_num_params(&g);
    float *p = distinct_params(&g), *q = malloc(P * sizeof *q);
    struct herr err;

    /* GPT2Model's own files name tensors without "transformer." */
    export_gpt2("bare", &g, p);
    rewrite("bare", strip_prefix, NULL, "model.safetensors");
    ck_assert_msg(read_back("bare", &g, q, &err) == 0, "%s", err.msg);
    ck_assert(memcmp(p, q, P * sizeof *p) == 0);

    export_gpt2("extra", &g, p);
    size_t bytes = 0;
    {
        struct hf_tensor *t;
        int n;
        ck_assert(hf_tensors_of(&g, &t, &n, &err) == 0);
        for (int i = 0; i < n; i++)
            bytes += 4 * hf_tensor_count(&t[i]);
        free(t);
    }
    char extra[256];
    snprintf(extra, sizeof extra,
             "\"transformer.h.0.attn.bias\":{\"dtype\":\"F32\",\"shape\":[16],"
             "\"data_offsets\":[%zu,%zu]}", bytes, bytes + 64);
    /* the causal-mask buffer older transformers versions saved is skipped */
    rewrite("extra", same, extra, "model.safetensors");
    ck_assert_msg(read_back("extra", &g, q, &err) == 0, "skippable buffer refused: %s", err.msg);
    ck_assert(memcmp(p, q, P * sizeof *p) == 0);
    export_gpt2("extra2", &g, p);
    snprintf(extra, sizeof extra,
             "\"transformer.h.0.attn.q_norm.weight\":{\"dtype\":\"F32\",\"shape\":[16],"
             "\"data_offsets\":[%zu,%zu]}", bytes, bytes + 64);
    rewrite("extra2", same, extra, "model.safetensors");
    /* a tensor heft has no place for is refused, naming it */
    ck_assert(read_back("extra2", &g, q, &err) != 0);
    ck_assert_msg_has(err.msg, "transformer.h.0.attn.q_norm.weight", "is not part of");
    free(p);
    free(q);
}
END_TEST

static const char *first_half(const char *n) { return strstr(n, ".h.1.") ? NULL : n; }
static const char *second_half(const char *n) { return strstr(n, ".h.1.") ? n : NULL; }

START_TEST(test_sharded)
{
    struct model_config g = gpt2_cfg();
    size_t P = model_config_num_params(&g);
    float *p = distinct_params(&g), *q = malloc(P * sizeof *q);
    struct herr err;
    /* two shards: layer 1 in the second, everything else in the first */
    export_gpt2("sh", &g, p);
    char d[1024], src[1200], dst[1200];
    tpath(d, sizeof d, dir, "sh");
    snprintf(src, sizeof src, "%s/model.safetensors", d);
    snprintf(dst, sizeof dst, "%s/whole.safetensors", d);
    ck_assert(rename(src, dst) == 0);
    snprintf(src, sizeof src, "%s/model.safetensors", d);
    /* rewrite reads model.safetensors: put the whole file back under that name for each half */
    for (int half = 0; half < 2; half++) {
        char cp[2600];
        snprintf(cp, sizeof cp, "cp '%s' '%s'", dst, src);
        ck_assert(system(cp) == 0);
        rewrite("sh", half ? second_half : first_half, NULL,
                half ? "model-00002-of-00002.safetensors" : "model-00001-of-00002.safetensors");
    }
    unlink(dst);
    char index[1200];
    snprintf(index, sizeof index, "%s/model.safetensors.index.json", d);
    struct hf_tensor *t;
    int n;
    ck_assert(hf_tensors_of(&g, &t, &n, &err) == 0);
    size_t cap = 1 << 16, used = 0;
    char *json = malloc(cap);
    used += (size_t)snprintf(json + used, cap - used, "{\"metadata\":{},\"weight_map\":{");
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(json + used, cap - used, "%s\"%s\":\"model-0000%d-of-00002."
                                 "safetensors\"", i ? "," : "", t[i].name,
                                 strstr(t[i].name, ".h.1.") ? 2 : 1);
    snprintf(json + used, cap - used, "}}");
    write_text(index, json);
    free(json);
    free(t);
    ck_assert_msg(read_back("sh", &g, q, &err) == 0, "%s", err.msg);
    ck_assert(memcmp(p, q, P * sizeof *p) == 0);
    free(p);
    free(q);
}
END_TEST

START_TEST(test_config_json)
{
    struct hf_config c;
    memset(&c, 0, sizeof c);
    hf_put_float(&c, "eps", 1e-5f);
    hf_put_float(&c, "theta", 500000.0f);
    hf_put_float(&c, "odd", 0.1f);
    ck_assert(hf_find(&c, "eps")->num == 1e-5);      /* not 9.99999974737875e-06 */
    ck_assert(hf_find(&c, "theta")->num == 500000.0);
    ck_assert(hf_find(&c, "odd")->num == 0.1);
    /* a config through config.json and back, both families */
    struct model_config all[] = { gpt2_cfg(), llama_cfg(2, 0), llama_cfg(1, 1) };
    struct herr err;
    for (int k = 0; k < 3; k++) {
        char path[1024];
        tpath(path, sizeof path, dir, "config.json");
        struct hf_config out, in;
        hf_config_of(&all[k], &out);
        ck_assert(hf_json_write(path, &out, &err) == 0);
        ck_assert(hf_json_read(path, &in, &err) == 0);
        struct model_config back;
        ck_assert_msg(hf_config_read(&in, &back, &err) == 0, "%s", err.msg);
        ck_assert(model_config_equal(&all[k], &back));
    }
    char path[1024];
    tpath(path, sizeof path, dir, "config.json");
    size_t len;
    char *text = (char *)read_bytes(path, &len);
    ck_assert_msg(strstr(text, "\"rms_norm_eps\": 1e-6,") && strstr(text, "\"rope_theta\": 500000.0"),
                  "%s", text);
    free(text);
}
END_TEST

static Suite *hf_suite(void)
{
    Suite *s = suite_create("hf_dir");
    TCase *tc = tcase_create("hf_dir");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_roundtrips);
    tcase_add_test(tc, test_layouts);
    tcase_add_test(tc, test_half_conversions);
    tcase_add_test(tc, test_names_and_extras);
    tcase_add_test(tc, test_sharded);
    tcase_add_test(tc, test_config_json);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(hf_suite()); }
