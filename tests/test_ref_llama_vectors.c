/* tests/test_ref_llama_vectors.c — the float64 reference LLaMA
 * (tests/ref/ref_llama_f64.h) is Hugging Face's LlamaForCausalLM.
 *
 * tests/ref/make_llama_vectors.py ran transformers' model in float64 from the
 * float32 weights of llama_NAME_model.bin, for three configs: gqa (NH 4, KVH 2,
 * untied), mha (NH = KVH = 3, tied, theta 5e5, eps 1e-6) and mqa (KVH 1,
 * untied). Each case here loads the model file through heft's LLaMA header
 * and compares, for the same weights and batch:
 *
 *  - logits, per-token and per-sample losses and the weighted objective, which
 *    the vectors carry to ~1e-14 (a float32 value plus a float32 "_lo"
 *    remainder): tolerance FWD_TOL = 1e-11 on the normalized error
 *    (compare.h's measure), i.e. the same model up to float64 round-off
 *    (measured: ~1e-15);
 *  - the gradient of sum_i w_i l_i (non-uniform w_i, ignored targets), tensor
 *    by tensor in heft's layout: stored as float32, so one float32 rounding
 *    (normalized error <= 2^-24 ~ 6e-8) is the only expected difference;
 *    GRAD_TOL = 1.5e-7 (measured: ~5e-8);
 *  - 10 steps of torch.optim.AdamW with clip_grad_norm_, for uniform weights
 *    and for LinUpper weights recomputed every step from the step's losses:
 *    losses, weights, gradient norms each step and the final parameters,
 *    ADAMW_TOL = 2e-7 (float32 storage, plus ref_adamw's float32 bias
 *    corrections and 10 steps of float64 drift, both far smaller; measured
 *    ~6e-8).
 * It also checks the LLaMA model-file reader against corrupted copies.
 */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/ref/compare.h"
#include "tests/ref/ref_llama_f64.h"
#include "tests/ref/ref_ops_f64.h"
#include "tests/ref/vectors.h"
#include "tests/ref/run_suite.h"

#define FWD_TOL 1e-11
#define GRAD_TOL 1.5e-7
#define ADAMW_TOL 2e-7
#define REF_FLOOR 1e-6 /* scale floor of the normalized error */
#define MAX_B 16

static const char *const case_names[] = { "gqa", "mha", "mqa" };
enum { NUM_CASES = sizeof case_names / sizeof case_names[0] };

/* One committed case: its files, and the reference model holding its weights. */
struct fixture {
    const char *name;
    struct ref_llama_shape s;
    float *params;
    struct ref_vectors vec;
    struct ref_llama m;
    int B, T;
    const int32_t *inputs, *targets;
};

static void case_path(char *path, size_t n, const char *name, const char *kind)
{
    snprintf(path, n, "%s/llama_%s_%s.bin", HEFT_REF_DIR, name, kind);
}

static const float *want(struct fixture *f, const char *name, size_t n)
{
    struct herr err;
    const float *w = ref_vectors_f32(&f->vec, name, n, &err);
    ck_assert_msg(w != NULL, "%s: %s", f->name, err.msg);
    return w;
}

