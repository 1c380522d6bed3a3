/* tests/test_reweight_props.c — reweight/: properties over random loss vectors.
 *
 * Each test draws loss vectors of several sizes and shapes (spread out, with
 * ties, a few outliers) from a fixed-seed generator, so a failure reproduces.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reweight/reweight.h"

enum { MAXN = 1000, TRIALS = 40 };

static const int sizes[] = { 1, 2, 3, 7, 64, 257, MAXN };
#define NUM_SIZES ((int)(sizeof sizes / sizeof sizes[0]))

/* xorshift64*: the test's own generator, independent of reweight/'s. */
static double next_unit(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}

/* Trial t: a cross-entropy-like spread in [0.5, 8.5), with ties in every third
 * trial and one large outlier in every fifth. */
static void random_losses(uint64_t *rng, int t, int N, double *L)
{
    for (int i = 0; i < N; i++) {
        L[i] = 0.5 + 8.0 * next_unit(rng);
        if (t % 3 == 1)
            L[i] = floor(L[i]); /* many equal values */
    }
    if (t % 5 == 2 && N > 1)
        L[N / 2] = 40.0;
}

/* Reference losses of 0 (reducible weighs like linear: x = l) and one
 * domain (learnability, without a history, is uniform) for the strategies
 * that need them; test_reweight_learn.c tests those two rules. */
static const double zero_refs[2 * MAXN];
static const int one_domain[2 * MAXN];

static void weigh(const struct rw_config *c, const double *L, int N, double *w, struct rw_stats *st)
{
    struct rw_state s;
    struct herr e = { { 0 } };
    rw_state_init(&s, c);
    int learn = c->strategy == RW_LEARNABILITY;
    ck_assert_msg(rw_compute_ref(c, &s, 0, L, zero_refs, NULL, learn ? one_domain : NULL, learn,
                                 N, w, st, &e) == 0, "%s", e.msg);
}

static const double temperatures[] = { 0.1, 0.4, 1.0, 3.0 };

/* Sum 1, non-negative, finite; consistent statistics. All strategies. */
START_TEST(weights_are_a_distribution)
{
    static double L[MAXN], w[MAXN];
    uint64_t rng = 0x5eed0001u + (uint64_t)_i;
    struct rw_config c;
    rw_config_default(&c);
    c.strategy = (enum rw_strategy)_i;
    for (int t = 0; t < TRIALS; t++) {
        int N = sizes[t % NUM_SIZES];
        c.r = temperatures[t % 4];
        random_losses(&rng, t, N, L);
        struct rw_stats st;
        weigh(&c, L, N, w, &st);
        double sum = 0.0;
        for (int i = 0; i < N; i++) {
            ck_assert_msg(isfinite(w[i]) && w[i] >= 0.0, "w[%d] = %g", i, w[i]);
            sum += w[i];
        }
        ck_assert_msg(fabs(sum - 1.0) <= 1e-12, "%s N=%d: sum %.17g",
                      rw_strategy_name(c.strategy), N, sum);
        ck_assert(st.ess > 0.0 && st.ess <= 1.0 + 1e-12);
        ck_assert(st.entropy <= log((double)N) + 1e-12);
        ck_assert(st.w_max >= 1.0 - 1e-12 && st.w_min <= 1.0 + 1e-12);
        ck_assert(st.loss_q[0] <= st.loss_q[2] && st.loss_q[2] <= st.loss_q[4]);
        ck_assert(st.loss_min <= st.loss_q[0] && st.loss_q[4] <= st.loss_max);
    }
}
END_TEST

/* h depends on the losses only through (l - lmin)/(lmax - lmin): shifting and
 * positive scaling change nothing but rounding. */
START_TEST(shape_strategies_ignore_shift_and_scale)
{
    static const enum rw_strategy shapes[4] = { RW_LINUPPER, RW_QUADRATIC, RW_EXTREMES, RW_LINEAR };
    static const double shift[3] = { -0.4, 3.7, 100.0 }, scale[3] = { 0.01, 1.0, 7.5 };
    static double L[MAXN], M[MAXN], w[MAXN], v[MAXN];
    uint64_t rng = 0x5eed0100u + (uint64_t)_i;
    struct rw_config c;
    rw_config_default(&c);
    c.strategy = shapes[_i];
    for (int t = 0; t < TRIALS; t++) {
        int N = sizes[t % NUM_SIZES];
        c.r = temperatures[t % 4];
        random_losses(&rng, t, N, L);
        weigh(&c, L, N, w, NULL);
        double a = scale[t % 3], b = shift[(t / 3) % 3];
        for (int i = 0; i < N; i++)
            M[i] = a * L[i] + b;
        weigh(&c, M, N, v, NULL);
        for (int i = 0; i < N; i++)
            ck_assert_msg(fabs(v[i] - w[i]) <= 1e-9 * w[i] + 1e-300,
                          "%s N=%d a=%g b=%g: w[%d] %.17g vs %.17g", rw_strategy_name(c.strategy),
                          N, a, b, i, v[i], w[i]);
    }
}
END_TEST

