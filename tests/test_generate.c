/* tests/test_generate.c — the KV-cache generator (models/nn/generate.h)
 * against the training forward (models/nn/decoder.h) on the same weights:
 * the logits of every position of a sequence fed token by token equal the
 * forward's logits of that position, for GPT-2 (learned positions, biases,
 * LayerNorm, GELU) and LLaMA with multi-head, grouped-query and multi-query
 * attention, untied and tied; a reset replays the same bits; a full cache
 * and an id outside the vocabulary are errors. On the CPU backend and, where
 * an OpenCL device exists, on OpenCL too (softmax_rows_forward, m = 1 GEMM
 * grids). Weights are the families' own initialization scaled up so that
 * logits spread over several units. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "models/family.h"
#include "models/gpt2/gpt2_config.h"
#include "models/llama/llama_config.h"
#include "models/model.h"
#include "models/nn/decoder.h"
#include "models/nn/generate.h"
#include "tests/test_data_util.h"

#define T 21 /* positions checked; odd, not a power of two */

static struct model_config make_config(const char *family, const void *body, size_t size)
{
    struct model_config c;
    memset(&c, 0, sizeof c);
    c.family = model_family_by_name(family);
    memcpy(model_config_body(&c), body, size);
    return c;
}

/* Worst |gen - fwd| / max(1, max |fwd|) over all positions and the V real
 * logits, for cfg on backend be. */
static double compare(struct backend *be, const struct model_config *cfg, const char *what)
{
    struct herr err;
    struct model m;
    ck_assert_msg(model_create(&m, be, cfg, 1, T, &err) == 0, "%s", err.msg);
    struct model_dims d;
    model_config_dims(cfg, &d);
    const int V = d.vocab_size, Vp = d.padded_vocab_size;
    float *p = malloc(m.num_params * sizeof *p);
    model_init_params(&m, 42, p);
    for (size_t i = 0; i < m.num_params; i++)
        p[i] *= 8.0f; /* init's 0.02 spread gives near-uniform logits */
    ck_assert(m.ops->upload_params(m.impl, p, &err) == 0);
    int32_t in[T], tg[T];
    for (int t = 0; t < T; t++) {
        in[t] = (t * 37 + 11) % V;
        tg[t] = -1;
    }
    float *want = malloc((size_t)T * Vp * sizeof *want), *got = malloc((size_t)V * sizeof *got);
    ck_assert_msg(m.ops->forward(m.impl, in, tg, &err) == 0, "%s", err.msg);
    ck_assert(m.ops->download_logits(m.impl, want, &err) == 0);

    struct decoder_spec spec;
    decoder_spec_of(cfg, &spec);
    struct generator *g;
    ck_assert_msg(generator_create(&g, be, &spec, m.params, T, &err) == 0, "%s", err.msg);
    double worst = 0, scale = 1;
    float *first = malloc((size_t)T * V * sizeof *first);
    for (int pass = 0; pass < 2; pass++) {
        generator_reset(g);
        for (int t = 0; t < T; t++) {
            ck_assert_msg(generator_step(g, in[t], got, &err) == 0, "%s", err.msg);
            const float *w = want + (size_t)t * Vp;
            for (int v = 0; v < V; v++) {
                scale = fmax(scale, fabs(w[v]));
                worst = fmax(worst, fabs((double)got[v] - w[v]));
            }
            if (pass == 0)
                memcpy(first + (size_t)t * V, got, (size_t)V * sizeof *got);
            else
                ck_assert_msg(memcmp(first + (size_t)t * V, got, (size_t)V * sizeof *got) == 0,
                              "%s: a reset did not replay position %d bit for bit", what, t);
        }
        ck_assert_int_eq(generator_length(g), T);
    }
    /* full, and a bad id */
    ck_assert(generator_step(g, 0, got, &err) != 0);
    ck_assert_msg_has(err.msg, "full");
    generator_reset(g);
    ck_assert(generator_step(g, V, got, &err) != 0);
    ck_assert_msg_has(err.msg, "outside the vocabulary");
    printf("%-8s %-34s logits up to %6.2f, worst normalized difference %.2e\n", be->name, what,
           scale, worst / scale);
    generator_destroy(g);
    model_destroy(&m);
    free(p);
    free(want);
    free(got);
    free(first);
    return worst / scale;
}

static void all_families(struct backend *be, double tol)
{
    const struct gpt2_config g = { 32, 50, 64, 2, 4, 32 };
    struct model_config gc = make_config("gpt2", &g, sizeof g);
    ck_assert_double_le(compare(be, &gc, "GPT-2 (MHA, biases, wpe)"), tol);
    const struct { int kvh, tied; const char *what; } cases[] = {
        { 4, 0, "LLaMA MHA untied" }, { 2, 0, "LLaMA GQA (G=2) untied" },
        { 1, 1, "LLaMA MQA tied" },
    };
    for (int i = 0; i < 3; i++) {
        struct llama_config l = { .max_seq_len = 32, .vocab_size = 50, .padded_vocab_size = 64,
                                  .num_layers = 2, .num_heads = 4,
                                  .num_kv_heads = cases[i].kvh, .channels = 32, .ffn = 40,
                                  .tied = cases[i].tied, .norm_eps = 1e-5f,
                                  .rope_theta = 10000.0f };
        struct model_config lc = make_config("llama", &l, sizeof l);
        ck_assert_double_le(compare(be, &lc, cases[i].what), tol);
    }
}

START_TEST(test_cpu)
{
    struct backend_options o = { .name = "cpu", .threads = 2 };
    struct herr err;
    struct backend *be = backend_create(&o, &err);
    ck_assert_msg(be != NULL, "%s", err.msg);
    /* the same sums in another order (OpenBLAS runs m = 1 products as
     * matrix-vector kernels): ~1e-5 of the largest logit measured, through
     * two layers of weights 8x the initialization's */
    all_families(be, 1e-4);
    be->ops->destroy(be);
}
END_TEST

START_TEST(test_opencl)
{
    struct backend_options o = { .name = "opencl", .device = 0 };
    struct herr err;
    struct backend *be = backend_create(&o, &err);
    if (!be) {
        printf("OpenCL: not tested here (%s)\n", err.msg);
        return;
    }
    all_families(be, 1e-4);
    be->ops->destroy(be);
}
END_TEST

static Suite *generate_suite(void)
{
    Suite *s = suite_create("generate");
    TCase *tc = tcase_create("generate");
    tcase_add_test(tc, test_cpu);
    tcase_add_test(tc, test_opencl);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(generate_suite()); }