static void load(struct fixture *f, int which)
{
    struct herr err;
    char path[4096];
    memset(f, 0, sizeof *f);
    f->name = case_names[which];
    case_path(path, sizeof path, f->name, "model");
    ck_assert_msg(ref_llama_read_model(path, &f->s, &f->params, &err) == 0, "%s", err.msg);
    case_path(path, sizeof path, f->name, "vectors");
    ck_assert_msg(ref_vectors_load(&f->vec, path, &err) == 0, "%s", err.msg);
    /* the vectors describe the model in the file */
    const int32_t *c = ref_vectors_i32(&f->vec, "config", 11, &err);
    ck_assert_msg(c != NULL, "%s", err.msg);
    const struct ref_llama_shape *s = &f->s;
    int header[9] = { s->max_seq_len, s->vocab_size, s->padded_vocab_size, s->num_layers,
                      s->num_heads, s->num_kv_heads, s->channels, s->ffn, s->tied };
    for (int i = 0; i < 9; i++)
        ck_assert_msg(c[i] == header[i], "%s: config[%d] = %d, model header says %d", f->name,
                      i, (int)c[i], header[i]);
    ck_assert(want(f, "norm_eps", 1)[0] == (float)s->norm_eps);
    ck_assert(want(f, "rope_theta", 1)[0] == (float)s->rope_theta);
    f->B = c[9];
    f->T = c[10];
    ck_assert_int_le(f->B, MAX_B);
    size_t BT = (size_t)f->B * f->T;
    f->inputs = ref_vectors_i32(&f->vec, "inputs", BT, &err);
    ck_assert_msg(f->inputs != NULL, "%s", err.msg);
    f->targets = ref_vectors_i32(&f->vec, "targets", BT, &err);
    ck_assert_msg(f->targets != NULL, "%s", err.msg);
    ck_assert_msg(ref_llama_create(&f->m, s, f->B, f->T, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < f->m.num_params; i++)
        f->m.params[i] = f->params[i];
}

static void unload(struct fixture *f)
{
    ref_llama_destroy(&f->m);
    free(f->params);
    ref_vectors_free(&f->vec);
}

static void forward(struct fixture *f)
{
    struct herr err;
    ck_assert_msg(ref_llama_forward(&f->m, f->inputs, f->targets, &err) == 0, "%s", err.msg);
}

/* Compares n values with a float32 record and prints the measured error. */
static double expect_f32(struct fixture *f, const double *got, const float *w, size_t n,
                         double tol, const char *what)
{
    struct ref_err e = ref_err_d_f(got, w, n, REF_FLOOR);
    printf("hf %s %-30s normalized error %.2e\n", f->name, what, e.err);
    ck_assert_msg(e.err <= tol, "%s %s: normalized error %.3e > %.1e (worst [%zu]: %.12g vs "
                  "HF %.12g)", f->name, what, e.err, tol, e.worst, got[e.worst], w[e.worst]);
    return e.err;
}

/* Compares n values with the float64 value of record `name` (name + name_lo),
 * with compare.h's normalized error. */
static double expect_hilo(struct fixture *f, const double *got, const char *name, size_t n)
{
    char lo_name[64];
    snprintf(lo_name, sizeof lo_name, "%s_lo", name);
    const float *hi = want(f, name, n), *lo = want(f, lo_name, n);
    double worst = 0.0, scale = REF_FLOOR;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double w = (double)hi[i] + (double)lo[i];
        double d = fabs(got[i] - w);
        if (!(d <= worst)) { /* also catches NaN */
            worst = d;
            at = i;
        }
        scale = fmax(scale, fabs(w));
    }
    double e = worst / scale;
    printf("hf %s %-30s normalized error %.2e (float64 vectors)\n", f->name, name, e);
    ck_assert_msg(e <= FWD_TOL, "%s %s: normalized error %.3e > %.0e (worst [%zu]: %.17g vs HF "
                  "%.17g)", f->name, name, e, FWD_TOL, at, got[at],
                  (double)hi[at] + (double)lo[at]);
    return e;
}

/* Every tensor of a flat buffer against records PREFIX.NAME (their shapes
 * are heft's; a tied model has no lm_head record). */
static double expect_tensors(struct fixture *f, double *const *got, const char *prefix,
                             double tol)
{
    size_t sizes[REF_LLAMA_NUM_TENSORS];
    ref_llama_tensor_sizes(&f->s, sizes);
    double worst = 0.0;
    for (int t = 0; t < REF_LLAMA_NUM_TENSORS; t++) {
        char name[64];
        snprintf(name, sizeof name, "%s.%s", prefix, ref_llama_tensor_name(t));
        if (sizes[t] == 0) {
            ck_assert_msg(ref_vectors_find(&f->vec, name) == NULL, "%s: tied, yet '%s' exists",
                          f->name, name);
            continue;
        }
        worst = fmax(worst, expect_f32(f, got[t], want(f, name, sizes[t]), sizes[t], tol, name));
    }
    return worst;
}

