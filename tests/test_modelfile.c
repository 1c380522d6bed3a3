/* tests/test_modelfile.c — model files: llm.c's GPT-2 byte layout, heft's
 * LLaMA file, round trips, families that do not match, and every bad header. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model_file.h"
#include "models/family.h"
#include "models/gpt2/gpt2_config.h"
#include "tests/test_data_util.h"

static char dir[512];
static char path[1024];
static void setup(void)
{
    tmpdir_make(dir, sizeof dir);
    tpath(path, sizeof path, dir, "model.bin");
}
static void teardown(void) { tmpdir_remove(dir); }

/* maxT 16, V 50, Vp 64, L 2, NH 2, C 8 */
static const struct gpt2_config small_gpt2 = {16, 50, 64, 2, 2, 8};

/* The opaque config of a GPT-2 shape. */
static struct model_config gpt2_model(const struct gpt2_config *g)
{
    struct model_config c;
    memset(&c, 0, sizeof c);
    c.family = model_family_by_name("gpt2");
    memcpy(model_config_body(&c), g, sizeof *g);
    return c;
}

static const struct gpt2_config *gpt2_of(const struct model_config *c)
{
    ck_assert_str_eq(model_config_family(c), "gpt2");
    return model_config_cbody(c);
}

/* Writes a model file byte by byte as llm.c's train_gpt2.py does (header of
 * 256 int32, then the parameters), independently of model_file_write;
 * params_delta adds or removes parameters to make bad sizes. */
static float *write_reference(const int32_t hdr8[8], size_t nparams, long params_delta)
{
    size_t n = (size_t)((long)nparams + params_delta);
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)i * 0.001f - 1.0f;
    unsigned char *raw = calloc(1, 1024 + 4 * n);
    memcpy(raw, hdr8, 8 * sizeof(int32_t));
    memcpy(raw + 1024, p, 4 * n);
    write_bytes(path, raw, 1024 + 4 * n);
    free(raw);
    return p;
}

static const int32_t good_header[8] = {20240326, 3, 16, 50, 2, 2, 8, 64};

START_TEST(test_reads_reference_layout)
{
    size_t n = gpt2_num_params(&small_gpt2);
    float *want = write_reference(good_header, n, 0);
    struct model_config mc;
    float *params;
    struct herr err;
    ck_assert_msg(model_file_load(path, &mc, &params, &err) == 0, "%s", err.msg);
    const struct gpt2_config cfg = *gpt2_of(&mc);
    ck_assert_int_eq(cfg.max_seq_len, 16);
    ck_assert_int_eq(cfg.vocab_size, 50);
    ck_assert_int_eq(cfg.padded_vocab_size, 64);
    ck_assert_int_eq(cfg.num_layers, 2);
    ck_assert_int_eq(cfg.num_heads, 2);
    ck_assert_int_eq(cfg.channels, 8);
    ck_assert_mem_eq(params, want, n * sizeof(float));
    free(params);
    free(want);
}
END_TEST

START_TEST(test_write_matches_reference_layout)
{
    size_t n = gpt2_num_params(&small_gpt2);
    float *p = write_reference(good_header, n, 0);
    size_t ref_n;
    unsigned char *ref = read_bytes(path, &ref_n);
    struct herr err;
    struct model_config small = gpt2_model(&small_gpt2);
    ck_assert_int_eq(model_file_write(path, &small, p, &err), 0);
    size_t got_n;
    unsigned char *got = read_bytes(path, &got_n);
    ck_assert_uint_eq(got_n, 1024 + 4 * n);
    ck_assert_uint_eq(got_n, ref_n);
    ck_assert_mem_eq(got, ref, got_n);
    ck_assert_int_eq(dir_entries(dir), 1);
    free(ref);
    free(got);
    free(p);
}
END_TEST

START_TEST(test_roundtrip_into_caller_memory)
{
    size_t n = gpt2_num_params(&small_gpt2);
    float *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((i * 2654435761u) % 1000) / 7.0f;
    struct herr err;
    struct model_config small = gpt2_model(&small_gpt2);
    ck_assert_int_eq(model_file_write(path, &small, p, &err), 0);
    struct model_config cfg;
    ck_assert_int_eq(model_file_read_config(path, &cfg, &err), 0);
    ck_assert_int_eq(model_file_read_params(path, &cfg, q, &err), 0);
    ck_assert_mem_eq(p, q, n * sizeof *p);
    /* Asking for another shape is refused. */
    struct gpt2_config other_gpt2 = small_gpt2;
    other_gpt2.num_layers = 3;
    struct model_config other = gpt2_model(&other_gpt2);
    ck_assert_int_eq(model_file_read_params(path, &other, q, &err), -1);
    ck_assert_msg_has(err.msg, path, "L=2", "L=3");
    free(p);
    free(q);
}
END_TEST

static const char *load_fails(void)
{
    static struct herr err;
    struct model_config cfg;
    float *params;
    ck_assert_int_eq(model_file_load(path, &cfg, &params, &err), -1);
    ck_assert_ptr_null(params);
    return err.msg;
}

START_TEST(test_missing)
{
    ck_assert_msg_has(load_fails(), path, "cannot open", "No such file");
}
END_TEST

