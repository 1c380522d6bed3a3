/* tests/test_ref_llama_fd.c — the float64 reference LLaMA's backward agrees
 * with finite differences of its forward, parameter by parameter, for
 * grouped-query, multi-head (tied) and multi-query attention.
 *
 * Tiny models with odd sizes (V=13 or 11 padded to 16, head size 4, T=5 of
 * maxT=7, B=4) and large random weights (so attention, SiLU and the RMSNorms
 * are far from linear; norm gains around 1 but not 1). Targets include
 * scattered ignored tokens and one row (row 3) with no kept target at all. Two
 * objectives from the same forwards: uniform weights (1/B) and fixed
 * non-uniform ones in which row 3 still has a non-zero weight (its gradient
 * must nevertheless be zero).
 *
 * Checked parameters: every parameter of every tensor of up to 256 elements
 * (this includes wte and lm_head with their zero padding rows) and a
 * deterministic random 96 of each larger tensor, so every tensor is covered.
 *
 * Differences: fourth-order central stencil
 *   g ~ (f(-2h) - 8 f(-h) + 8 f(h) - f(2h)) / (12 h),  h = 2.5e-4,
 * with truncation error ~h^4 f^(5) / 30 and round-off ~1e-16 |f| / h ~ 1e-12.
 * h is 4x smaller than test_ref_fd.c's 1e-3 because wte feeds the first
 * RMSNorm with no position embedding added: its higher derivatives are large,
 * and with h = 1e-3 the gqa wte error was 5.5e-6, shrinking 16x per halving
 * of h (truncation, not the gradient). Error measure per parameter:
 *   |g_fd - g| / max(|g_fd|, |g|, 1e-4)
 * threshold 1e-6 (relative for gradients above 1e-4, absolute 1e-10 below).
 * Measured on this machine: max ~2e-8 (printed by the test).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ref/ref_llama_f64.h"
#include "tests/ref/rng.h"
#include "tests/ref/run_suite.h"

#define FD_H 2.5e-4
#define FD_FLOOR 1e-4
#define FD_TOL 1e-6
#define FD_ALL_UP_TO 256 /* tensors this small are checked completely */
#define FD_SAMPLES 96    /* parameters checked in each larger tensor */

enum { B = 4, T = 5 };

static const struct ref_llama_shape shapes[] = {
    /* grouped-query: 4 query heads, 2 kv heads, untied */
    { .max_seq_len = 7, .vocab_size = 13, .padded_vocab_size = 16, .num_layers = 2,
      .num_heads = 4, .num_kv_heads = 2, .channels = 16, .ffn = 12, .tied = 0,
      .norm_eps = 1e-5, .rope_theta = 10000.0 },
    /* multi-head, tied head, LLaMA-3's theta and eps */
    { .max_seq_len = 7, .vocab_size = 13, .padded_vocab_size = 16, .num_layers = 2,
      .num_heads = 3, .num_kv_heads = 3, .channels = 12, .ffn = 10, .tied = 1,
      .norm_eps = 1e-6, .rope_theta = 500000.0 },
    /* multi-query: one kv head for 4 query heads */
    { .max_seq_len = 7, .vocab_size = 11, .padded_vocab_size = 16, .num_layers = 1,
      .num_heads = 4, .num_kv_heads = 1, .channels = 16, .ffn = 8, .tied = 0,
      .norm_eps = 1e-5, .rope_theta = 10000.0 },
};
static const char *const shape_names[] = { "gqa", "mha", "mqa" };
enum { NUM_SHAPES = sizeof shapes / sizeof shapes[0] };

/* Large random weights: norm gains around 1, everything else zero-mean;
 * padding rows of wte and lm_head zero, as in every heft model. */
