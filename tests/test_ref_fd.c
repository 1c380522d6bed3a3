/* tests/test_ref_fd.c — the float64 reference GPT-2's backward agrees with
 * finite differences of its forward, parameter by parameter.
 *
 * A tiny model with odd sizes (V=13 padded to 16, C=12, 3 heads of 4, L=2,
 * T=5 of maxT=7, B=4) and large random weights (so attention, GELU and the
 * layer norms are far from linear). Targets include scattered ignored tokens
 * and one row (row 3) with no kept target at all. Two objectives from the same
 * forwards: uniform weights (1/B) and fixed non-uniform ones in which row 3
 * still has a non-zero weight (its gradient must nevertheless be zero).
 *
 * Checked parameters: every parameter of every tensor of up to 200 elements
 * (this includes all of wte with its zero padding rows) and a deterministic
 * random 96 of each larger tensor (qkvw, attprojw, fcw, fcprojw), so each of
 * the 16 tensors is covered.
 *
 * Differences: fourth-order central stencil
 *   g ~ (f(-2h) - 8 f(-h) + 8 f(h) - f(2h)) / (12 h),  h = 1e-3,
 * whose truncation error (~h^4 f^(5) / 30) and round-off (~1e-16 |f| / h) are
 * both ~1e-12 here. Error measure per parameter:
 *   |g_fd - g| / max(|g_fd|, |g|, 1e-4)
 * threshold 1e-6 (relative for gradients above 1e-4, absolute 1e-10 below).
 * Measured on this machine: max ~1e-9 (printed by the test).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ref/ref_gpt2_f64.h"
#include "tests/ref/rng.h"
#include "tests/ref/run_suite.h"

#define FD_H 1e-3
#define FD_FLOOR 1e-4
#define FD_TOL 1e-6
#define FD_ALL_UP_TO 200 /* tensors this small are checked completely */
#define FD_SAMPLES 96    /* parameters checked in each larger tensor */

enum { B = 4, T = 5 };

static const struct gpt2_config tiny = {
    .max_seq_len = 7, .vocab_size = 13, .padded_vocab_size = 16,
    .num_layers = 2, .num_heads = 3, .channels = 12,
};

/* Large random weights: layer-norm gains around 1, everything else zero-mean. */
static void init_params(struct ref_gpt2 *m, struct rng *r)
{
    size_t sizes[GPT2_NUM_TENSORS];
    gpt2_tensor_sizes(&m->cfg, sizes);
    for (int t = 0; t < GPT2_NUM_TENSORS; t++) {
        int gain = t == GPT2_LN1W || t == GPT2_LN2W || t == GPT2_LNFW;
        double std = gain ? 0.1 : t == GPT2_FCPROJW ? 0.15 : 0.3;
        for (size_t i = 0; i < sizes[t]; i++)
            m->param[t][i] = (gain ? 1.0 : 0.0) + std * rng_normal(r);
    }
    /* wte's padding rows are zero, as in every heft model */
    size_t V = (size_t)m->cfg.vocab_size, Vp = (size_t)m->cfg.padded_vocab_size;
    for (size_t i = V * m->cfg.channels; i < Vp * m->cfg.channels; i++)
        m->param[GPT2_WTE][i] = 0.0;
}

static void make_batch(struct rng *r, int32_t *inputs, int32_t *targets)
{
    for (int i = 0; i < B * T; i++) {
        inputs[i] = rng_int(r, tiny.vocab_size);
        targets[i] = rng_int(r, tiny.vocab_size);
    }
    targets[1 * T + 1] = -1; /* row 1: two scattered ignored targets */
    targets[1 * T + 3] = -1;
    targets[2 * T + 4] = -1; /* row 2: the last one ignored */
    for (int t = 0; t < T; t++)
        targets[3 * T + t] = -1; /* row 3: nothing kept */
}

