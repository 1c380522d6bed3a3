/* tests/test_reweight_robust.c — reweight/'s outlier cut and domain centering
 * (reweight.h): hand-computed weights, state updates, errors, properties.
 *
 * Expected numbers come from /usr/bin/python3 (math.exp, numpy.quantile) with
 * reweight.h's formulas; the script lines are quoted next to them.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reweight/reweight.h"

#define TOL 1e-15

/* python: L=[1.0,1.2,1.1,0.9,5.0,1.3]; m=np.quantile(L,.5) -> 1.15;
 *   mad=np.quantile([abs(x-m) for x in L],.5) -> 0.15; cut=m+3*1.4826*mad -> 1.81717:
 *   sample 4 (5.0) is the only outlier. */
static const double L6[6] = { 1.0, 1.2, 1.1, 0.9, 5.0, 1.3 };
static const double CUT6 = 1.81717;

static void config_for(struct rw_config *c, enum rw_strategy s, double r, double k)
{
    rw_config_default(c);
    c->strategy = s;
    c->r = r;
    c->outlier_k = k;
}

/* Reference losses of 0 (reducible weighs like linear: x = l) and, where a
 * test gives no domain ids, one domain (learnability) for the strategies
 * that need them; test_reweight_learn.c tests those two rules. */
enum { MAX_PLAIN = 256 };
static const double zero_refs[MAX_PLAIN];
static const int one_domain[MAX_PLAIN];

static void weigh(const struct rw_config *c, struct rw_state *s, long step, const double *L,
                  const int *dom, int nd, int N, double *w, struct rw_stats *st)
{
    struct herr e = { { 0 } };
    ck_assert(N <= MAX_PLAIN);
    if (dom == NULL && c->strategy == RW_LEARNABILITY) {
        dom = one_domain;
        nd = 1;
    }
    ck_assert_msg(rw_compute_ref(c, s, step, L, zero_refs, NULL, dom, nd, N, w, st, &e) == 0,
                  "%s", e.msg);
}

static void weigh_fresh(const struct rw_config *c, const double *L, int N, double *w,
                        struct rw_stats *st)
{
    struct rw_state s;
    rw_state_init(&s, c);
    weigh(c, &s, 0, L, NULL, 0, N, w, st);
}

static void assert_weights(const double *got, const double *want, int N, double tol)
{
    for (int i = 0; i < N; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= tol, "w[%d] = %.17g, expected %.17g", i, got[i],
                      want[i]);
}

/* ------------------------------------------------------------ outlier cut */

/* The outlier gets 0; the others are weighed as if it were not there:
 * uniform 1/5; linupper over lmin 0.9, lmax 1.3; dro over lmax 1.3; topq
 * keeps ceil(0.5 * 5) = 3 of the five. python (linupper, r = 1):
 *   a=[L[i] for i in (0,1,2,3,5)]; h=[((x-.9)+(x-1.3))/.4 for x in a];
 *   f=[min(x+1,1) for x in h]; softmax(f) */
START_TEST(outlier_gets_zero_and_rules_see_the_rest)
{
    static const double want_uniform[6] = { 0.2, 0.2, 0.2, 0.2, 0.0, 0.2 };
    static const double want_linupper[6] = { 0.1526089770096235, 0.25160966649555316,
                                             0.25160966649555316, 0.09256202350371708, 0.0,
                                             0.25160966649555316 };
    /* python: e=[math.exp(x-1.3) for x in a]; [x/sum(e) for x in e] */
    static const double want_dro[6] = { 0.17917069369265443, 0.21883957945767904,
                                        0.19801424004056153, 0.1621203478685732, 0.0,
                                        0.2418551389405318 };
    static const double want_topq[6] = { 0.0, 1.0 / 3, 1.0 / 3, 0.0, 0.0, 1.0 / 3 };
    struct rw_config c;
    struct rw_stats st;
    double w[6];

    config_for(&c, RW_UNIFORM, 1.0, 3.0);
    weigh_fresh(&c, L6, 6, w, &st);
    assert_weights(w, want_uniform, 6, TOL);
    ck_assert_int_eq(st.n_outliers, 1);
    ck_assert_int_eq(st.n_zero_weight, 1);
    ck_assert_int_eq(st.n_valid, 6);   /* statistics still cover every valid sample */
    ck_assert(fabs(st.outlier_cut - CUT6) < 1e-12);
    ck_assert(st.loss_max == 5.0 && st.w_min == 0.0);
    ck_assert(fabs(st.w_max - 6.0 / 5.0) < TOL);  /* N_v w with N_v = 6 */

    config_for(&c, RW_LINUPPER, 1.0, 3.0);
    weigh_fresh(&c, L6, 6, w, NULL);
    assert_weights(w, want_linupper, 6, TOL);

    config_for(&c, RW_DRO, 1.0, 3.0);
    weigh_fresh(&c, L6, 6, w, NULL);
    assert_weights(w, want_dro, 6, TOL);

    config_for(&c, RW_TOPQ, 1.0, 3.0);
    weigh_fresh(&c, L6, 6, w, NULL);
    assert_weights(w, want_topq, 6, TOL);
}
END_TEST

