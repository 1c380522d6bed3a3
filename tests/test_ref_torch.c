/* tests/test_ref_torch.c — the float64 reference GPT-2 reproduces PyTorch.
 *
 * tests/ref/make_gpt2_vectors.py computed, in float64 inside torch from the
 * float32 weights in gpt2_tiny_model.bin: logits, per-token and per-sample
 * losses, the uniform and a non-uniform weighted objective with their full
 * gradients, and 10 steps of torch.optim.AdamW with clip_grad_norm_. The
 * vectors are stored as float32, so the only expected difference is one
 * float32 rounding of each stored value (relative ~6e-8). Tolerance: a
 * normalized error (compare.h) of REF_TOL = 1e-6 per tensor, gradients
 * compared tensor by tensor so a small tensor is not hidden by a large one.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ref/compare.h"
#include "tests/ref/ref_gpt2_f64.h"
#include "tests/ref/ref_ops_f64.h"
#include "tests/ref/torch_case.h"
#include "tests/ref/vectors.h"
#include "tests/ref/run_suite.h"

#define REF_TOL 1e-6
#define REF_FLOOR 1e-6 /* scale floor of the normalized error */

/* Everything a test needs: the torch case and the f64 model loaded with its
 * weights. */
struct fixture {
    struct torch_case tc;
    struct ref_gpt2 m;
    struct ref_vectors *vec;
    const int32_t *inputs, *targets;
    int B, T;
};