START_TEST(test_forward)
{
    struct fixture f;
    load(&f, _i);
    forward(&f);
    size_t BT = (size_t)f.B * f.T, V = (size_t)f.s.vocab_size, Vp = (size_t)f.s.padded_vocab_size;
    /* HF has V columns; heft's Vp - V padding columns are exactly zero */
    double *logits = malloc(BT * V * sizeof(double));
    ck_assert_ptr_nonnull(logits);
    for (size_t n = 0; n < BT; n++) {
        for (size_t v = 0; v < V; v++)
            logits[n * V + v] = f.m.a.logits[n * Vp + v];
        for (size_t v = V; v < Vp; v++)
            ck_assert_msg(f.m.a.logits[n * Vp + v] == 0.0, "padded logit (%zu, %zu) = %g", n, v,
                          f.m.a.logits[n * Vp + v]);
    }
    expect_hilo(&f, logits, "logits", BT * V);
    expect_hilo(&f, f.m.a.losses, "token_losses", BT);
    expect_hilo(&f, f.m.sample_losses, "sample_losses", f.B);
    struct herr err;
    const int32_t *counts = ref_vectors_i32(&f.vec, "token_counts", f.B, &err);
    ck_assert_msg(counts != NULL, "%s", err.msg);
    int some_ignored = 0;
    for (int b = 0; b < f.B; b++) {
        ck_assert_int_eq(f.m.counts[b], counts[b]);
        ck_assert_int_gt(counts[b], 0);
        some_ignored |= counts[b] < f.T;
    }
    ck_assert_msg(some_ignored, "the vectors must contain ignored targets");
    free(logits);
    unload(&f);
}
END_TEST

START_TEST(test_weighted_gradient)
{
    struct fixture f;
    load(&f, _i);
    forward(&f);
    const float *wv = want(&f, "weights", f.B);
    double w[MAX_B], scales[MAX_B];
    int distinct = 0;
    for (int b = 0; b < f.B; b++) {
        w[b] = wv[b];
        distinct |= w[b] != w[0];
    }
    ck_assert_msg(distinct, "%s: the weights must be non-uniform", f.name);
    double loss = ref_llama_objective(&f.m, w);
    expect_hilo(&f, &loss, "weighted_loss", 1);
    ref_llama_row_scales(&f.m, w, scales);
    ref_llama_zero_grad(&f.m);
    ref_llama_backward(&f.m, scales);
    double worst = expect_tensors(&f, f.m.grad, "grad", GRAD_TOL);
    printf("hf %s gradient: max normalized error %.2e over all tensors\n", f.name, worst);
    unload(&f);
}
END_TEST

/* METHOD's LinUpper, r: h_i = (2 l_i - lmax - lmin) / max(lmax - lmin, 1e-6),
 * f_i = min(h_i + 1, 1), w = softmax(f / r). */
static void linupper(const double *l, int B, double r, double *w)
{
    double lmax = l[0], lmin = l[0];
    for (int b = 1; b < B; b++) {
        lmax = fmax(lmax, l[b]);
        lmin = fmin(lmin, l[b]);
    }
    double range = fmax(lmax - lmin, 1e-6), sum = 0.0;
    for (int b = 0; b < B; b++) {
        double h = (2.0 * l[b] - lmax - lmin) / range;
        w[b] = exp((fmin(h + 1.0, 1.0) - 1.0) / r); /* minus the largest f, 1: no overflow */
        sum += w[b];
    }
    for (int b = 0; b < B; b++)
        w[b] /= sum;
}