/* A tiny model with random weights and a batch, from one seed. */
static void setup(struct ref_gpt2 *m, uint64_t seed, struct rng *r, int32_t *inputs,
                  int32_t *targets)
{
    struct herr err;
    ck_assert_msg(ref_gpt2_create(m, &tiny, B, T, &err) == 0, "%s", err.msg);
    *r = rng_seed(seed);
    init_params(m, r);
    make_batch(r, inputs, targets);
    ck_assert_msg(ref_gpt2_forward(m, inputs, targets, &err) == 0, "%s", err.msg);
    ck_assert_int_eq(m->counts[3], 0);
}

/* The two objectives at the current parameters. */
static void objectives(struct ref_gpt2 *m, const int32_t *inputs, const int32_t *targets,
                       const double *w_uni, const double *w_non, double out[2])
{
    struct herr err;
    ck_assert_msg(ref_gpt2_forward(m, inputs, targets, &err) == 0, "%s", err.msg);
    out[0] = ref_gpt2_objective(m, w_uni);
    out[1] = ref_gpt2_objective(m, w_non);
}

static double rel_err(double fd, double an)
{
    double scale = fmax(fmax(fabs(fd), fabs(an)), FD_FLOOR);
    return fabs(fd - an) / scale;
}

START_TEST(test_whole_model_gradient)
{
    struct ref_gpt2 m;
    struct rng r;
    int32_t inputs[B * T], targets[B * T];
    setup(&m, 12345, &r, inputs, targets);
    const double w_uni[B] = { 0.25, 0.25, 0.25, 0.25 };
    const double w_non[B] = { 0.4, 0.1, 0.3, 0.2 };

    /* Analytic gradients of both objectives. */
    double *grad[2];
    const double *w[2] = { w_uni, w_non };
    for (int k = 0; k < 2; k++) {
        double scales[B];
        grad[k] = malloc(m.num_params * sizeof(double));
        ck_assert_ptr_nonnull(grad[k]);
        ref_gpt2_row_scales(&m, w[k], scales);
        ref_gpt2_zero_grad(&m);
        ref_gpt2_backward(&m, scales);
        for (size_t i = 0; i < m.num_params; i++)
            grad[k][i] = m.grads[i];
    }

    size_t sizes[GPT2_NUM_TENSORS], offs[GPT2_NUM_TENSORS];
    gpt2_tensor_sizes(&tiny, sizes);
    gpt2_tensor_offsets(&tiny, offs);
    double worst_all = 0.0;
    for (int t = 0; t < GPT2_NUM_TENSORS; t++) {
        int full = sizes[t] <= FD_ALL_UP_TO;
        int n = full ? (int)sizes[t] : FD_SAMPLES;
        double worst[2] = { 0, 0 }, gmax[2] = { 0, 0 };
        for (int s = 0; s < n; s++) {
            size_t i = offs[t] + (full ? (size_t)s : (size_t)rng_int(&r, (int)sizes[t]));
            double p0 = m.params[i], f[4][2];
            const double steps[4] = { -2 * FD_H, -FD_H, FD_H, 2 * FD_H };
            for (int q = 0; q < 4; q++) {
                m.params[i] = p0 + steps[q];
                objectives(&m, inputs, targets, w_uni, w_non, f[q]);
            }
            m.params[i] = p0;
            for (int k = 0; k < 2; k++) {
                double fd = (f[0][k] - 8 * f[1][k] + 8 * f[2][k] - f[3][k]) / (12 * FD_H);
                double e = rel_err(fd, grad[k][i]);
                ck_assert_msg(e <= FD_TOL,
                              "%s[%zu] (%s weights): analytic %.12e vs finite-difference "
                              "%.12e, error %.3e > %.1e", gpt2_tensor_name(t), i - offs[t],
                              k ? "non-uniform" : "uniform", grad[k][i], fd, e, FD_TOL);
                worst[k] = fmax(worst[k], e);
                gmax[k] = fmax(gmax[k], fabs(grad[k][i]));
            }
        }
        /* A tensor whose checked gradients are all ~0 would prove nothing
         * (wte is the exception only in its padding rows, checked in full). */
        ck_assert_msg(gmax[0] > 1e-3 && gmax[1] > 1e-3,
                      "%s: checked gradients are all tiny (%.3e, %.3e)", gpt2_tensor_name(t),
                      gmax[0], gmax[1]);
        printf("fd %-9s %5d of %5zu checked, max error uniform %.2e non-uniform %.2e\n",
               gpt2_tensor_name(t), n, sizes[t], worst[0], worst[1]);
        worst_all = fmax(worst_all, fmax(worst[0], worst[1]));
    }
    printf("fd max error over all checked parameters: %.2e (tolerance %.0e)\n", worst_all,
           FD_TOL);
    free(grad[0]);
    free(grad[1]);
    ref_gpt2_destroy(&m);
}
END_TEST