static void init_params(struct ref_llama *m, struct rng *r)
{
    size_t sizes[REF_LLAMA_NUM_TENSORS];
    ref_llama_tensor_sizes(&m->s, sizes);
    for (int t = 0; t < REF_LLAMA_NUM_TENSORS; t++) {
        int gain = !ref_llama_tensor_decays(t);
        double std = gain ? 0.1 : t == REF_LLAMA_W2 ? 0.2 : 0.3;
        for (size_t i = 0; i < sizes[t]; i++)
            m->param[t][i] = (gain ? 1.0 : 0.0) + std * rng_normal(r);
    }
    size_t V = (size_t)m->s.vocab_size, Vp = (size_t)m->s.padded_vocab_size;
    size_t C = (size_t)m->s.channels;
    for (size_t i = V * C; i < Vp * C; i++) {
        m->param[REF_LLAMA_WTE][i] = 0.0;
        if (!m->s.tied)
            m->param[REF_LLAMA_LM_HEAD][i] = 0.0;
    }
}

static void make_batch(struct rng *r, int V, int32_t *inputs, int32_t *targets)
{
    for (int i = 0; i < B * T; i++) {
        inputs[i] = rng_int(r, V);
        targets[i] = rng_int(r, V);
    }
    targets[1 * T + 1] = -1; /* row 1: two scattered ignored targets */
    targets[1 * T + 3] = -1;
    targets[2 * T + 4] = -1; /* row 2: the last one ignored */
    for (int t = 0; t < T; t++)
        targets[3 * T + t] = -1; /* row 3: nothing kept */
}

