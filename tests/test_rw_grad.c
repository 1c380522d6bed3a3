/* tests/test_rw_grad.c — the reweighted objective reaches the gradient as the
 * method says (METHOD.md step 6).
 *
 * 1. With weights fixed (computed once by reweight/ from the batch's own
 *    per-sample losses, LinUpper r = 0.4, and then held constant, since no
 *    gradient flows through them), heft's float32 gradient on the CPU equals
 *    central finite differences of sum_i w_i l_i taken on the float64
 *    reference model (tests/ref), tensor by tensor.
 * 2. Uniform weighting through reweight/ is the plain mean loss: its row
 *    scales are exactly 1/(B n_i), its gradient is bit-identical to seeding
 *    the backward with those scales directly, equals PyTorch's gradient of
 *    the mean per-sample loss, and the AdamW step from it is the same step.
 *
 * Model and batch: the PyTorch reference case (tests/ref/make_gpt2_vectors.py:
 * V=61, C=24, L=2, NH=3, B=3, T=9, some targets ignored, so n_i differ). */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/optim.h"
#include "models/gpt2/gpt2.h"
#include "reweight/reweight.h"
#include "tests/ref/compare.h"
#include "tests/ref/ref_gpt2_f64.h"
#include "tests/ref/run_suite.h"
#include "tests/ref/torch_case.h"

/* float32 gradient against float64 finite differences: round-off of the
 * float32 forward/backward only (measured ~1e-6); 1e-3 leaves room and still
 * catches any wrong scale (a factor, a missing 1/n_i, a wrong row). */
#define TOL_FD 1e-3
#define FD_STEP 1e-5 /* float64 central difference: truncation ~1e-10 */
#define SAMPLES_PER_TENSOR 24

struct fixture {
    struct torch_case tc;
    struct backend *be;
    struct gpt2 *m;
    size_t P;
    int B, T;
    double losses[16];
    int ntok[16];
};

static void setup_fixture(struct fixture *f)
{
    struct herr err;
    ck_assert_msg(torch_case_load(&f->tc, HEFT_REF_DIR, &err) == 0, "%s", err.msg);
    f->B = f->tc.B;
    f->T = f->tc.T;
    ck_assert_int_le(f->B, 16);
    f->be = backend_create(&(struct backend_options){ .name = "cpu" }, &err);
    ck_assert_msg(f->be != NULL, "%s", err.msg);
    ck_assert_msg(gpt2_create(&f->m, f->be, &f->tc.cfg, f->B, f->T, &err) == 0, "%s", err.msg);
    f->P = gpt2_param_count(f->m);
    ck_assert_msg(gpt2_upload_params(f->m, f->tc.params, &err) == 0, "%s", err.msg);
    /* the trainer's path: forward, row sums, per-sample mean over kept tokens */
    float sums[16];
    ck_assert_msg(gpt2_forward(f->m, f->tc.inputs, f->tc.targets, &err) == 0, "%s", err.msg);
    ck_assert_msg(gpt2_row_loss_sums(f->m, sums, &err) == 0, "%s", err.msg);
    for (int b = 0; b < f->B; b++) {
        int n = 0;
        for (int t = 0; t < f->T; t++)
            n += f->tc.targets[b * f->T + t] >= 0;
        f->ntok[b] = n;
        f->losses[b] = n ? (double)sums[b] / n : 0.0;
    }
}

static void teardown_fixture(struct fixture *f)
{
    gpt2_destroy(f->m);
    f->be->ops->destroy(f->be);
    torch_case_free(&f->tc);
}

static void weights_for(struct fixture *f, enum rw_strategy s, double *w)
{
    struct rw_config cfg;
    struct rw_state st;
    struct herr err;
    rw_config_default(&cfg);
    cfg.strategy = s;
    cfg.r = 0.4;
    rw_state_init(&st, &cfg);
    ck_assert_msg(rw_compute(&cfg, &st, 0, f->losses, f->ntok, NULL, 0, f->B, w, NULL, &err) == 0,
                  "%s", err.msg);
}