/* _i = case * 2 + run, run 0 uniform, 1 LinUpper (r = 1). */
START_TEST(test_adamw_steps)
{
    int linup = _i % 2;
    const char *tag = linup ? "linupper" : "uniform";
    struct fixture f;
    load(&f, _i / 2);
    char name[64];
    const float *hp = want(&f, "adamw_hparams", 6);
    const float lr = hp[0], beta1 = hp[1], beta2 = hp[2], eps = hp[3], wd = hp[4];
    const double max_norm = hp[5];
    struct herr err;
    const int32_t *decays = ref_vectors_i32(&f.vec, "adamw_decays",
                                            REF_LLAMA_NUM_TENSORS - f.s.tied, &err);
    ck_assert_msg(decays != NULL, "%s", err.msg);
    for (int t = 0; t < REF_LLAMA_NUM_TENSORS - f.s.tied; t++)
        ck_assert_msg(decays[t] == ref_llama_tensor_decays(t), "%s: decay of %s", f.name,
                      ref_llama_tensor_name(t));
    snprintf(name, sizeof name, "adamw_%s_losses", tag);
    const struct ref_vec *lv = ref_vectors_find(&f.vec, name);
    ck_assert_msg(lv != NULL, "no %s", name);
    int steps = (int)lv->count, B = f.B;
    ck_assert_int_eq(steps, 10);

    size_t n = f.m.num_params, sizes[REF_LLAMA_NUM_TENSORS], offs[REF_LLAMA_NUM_TENSORS];
    ref_llama_tensor_sizes(&f.s, sizes);
    ref_llama_tensor_offsets(&f.s, offs);
    double *mom = calloc(n, sizeof(double)), *vel = calloc(n, sizeof(double));
    double got_losses[16], got_norms[16], got_samples[16 * MAX_B], got_weights[16 * MAX_B];
    ck_assert(mom && vel);
    int clipped = 0;
    double wmin = 1.0, wmax = 0.0;
    for (int st = 1; st <= steps; st++) {
        double *w = got_weights + (st - 1) * B, scales[MAX_B];
        forward(&f);
        for (int b = 0; b < B; b++)
            got_samples[(st - 1) * B + b] = f.m.sample_losses[b];
        if (linup)
            linupper(f.m.sample_losses, B, 1.0, w);
        else
            for (int b = 0; b < B; b++)
                w[b] = 1.0 / B;
        for (int b = 0; b < B; b++) {
            wmin = fmin(wmin, w[b]);
            wmax = fmax(wmax, w[b]);
        }
        got_losses[st - 1] = ref_llama_objective(&f.m, w);
        ref_llama_row_scales(&f.m, w, scales);
        ref_llama_zero_grad(&f.m);
        ref_llama_backward(&f.m, scales);
        double norm = sqrt(ref_sum_squares(f.m.grads, n));
        got_norms[st - 1] = norm;
        double coef = max_norm / (norm + 1e-6); /* clip_grad_norm_'s clip_coef, clamped */
        clipped += coef < 1.0;
        struct adamw_args a = {
            .lr = lr, .beta1 = beta1, .beta2 = beta2, .eps = eps,
            .grad_scale = (float)fmin(coef, 1.0),
            .bias_correction1 = (float)(1.0 - pow(beta1, st)),
            .bias_correction2 = (float)(1.0 - pow(beta2, st)),
        };
        for (int t = 0; t < REF_LLAMA_NUM_TENSORS; t++) {
            if (sizes[t] == 0)
                continue;
            a.weight_decay = ref_llama_tensor_decays(t) ? wd : 0.0f;
            ref_adamw(f.m.param[t], f.m.grad[t], mom + offs[t], vel + offs[t], sizes[t], &a);
        }
    }
    printf("hf %s adamw %s: %d steps, clipping active in %d, weights %.4f..%.4f\n", f.name, tag,
           steps, clipped, wmin, wmax);
    ck_assert_msg(clipped > 0, "the run must exercise clipping");
    if (linup)
        ck_assert_msg(wmax > 1.2 * wmin, "LinUpper weights too close to uniform");
    char what[64];
    snprintf(what, sizeof what, "adamw_%s_losses", tag);
    expect_f32(&f, got_losses, want(&f, what, steps), steps, ADAMW_TOL, what);
    snprintf(what, sizeof what, "adamw_%s_sample_losses", tag);
    expect_f32(&f, got_samples, want(&f, what, (size_t)steps * B), (size_t)steps * B, ADAMW_TOL,
               what);
    snprintf(what, sizeof what, "adamw_%s_weights", tag);
    expect_f32(&f, got_weights, want(&f, what, (size_t)steps * B), (size_t)steps * B, ADAMW_TOL,
               what);
    snprintf(what, sizeof what, "adamw_%s_grad_norms", tag);
    expect_f32(&f, got_norms, want(&f, what, steps), steps, ADAMW_TOL, what);
    snprintf(what, sizeof what, "adamw_%s", tag);
    expect_tensors(&f, f.m.param, what, ADAMW_TOL);
    free(mom);
    free(vel);
    unload(&f);
}
END_TEST

