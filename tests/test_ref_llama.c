/* tests/test_ref_llama.c — heft's float32 LLaMA (models/llama through
 * models/nn/decoder.c), built through the generic handle (models/model.h) on
 * the CPU backend and on the OpenCL backend, reproduces Hugging Face's
 * LlamaForCausalLM (tests/ref/make_llama_vectors.py: transformers 4.46.3 in
 * float64 from the same float32 weights).
 *
 * For each committed config, gqa (NH 4, KVH 2, untied), mha (NH = KVH = 3,
 * tied, theta 5e5, eps 1e-6) and mqa (KVH 1, untied), the model file is read
 * by core/model_file.h (heft's LLaMA header, so the header reader is part of
 * what is checked), the model made by model_create, and compared:
 *  - logits (the first V of Vp columns; the padding columns must be exactly
 *    0, since their rows of the head are), per-token losses, per-sample
 *    losses l_i = row sum / n_i, and the weighted objective sum_i w_i l_i
 *    with the vectors' non-uniform w_i: tolerance 1e-4;
 *  - the gradient of sum_i w_i l_i, seeded as the trainer does with row
 *    scales w_i / n_i, tensor by tensor over the model's spans: 1e-3; the
 *    padding rows of wte / lm_head exactly 0 (also after the AdamW steps);
 *  - 10 AdamW steps through core/optim with clip_grad_norm_ semantics
 *    (asserted to clip in some step; measured: in all 10), the weights of
 *    each step computed by heft's own reweight/ (rw_compute) from that step's
 *    per-sample losses: uniform, and LinUpper with r = 1 as in the script.
 *    Per step: objective and
 *    gradient norm 1e-4 (the per-sample losses and the weights are held to
 *    the same 1e-4, as they are what the weights are made of); the final
 *    parameters, tensor by tensor, 1e-3.
 * Errors are compare.h's normalized error (floor 1e-6), float32 results
 * against the float32-stored float64 values (the "_lo" remainders are below
 * what float32 can resolve and are not used).
 *
 * Measured (normalized error; per check the max over its tensors, steps or
 * runs; every check prints its own line):
 *                        CPU                       OpenCL (PoCL, CPU device)
 *                        gqa     mha     mqa       gqa     mha     mqa
 *   logits               7.2e-7  3.2e-7  3.6e-7    7.9e-7  3.6e-7  5.8e-7
 *   token losses         2.8e-7  1.2e-7  1.8e-7    2.8e-7  1.8e-7  2.4e-7
 *   sample losses        1.5e-7  8.3e-8  9.0e-8    1.5e-7  8.3e-8  9.0e-8
 *   weighted loss        8.6e-8  0       9.5e-8    8.6e-8  0       9.5e-8
 *   gradient tensors     3.4e-6  9.8e-7  7.8e-7    1.2e-6  1.3e-6  8.1e-7
 *   adamw losses         2.5e-7  1.8e-7  9.8e-8    2.5e-7  1.8e-7  9.8e-8
 *   adamw grad norms     4.4e-7  1.7e-7  1.6e-7    4.6e-7  1.7e-7  2.3e-7
 *   adamw sample losses  4.4e-7  2.1e-7  1.8e-7    2.9e-7  2.5e-7  1.8e-7
 *   adamw weights        1.6e-6  0       5.7e-7    3.0e-6  0       5.7e-7
 *   adamw final params   4.0e-6  1.1e-6  3.4e-7    1.0e-6  1.9e-6  3.9e-7
 * (mha has B = 2: LinUpper then always gives softmax(0, 1), whatever the
 * losses, so its weights are exact), so the tolerances leave two orders of
 * magnitude of room, while the bugs tried on purpose are far outside them:
 * RoPE's backward rotating the wrong way (CPU or OpenCL kernel) puts the
 * gradient off by ~0.5 and the step losses by 1e-2..4e-2; row scales
 * without 1/n_i, gradient off by ~5; LinUpper with r = 0.4 instead of 1,
 * step losses off by 3e-2..7e-2.
 *
 * Unlike GPT-2 (test_ref_gpt2_cpu.c: the key biases), LLaMA has no parameter
 * whose exact gradient is zero but whose float32 gradient is round-off that
 * Adam would amplify: there are no biases, and the padding rows of wte and
 * lm_head get exactly zero gradient on both sides (checked; Adam then leaves
 * them at 0).
 *
 * The OpenCL half runs when heft is built with the OpenCL backend and a
 * device is found (device 0, the program cache of the OpenCL tests); else it
 * prints "SKIP: OpenCL part: ..." and only the CPU half runs. With OpenCL the
 * suite runs without fork (tests/test_opencl_common.h: OpenCL runtimes start
 * threads that do not survive fork()).
 */