static void load(struct fixture *f)
{
    struct herr err;
    ck_assert_msg(torch_case_load(&f->tc, HEFT_REF_DIR, &err) == 0, "%s", err.msg);
    f->vec = &f->tc.vec;
    f->B = f->tc.B;
    f->T = f->tc.T;
    f->inputs = f->tc.inputs;
    f->targets = f->tc.targets;
    ck_assert_msg(ref_gpt2_create(&f->m, &f->tc.cfg, f->B, f->T, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < f->m.num_params; i++)
        f->m.params[i] = f->tc.params[i];
}

static void unload(struct fixture *f)
{
    ref_gpt2_destroy(&f->m);
    torch_case_free(&f->tc);
}

static const float *want(struct fixture *f, const char *name, size_t n)
{
    struct herr err;
    const float *w = ref_vectors_f32(f->vec, name, n, &err);
    ck_assert_msg(w != NULL, "%s", err.msg);
    return w;
}

/* Compares n values and prints the measured error; what names the case. */
static void expect_close(const double *got, const float *w, size_t n, const char *what)
{
    struct ref_err e = ref_err_d_f(got, w, n, REF_FLOOR);
    printf("torch %-28s normalized error %.2e\n", what, e.err);
    ck_assert_msg(e.err <= REF_TOL, "%s: normalized error %.3e > %.0e (worst [%zu]: %.9g vs "
                  "torch %.9g)", what, e.err, REF_TOL, e.worst, got[e.worst], w[e.worst]);
}

static void expect_grads(struct fixture *f, const float *w, const char *tag)
{
    size_t sizes[GPT2_NUM_TENSORS], offs[GPT2_NUM_TENSORS];
    gpt2_tensor_sizes(&f->m.cfg, sizes);
    gpt2_tensor_offsets(&f->m.cfg, offs);
    for (int t = 0; t < GPT2_NUM_TENSORS; t++) {
        char what[64];
        snprintf(what, sizeof what, "%s grad %s", tag, gpt2_tensor_name(t));
        expect_close(f->m.grad[t], w + offs[t], sizes[t], what);
    }
}

static void forward(struct fixture *f)
{
    struct herr err;
    ck_assert_msg(ref_gpt2_forward(&f->m, f->inputs, f->targets, &err) == 0, "%s", err.msg);
}

START_TEST(test_forward)
{
    struct fixture f;
    load(&f);
    forward(&f);
    size_t BT = (size_t)f.B * f.T, Vp = (size_t)f.m.cfg.padded_vocab_size;
    size_t V = (size_t)f.m.cfg.vocab_size;
    const float *logits = want(&f, "logits", BT * Vp);
    expect_close(f.m.a.logits, logits, BT * Vp, "logits");
    for (size_t n = 0; n < BT; n++)
        for (size_t v = V; v < Vp; v++)
            ck_assert_msg(f.m.a.logits[n * Vp + v] == 0.0 && logits[n * Vp + v] == 0.0f,
                          "padded logit (%zu, %zu) not exactly 0", n, v);
    expect_close(f.m.a.losses, want(&f, "token_losses", BT), BT, "token losses");
    expect_close(f.m.sample_losses, want(&f, "sample_losses", f.B), f.B, "sample losses");
    struct herr err;
    const int32_t *counts = ref_vectors_i32(f.vec, "token_counts", f.B, &err);
    ck_assert_msg(counts != NULL, "%s", err.msg);
    int some_ignored = 0;
    for (int b = 0; b < f.B; b++) {
        ck_assert_int_eq(f.m.counts[b], counts[b]);
        some_ignored |= counts[b] < f.T;
    }
    ck_assert_msg(some_ignored, "the vectors must contain ignored targets");
    unload(&f);
}
END_TEST

/* The objective sum_i w_i l_i and its gradient: _i = 0 uniform weights 1/B,
 * 1 the vectors' non-uniform "weights". */
START_TEST(test_gradients)
{
    int uniform = _i == 0;
    struct fixture f;
    load(&f);
    forward(&f);
    double w[64], scales[64];
    ck_assert_int_le(f.B, 64);
    const float *wv = uniform ? NULL : want(&f, "weights", f.B);
    for (int b = 0; b < f.B; b++)
        w[b] = uniform ? 1.0 / f.B : wv[b];
    const char *tag = uniform ? "uniform" : "weighted";
    char name[32];
    double loss = ref_gpt2_objective(&f.m, w);
    snprintf(name, sizeof name, "%s_loss", tag);
    expect_close(&loss, want(&f, name, 1), 1, name);
    ref_gpt2_row_scales(&f.m, w, scales);
    ref_gpt2_zero_grad(&f.m);
    ref_gpt2_backward(&f.m, scales);
    snprintf(name, sizeof name, "%s_grad", tag);
    expect_grads(&f, want(&f, name, f.m.num_params), tag);
    unload(&f);
}
END_TEST

/* torch.optim.AdamW (decay on gpt2_tensor_decays tensors) after
 * torch.nn.utils.clip_grad_norm_, uniform weights, the same batch each step. */
START_TEST(test_adamw_steps)
{
    struct fixture f;
    load(&f);
    const float *hp = want(&f, "adamw_hparams", 6);
    const float lr = hp[0], beta1 = hp[1], beta2 = hp[2], eps = hp[3], wd = hp[4];
    const double max_norm = hp[5];
    const struct ref_vec *lv = ref_vectors_find(f.vec, "adamw_losses");
    ck_assert_msg(lv != NULL, "no adamw_losses");
    int steps = (int)lv->count;
    const float *losses = want(&f, "adamw_losses", steps);
    const float *norms = want(&f, "adamw_grad_norms", steps);
    size_t n = f.m.num_params, sizes[GPT2_NUM_TENSORS], offs[GPT2_NUM_TENSORS];
    gpt2_tensor_sizes(&f.m.cfg, sizes);
    gpt2_tensor_offsets(&f.m.cfg, offs);
    double *mom = calloc(n, sizeof(double)), *vel = calloc(n, sizeof(double));
    double *got_losses = malloc(steps * sizeof(double)), *got_norms = malloc(steps * sizeof(double));
    ck_assert(mom && vel && got_losses && got_norms);
    double w[64], scales[64];
    for (int b = 0; b < f.B; b++)
        w[b] = 1.0 / f.B;
    int clipped = 0;
    for (int s = 1; s <= steps; s++) {
        forward(&f);
        got_losses[s - 1] = ref_gpt2_objective(&f.m, w);
        ref_gpt2_row_scales(&f.m, w, scales);
        ref_gpt2_zero_grad(&f.m);
        ref_gpt2_backward(&f.m, scales);
        double norm = sqrt(ref_sum_squares(f.m.grads, n));
        got_norms[s - 1] = norm;
        double coef = max_norm / (norm + 1e-6); /* clip_grad_norm_'s clip_coef, clamped */
        clipped += coef < 1.0;
        struct adamw_args a = {
            .lr = lr, .beta1 = beta1, .beta2 = beta2, .eps = eps,
            .grad_scale = (float)fmin(coef, 1.0),
            .bias_correction1 = (float)(1.0 - pow(beta1, s)),
            .bias_correction2 = (float)(1.0 - pow(beta2, s)),
        };
        for (int t = 0; t < GPT2_NUM_TENSORS; t++) {
            a.weight_decay = gpt2_tensor_decays(t) ? wd : 0.0f;
            ref_adamw(f.m.param[t], f.m.grad[t], mom + offs[t], vel + offs[t], sizes[t], &a);
        }
    }
    printf("torch adamw: %d steps, clipping active in %d\n", steps, clipped);
    expect_close(got_losses, losses, steps, "adamw losses");
    expect_close(got_norms, norms, steps, "adamw grad norms");
    const float *final = want(&f, "adamw_final_params", n);
    for (int t = 0; t < GPT2_NUM_TENSORS; t++) {
        char what[64];
        snprintf(what, sizeof what, "adamw final %s", gpt2_tensor_name(t));
        expect_close(f.m.param[t], final + offs[t], sizes[t], what);
    }
    free(mom);
    free(vel);
    free(got_losses);
    free(got_norms);
    unload(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ref_torch");
    TCase *tc = tcase_create("gpt2_f64_vs_torch");
    tcase_add_test(tc, test_forward);
    tcase_add_loop_test(tc, test_gradients, 0, 2);
    tcase_add_test(tc, test_adamw_steps);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