/* Writes len bytes to a fresh temporary file named in path (a mkstemp
 * template). */
static void write_temp(char *path, const unsigned char *bytes, size_t len)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, len), (ssize_t)len);
    close(fd);
}

/* A corrupt copy of the gqa model file is rejected with a message naming the
 * file and the problem. */
static void expect_model_reject(const unsigned char *bytes, size_t len, const char *needle)
{
    char path[] = "/tmp/heft_test_llama_model_XXXXXX";
    write_temp(path, bytes, len);
    struct ref_llama_shape s;
    float *p;
    struct herr err;
    ck_assert_int_eq(ref_llama_read_model(path, &s, &p, &err), -1);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(err.msg, path) != NULL && strstr(err.msg, needle) != NULL,
                  "message '%s' lacks the path or '%s'", err.msg, needle);
    unlink(path);
}

static void put_i32(unsigned char *b, int index, int32_t v)
{
    memcpy(b + 4 * (size_t)index, &v, sizeof v); /* little-endian host, as the file */
}

START_TEST(test_model_reader)
{
    char path[4096];
    struct herr err;
    struct ref_llama_shape s;
    float *p;
    case_path(path, sizeof path, "gqa", "model");
    ck_assert_msg(ref_llama_read_model(path, &s, &p, &err) == 0, "%s", err.msg);
    ck_assert(s.num_heads == 4 && s.num_kv_heads == 2 && s.ffn == 40 && s.tied == 0);
    ck_assert(s.norm_eps == (double)1e-5f && s.rope_theta == 10000.0);
    free(p);

    unsigned char *bytes;
    size_t len;
    ck_assert_msg(ref_read_file(path, &bytes, &len, &err) == 0, "%s", err.msg);
    unsigned char *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    struct { int index; int32_t value; const char *needle; } cases[] = {
        { 0, 20240326, "magic 20240326" },   /* a GPT-2 (llm.c) file */
        { 1, 2, "version 2" },
        { 8, 3, "NH 4 not a multiple of KVH 3" },
        { 10, 1, "expected" },              /* tied: lm_head's bytes are extra */
        { 10, 2, "tied 2" },
        { 11, 0, "norm_eps 0" },
        { 13, 7, "header int 13 is 7" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(copy, bytes, len);
        put_i32(copy, cases[i].index, cases[i].value);
        expect_model_reject(copy, len, cases[i].needle);
    }
    expect_model_reject(bytes, len - 4, "expected");   /* one float short */
    expect_model_reject(bytes, 1000, "too short");
    free(copy);
    free(bytes);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ref_llama_vectors");
    TCase *tc = tcase_create("llama_f64_vs_hf");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_forward, 0, NUM_CASES);
    tcase_add_loop_test(tc, test_weighted_gradient, 0, NUM_CASES);
    tcase_add_loop_test(tc, test_adamw_steps, 0, 2 * NUM_CASES);
    tcase_add_test(tc, test_model_reader);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