/* The padding rows of wte and the row without kept targets contribute exactly
 * nothing: the padding rows' gradient is exactly 0, and changing the weight
 * of the empty row leaves the gradient bit-identical. */
START_TEST(test_padding_and_empty_row_are_inert)
{
    struct ref_gpt2 m;
    struct rng r;
    int32_t inputs[B * T], targets[B * T];
    setup(&m, 777, &r, inputs, targets);
    const double w1[B] = { 0.4, 0.1, 0.3, 0.2 }, w2[B] = { 0.4, 0.1, 0.3, 5.0 };
    double *g1 = malloc(m.num_params * sizeof(double));
    ck_assert_ptr_nonnull(g1);
    double scales[B];
    ck_assert(m.sample_losses[3] == 0.0);
    ref_gpt2_row_scales(&m, w1, scales);
    ck_assert(scales[3] == 0.0);
    ref_gpt2_zero_grad(&m);
    ref_gpt2_backward(&m, scales);
    for (size_t i = 0; i < m.num_params; i++)
        g1[i] = m.grads[i];
    size_t V = (size_t)tiny.vocab_size, Vp = (size_t)tiny.padded_vocab_size, C = tiny.channels;
    for (size_t i = V * C; i < Vp * C; i++)
        ck_assert_msg(m.grad[GPT2_WTE][i] == 0.0, "wte padding grad [%zu] = %g", i,
                      m.grad[GPT2_WTE][i]);
    for (size_t n = 0; n < (size_t)B * T; n++)
        for (size_t v = V; v < Vp; v++)
            ck_assert_msg(m.a.logits[n * Vp + v] == 0.0, "padded logit (%zu, %zu) = %g", n, v,
                          m.a.logits[n * Vp + v]);
    ref_gpt2_row_scales(&m, w2, scales);
    ref_gpt2_zero_grad(&m);
    ref_gpt2_backward(&m, scales);
    for (size_t i = 0; i < m.num_params; i++)
        ck_assert_msg(m.grads[i] == g1[i], "grad[%zu] changed with the empty row's weight", i);
    free(g1);
    ref_gpt2_destroy(&m);
}
END_TEST

START_TEST(test_forward_rejects_bad_ids)
{
    struct ref_gpt2 m;
    struct herr err;
    ck_assert_msg(ref_gpt2_create(&m, &tiny, B, T, &err) == 0, "%s", err.msg);
    int32_t inputs[B * T] = { 0 }, targets[B * T] = { 0 };
    inputs[7] = tiny.vocab_size;
    ck_assert_int_eq(ref_gpt2_forward(&m, inputs, targets, &err), -1);
    ck_assert_msg(strstr(err.msg, "input id 13") != NULL, "%s", err.msg);
    inputs[7] = 0;
    targets[2] = tiny.vocab_size + 4;
    ck_assert_int_eq(ref_gpt2_forward(&m, inputs, targets, &err), -1);
    ck_assert_msg(strstr(err.msg, "target id 17") != NULL, "%s", err.msg);
    ref_gpt2_destroy(&m);
    ck_assert_int_eq(ref_gpt2_create(&m, &tiny, B, tiny.max_seq_len + 1, &err), -1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ref_fd");
    TCase *tc = tcase_create("gpt2_f64");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_whole_model_gradient);
    tcase_add_test(tc, test_padding_and_empty_row_are_inert);
    tcase_add_test(tc, test_forward_rejects_bad_ids);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