/* k = 30 puts the cut at 1.15 + 30 * 0.2224 = 7.8 > 5: nothing is cut, and
 * the weights are bit for bit those without a cut. */
START_TEST(cut_above_every_loss_changes_nothing)
{
    for (int s = 0; s < RW_NUM_STRATEGIES; s++) {
        struct rw_config off, on;
        struct rw_stats st;
        double w_off[6], w_on[6];
        config_for(&off, (enum rw_strategy)s, 0.4, 0.0);
        config_for(&on, (enum rw_strategy)s, 0.4, 30.0);
        weigh_fresh(&off, L6, 6, w_off, NULL);
        weigh_fresh(&on, L6, 6, w_on, &st);
        ck_assert_msg(memcmp(w_off, w_on, sizeof w_on) == 0, "%s", rw_strategy_name(s));
        ck_assert_int_eq(st.n_outliers, 0);
        ck_assert(isfinite(st.outlier_cut) && st.outlier_cut > 5.0);
    }
}
END_TEST

/* Three of four losses equal: the MAD is 0 and nothing is cut, however far
 * the fourth is (the cut would otherwise be the median itself). */
START_TEST(zero_mad_cuts_nothing)
{
    static const double L[4] = { 1.0, 1.0, 1.0, 50.0 };
    struct rw_config c;
    struct rw_stats st;
    double w[4];
    config_for(&c, RW_UNIFORM, 1.0, 3.0);
    weigh_fresh(&c, L, 4, w, &st);
    for (int i = 0; i < 4; i++)
        ck_assert(w[i] == 0.25);
    ck_assert_int_eq(st.n_outliers, 0);
    ck_assert(isinf(st.outlier_cut));
}
END_TEST

/* Only the high side is cut: a loss far below the rest keeps its weight. */
START_TEST(low_outliers_are_kept)
{
    static const double L[6] = { 1.0, 1.2, 1.1, 0.9, -3.0, 1.3 };
    struct rw_config c;
    struct rw_stats st;
    double w[6];
    config_for(&c, RW_UNIFORM, 1.0, 3.0);
    weigh_fresh(&c, L, 6, w, &st);
    for (int i = 0; i < 6; i++)
        ck_assert(w[i] == 1.0 / 6.0);
    ck_assert_int_eq(st.n_outliers, 0);
}
END_TEST

/* The cut by domain. python: L=[1.0,1.1,1.2,0.9,1.3,5.0,5.1,4.9];
 *   m=np.quantile(L,.5) -> 1.25; mad -> 0.3; cut=m+3*1.4826*mad -> 2.58434:
 *   all of domain 1 is above it (share 1 > 1/2: cut), none of domain 0.
 * Call 2: domain 0 {1.0,1.1,1.2,0.9,9.0}, domain 1 {1.0,1.1,1.2}: m 1.1, mad
 *   0.1, cut 1.54478; domain 0's 9.0 is above it, but its domain's share is
 *   .1*.2 = .02, so it stays; domain 1's share is .9*1 + .1*0 = .9: still cut.
 * Repeating call 2, domain 1's share is .9^(c-1) at call c: .531 at call 7
 *   (cut), .478 at call 8 (readmitted). */