#include "config.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model_file.h"
#include "core/optim.h"
#include "models/model.h"
#include "reweight/reweight.h"
#include "tests/ref/compare.h"
#include "tests/ref/run_suite.h"
#include "tests/ref/vectors.h"
#ifdef HAVE_OPENCL
#include "tests/test_opencl_common.h"
#endif

#define TOL_FORWARD 1e-4
#define TOL_GRAD 1e-3
#define TOL_STEP 1e-4
#define TOL_PARAMS 1e-3
#define FLOOR 1e-6
#define MAX_B 16
#define STEPS 10
#define LINUPPER_R 1.0 /* make_llama_vectors.py's LINUPPER_R */

static const char *const case_names[] = { "gqa", "mha", "mqa" };
enum { NUM_CASES = sizeof case_names / sizeof case_names[0] };
enum { BE_CPU, BE_OPENCL, NUM_BACKENDS };
static const char *const backend_names[NUM_BACKENDS] = { "cpu", "opencl" };

/* One committed case on one backend. */
struct fixture {
    const char *name, *backend;
    struct model_config cfg;
    float *params;
    struct ref_vectors vec;
    struct backend *be;
    struct model m;
    int B, T, V, Vp;
    const int32_t *inputs, *targets;
    int counts[MAX_B];      /* kept targets per row */
    float sample_losses[MAX_B];
};

static const float *want(struct fixture *f, const char *name, size_t n)
{
    struct herr err;
    const float *w = ref_vectors_f32(&f->vec, name, n, &err);
    ck_assert_msg(w != NULL, "%s: %s", f->name, err.msg);
    return w;
}

static const int32_t *want_i32(struct fixture *f, const char *name, size_t n)
{
    struct herr err;
    const int32_t *w = ref_vectors_i32(&f->vec, name, n, &err);
    ck_assert_msg(w != NULL, "%s: %s", f->name, err.msg);
    return w;
}

static struct backend *make_backend(int kind)
{
    struct herr err = { "" };
    struct backend *be = NULL;
    if (kind == BE_CPU) {
        be = backend_create(&(struct backend_options){ .name = "cpu" }, &err);
        ck_assert_msg(be != NULL, "%s", err.msg);
    } else {
#ifdef HAVE_OPENCL
        be = opencl_test_backend(); /* prints why when it fails */
#endif
        ck_assert_msg(be != NULL, "cannot create the OpenCL backend");
    }
    return be;
}

/* A named field of the config (models/model_config.h), which must exist. */
static double field(const struct model_config *cfg, const char *name)
{
    struct model_field fs[MODEL_MAX_FIELDS];
    int n = model_config_fields(cfg, fs);
    for (int i = 0; i < n; i++)
        if (strcmp(fs[i].name, name) == 0)
            return fs[i].value;
    ck_abort_msg("the LLaMA config has no field '%s'", name);
    return 0.0;
}

/* Case `which` on backend `kind`: the model file through core/model_file.h,
 * checked against the vectors' config record, the model through
 * model_create, its parameters uploaded. */