/* Since f is in [0, 1], N w_i = e^((f_i - max f)/r) / mean_k e^(...) lies in
 * [e^(-1/r), e^(1/r)]: max/min <= e^(1/r), and r = 1e6 is uniform to 1e-6. */
START_TEST(temperature_bounds_the_weight_ratio)
{
    static const enum rw_strategy shapes[4] = { RW_LINUPPER, RW_QUADRATIC, RW_EXTREMES, RW_LINEAR };
    static double L[MAXN], w[MAXN];
    uint64_t rng = 0x5eed0200u + (uint64_t)_i;
    struct rw_config c;
    rw_config_default(&c);
    c.strategy = shapes[_i];
    for (int t = 0; t < TRIALS; t++) {
        int N = sizes[t % NUM_SIZES];
        random_losses(&rng, t, N, L);
        c.r = temperatures[t % 4];
        weigh(&c, L, N, w, NULL);
        double wmax = 0.0, wmin = 1.0;
        for (int i = 0; i < N; i++) {
            wmax = fmax(wmax, w[i]);
            wmin = fmin(wmin, w[i]);
        }
        ck_assert_msg(wmax / wmin <= exp(1.0 / c.r) * (1.0 + 1e-12), "r=%g: ratio %.17g > %.17g",
                      c.r, wmax / wmin, exp(1.0 / c.r));
        c.r = 1e6;
        weigh(&c, L, N, w, NULL);
        for (int i = 0; i < N; i++)
            ck_assert_msg(fabs(N * w[i] - 1.0) <= 1e-6, "r=1e6 N=%d: N*w[%d] = %.17g", N, i, N * w[i]);
    }
}
END_TEST

/* The weights order the samples as f does: linear and DRO rise with the loss,
 * LinUpper rises up to mid-range and is flat above, Quadratic favours
 * mid-range, Extremes the ends. Checked on every pair of distinct losses. */
START_TEST(weights_follow_the_shape_of_f)
{
    static double L[MAXN], w[MAXN];
    uint64_t rng = 0x5eed0300u;
    struct rw_config c;
    rw_config_default(&c);
    for (int t = 0; t < TRIALS; t++) {
        int N = 64;
        random_losses(&rng, 0, N, L); /* trial shape 0: spread, no ties */
        double lmin = L[0], lmax = L[0];
        for (int i = 1; i < N; i++) {
            lmin = fmin(lmin, L[i]);
            lmax = fmax(lmax, L[i]);
        }
        double h[64]; /* the test's own h, to compare |h| for the symmetric shapes */
        for (int i = 0; i < N; i++)
            h[i] = (2.0 * L[i] - lmax - lmin) / (lmax - lmin);
        for (int s = RW_LINUPPER; s < RW_NUM_STRATEGIES; s++) {
            if (s == RW_INFOBATCH || s == RW_TOPQ)
                continue;
            c.strategy = (enum rw_strategy)s;
            weigh(&c, L, N, w, NULL);
            for (int i = 0; i < N; i++) {
                for (int j = 0; j < N; j++) {
                    if (L[i] >= L[j])
                        continue; /* pairs with l_i < l_j, so h_i < h_j */
                    /* |h_i| vs |h_j|, with a margin for the rounding of h */
                    int closer = fabs(h[i]) < fabs(h[j]) - 1e-12;
                    int farther = fabs(h[i]) > fabs(h[j]) + 1e-12;
                    int ok = 1;
                    if (s == RW_LINEAR || s == RW_DRO || s == RW_REDUCIBLE)
                        ok = w[i] < w[j]; /* reducible: x = l - 0 */
                    else if (s == RW_LEARNABILITY)
                        ok = w[i] == w[j]; /* one domain */
                    else if (s == RW_LINUPPER)
                        ok = h[i] >= 0 ? w[i] == w[j] : w[i] < w[j];
                    else if (s == RW_QUADRATIC)
                        ok = closer ? w[i] > w[j] : farther ? w[i] < w[j] : 1;
                    else if (s == RW_EXTREMES)
                        ok = closer ? w[i] < w[j] : farther ? w[i] > w[j] : 1;
                    ck_assert_msg(ok, "%s: l=%g w=%g vs l=%g w=%g", rw_strategy_name(c.strategy),
                                  L[i], w[i], L[j], w[j]);
                }
            }
        }
    }
}
END_TEST

/* Top-q keeps exactly k = ceil(qN) samples at 1/k, and no dropped loss exceeds
 * a kept one. */