START_TEST(cut_by_domain_removes_whole_domains_with_hysteresis)
{
    static const int dom[8] = { 0, 0, 0, 0, 0, 1, 1, 1 };
    static const double L1[8] = { 1.0, 1.1, 1.2, 0.9, 1.3, 5.0, 5.1, 4.9 };
    static const double L2[8] = { 1.0, 1.1, 1.2, 0.9, 9.0, 1.0, 1.1, 1.2 };
    struct rw_config c;
    struct rw_state s;
    struct rw_stats st;
    double w[8];
    config_for(&c, RW_UNIFORM, 1.0, 3.0);
    c.outlier_by_domain = 1;
    rw_state_init(&s, &c);

    weigh(&c, &s, 0, L1, dom, 2, 8, w, &st);
    for (int i = 0; i < 8; i++)
        ck_assert_msg(w[i] == (i < 5 ? 0.2 : 0.0), "call 1 w[%d] = %g", i, w[i]);
    ck_assert_int_eq(st.n_outliers, 3);
    ck_assert(fabs(st.outlier_cut - 2.58434) < 1e-12);
    ck_assert(s.outlier_seen == 3u && s.outlier_share[0] == 0.0 && s.outlier_share[1] == 1.0);

    for (int call = 2; call <= 8; call++) {
        weigh(&c, &s, call - 1, L2, dom, 2, 8, w, &st);
        int cut1 = call <= 7;
        for (int i = 0; i < 8; i++) {
            double want = i < 5 ? (cut1 ? 0.2 : 0.125) : (cut1 ? 0.0 : 0.125);
            ck_assert_msg(w[i] == want, "call %d w[%d] = %g, expected %g", call, i, w[i], want);
        }
        ck_assert_int_eq(st.n_outliers, cut1 ? 3 : 0);
        ck_assert(fabs(st.outlier_cut - 1.54478) < 1e-12);
    }
    ck_assert(fabs(s.outlier_share[1] - pow(0.9, 7)) < 1e-15);
}
END_TEST

/* ------------------------------------------------------- domain centering */

/* Domains {0,0,1,1}, linupper r = 1, domain_ema 0.5.
 * Call 1, losses {1,2,5,6}: no means yet, so this call's: 1.5 and 5.5;
 *   x = {-.5,.5,-.5,.5}, h = {-1,1,-1,1}, f = {0,1,0,1}:
 *   python: e=math.exp(-1); e/(2+2*e), 1/(2+2*e)
 *   (raw losses would favour domain 1: h = {-1,-.6,.6,1}). Means -> 1.5, 5.5.
 * Call 2, losses {1,1,5,7}: x = {-.5,-.5,-.5,1.5}, h = {-1,-1,-1,1}:
 *   e/(3*e+1), 1/(3*e+1). Means -> .5*1.5+.5*1 = 1.25, .5*5.5+.5*6 = 5.75.
 * Call 3, domain 0 only, losses {2,3}: x = {.75,1.75}, h = {-1,1}:
 *   e/(e+1), 1/(e+1). Mean 0 -> .5*1.25+.5*2.5 = 1.875; mean 1 stays 5.75. */
START_TEST(domain_centering_matches_hand_computation)
{
    static const int dom[4] = { 0, 0, 1, 1 };
    static const double L1[4] = { 1.0, 2.0, 5.0, 6.0 }, L2[4] = { 1.0, 1.0, 5.0, 7.0 };
    static const double L3[2] = { 2.0, 3.0 };
    static const double w1[4] = { 0.13447071068499755, 0.36552928931500245,
                                  0.13447071068499755, 0.36552928931500245 };
    static const double w2[4] = { 0.17487770452710943, 0.17487770452710943,
                                  0.17487770452710943, 0.4753668864186717 };
    static const double w3[2] = { 0.2689414213699951, 0.7310585786300049 };
    struct rw_config c;
    struct rw_state s;
    double w[4];
    config_for(&c, RW_LINUPPER, 1.0, 0.0);
    c.domain_ema = 0.5;
    rw_state_init(&s, &c);

    weigh(&c, &s, 0, L1, dom, 2, 4, w, NULL);
    assert_weights(w, w1, 4, TOL);
    ck_assert(s.domain_seen == 3u && s.domain_mean[0] == 1.5 && s.domain_mean[1] == 5.5);
    weigh(&c, &s, 1, L2, dom, 2, 4, w, NULL);
    assert_weights(w, w2, 4, TOL);
    ck_assert(s.domain_mean[0] == 1.25 && s.domain_mean[1] == 5.75);
    weigh(&c, &s, 2, L3, dom, 2, 2, w, NULL);
    assert_weights(w, w3, 2, TOL);
    ck_assert(s.domain_mean[0] == 1.875 && s.domain_mean[1] == 5.75);
    ck_assert(s.calls == 3);
}
END_TEST