static void load(struct fixture *f, int which, int kind)
{
    struct herr err;
    char path[4096];
    memset(f, 0, sizeof *f);
    f->name = case_names[which];
    f->backend = backend_names[kind];
    snprintf(path, sizeof path, "%s/llama_%s_model.bin", HEFT_REF_DIR, f->name);
    ck_assert_msg(model_file_load(path, &f->cfg, &f->params, &err) == 0, "%s", err.msg);
    ck_assert_str_eq(model_config_family(&f->cfg), "llama");
    snprintf(path, sizeof path, "%s/llama_%s_vectors.bin", HEFT_REF_DIR, f->name);
    ck_assert_msg(ref_vectors_load(&f->vec, path, &err) == 0, "%s", err.msg);

    /* config = [maxT, V, Vp, L, NH, KVH, C, F, tied, B, T]: the header heft
     * read must describe the model HF ran */
    const int32_t *c = want_i32(f, "config", 11);
    static const char *const names[9] = { "max_seq_len", "vocab_size", "padded_vocab_size",
                                          "num_layers", "num_heads", "num_kv_heads",
                                          "channels", "ffn", "tied" };
    for (int i = 0; i < 9; i++)
        ck_assert_msg(field(&f->cfg, names[i]) == c[i], "%s: %s = %g in the model file, %d in "
                      "the vectors", f->name, names[i], field(&f->cfg, names[i]), (int)c[i]);
    ck_assert(field(&f->cfg, "norm_eps") == want(f, "norm_eps", 1)[0]);
    ck_assert(field(&f->cfg, "rope_theta") == want(f, "rope_theta", 1)[0]);
    f->V = c[1];
    f->Vp = c[2];
    f->B = c[9];
    f->T = c[10];
    ck_assert_int_le(f->B, MAX_B);
    size_t BT = (size_t)f->B * f->T;
    f->inputs = want_i32(f, "inputs", BT);
    f->targets = want_i32(f, "targets", BT);

    f->be = make_backend(kind);
    ck_assert_msg(model_create(&f->m, f->be, &f->cfg, f->B, f->T, &err) == 0, "%s", err.msg);
    ck_assert_uint_eq(f->m.num_params, model_config_num_params(&f->cfg));
    ck_assert_msg(f->m.ops->upload_params(f->m.impl, f->params, &err) == 0, "%s", err.msg);
}

static void unload(struct fixture *f)
{
    model_destroy(&f->m);
    f->be->ops->destroy(f->be);
    free(f->params);
    ref_vectors_free(&f->vec);
}

/* got (float32 from heft) against HF's float64 values stored as float32;
 * returns the normalized error. */
static double expect_close(struct fixture *f, const float *got, const float *w, size_t n,
                           double tol, const char *what)
{
    double *wd = malloc(n * sizeof(double));
    ck_assert_ptr_nonnull(wd);
    for (size_t i = 0; i < n; i++)
        wd[i] = w[i];
    struct ref_err e = ref_err_f_d(got, wd, n, FLOOR);
    free(wd);
    printf("%-6s %s %-28s normalized error %.2e (tol %.0e)\n", f->backend, f->name, what, e.err,
           tol);
    ck_assert_msg(e.err <= tol, "%s %s %s: normalized error %.3e > %.0e (worst [%zu]: %.9g vs "
                  "HF %.9g)", f->backend, f->name, what, e.err, tol, e.worst, got[e.worst],
                  w[e.worst]);
    return e.err;
}

/* Every tensor of a flat buffer (the model's spans) against records
 * PREFIX.NAME, and no record for a tensor the model lacks (a tied head). */
static void expect_tensors(struct fixture *f, const float *got, const char *prefix, double tol)
{
    char name[64];
    size_t covered = 0;
    double worst = 0.0;
    for (int t = 0; t < f->m.nspans; t++) {
        const struct param_span *s = &f->m.spans[t];
        snprintf(name, sizeof name, "%s.%s", prefix, s->name);
        ck_assert_uint_eq(s->offset, covered); /* the spans tile the buffer */
        worst = fmax(worst, expect_close(f, got + s->offset, want(f, name, s->count), s->count,
                                         tol, name));
        covered += s->count;
    }
    ck_assert_uint_eq(covered, f->m.num_params);
    snprintf(name, sizeof name, "%s.lm_head", prefix);
    if (field(&f->cfg, "tied") != 0.0)
        ck_assert_msg(ref_vectors_find(&f->vec, name) == NULL, "tied, yet '%s' exists", name);
    printf("%-6s %s %-28s max normalized error %.2e over all tensors\n", f->backend, f->name,
           prefix, worst);
}

