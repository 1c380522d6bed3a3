/* tests/test_sampling.c — picking tokens (core/sampling.h): greedy is the
 * argmax with the lowest id on a tie; top-k and top-p keep exactly the
 * candidates they should; draws follow softmax(logits / T) (frequencies
 * within 5 standard errors over many draws, at two temperatures); a seed
 * gives the same draws, another seed others; bad settings are refused. */
#include <check.h>
#include <math.h>
#include <string.h>

#include "core/sampling.h"
#include "tests/test_data_util.h"

#define V 6

/* log-probabilities of 0.4, 0.3, 0.15, 0.1, 0.05, 0 (the last never drawn
 * at T = 1 but present) shuffled over the ids */
static const int order[V] = { 3, 0, 5, 1, 4, 2 }; /* id of the k-th most likely */
static void logits_of(float l[V])
{
    const double p[V] = { 0.4, 0.3, 0.15, 0.1, 0.05, 1e-30 };
    for (int k = 0; k < V; k++)
        l[order[k]] = (float)log(p[k]);
}

static void counts(const struct sample_params *sp, uint64_t seed, int draws, int c[V])
{
    struct sampler s;
    struct herr err;
    ck_assert_msg(sampler_init(&s, sp, seed, V, &err) == 0, "%s", err.msg);
    float l[V];
    logits_of(l);
    memset(c, 0, V * sizeof *c);
    for (int i = 0; i < draws; i++) {
        int32_t id = sampler_pick(&s, l);
        ck_assert(id >= 0 && id < V);
        c[id]++;
    }
    sampler_free(&s);
}

START_TEST(test_greedy)
{
    struct sample_params sp = { 0, 0, 1 };
    int c[V];
    counts(&sp, 1, 10, c);
    ck_assert_int_eq(c[order[0]], 10);
    /* ties: the lowest id */
    struct sampler s;
    struct herr err;
    ck_assert(sampler_init(&s, &sp, 1, V, &err) == 0);
    float tie[V] = { 0, 2, 1, 2, -1, 2 };
    ck_assert_int_eq(sampler_pick(&s, tie), 1);
    sampler_free(&s);
    /* top-k 1 is greedy at any temperature */
    struct sample_params k1 = { 5.0, 1, 1 };
    counts(&k1, 3, 50, c);
    ck_assert_int_eq(c[order[0]], 50);
}
END_TEST

START_TEST(test_top_k_top_p)
{
    int c[V];
    struct sample_params k3 = { 1.0, 3, 1 };
    counts(&k3, 5, 3000, c);
    for (int k = 0; k < V; k++)
        ck_assert_msg(k < 3 ? c[order[k]] > 0 : c[order[k]] == 0, "top-k 3: rank %d drawn %d times",
                      k, c[order[k]]);
    /* 0.4 + 0.3 reaches 0.69 but not 0.71: two and three candidates */
    struct sample_params p69 = { 1.0, 0, 0.69 }, p71 = { 1.0, 0, 0.71 }, p39 = { 1.0, 0, 0.39 };
    counts(&p69, 6, 3000, c);
    ck_assert(c[order[0]] > 0 && c[order[1]] > 0 && c[order[0]] + c[order[1]] == 3000);
    counts(&p71, 6, 3000, c);
    ck_assert(c[order[2]] > 0 && c[order[0]] + c[order[1]] + c[order[2]] == 3000);
    counts(&p39, 6, 100, c);
    ck_assert_int_eq(c[order[0]], 100);
    /* within the nucleus, renormalized: 0.4 / 0.7 of the draws */
    counts(&p69, 7, 20000, c);
    double f = c[order[0]] / 20000.0, want = 0.4 / 0.7, se = sqrt(want * (1 - want) / 20000);
    ck_assert_msg(fabs(f - want) < 5 * se, "top-p 0.69: %.4f of draws, want %.4f", f, want);
}
END_TEST

START_TEST(test_frequencies)
{
    const double temps[] = { 1.0, 2.0 };
    const int N = 40000;
    for (int ti = 0; ti < 2; ti++) {
        struct sample_params sp = { temps[ti], 0, 1 };
        int c[V];
        counts(&sp, 11 + ti, N, c);
        float l[V];
        logits_of(l);
        double z = 0, q[V];
        for (int v = 0; v < V; v++)
            z += q[v] = exp(l[v] / temps[ti]);
        for (int v = 0; v < V; v++) {
            double want = q[v] / z, f = (double)c[v] / N, se = sqrt(want * (1 - want) / N) + 1e-9;
            ck_assert_msg(fabs(f - want) < 5 * se + 1e-6,
                          "T=%g id %d: frequency %.4f, softmax %.4f", temps[ti], v, f, want);
        }
    }
}
END_TEST

START_TEST(test_seeds)
{
    struct sample_params sp = { 1.0, 0, 1 };
    struct sampler a, b, c;
    struct herr err;
    ck_assert(sampler_init(&a, &sp, 99, V, &err) == 0);
    ck_assert(sampler_init(&b, &sp, 99, V, &err) == 0);
    ck_assert(sampler_init(&c, &sp, 100, V, &err) == 0);
    float l[V];
    logits_of(l);
    int differ = 0;
    for (int i = 0; i < 200; i++) {
        int32_t x = sampler_pick(&a, l), y = sampler_pick(&b, l), z = sampler_pick(&c, l);
        ck_assert_int_eq(x, y);
        differ += x != z;
    }
    ck_assert_int_gt(differ, 20);
    sampler_free(&a);
    sampler_free(&b);
    sampler_free(&c);
}
END_TEST

START_TEST(test_bad_settings)
{
    struct herr err;
    struct sample_params t = { -0.5, 0, 1 }, k = { 1, -1, 1 }, p = { 1, 0, 0 }, p2 = { 1, 0, 1.5 };
    ck_assert(sample_params_validate(&t, &err) != 0);
    ck_assert_msg_has(err.msg, "--temperature");
    ck_assert(sample_params_validate(&k, &err) != 0);
    ck_assert_msg_has(err.msg, "--top-k");
    ck_assert(sample_params_validate(&p, &err) != 0);
    ck_assert_msg_has(err.msg, "--top-p");
    ck_assert(sample_params_validate(&p2, &err) != 0);
}
END_TEST

static Suite *sampling_suite(void)
{
    Suite *s = suite_create("sampling");
    TCase *tc = tcase_create("sampling");
    tcase_add_test(tc, test_greedy);
    tcase_add_test(tc, test_top_k_top_p);
    tcase_add_test(tc, test_frequencies);
    tcase_add_test(tc, test_seeds);
    tcase_add_test(tc, test_bad_settings);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return run_suite(sampling_suite()); }