/* The means are kept through a uniform warm-up, so they are ready when
 * reweighting starts; a restored state continues exactly. */
START_TEST(domain_means_update_in_warmup_and_survive_a_restart)
{
    static const int dom[4] = { 0, 1, 0, 1 };
    static const double L[4] = { 2.0, 4.0, 3.0, 6.0 };
    struct rw_config c;
    struct rw_state s, t;
    struct rw_stats st;
    struct herr e;
    double w[4], w2[4];
    config_for(&c, RW_LINUPPER, 0.4, 0.0);
    c.domain_ema = 0.9;
    c.warmup_steps = 5;
    rw_state_init(&s, &c);
    weigh(&c, &s, 0, L, dom, 2, 4, w, &st);
    ck_assert(st.strategy_used == RW_UNIFORM && w[0] == 0.25);
    ck_assert(s.domain_seen == 3u && s.domain_mean[0] == 2.5 && s.domain_mean[1] == 5.0);

    unsigned char buf[RW_STATE_SERIAL_SIZE];
    ck_assert_int_eq(rw_state_serialize(&s, buf, sizeof buf), RW_STATE_SERIAL_SIZE);
    ck_assert(rw_state_deserialize(&t, buf, sizeof buf, &e) == 0);
    weigh(&c, &s, 7, L, dom, 2, 4, w, NULL);
    weigh(&c, &t, 7, L, dom, 2, 4, w2, NULL);
    ck_assert(memcmp(w, w2, sizeof w) == 0);
    ck_assert(memcmp(&s.domain_mean, &t.domain_mean, sizeof s.domain_mean) == 0);
}
END_TEST

/* Both per-domain features need domain ids: without them rw_compute fails,
 * naming the feature, and touches neither weights nor state. */
START_TEST(per_domain_features_without_domains_fail)
{
    struct rw_config c;
    struct rw_state s;
    struct herr e;
    double w[6] = { 9, 9, 9, 9, 9, 9 };
    config_for(&c, RW_LINUPPER, 1.0, _i == 0 ? 0.0 : 3.0);
    c.domain_ema = _i == 0 ? 0.9 : 0.0;
    c.outlier_by_domain = _i == 1;
    rw_state_init(&s, &c);
    ck_assert(rw_compute(&c, &s, 0, L6, NULL, NULL, 0, 6, w, NULL, &e) == -1);
    ck_assert_msg(strstr(e.msg, _i == 0 ? "domain centering" : "cut by domain") &&
                  strstr(e.msg, "domain ids"), "%s", e.msg);
    ck_assert(w[0] == 9 && s.calls == 0 && s.domain_seen == 0 && s.outlier_seen == 0);
    /* the domain flag without a cut asks for nothing */
    c.outlier_k = 0.0;
    c.domain_ema = 0.0;
    ck_assert_msg(rw_compute(&c, &s, 0, L6, NULL, NULL, 0, 6, w, NULL, &e) == 0, "%s", e.msg);
}
END_TEST

START_TEST(bad_robust_fields_are_named)
{
    static const struct { const char *field; int which; double v; } bad[] = {
        { "outlier_k = ", 0, -1.0 }, { "outlier_k = ", 0, NAN }, { "outlier_k = ", 0, INFINITY },
        { "domain_ema = ", 1, 1.0 }, { "domain_ema = ", 1, -0.1 }, { "domain_ema = ", 1, NAN },
        { "outlier_by_domain = ", 2, 2 }, { "outlier_by_domain = ", 2, -1 },
    };
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        struct rw_config c;
        struct herr e = { { 0 } };
        rw_config_default(&c);
        if (bad[t].which == 1)
            c.domain_ema = bad[t].v;
        else if (bad[t].which == 2)
            c.outlier_by_domain = (int)bad[t].v;
        else
            c.outlier_k = bad[t].v;
        ck_assert_msg(rw_config_validate(&c, &e) == -1, "case %zu accepted", t);
        ck_assert_msg(strstr(e.msg, bad[t].field), "case %zu: %s", t, e.msg);
    }
}
END_TEST

/* -------------------------------------------------------------- properties */

/* xorshift64*: the test's own generator. */
static double next_unit(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}

/* Every strategy, random batches with a few far-out losses and random
 * domains, centering on or off: the weights form a distribution over the
 * samples at or below the reported cut, those above it get exactly 0, and the
 * counts agree. */