/* Rows V..Vp-1 of wte and lm_head (gradients or parameters) are exactly 0:
 * no input and no loss reads them, so nothing may write them either. */
static void expect_zero_padding(struct fixture *f, const float *buf, const char *what)
{
    for (int t = 0; t < f->m.nspans; t++) {
        const struct param_span *s = &f->m.spans[t];
        if (strcmp(s->name, "wte") != 0 && strcmp(s->name, "lm_head") != 0)
            continue;
        size_t C = s->count / (size_t)f->Vp;
        for (size_t i = (size_t)f->V * C; i < s->count; i++)
            ck_assert_msg(buf[s->offset + i] == 0.0f, "%s %s: %s of %s padding row %zu is %g",
                          f->backend, f->name, what, s->name, i / C, buf[s->offset + i]);
    }
}

/* Forward, then the per-sample losses l_i = row sum / n_i on the host (the
 * trainer's path). */
static void forward(struct fixture *f)
{
    struct herr err;
    float sums[MAX_B];
    ck_assert_msg(f->m.ops->forward(f->m.impl, f->inputs, f->targets, &err) == 0, "%s",
                  err.msg);
    ck_assert_msg(f->m.ops->row_loss_sums(f->m.impl, sums, &err) == 0, "%s", err.msg);
    for (int b = 0; b < f->B; b++) {
        f->counts[b] = 0;
        for (int t = 0; t < f->T; t++)
            f->counts[b] += f->targets[b * f->T + t] >= 0;
        f->sample_losses[b] = f->counts[b] ? sums[b] / f->counts[b] : 0.0f;
    }
}

/* Backward of sum_i w_i l_i after a forward: row scales w_i / n_i. */
static void backward(struct fixture *f, const double *w)
{
    struct herr err;
    float scales[MAX_B];
    for (int b = 0; b < f->B; b++)
        scales[b] = f->counts[b] ? (float)(w[b] / f->counts[b]) : 0.0f;
    f->m.ops->zero_grads(f->m.impl);
    ck_assert_msg(f->m.ops->backward(f->m.impl, scales, &err) == 0, "%s", err.msg);
}

/* _i = backend * NUM_CASES + case */
START_TEST(test_forward)
{
    struct fixture f;
    struct herr err;
    load(&f, _i % NUM_CASES, _i / NUM_CASES);
    int B = f.B;
    size_t BT = (size_t)B * f.T, V = (size_t)f.V, Vp = (size_t)f.Vp;
    float *buf = malloc(BT * Vp * sizeof(float)), *logits = malloc(BT * V * sizeof(float));
    ck_assert(buf && logits);
    forward(&f);
    ck_assert_msg(f.m.ops->download_logits(f.m.impl, buf, &err) == 0, "%s", err.msg);
    /* HF has V columns; heft's Vp - V padding columns come from zero rows */
    for (size_t n = 0; n < BT; n++) {
        memcpy(logits + n * V, buf + n * Vp, V * sizeof(float));
        for (size_t v = V; v < Vp; v++)
            ck_assert_msg(buf[n * Vp + v] == 0.0f, "%s %s: padding logit (%zu, %zu) = %g",
                          f.backend, f.name, n, v, buf[n * Vp + v]);
    }
    expect_close(&f, logits, want(&f, "logits", BT * V), BT * V, TOL_FORWARD, "logits");
    ck_assert_msg(f.m.ops->download_token_losses(f.m.impl, buf, &err) == 0, "%s", err.msg);
    expect_close(&f, buf, want(&f, "token_losses", BT), BT, TOL_FORWARD, "token_losses");
    const int32_t *counts = want_i32(&f, "token_counts", B);
    int some_ignored = 0;
    for (int b = 0; b < B; b++) {
        ck_assert_int_eq(f.counts[b], counts[b]);
        some_ignored |= counts[b] < f.T;
    }
    ck_assert_msg(some_ignored, "the vectors must contain ignored targets");
    expect_close(&f, f.sample_losses, want(&f, "sample_losses", B), B, TOL_FORWARD,
                 "sample_losses");
    free(logits);
    free(buf);
    unload(&f);
}
END_TEST