/* heft's gradient of sum_i w_i l_i (host copy, P floats) */
static float *heft_gradient(struct fixture *f, const double *w, float *row_scale_out)
{
    struct herr err;
    float scale[16];
    for (int b = 0; b < f->B; b++)
        scale[b] = f->ntok[b] ? (float)(w[b] / f->ntok[b]) : 0.0f;
    if (row_scale_out)
        memcpy(row_scale_out, scale, (size_t)f->B * sizeof(float));
    ck_assert_msg(gpt2_forward(f->m, f->tc.inputs, f->tc.targets, &err) == 0, "%s", err.msg);
    gpt2_zero_grads(f->m);
    ck_assert_msg(gpt2_backward(f->m, scale, &err) == 0, "%s", err.msg);
    float *g = malloc(f->P * sizeof(float));
    ck_assert_ptr_nonnull(g);
    ck_assert_msg(gpt2_download_grads(f->m, g, &err) == 0, "%s", err.msg);
    return g;
}

START_TEST(test_linupper_gradient_is_finite_difference_of_weighted_loss)
{
    struct fixture f;
    setup_fixture(&f);
    double w[16];
    weights_for(&f, RW_LINUPPER, w);
    /* the weights are not uniform (else this would test nothing new) */
    double wmin = w[0], wmax = w[0];
    for (int b = 1; b < f.B; b++) {
        wmin = fmin(wmin, w[b]);
        wmax = fmax(wmax, w[b]);
    }
    ck_assert_msg(wmax / wmin > 1.5, "LinUpper weights too close to uniform (%g..%g)", wmin, wmax);
    float *g = heft_gradient(&f, w, NULL);

    struct ref_gpt2 ref;
    struct herr err;
    ck_assert_msg(ref_gpt2_create(&ref, &f.tc.cfg, f.B, f.T, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < f.P; i++)
        ref.params[i] = f.tc.params[i];
    size_t sizes[GPT2_NUM_TENSORS], offs[GPT2_NUM_TENSORS];
    gpt2_tensor_sizes(&f.tc.cfg, sizes);
    gpt2_tensor_offsets(&f.tc.cfg, offs);
    for (int t = 0; t < GPT2_NUM_TENSORS; t++) {
        double fd[SAMPLES_PER_TENSOR], got[SAMPLES_PER_TENSOR], scale = 1e-6, worst = 0.0;
        int n = sizes[t] < SAMPLES_PER_TENSOR ? (int)sizes[t] : SAMPLES_PER_TENSOR;
        for (int k = 0; k < n; k++) {
            /* spread over the tensor, odd stride so rows and columns both vary */
            size_t i = offs[t] + ((size_t)k * 7919u) % sizes[t];
            double save = ref.params[i];
            ref.params[i] = save + FD_STEP;
            ck_assert(ref_gpt2_forward(&ref, f.tc.inputs, f.tc.targets, &err) == 0);
            double lp = ref_gpt2_objective(&ref, w);
            ref.params[i] = save - FD_STEP;
            ck_assert(ref_gpt2_forward(&ref, f.tc.inputs, f.tc.targets, &err) == 0);
            double lm = ref_gpt2_objective(&ref, w);
            ref.params[i] = save;
            fd[k] = (lp - lm) / (2.0 * FD_STEP);
            got[k] = g[i];
            scale = fmax(scale, fabs(fd[k]));
        }
        for (int k = 0; k < n; k++)
            worst = fmax(worst, fabs(got[k] - fd[k]) / scale);
        printf("linupper gradient %-9s vs float64 finite differences: normalized error %.2e\n",
               gpt2_tensor_name(t), worst);
        ck_assert_msg(worst <= TOL_FD, "tensor %s: normalized error %.3e > %.0e",
                      gpt2_tensor_name(t), worst, TOL_FD);
    }
    ref_gpt2_destroy(&ref);
    free(g);
    teardown_fixture(&f);
}
END_TEST

START_TEST(test_uniform_is_the_plain_mean_loss_step)
{
    struct fixture f;
    setup_fixture(&f);
    double w[16];
    weights_for(&f, RW_UNIFORM, w);
    for (int b = 0; b < f.B; b++)
        ck_assert_msg(w[b] == 1.0 / f.B, "uniform weight %d is %.17g, not 1/B", b, w[b]);
    float scale[16];
    float *g_rw = heft_gradient(&f, w, scale);
    /* the plain mean of per-sample losses, seeded by hand */
    float plain[16];
    for (int b = 0; b < f.B; b++) {
        plain[b] = 1.0f / (float)(f.B * f.ntok[b]);
        ck_assert_msg(scale[b] == plain[b],
                      "row %d scale %.9g != 1/(B n_i) = %.9g", b, scale[b], plain[b]);
    }
    struct herr err;
    ck_assert(gpt2_forward(f.m, f.tc.inputs, f.tc.targets, &err) == 0);
    gpt2_zero_grads(f.m);
    ck_assert(gpt2_backward(f.m, plain, &err) == 0);
    float *g_plain = malloc(f.P * sizeof(float));
    ck_assert(gpt2_download_grads(f.m, g_plain, &err) == 0);
    ck_assert_msg(memcmp(g_rw, g_plain, f.P * sizeof(float)) == 0,
                  "uniform via reweight/ is not bit-identical to the plain mean loss");

    /* and it is PyTorch's gradient of mean_i l_i */
    const float *torch_g = ref_vectors_f32(&f.tc.vec, "uniform_grad", f.P, &err);
    ck_assert_msg(torch_g != NULL, "%s", err.msg);
    double *tg = malloc(f.P * sizeof(double));
    for (size_t i = 0; i < f.P; i++)
        tg[i] = torch_g[i];
    struct ref_err e = ref_err_f_d(g_rw, tg, f.P, 1e-6);
    printf("uniform gradient vs torch mean-loss gradient: normalized error %.2e\n", e.err);
    ck_assert_msg(e.err <= 1e-3, "uniform gradient vs torch: %.3e", e.err);

    /* the same AdamW step: both gradients give the same parameters */
    struct optim_config oc;
    optim_config_default(&oc);
    struct param_span spans[GPT2_NUM_TENSORS];
    gpt2_param_spans(f.m, spans);
    float *after[2];
    const float *grads[2] = { g_rw, g_plain };
    for (int k = 0; k < 2; k++) {
        struct adamw opt;
        ck_assert(adamw_create(&opt, f.be, 0, f.P, &err) == 0);
        ck_assert(gpt2_upload_params(f.m, f.tc.params, &err) == 0);
        f.be->ops->upload(f.be, gpt2_grads(f.m), grads[k], f.P * sizeof(float));
        ck_assert(adamw_update(&opt, gpt2_params(f.m), gpt2_grads(f.m), spans, GPT2_NUM_TENSORS,
                               &oc, 1e-3, 1.0, &err) == 0);
        after[k] = malloc(f.P * sizeof(float));
        ck_assert(gpt2_download_params(f.m, after[k], &err) == 0);
        adamw_destroy(&opt);
    }
    ck_assert_msg(memcmp(after[0], after[1], f.P * sizeof(float)) == 0,
                  "uniform reweighting and the plain mean loss give different AdamW steps");
    free(after[0]);
    free(after[1]);
    free(tg);
    free(g_plain);
    free(g_rw);
    teardown_fixture(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rw_grad");
    TCase *tc = tcase_create("gradient");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_linupper_gradient_is_finite_difference_of_weighted_loss);
    tcase_add_test(tc, test_uniform_is_the_plain_mean_loss_step);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