START_TEST(topq_keeps_the_k_highest)
{
    static const double qs[5] = { 0.05, 0.25, 0.5, 0.9, 1.0 };
    static double L[MAXN], w[MAXN];
    uint64_t rng = 0x5eed0400u;
    struct rw_config c;
    rw_config_default(&c);
    c.strategy = RW_TOPQ;
    for (int t = 0; t < TRIALS; t++) {
        int N = sizes[t % NUM_SIZES];
        c.topq_q = qs[t % 5];
        random_losses(&rng, t, N, L);
        int all_equal = 1; /* then top-q is uniform: tested in test_reweight.c */
        for (int i = 1; i < N; i++)
            all_equal &= L[i] == L[0];
        if (all_equal)
            continue;
        weigh(&c, L, N, w, NULL);
        int k = (int)ceil(c.topq_q * N - 1e-9), kept = 0;
        double min_kept = HUGE_VAL, max_dropped = -HUGE_VAL;
        for (int i = 0; i < N; i++) {
            if (w[i] > 0) {
                ck_assert(w[i] == 1.0 / k);
                kept++;
                min_kept = fmin(min_kept, L[i]);
            } else {
                max_dropped = fmax(max_dropped, L[i]);
            }
        }
        ck_assert_msg(kept == k, "q=%g N=%d: kept %d, want %d", c.topq_q, N, kept, k);
        ck_assert(max_dropped <= min_kept);
    }
}
END_TEST

/* InfoBatch never drops an at-or-above-mean sample, and drops about `prune` of
 * the below-mean ones. */
START_TEST(infobatch_drops_a_prune_share_below_the_mean)
{
    static double L[MAXN], w[MAXN];
    uint64_t rng = 0x5eed0500u;
    struct rw_config c;
    struct rw_state s;
    struct herr e;
    rw_config_default(&c);
    c.strategy = RW_INFOBATCH;
    c.infobatch_prune = 0.3;
    rw_state_init(&s, &c);
    long below = 0, dropped = 0;
    for (int t = 0; t < TRIALS; t++) {
        random_losses(&rng, 0, MAXN, L);
        ck_assert(rw_compute(&c, &s, t, L, NULL, NULL, 0, MAXN, w, NULL, &e) == 0);
        double mean = 0.0;
        int top = 0;
        for (int i = 0; i < MAXN; i++) {
            mean += L[i] / MAXN;
            if (L[i] > L[top])
                top = i;
        }
        double wabove = w[top]; /* every at-or-above-mean sample gets this */
        for (int i = 0; i < MAXN; i++) {
            if (L[i] >= mean) {
                ck_assert(w[i] == wabove && w[i] > 0);
            } else {
                below++;
                dropped += w[i] == 0.0;
                if (w[i] > 0) /* kept ones are rescaled by 1/(1 - prune) */
                    ck_assert_msg(fabs(w[i] / wabove - 1.0 / 0.7) <= 1e-12, "%.17g", w[i] / wabove);
            }
        }
    }
    double share = (double)dropped / (double)below;
    ck_assert_msg(fabs(share - 0.3) < 0.02, "dropped %.4f of below-mean samples", share);
}
END_TEST

/* Same inputs, same bits: repeated calls, with and without statistics, and with
 * invalid samples interleaved (they must not perturb the valid weights at all). */
START_TEST(weights_are_bit_reproducible)
{
    static double L[MAXN], a[MAXN], b[MAXN], M[2 * MAXN], m[2 * MAXN];
    static int ntok[2 * MAXN];
    uint64_t rng = 0x5eed0600u + (uint64_t)_i;
    struct rw_config c;
    struct rw_stats st;
    rw_config_default(&c);
    c.strategy = (enum rw_strategy)_i;
    for (int t = 0; t < 10; t++) {
        int N = sizes[t % NUM_SIZES];
        random_losses(&rng, t, N, L);
        weigh(&c, L, N, a, &st);
        weigh(&c, L, N, b, NULL);
        ck_assert(memcmp(a, b, (size_t)N * sizeof *a) == 0);
        for (int i = 0; i < N; i++) { /* valid, empty, valid, non-finite, ... */
            M[2 * i] = L[i];
            ntok[2 * i] = 1 + i % 5;
            M[2 * i + 1] = i % 2 ? NAN : 0.0;
            ntok[2 * i + 1] = i % 2 ? 3 : 0;
        }
        struct rw_state s;
        struct herr e;
        rw_state_init(&s, &c);
        int learn = c.strategy == RW_LEARNABILITY;
        ck_assert(rw_compute_ref(&c, &s, 0, M, zero_refs, ntok, learn ? one_domain : NULL, learn,
                                 2 * N, m, NULL, &e) == 0);
        for (int i = 0; i < N; i++)
            ck_assert(m[2 * i] == a[i] && m[2 * i + 1] == 0.0);
    }
}
END_TEST

static Suite *props_suite(void)
{
    Suite *s = suite_create("reweight properties");
    TCase *tc = tcase_create("random losses");
    tcase_add_loop_test(tc, weights_are_a_distribution, 0, RW_NUM_STRATEGIES);
    tcase_add_loop_test(tc, shape_strategies_ignore_shift_and_scale, 0, 4);
    tcase_add_loop_test(tc, temperature_bounds_the_weight_ratio, 0, 4);
    tcase_add_test(tc, weights_follow_the_shape_of_f);
    tcase_add_test(tc, topq_keeps_the_k_highest);
    tcase_add_test(tc, infobatch_drops_a_prune_share_below_the_mean);
    tcase_add_loop_test(tc, weights_are_bit_reproducible, 0, RW_NUM_STRATEGIES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(props_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