/* _i = backend * NUM_CASES + case */
START_TEST(test_weighted_gradient)
{
    struct fixture f;
    struct herr err;
    load(&f, _i % NUM_CASES, _i / NUM_CASES);
    const float *wv = want(&f, "weights", f.B);
    double w[MAX_B], loss = 0.0;
    int distinct = 0;
    for (int b = 0; b < f.B; b++) {
        w[b] = wv[b];
        distinct |= w[b] != w[0];
    }
    ck_assert_msg(distinct, "the weights must be non-uniform");
    forward(&f);
    for (int b = 0; b < f.B; b++)
        loss += w[b] * f.sample_losses[b];
    float lossf = (float)loss;
    expect_close(&f, &lossf, want(&f, "weighted_loss", 1), 1, TOL_FORWARD, "weighted_loss");
    backward(&f, w);
    float *grads = malloc(f.m.num_params * sizeof(float));
    ck_assert_ptr_nonnull(grads);
    ck_assert_msg(f.m.ops->download_grads(f.m.impl, grads, &err) == 0, "%s", err.msg);
    expect_tensors(&f, grads, "grad", TOL_GRAD);
    expect_zero_padding(&f, grads, "gradient");
    free(grads);
    unload(&f);
}
END_TEST

/* _i = (backend * NUM_CASES + case) * 2 + run; run 0 uniform, 1 LinUpper. */
START_TEST(test_adamw_steps)
{
    int linup = _i % 2;
    const char *tag = linup ? "linupper" : "uniform";
    struct fixture f;
    struct herr err;
    load(&f, (_i / 2) % NUM_CASES, _i / 2 / NUM_CASES);
    int B = f.B;

    /* the optimizer: the script's hyper-parameters, its decay groups */
    const float *hp = want(&f, "adamw_hparams", 6);
    struct optim_config oc;
    optim_config_default(&oc);
    oc.lr = hp[0];
    oc.beta1 = hp[1];
    oc.beta2 = hp[2];
    oc.eps = hp[3];
    oc.weight_decay = hp[4];
    oc.grad_clip = hp[5];
    oc.schedule = LR_CONSTANT;
    oc.warmup_steps = 0;
    ck_assert_msg(optim_config_validate(&oc, &err) == 0, "%s", err.msg);
    const int32_t *decays = want_i32(&f, "adamw_decays", (size_t)f.m.nspans);
    for (int t = 0; t < f.m.nspans; t++)
        ck_assert_msg(f.m.spans[t].decays == decays[t], "%s: weight decay of %s is %d, HF's "
                      "param group says %d", f.name, f.m.spans[t].name, f.m.spans[t].decays,
                      (int)decays[t]);
    struct adamw opt;
    ck_assert_msg(adamw_create(&opt, f.be, 0, f.m.num_params, &err) == 0, "%s", err.msg);

    /* the weights: heft's reweight/, over this batch, one call per step */
    struct rw_config rc;
    struct rw_state rs;
    rw_config_default(&rc);
    rc.strategy = linup ? RW_LINUPPER : RW_UNIFORM;
    rc.r = LINUPPER_R;
    rc.warmup_steps = 0;
    ck_assert_msg(rw_config_validate(&rc, &err) == 0, "%s", err.msg);
    rw_state_init(&rs, &rc);

    char name[64];
    snprintf(name, sizeof name, "adamw_%s_losses", tag);
    const struct ref_vec *lv = ref_vectors_find(&f.vec, name);
    ck_assert_msg(lv != NULL, "no record %s", name);
    ck_assert_int_eq((int)lv->count, STEPS);
    float losses[STEPS], norms[STEPS], samples[STEPS * MAX_B], weights[STEPS * MAX_B];
    int clipped = 0;
    double wmin = 1.0, wmax = 0.0;
    for (int s = 0; s < STEPS; s++) {
        double l[MAX_B], w[MAX_B], loss = 0.0;
        forward(&f);
        for (int b = 0; b < B; b++)
            l[b] = f.sample_losses[b];
        ck_assert_msg(rw_compute(&rc, &rs, s, l, f.counts, NULL, 0, B, w, NULL, &err) == 0,
                      "%s", err.msg);
        for (int b = 0; b < B; b++) {
            loss += w[b] * l[b];
            samples[s * B + b] = f.sample_losses[b];
            weights[s * B + b] = (float)w[b];
            wmin = fmin(wmin, w[b]);
            wmax = fmax(wmax, w[b]);
        }
        backward(&f, w);
        double norm = sqrt(f.be->ops->sum_squares(f.be, f.m.grads, f.m.num_params));
        double clip = optim_clip_scale(norm, oc.grad_clip);
        clipped += clip < 1.0;
        losses[s] = (float)loss;
        norms[s] = (float)norm;
        ck_assert_msg(adamw_update(&opt, f.m.params, f.m.grads, f.m.spans, f.m.nspans, &oc,
                                   optim_lr_at(&oc, s), clip, &err) == 0, "%s", err.msg);
    }
    printf("%-6s %s adamw %s: %d steps, clipping active in %d, weights %.4f..%.4f\n", f.backend,
           f.name, tag, STEPS, clipped, wmin, wmax);
    /* otherwise the run would not test what it claims to */
    ck_assert_msg(clipped > 0, "the run must exercise clipping");
    if (linup)
        ck_assert_msg(wmax > 1.2 * wmin, "LinUpper weights too close to uniform");

    snprintf(name, sizeof name, "adamw_%s_losses", tag);
    expect_close(&f, losses, want(&f, name, STEPS), STEPS, TOL_STEP, name);
    snprintf(name, sizeof name, "adamw_%s_grad_norms", tag);
    expect_close(&f, norms, want(&f, name, STEPS), STEPS, TOL_STEP, name);
    snprintf(name, sizeof name, "adamw_%s_sample_losses", tag);
    expect_close(&f, samples, want(&f, name, (size_t)STEPS * B), (size_t)STEPS * B, TOL_STEP,
                 name);
    snprintf(name, sizeof name, "adamw_%s_weights", tag);
    expect_close(&f, weights, want(&f, name, (size_t)STEPS * B), (size_t)STEPS * B, TOL_STEP,
                 name);
    float *params = malloc(f.m.num_params * sizeof(float));
    ck_assert_ptr_nonnull(params);
    ck_assert_msg(f.m.ops->download_params(f.m.impl, params, &err) == 0, "%s", err.msg);
    snprintf(name, sizeof name, "adamw_%s", tag);
    expect_tensors(&f, params, name, TOL_PARAMS);
    expect_zero_padding(&f, params, "final parameter");
    free(params);
    adamw_destroy(&opt);
    unload(&f);
}
END_TEST

/* The tests of one backend: loop indices offset by the backend. */
static TCase *backend_tcase(int kind)
{
    TCase *tc = tcase_create(backend_names[kind]);
    tcase_set_timeout(tc, 300); /* PoCL's first run compiles the kernels */
    int lo = kind * NUM_CASES, hi = lo + NUM_CASES;
    tcase_add_loop_test(tc, test_forward, lo, hi);
    tcase_add_loop_test(tc, test_weighted_gradient, lo, hi);
    tcase_add_loop_test(tc, test_adamw_steps, 2 * lo, 2 * hi);
    return tc;
}

int main(void)
{
    Suite *s = suite_create("ref_llama");
    suite_add_tcase(s, backend_tcase(BE_CPU));
#ifdef HAVE_OPENCL
    if (opencl_test_need_device() == 0) { /* prints SKIP and the reason otherwise */
        suite_add_tcase(s, backend_tcase(BE_OPENCL));
        return opencl_test_run(s);
    }
    printf("SKIP: OpenCL part: no OpenCL device; only the CPU backend was checked\n");
#else
    printf("SKIP: OpenCL part: heft is built without the OpenCL backend; only the CPU backend "
           "was checked\n");
#endif
    return run_suite(s);
}