START_TEST(test_bad_magic)
{
    int32_t h[8];
    memcpy(h, good_header, sizeof h);
    h[0] = 20240520;
    free(write_reference(h, gpt2_num_params(&small_gpt2), 0));
    ck_assert_msg_has(load_fails(), path, "bad magic 20240520", "20240326 (llm.c GPT-2)",
                      "20241210 (heft LLaMA)",
                      "token shard");
}
END_TEST

START_TEST(test_bf16_version)
{
    int32_t h[8];
    memcpy(h, good_header, sizeof h);
    h[1] = 5;
    free(write_reference(h, gpt2_num_params(&small_gpt2) / 2, 0));
    ck_assert_msg_has(load_fails(), path, "version 5", "bf16", "not supported yet");
}
END_TEST

START_TEST(test_bad_version)
{
    int32_t h[8];
    memcpy(h, good_header, sizeof h);
    h[1] = 1;
    free(write_reference(h, gpt2_num_params(&small_gpt2), 0));
    ck_assert_msg_has(load_fails(), path, "unsupported version 1", "version 3");
}
END_TEST

START_TEST(test_truncated)
{
    size_t n = gpt2_num_params(&small_gpt2);
    free(write_reference(good_header, n, -3));
    char want[64];
    snprintf(want, sizeof want, "needs %zu", 1024 + 4 * n);
    ck_assert_msg_has(load_fails(), path, "truncated", want);
    write_bytes(path, good_header, sizeof good_header); /* header cut short */
    ck_assert_msg_has(load_fails(), path, "truncated", "32 bytes");
}
END_TEST

START_TEST(test_extra_bytes)
{
    free(write_reference(good_header, gpt2_num_params(&small_gpt2), 2));
    ck_assert_msg_has(load_fails(), path, "8 more than");
}
END_TEST

START_TEST(test_invalid_config)
{
    int32_t h[8];
    memcpy(h, good_header, sizeof h);
    h[5] = 3; /* 8 channels are not divisible by 3 heads */
    free(write_reference(h, 100, 0));
    ck_assert_msg_has(load_fails(), path, "channels 8 not divisible by num_heads 3");
    h[5] = 2;
    h[7] = 40; /* Vp < V */
    free(write_reference(h, 100, 0));
    ck_assert_msg_has(load_fails(), path, "padded_vocab_size 40");
}
END_TEST

/* heft's LLaMA file: header fields (floats as bits), round trip, and a
 * GPT-2 shape asked of a LLaMA file is refused naming both families. */
START_TEST(test_llama_roundtrip)
{
    struct model_config c;
    struct herr err;
    ck_assert_int_eq(model_config_preset("llama-tiny", 61, &c, &err), 0);
    struct model_overrides ov = { .kv_heads = 1, .rope_theta = 500000, .norm_eps = 1e-6,
                                  .tie_embeddings = 1 };
    ck_assert_msg(model_config_override(&c, &ov, &err) == 0, "%s", err.msg);
    size_t n = model_config_num_params(&c);
    float *p = malloc(n * sizeof *p), *q = malloc(n * sizeof *q);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)i * 0.25f;
    ck_assert_int_eq(model_file_write(path, &c, p, &err), 0);
    size_t got_n;
    int32_t *raw = (int32_t *)read_bytes(path, &got_n);
    ck_assert_uint_eq(got_n, 1024 + 4 * n);
    ck_assert_int_eq(raw[0], 20241210);
    ck_assert_int_eq(raw[1], 1);
    ck_assert_int_eq(raw[3], 61);  /* V */
    ck_assert_int_eq(raw[8], 1);   /* KVH */
    ck_assert_int_eq(raw[10], 1);  /* tied */
    float theta;
    memcpy(&theta, &raw[12], sizeof theta);
    ck_assert_float_eq(theta, 500000.0f);
    free(raw);
    struct model_config back;
    ck_assert_msg(model_file_read_config(path, &back, &err) == 0, "%s", err.msg);
    ck_assert(model_config_equal(&c, &back));
    ck_assert_int_eq(model_file_read_params(path, &back, q, &err), 0);
    ck_assert_mem_eq(p, q, n * sizeof *p);
    struct model_config g = gpt2_model(&small_gpt2);
    ck_assert_int_eq(model_file_read_params(path, &g, q, &err), -1);
    ck_assert_msg_has(err.msg, path, "llama", "gpt2", "KVH=1");
    /* a bad LLaMA header: 4 heads do not share 3 key/value heads */
    int32_t h[256];
    model_config_to_header(&c, h);
    h[8] = 3;
    write_bytes(path, h, sizeof h);
    ck_assert_msg_has(load_fails(), path, "num_kv_heads 3 must divide num_heads 4");
    free(p);
    free(q);
}
END_TEST

static Suite *modelfile_suite(void)
{
    Suite *s = suite_create("modelfile");
    TCase *tc = tcase_create("modelfile");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reads_reference_layout);
    tcase_add_test(tc, test_write_matches_reference_layout);
    tcase_add_test(tc, test_roundtrip_into_caller_memory);
    tcase_add_test(tc, test_missing);
    tcase_add_test(tc, test_bad_magic);
    tcase_add_test(tc, test_bf16_version);
    tcase_add_test(tc, test_bad_version);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_extra_bytes);
    tcase_add_test(tc, test_invalid_config);
    tcase_add_test(tc, test_llama_roundtrip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(modelfile_suite());
}