START_TEST(cut_and_centering_keep_a_distribution)
{
    enum { N = 48, TRIALS = 30 };
    uint64_t rng = 0xc0ffee00u + (uint64_t)_i;
    for (int t = 0; t < TRIALS; t++) {
        double L[N], w[N];
        int dom[N];
        for (int i = 0; i < N; i++) {
            L[i] = 1.0 + 2.0 * next_unit(&rng);
            dom[i] = (int)(next_unit(&rng) * 5);
            if (i == t || next_unit(&rng) < 0.1)
                L[i] = 20.0 + next_unit(&rng);
        }
        struct rw_config c;
        config_for(&c, (enum rw_strategy)_i, 0.4, 1.0 + (t % 4));
        c.domain_ema = (t % 2) ? 0.8 : 0.0;
        struct rw_state s;
        struct rw_stats st;
        rw_state_init(&s, &c);
        weigh(&c, &s, 0, L, dom, 5, N, w, &st);
        double sum = 0.0;
        int above = 0;
        for (int i = 0; i < N; i++) {
            ck_assert(w[i] >= 0.0 && isfinite(w[i]));
            if (L[i] > st.outlier_cut) {
                ck_assert_msg(w[i] == 0.0, "outlier %d has weight %g", i, w[i]);
                above++;
            }
            sum += w[i];
        }
        ck_assert_msg(fabs(sum - 1.0) < 1e-12, "sum %.17g", sum);
        ck_assert_int_eq(above, st.n_outliers);
        ck_assert_int_gt(above, 0); /* the 20+ losses sit far above a spread of 2 */
    }
}
END_TEST

/* The cut by domain, every strategy, random batches in which domain 4 is
 * far above the rest in most calls: the weights form a distribution, and
 * exactly the samples of the domains whose running share is above 1/2 get 0. */
START_TEST(cut_by_domain_keeps_a_distribution)
{
    enum { N = 40, CALLS = 12 };
    uint64_t rng = 0xd0d0u + (uint64_t)_i;
    struct rw_config c;
    config_for(&c, (enum rw_strategy)_i, 0.4, 3.0);
    c.outlier_by_domain = 1;
    struct rw_state s;
    rw_state_init(&s, &c);
    for (int t = 0; t < CALLS; t++) {
        double L[N], w[N];
        int dom[N];
        for (int i = 0; i < N; i++) {
            dom[i] = i % 5;
            L[i] = 1.0 + next_unit(&rng) + (dom[i] == 4 && t % 6 != 5 ? 10.0 : 0.0);
        }
        struct rw_stats st;
        weigh(&c, &s, t, L, dom, 5, N, w, &st);
        double sum = 0.0;
        int zero_cut = 0;
        for (int i = 0; i < N; i++) {
            int cut = s.outlier_share[dom[i]] > 0.5;
            ck_assert_msg(!cut || w[i] == 0.0, "call %d sample %d", t, i);
            zero_cut += cut;
            sum += w[i];
        }
        ck_assert_msg(fabs(sum - 1.0) < 1e-12, "sum %.17g", sum);
        ck_assert_int_eq(zero_cut, st.n_outliers);
        ck_assert_int_eq(zero_cut, N / 5); /* domain 4 only, every call (hysteresis) */
    }
}
END_TEST

static Suite *robust_suite(void)
{
    Suite *s = suite_create("reweight robust");
    TCase *tc = tcase_create("outlier cut and domain centering");
    tcase_add_test(tc, outlier_gets_zero_and_rules_see_the_rest);
    tcase_add_test(tc, cut_above_every_loss_changes_nothing);
    tcase_add_test(tc, zero_mad_cuts_nothing);
    tcase_add_test(tc, low_outliers_are_kept);
    tcase_add_test(tc, cut_by_domain_removes_whole_domains_with_hysteresis);
    tcase_add_loop_test(tc, cut_by_domain_keeps_a_distribution, 0, RW_NUM_STRATEGIES);
    tcase_add_test(tc, domain_centering_matches_hand_computation);
    tcase_add_test(tc, domain_means_update_in_warmup_and_survive_a_restart);
    tcase_add_loop_test(tc, per_domain_features_without_domains_fail, 0, 2);
    tcase_add_test(tc, bad_robust_fields_are_named);
    tcase_add_loop_test(tc, cut_and_centering_keep_a_distribution, 0, RW_NUM_STRATEGIES);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(robust_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