/* A tiny model with random weights and a batch, from one seed. */
static void setup(struct ref_llama *m, const struct ref_llama_shape *s, uint64_t seed,
                  struct rng *r, int32_t *inputs, int32_t *targets)
{
    struct herr err;
    ck_assert_msg(ref_llama_create(m, s, B, T, &err) == 0, "%s", err.msg);
    *r = rng_seed(seed);
    init_params(m, r);
    make_batch(r, s->vocab_size, inputs, targets);
    ck_assert_msg(ref_llama_forward(m, inputs, targets, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(m->counts[3], 0);
}

/* The two objectives at the current parameters. */
static void objectives(struct ref_llama *m, const int32_t *inputs, const int32_t *targets,
                       const double *w_uni, const double *w_non, double out[2])
{
    struct herr err;
    ck_assert_msg(ref_llama_forward(m, inputs, targets, &err) == 0, "%s", err.msg);
    out[0] = ref_llama_objective(m, w_uni);
    out[1] = ref_llama_objective(m, w_non);
}

static double rel_err(double fd, double an)
{
    double scale = fmax(fmax(fabs(fd), fabs(an)), FD_FLOOR);
    return fabs(fd - an) / scale;
}

/* Analytic gradient of sum_b w[b] l_b at the last forward, into a new array. */
static double *gradient(struct ref_llama *m, const double *w)
{
    double scales[B], *g = malloc(m->num_params * sizeof(double));
    ck_assert_ptr_nonnull(g);
    ref_llama_row_scales(m, w, scales);
    ref_llama_zero_grad(m);
    ref_llama_backward(m, scales);
    memcpy(g, m->grads, m->num_params * sizeof(double));
    return g;
}

/* _i indexes shapes[]. */
START_TEST(test_whole_model_gradient)
{
    const struct ref_llama_shape *s = &shapes[_i];
    const char *sname = shape_names[_i];
    struct ref_llama m;
    struct rng r;
    int32_t inputs[B * T], targets[B * T];
    setup(&m, s, 12345 + _i, &r, inputs, targets);
    const double w_uni[B] = { 0.25, 0.25, 0.25, 0.25 };
    const double w_non[B] = { 0.4, 0.1, 0.3, 0.2 };
    double *grad[2] = { gradient(&m, w_uni), gradient(&m, w_non) };

    size_t sizes[REF_LLAMA_NUM_TENSORS], offs[REF_LLAMA_NUM_TENSORS];
    ref_llama_tensor_sizes(s, sizes);
    ref_llama_tensor_offsets(s, offs);
    double worst_all = 0.0;
    int checked_tensors = 0;
    for (int t = 0; t < REF_LLAMA_NUM_TENSORS; t++) {
        if (sizes[t] == 0) /* lm_head of a tied model */
            continue;
        int full = sizes[t] <= FD_ALL_UP_TO;
        int n = full ? (int)sizes[t] : FD_SAMPLES;
        double worst[2] = { 0, 0 }, gmax[2] = { 0, 0 };
        for (int k = 0; k < n; k++) {
            size_t i = offs[t] + (full ? (size_t)k : (size_t)rng_int(&r, (int)sizes[t]));
            double p0 = m.params[i], f[4][2];
            const double steps[4] = { -2 * FD_H, -FD_H, FD_H, 2 * FD_H };
            for (int q = 0; q < 4; q++) {
                m.params[i] = p0 + steps[q];
                objectives(&m, inputs, targets, w_uni, w_non, f[q]);
            }
            m.params[i] = p0;
            for (int j = 0; j < 2; j++) {
                double fd = (f[0][j] - 8 * f[1][j] + 8 * f[2][j] - f[3][j]) / (12 * FD_H);
                double e = rel_err(fd, grad[j][i]);
                ck_assert_msg(e <= FD_TOL,
                              "%s %s[%zu] (%s weights): analytic %.12e vs finite-difference "
                              "%.12e, error %.3e > %.1e", sname, ref_llama_tensor_name(t),
                              i - offs[t], j ? "non-uniform" : "uniform", grad[j][i], fd, e,
                              FD_TOL);
                worst[j] = fmax(worst[j], e);
                gmax[j] = fmax(gmax[j], fabs(grad[j][i]));
            }
        }
        /* A tensor whose checked gradients are all ~0 would prove nothing
         * (the padding rows are the exception, inside a fully checked tensor). */
        ck_assert_msg(gmax[0] > 1e-3 && gmax[1] > 1e-3,
                      "%s %s: checked gradients are all tiny (%.3e, %.3e)", sname,
                      ref_llama_tensor_name(t), gmax[0], gmax[1]);
        printf("fd %s %-9s %5d of %5zu checked, max error uniform %.2e non-uniform %.2e\n",
               sname, ref_llama_tensor_name(t), n, sizes[t], worst[0], worst[1]);
        worst_all = fmax(worst_all, fmax(worst[0], worst[1]));
        checked_tensors++;
    }
    ck_assert_int_eq(checked_tensors, REF_LLAMA_NUM_TENSORS - s->tied);
    printf("fd %s max error over all checked parameters: %.2e (tolerance %.0e)\n", sname,
           worst_all, FD_TOL);
    free(grad[0]);
    free(grad[1]);
    ref_llama_destroy(&m);
}
END_TEST

/* The padding rows and the row without kept targets contribute exactly
 * nothing: padded logits and the padding rows' gradients are exactly 0, and
 * changing the weight of the empty row leaves the gradient bit-identical. */
START_TEST(test_padding_and_empty_row_are_inert)
{
    const struct ref_llama_shape *s = &shapes[_i];
    struct ref_llama m;
    struct rng r;
    int32_t inputs[B * T], targets[B * T];
    setup(&m, s, 777, &r, inputs, targets);
    const double w1[B] = { 0.4, 0.1, 0.3, 0.2 }, w2[B] = { 0.4, 0.1, 0.3, 5.0 };
    ck_assert(m.sample_losses[3] == 0.0);
    double *g1 = gradient(&m, w1);
    size_t V = (size_t)s->vocab_size, Vp = (size_t)s->padded_vocab_size, C = s->channels;
    for (size_t i = V * C; i < Vp * C; i++) {
        ck_assert_msg(m.grad[REF_LLAMA_WTE][i] == 0.0, "wte padding grad [%zu] = %g", i,
                      m.grad[REF_LLAMA_WTE][i]);
        if (!s->tied)
            ck_assert_msg(m.grad[REF_LLAMA_LM_HEAD][i] == 0.0, "lm_head padding grad [%zu] = %g",
                          i, m.grad[REF_LLAMA_LM_HEAD][i]);
    }
    for (size_t n = 0; n < (size_t)B * T; n++)
        for (size_t v = V; v < Vp; v++)
            ck_assert_msg(m.a.logits[n * Vp + v] == 0.0, "padded logit (%zu, %zu) = %g", n, v,
                          m.a.logits[n * Vp + v]);
    double *g2 = gradient(&m, w2);
    for (size_t i = 0; i < m.num_params; i++)
        ck_assert_msg(g2[i] == g1[i], "grad[%zu] changed with the empty row's weight", i);
    free(g1);
    free(g2);
    ref_llama_destroy(&m);
}
END_TEST

/* Grouped-query attention is multi-head attention with each kv head repeated
 * for its G query heads (HF's repeat_kv): query head h reads kv head h / G,
 * not h % KVH. The GQA model and its MHA twin (k/v rows copied per query
 * head) give the same logits, and the GQA k/v gradient is the twin's summed
 * over each group. */
START_TEST(test_gqa_is_mha_with_repeated_kv)
{
    const struct ref_llama_shape *s = &shapes[0];
    struct ref_llama_shape s2 = *s;
    const int NH = s->num_heads, KVH = s->num_kv_heads, C = s->channels, hs = C / NH;
    const int G = NH / KVH, L = s->num_layers;
    const int QKV = C + 2 * KVH * hs, QKV2 = 3 * C;
    ck_assert_int_gt(G, 1);
    s2.num_kv_heads = NH;
    struct ref_llama m, m2;
    struct rng r;
    struct herr err;
    int32_t inputs[B * T], targets[B * T];
    setup(&m, s, 4242, &r, inputs, targets);
    ck_assert_msg(ref_llama_create(&m2, &s2, B, T, &err) == 0, "%s", err.msg);
    /* every tensor but wqkv is the same; twin row (l, part, h, i) = row
     * (l, part, h / G, i) of the GQA k and v parts */
    size_t sz[REF_LLAMA_NUM_TENSORS];
    ref_llama_tensor_sizes(s, sz);
    for (int t = 0; t < REF_LLAMA_NUM_TENSORS; t++) {
        if (t == REF_LLAMA_WQKV || !m.param[t])
            continue;
        memcpy(m2.param[t], m.param[t], sz[t] * sizeof(double));
    }
    for (int l = 0; l < L; l++)
        for (int row = 0; row < QKV2; row++) {
            int part = row / C, h = (row % C) / hs, i = row % hs;
            int src = part == 0 ? row : C + (part - 1) * KVH * hs + (h / G) * hs + i;
            memcpy(m2.param[REF_LLAMA_WQKV] + ((size_t)l * QKV2 + row) * C,
                   m.param[REF_LLAMA_WQKV] + ((size_t)l * QKV + src) * C, C * sizeof(double));
        }
    ck_assert_msg(ref_llama_forward(&m2, inputs, targets, &err) == 0, "%s", err.msg);
    size_t nlog = (size_t)B * T * s->padded_vocab_size;
    double worst = 0.0, scale = 0.0;
    for (size_t i = 0; i < nlog; i++) {
        worst = fmax(worst, fabs(m.a.logits[i] - m2.a.logits[i]));
        scale = fmax(scale, fabs(m.a.logits[i]));
    }
    ck_assert_msg(scale > 1.0 && worst <= 1e-13 * scale, "logits differ by %.3e (scale %.3e)",
                  worst, scale);

    const double w[B] = { 0.4, 0.1, 0.3, 0.2 };
    double *g = gradient(&m, w), *g2 = gradient(&m2, w);
    size_t offs[REF_LLAMA_NUM_TENSORS];
    ref_llama_tensor_offsets(s, offs);
    double gworst = 0.0, gscale = 0.0;
    for (int l = 0; l < L; l++)
        for (int row = 0; row < QKV; row++)
            for (int c = 0; c < C; c++) {
                double want = 0.0; /* the twin's rows that copied this one */
                for (int r2 = 0; r2 < QKV2; r2++) {
                    int part = r2 / C, h = (r2 % C) / hs, i = r2 % hs;
                    int src = part == 0 ? r2 : C + (part - 1) * KVH * hs + (h / G) * hs + i;
                    if (src == row)
                        want += m2.grad[REF_LLAMA_WQKV][((size_t)l * QKV2 + r2) * C + c];
                }
                double got = g[offs[REF_LLAMA_WQKV] + ((size_t)l * QKV + row) * C + c];
                gworst = fmax(gworst, fabs(got - want));
                gscale = fmax(gscale, fabs(want));
            }
    ck_assert_msg(gscale > 1e-3 && gworst <= 1e-12 * gscale,
                  "wqkv gradients differ by %.3e (scale %.3e)", gworst, gscale);
    printf("gqa vs repeated-kv mha: logits %.2e, wqkv gradient %.2e (normalized)\n",
           worst / scale, gworst / gscale);
    free(g);
    free(g2);
    ref_llama_destroy(&m2);
    ref_llama_destroy(&m);
}
END_TEST

START_TEST(test_forward_rejects_bad_ids)
{
    const struct ref_llama_shape *s = &shapes[0];
    struct ref_llama m;
    struct herr err;
    ck_assert_msg(ref_llama_create(&m, s, B, T, &err) == 0, "%s", err.msg);
    int32_t inputs[B * T] = { 0 }, targets[B * T] = { 0 };
    inputs[7] = s->vocab_size;
    ck_assert_int_eq(ref_llama_forward(&m, inputs, targets, &err), -1);
    ck_assert_msg(strstr(err.msg, "input id 13") != NULL, "%s", err.msg);
    inputs[7] = 0;
    targets[2] = s->vocab_size + 4;
    ck_assert_int_eq(ref_llama_forward(&m, inputs, targets, &err), -1);
    ck_assert_msg(strstr(err.msg, "target id 17") != NULL, "%s", err.msg);
    ref_llama_destroy(&m);
    ck_assert_int_eq(ref_llama_create(&m, s, B, s->max_seq_len + 1, &err), -1);
}
END_TEST

START_TEST(test_shape_validation)
{
    struct ref_llama_shape s;
    struct herr err;
    s = shapes[0];
    ck_assert_int_eq(ref_llama_shape_validate(&s, &err), 0);
    s.num_kv_heads = 3; /* 4 query heads do not split into 3 groups */
    ck_assert_int_eq(ref_llama_shape_validate(&s, &err), -1);
    ck_assert_msg(strstr(err.msg, "NH 4 not a multiple of KVH 3") != NULL, "%s", err.msg);
    s = shapes[0];
    s.channels = 20; /* head size 5: RoPE needs pairs */
    ck_assert_int_eq(ref_llama_shape_validate(&s, &err), -1);
    ck_assert_msg(strstr(err.msg, "head size 5 is odd") != NULL, "%s", err.msg);
    s = shapes[0];
    s.padded_vocab_size = 12;
    ck_assert_int_eq(ref_llama_shape_validate(&s, &err), -1);
    ck_assert_msg(strstr(err.msg, "Vp 12 < V 13") != NULL, "%s", err.msg);
    s = shapes[0];
    s.norm_eps = 0.0;
    ck_assert_int_eq(ref_llama_shape_validate(&s, &err), -1);
    ck_assert_msg(strstr(err.msg, "norm_eps") != NULL, "%s", err.msg);
    s = shapes[0];
    s.rope_theta = -1.0;
    ck_assert_int_eq(ref_llama_shape_validate(&s, &err), -1);
    ck_assert_msg(strstr(err.msg, "rope_theta") != NULL, "%s", err.msg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ref_llama_fd");
    TCase *tc = tcase_create("llama_f64");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_whole_model_gradient, 0, NUM_SHAPES);
    tcase_add_loop_test(tc, test_padding_and_empty_row_are_inert, 0, NUM_SHAPES);
    tcase_add_test(tc, test_gqa_is_mha_with_repeated_kv);
    tcase_add_test(tc, test_forward_rejects_bad_ids);
    tcase_add_test(tc, test_shape_validation);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
