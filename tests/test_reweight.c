/* tests/test_reweight.c — reweight/: hand-computed weights and edge cases.
 *
 * Every expected number below was computed independently of heft, with
 * /usr/bin/python3 (math.exp, numpy.quantile) straight from METHOD.md's
 * formulas; the script lines are quoted next to the numbers.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reweight/reweight.h"
#include "reweight/rw_internal.h" /* rw_exp */

/* Weights agree with Python's to rounding: both sides are within an ulp or two
 * of the true value. */
#define TOL 1e-15

/* lmin = 1, lmax = 4, so h = (2l - 5)/3 = -1/3, -1, 1, 1/3, 0. */
static const double L5[5] = { 2.0, 1.0, 4.0, 3.0, 2.5 };

static void config_for(struct rw_config *c, enum rw_strategy s, double r)
{
    rw_config_default(c);
    c->strategy = s;
    c->r = r;
}

/* What reducible and learnability need besides losses, for the tests that
 * run every strategy: reference losses of 0 (reducible then weighs like
 * linear, x = l) and one domain (learnability, without a history, is then
 * uniform). test_reweight_learn.c tests the two rules themselves. */
enum { MAX_PLAIN = 1024 };
static const double zero_refs[MAX_PLAIN];
static const int one_domain[MAX_PLAIN];

/* One call with a fresh state; the call must succeed. */
static void weigh(const struct rw_config *c, const double *losses, const int *ntokens, int N,
                  double *w, struct rw_stats *st)
{
    struct rw_state s;
    struct herr e = { { 0 } };
    rw_state_init(&s, c);
    ck_assert(N <= MAX_PLAIN);
    int learn = c->strategy == RW_LEARNABILITY;
    ck_assert_msg(rw_compute_ref(c, &s, 0, losses, zero_refs, ntokens, learn ? one_domain : NULL,
                                 learn, N, w, st, &e) == 0, "%s", e.msg);
}

static void assert_weights(const double *got, const double *want, int N, double tol)
{
    for (int i = 0; i < N; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= tol, "w[%d] = %.17g, expected %.17g", i, got[i],
                      want[i]);
}

/* ------------------------------------------------------------ hand-computed */

START_TEST(uniform_is_exactly_one_over_n)
{
    struct rw_config c;
    double w[5];
    config_for(&c, RW_UNIFORM, 0.4);
    weigh(&c, L5, NULL, 5, w, NULL);
    for (int i = 0; i < 5; i++)
        ck_assert(w[i] == 1.0 / 5.0); /* bitwise: no softmax of anything */
}
END_TEST

/* python: h=[(2*l-5)/3 for l in L]; fs=[f(x) for x in h]; m=max(fs);
 *         e=[math.exp((x-m)/r) for x in fs]; w=[x/sum(e) for x in e] */
static const struct { enum rw_strategy s; double r; double w[5]; } shape_cases[] = {
    { RW_LINUPPER, 1.0, { 0.17543076691481677, 0.090069158939083391, 0.24483335804869996,
                          0.24483335804869996, 0.24483335804869996 } },
    { RW_QUADRATIC, 1.0, { 0.25382362125562979, 0.1043500103192308, 0.1043500103192308,
                           0.25382362125562979, 0.28365273685027892 } },
    { RW_EXTREMES, 1.0, { 0.15124018328050709, 0.29457565335079189, 0.29457565335079189,
                          0.15124018328050709, 0.10836832673740185 } },
    { RW_LINEAR, 1.0, { 0.16022461723532813, 0.11480595497381342, 0.31207494120420437,
                        0.22361146661828676, 0.18928301996836736 } },
    { RW_LINUPPER, 0.4, { 0.12358184769837072, 0.02334159598380952, 0.28435885210593992,
                          0.28435885210593992, 0.28435885210593992 } },
    { RW_QUADRATIC, 0.4, { 0.28273116217067401, 0.030639017147665211, 0.030639017147665211,
                           0.28273116217067401, 0.37325964136332157 } },
    { RW_EXTREMES, 0.4, { 0.076783812884559752, 0.40653113335445407, 0.40653113335445407,
                          0.076783812884559752, 0.033370107521972385 } },
    { RW_LINEAR, 0.4, { 0.094814042177218866, 0.041206012871533873, 0.50199200295213098,
                        0.21816482516787603, 0.14382311683124024 } },
};

START_TEST(shape_strategies_match_python)
{
    struct rw_config c;
    double w[5];
    config_for(&c, shape_cases[_i].s, shape_cases[_i].r);
    weigh(&c, L5, NULL, 5, w, NULL);
    assert_weights(w, shape_cases[_i].w, 5, TOL);
}
END_TEST

/* Losses closer than 1e-6: the range is clamped to 1e-6, so h = -+0.1, not -+1.
 * python: L=[1.0,1.0+1e-7]; rg=max(max(L)-min(L),1e-6);
 *         f=[min((2*l-max(L)-min(L))/rg+1,1) for l in L]; softmax(f) */
START_TEST(tiny_loss_range_is_clamped)
{
    static const double L[2] = { 1.0, 1.0 + 1e-7 };
    static const double want[2] = { 0.47502081250649975, 0.52497918749350025 };
    struct rw_config c;
    double w[2];
    config_for(&c, RW_LINUPPER, 1.0);
    weigh(&c, L, NULL, 2, w, NULL);
    assert_weights(w, want, 2, 1e-9); /* h itself carries rounding of 1e-7 / 1e-6 */
}
END_TEST

/* The RNG is splitmix64; python, from s = 42:
 *   s=(s+0x9E3779B97F4A7C15)%2**64; z=s; z=((z^(z>>30))*0xBF58476D1CE4E5B9)%2**64;
 *   z=((z^(z>>27))*0x94D049BB133111EB)%2**64; z^=z>>31; print(z>>11) */
START_TEST(rng_matches_python_splitmix64)
{
    static const double want[3] = { 6679422623415661.0, 1440344771546334.0, 2509415892804083.0 };
    uint64_t s = 42;
    for (int i = 0; i < 3; i++)
        ck_assert(rw_rng_uniform(&s) == want[i] * 0x1.0p-53);
}
END_TEST

/* Losses 1..6, mean 3.5: samples 0, 1, 2 are below it. Seed 42 gives the
 * splitmix64 draws 0.7416, 0.1599, 0.2786 (python: s=(s+0x9E3779B97F4A7C15)
 * mod 2^64, the three xor-shift-multiply rounds, (z>>11)/2^53), so with prune
 * 0.5 sample 0 stays at 1/(1-0.5) = 2 and samples 1, 2 go: 2,0,0,1,1,1 / 5. */
START_TEST(infobatch_matches_python)
{
    static const double L[6] = { 1, 2, 3, 4, 5, 6 };
    static const double want[6] = { 0.4, 0, 0, 0.2, 0.2, 0.2 };
    struct rw_config c;
    double w[6];
    config_for(&c, RW_INFOBATCH, 1.0);
    c.seed = 42;
    c.infobatch_prune = 0.5;
    weigh(&c, L, NULL, 6, w, NULL);
    assert_weights(w, want, 6, TOL);
}
END_TEST

/* Three samples tie at the top loss 3; q = 0.4 of 5 keeps 2: the lower indices. */
START_TEST(topq_keeps_highest_and_breaks_ties_by_index)
{
    static const double L[5] = { 3, 1, 3, 2, 3 };
    static const double want2[5] = { 0.5, 0, 0.5, 0, 0 };
    static const double want4[5] = { 0.25, 0, 0.25, 0.25, 0.25 };
    struct rw_config c;
    double w[5];
    config_for(&c, RW_TOPQ, 1.0);
    c.topq_q = 0.4;
    weigh(&c, L, NULL, 5, w, NULL);
    assert_weights(w, want2, 5, 0.0);
    c.topq_q = 0.8; /* k = 4: all three tied 3s and the 2 */
    weigh(&c, L, NULL, 5, w, NULL);
    assert_weights(w, want4, 5, 0.0);
}
END_TEST

/* 0.07 * 100 is 7.000000000000001 in doubles (so is 0.55 * 100 = 55.00000000000001);
 * a naive ceil keeps one sample too many. */
START_TEST(topq_count_of_decimal_q)
{
    double L[100], w[100];
    for (int i = 0; i < 100; i++)
        L[i] = i;
    struct rw_config c;
    config_for(&c, RW_TOPQ, 1.0);
    c.topq_q = 0.07;
    weigh(&c, L, NULL, 100, w, NULL);
    for (int i = 0; i < 100; i++)
        ck_assert(w[i] == (i >= 93 ? 1.0 / 7.0 : 0.0));
    c.topq_q = 0.55;
    weigh(&c, L, NULL, 100, w, NULL);
    for (int i = 0; i < 100; i++)
        ck_assert(w[i] == (i >= 45 ? 1.0 / 55.0 : 0.0));
    c.topq_q = 0.071; /* 7.1 -> 8 */
    weigh(&c, L, NULL, 100, w, NULL);
    for (int i = 0; i < 100; i++)
        ck_assert(w[i] == (i >= 92 ? 0.125 : 0.0));
}
END_TEST

/* python: e=[math.exp((l-3)/0.5) for l in (1,2,3)]; [x/sum(e) for x in e] */
START_TEST(dro_matches_python)
{
    static const double L[3] = { 1, 2, 3 };
    static const double want[3] = { 0.015876239976466765, 0.11731042782619838,
                                    0.86681333219733492 };
    struct rw_config c;
    double w[3];
    config_for(&c, RW_DRO, 1.0);
    c.dro_tau = 0.5;
    weigh(&c, L, NULL, 3, w, NULL);
    assert_weights(w, want, 3, TOL);
}
END_TEST

/* LinUpper r = 1 on L5 with domains 0,1,0,1,2; python from its weights w:
 * sum(w*L), 1/sum(w*w)/5, 5*max(w), 5*min(w), -sum(w*log(w)),
 * numpy.quantile(L, [.1,.25,.5,.75,.9]), and per domain mean(L), 5*mean(w). */
START_TEST(stats_match_python)
{
    static const int dom[5] = { 0, 1, 0, 1, 2 };
    static const double q[5] = { 1.4, 2.0, 2.5, 3.0, 3.6 };
    struct rw_config c;
    struct rw_state s;
    struct rw_stats st;
    struct herr e;
    double w[5];
    config_for(&c, RW_LINUPPER, 1.0);
    rw_state_init(&s, &c);
    ck_assert(rw_compute(&c, &s, 3, L5, NULL, dom, 3, 5, w, &st, &e) == 0);
    ck_assert(fabs(st.loss_mean - 2.5) <= TOL);
    ck_assert(fabs(st.loss_weighted - 2.7668475942313666) <= 4 * TOL);
    ck_assert(fabs(st.ess - 0.91441727745609958) <= 4 * TOL);
    ck_assert(fabs(st.w_max - 1.2241667902434998) <= 4 * TOL);
    ck_assert(fabs(st.w_min - 0.45034579469541697) <= 4 * TOL);
    ck_assert(fabs(st.entropy - 1.5557235523326227) <= 4 * TOL);
    ck_assert(st.loss_min == 1.0 && st.loss_max == 4.0);
    for (int i = 0; i < 5; i++)
        ck_assert_msg(fabs(st.loss_q[i] - q[i]) <= 4 * TOL, "q[%d] = %.17g", i, st.loss_q[i]);
    ck_assert_int_eq(st.n, 5);
    ck_assert_int_eq(st.n_valid, 5);
    ck_assert_int_eq(st.n_zero_weight, 0);
    ck_assert_int_eq(st.num_domains, 3);
    ck_assert(st.strategy_used == RW_LINUPPER && st.r_used == 1.0);
    ck_assert_int_eq(st.domain[0].count, 2);
    ck_assert_int_eq(st.domain[1].count, 2);
    ck_assert_int_eq(st.domain[2].count, 1);
    ck_assert(fabs(st.domain[0].loss_mean - 3.0) <= TOL);
    ck_assert(fabs(st.domain[1].loss_mean - 2.0) <= TOL);
    ck_assert(fabs(st.domain[0].weight_mean - 1.0506603124087919) <= 4 * TOL);
    ck_assert(fabs(st.domain[1].weight_mean - 0.83725629246945832) <= 4 * TOL);
    ck_assert(fabs(st.domain[2].weight_mean - 1.2241667902434998) <= 4 * TOL);
    ck_assert(fabs(st.domain[2].weight_sum - w[4]) <= TOL);
}
END_TEST

START_TEST(names_round_trip_and_unknown_lists_valid)
{
    struct herr e;
    enum rw_strategy s;
    enum rw_warmup_mode m;
    for (int i = 0; i < RW_NUM_STRATEGIES; i++) {
        ck_assert(rw_strategy_parse(rw_strategy_name((enum rw_strategy)i), &s, &e) == 0);
        ck_assert_int_eq((int)s, i);
    }
    ck_assert_str_eq(rw_strategy_name(RW_LINUPPER), "linupper");
    ck_assert(rw_strategy_parse("LinUpperX", &s, &e) == -1);
    ck_assert_msg(strstr(e.msg, "LinUpperX") && strstr(e.msg, "uniform, linupper, quadratic, "
                  "extremes, linear, infobatch, topq, dro"), "%s", e.msg);
    ck_assert(rw_strategy_parse("upper", &s, &e) == -1);
    ck_assert_msg(strstr(e.msg, "ambiguous"), "%s", e.msg);
    ck_assert(rw_strategy_parse(NULL, &s, &e) == -1);
    for (int i = 0; i < RW_NUM_WARMUP_MODES; i++) {
        ck_assert(rw_warmup_mode_parse(rw_warmup_mode_name((enum rw_warmup_mode)i), &m, &e) == 0);
        ck_assert_int_eq((int)m, i);
    }
    ck_assert(rw_warmup_mode_parse("linear", &m, &e) == -1);
    ck_assert_msg(strstr(e.msg, "uniform, r-step, r-linear"), "%s", e.msg);
}
END_TEST

/* ------------------------------------------------------------ edge cases */

START_TEST(nonfinite_and_empty_get_zero_and_are_counted)
{
    /* sample 1 has no tokens and a NaN loss: it counts as empty only */
    static const double L[7] = { 1.0, NAN, 3.0, INFINITY, -INFINITY, 2.0, NAN };
    static const int n[7] = { 4, 0, 4, 4, 4, 0, 4 };
    static const double Lv[2] = { 1.0, 3.0 };
    for (int s = 0; s < RW_NUM_STRATEGIES; s++) {
        struct rw_config c;
        struct rw_stats st;
        double w[7], wv[2];
        config_for(&c, (enum rw_strategy)s, 0.4);
        weigh(&c, L, n, 7, w, &st);
        ck_assert_int_eq(st.n_valid, 2);
        ck_assert_int_eq(st.n_empty, 2);
        ck_assert_int_eq(st.n_nonfinite, 3);
        for (int i = 1; i < 7; i++)
            if (i != 2)
                ck_assert_msg(w[i] == 0.0, "%s: w[%d] = %g", rw_strategy_name(c.strategy), i, w[i]);
        ck_assert(fabs(w[0] + w[2] - 1.0) <= 1e-15);
        /* invalid samples do not influence the valid ones at all */
        weigh(&c, Lv, NULL, 2, wv, NULL);
        ck_assert(w[0] == wv[0] && w[2] == wv[1]);
        ck_assert(isfinite(st.loss_mean) && isfinite(st.loss_weighted));
    }
}
END_TEST

START_TEST(all_equal_losses_give_uniform)
{
    static const double L[3] = { 0.1, 0.1, 0.1 }; /* their mean rounds above 0.1 */
    for (int s = 0; s < RW_NUM_STRATEGIES; s++) {
        struct rw_config c;
        double w[3];
        config_for(&c, (enum rw_strategy)s, 0.4);
        c.topq_q = 0.3;
        c.infobatch_prune = 0.9;
        weigh(&c, L, NULL, 3, w, NULL);
        for (int i = 0; i < 3; i++)
            ck_assert_msg(w[i] == 1.0 / 3.0, "%s: w[%d] = %.17g", rw_strategy_name(c.strategy),
                          i, w[i]);
    }
}
END_TEST

START_TEST(one_sample_gets_weight_one)
{
    static const double L[1] = { 7.25 };
    for (int s = 0; s < RW_NUM_STRATEGIES; s++) {
        struct rw_config c;
        double w[1];
        config_for(&c, (enum rw_strategy)s, 0.4);
        weigh(&c, L, NULL, 1, w, NULL);
        ck_assert(w[0] == 1.0);
    }
}
END_TEST

START_TEST(no_valid_sample_gives_zero_weights)
{
    static const double L[3] = { NAN, 2.0, 1.0 };
    static const int n[3] = { 5, 0, 0 };
    struct rw_config c;
    struct rw_stats st;
    double w[3] = { 9, 9, 9 };
    config_for(&c, RW_LINUPPER, 0.4);
    weigh(&c, L, n, 3, w, &st);
    ck_assert(w[0] == 0.0 && w[1] == 0.0 && w[2] == 0.0);
    ck_assert_int_eq(st.n_valid, 0);
    ck_assert_int_eq(st.n_empty, 2);
    ck_assert_int_eq(st.n_nonfinite, 1);
    ck_assert(st.loss_mean == 0.0 && st.ess == 0.0 && st.loss_q[2] == 0.0);
    weigh(&c, L, n, 0, w, &st); /* N = 0 is fine too */
    ck_assert_int_eq(st.n, 0);
}
END_TEST

/* A config with one bad field must fail, and the message must name the field. */
START_TEST(bad_config_fields_are_named)
{
    static const struct { const char *field; int which; double v; } bad[] = {
        { "r", 0, 0.0 }, { "r", 0, -1.0 }, { "r", 0, NAN }, { "r", 0, INFINITY },
        { "topq_q", 1, 0.0 }, { "topq_q", 1, 1.5 }, { "infobatch_prune", 2, 1.0 },
        { "infobatch_prune", 2, -0.1 }, { "dro_tau", 3, 0.0 }, { "r_start", 4, 0.0 },
        { "warmup_steps", 5, -1 }, { "strategy", 6, 99 }, { "warmup_mode", 7, 99 },
    };
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        struct rw_config c;
        struct herr e = { { 0 } };
        rw_config_default(&c);
        ck_assert(rw_config_validate(&c, &e) == 0);
        switch (bad[t].which) {
        case 0: c.r = bad[t].v; break;
        case 1: c.topq_q = bad[t].v; break;
        case 2: c.infobatch_prune = bad[t].v; break;
        case 3: c.dro_tau = bad[t].v; break;
        case 4: c.r_start = bad[t].v; break;
        case 5: c.warmup_steps = (long)bad[t].v; break;
        case 6: c.strategy = (enum rw_strategy)(int)bad[t].v; break;
        default: c.warmup_mode = (enum rw_warmup_mode)(int)bad[t].v; break;
        }
        ck_assert_msg(rw_config_validate(&c, &e) == -1, "case %zu accepted", t);
        char want[64];
        snprintf(want, sizeof want, "%s = ", bad[t].field);
        ck_assert_msg(strstr(e.msg, want) != NULL, "case %zu: '%s' lacks '%s'", t, e.msg, want);
        /* rw_compute refuses it too */
        struct rw_state s;
        double w[5];
        rw_state_init(&s, &c);
        ck_assert(rw_compute(&c, &s, 0, L5, NULL, NULL, 0, 5, w, NULL, &e) == -1);
    }
}
END_TEST

/* Bad inputs fail with a message naming the sample, leaving outputs and state alone. */
START_TEST(bad_inputs_fail_and_touch_nothing)
{
    static const int ntok_neg[5] = { 1, 1, -3, 1, 1 };
    static const int dom_bad[5] = { 0, 1, 0, 4, 0 };
    struct rw_config c;
    struct rw_state s;
    struct herr e;
    double w[5] = { 7, 7, 7, 7, 7 };
    config_for(&c, RW_INFOBATCH, 0.4);
    rw_state_init(&s, &c);
    struct rw_state before = s;

    ck_assert(rw_compute(&c, &s, -1, L5, NULL, NULL, 0, 5, w, NULL, &e) == -1);
    ck_assert_msg(strstr(e.msg, "step -1"), "%s", e.msg);
    ck_assert(rw_compute(&c, &s, 0, L5, ntok_neg, NULL, 0, 5, w, NULL, &e) == -1);
    ck_assert_msg(strstr(e.msg, "sample 2") && strstr(e.msg, "-3"), "%s", e.msg);
    ck_assert(rw_compute(&c, &s, 0, L5, NULL, dom_bad, 4, 5, w, NULL, &e) == -1);
    ck_assert_msg(strstr(e.msg, "sample 3") && strstr(e.msg, "domain id 4"), "%s", e.msg);
    ck_assert(rw_compute(&c, &s, 0, L5, NULL, dom_bad, 0, 5, w, NULL, &e) == -1);
    ck_assert_msg(strstr(e.msg, "num_domains = 0"), "%s", e.msg);
    ck_assert(rw_compute(&c, &s, 0, L5, NULL, dom_bad, RW_MAX_DOMAINS + 1, 5, w, NULL, &e) == -1);
    ck_assert(rw_compute(&c, &s, 0, L5, NULL, NULL, 0, -2, w, NULL, &e) == -1);
    ck_assert_msg(strstr(e.msg, "N = -2"), "%s", e.msg);
    ck_assert(rw_compute(&c, NULL, 0, L5, NULL, NULL, 0, 5, w, NULL, &e) == -1);
    ck_assert(rw_compute(&c, &s, 0, NULL, NULL, NULL, 0, 5, w, NULL, &e) == -1);
    for (int i = 0; i < 5; i++)
        ck_assert(w[i] == 7.0);
    ck_assert(s.rng == before.rng && s.calls == before.calls);
}
END_TEST

/* Warm-up K = 10 steps: step 9 is the last warm-up step, step 10 the first after. */
START_TEST(warmup_modes_at_their_boundaries)
{
    struct rw_config c;
    struct rw_schedule sch;
    struct rw_stats st;
    double w[5];
    config_for(&c, RW_LINUPPER, 0.4);
    c.warmup_steps = 10;
    c.r_start = 100.0;

    c.warmup_mode = RW_WARMUP_UNIFORM;
    rw_schedule_at(&c, 9, &sch);
    ck_assert(sch.strategy == RW_UNIFORM && sch.r == 0.0);
    rw_schedule_at(&c, 10, &sch);
    ck_assert(sch.strategy == RW_LINUPPER && sch.r == 0.4);
    {
        struct rw_state s;
        struct herr e;
        rw_state_init(&s, &c);
        ck_assert(rw_compute(&c, &s, 9, L5, NULL, NULL, 0, 5, w, &st, &e) == 0);
        for (int i = 0; i < 5; i++)
            ck_assert(w[i] == 0.2);
        ck_assert(st.strategy_used == RW_UNIFORM);
        ck_assert(rw_compute(&c, &s, 10, L5, NULL, NULL, 0, 5, w, &st, &e) == 0);
        assert_weights(w, shape_cases[4].w, 5, TOL); /* LinUpper at r = 0.4 */
    }

    c.warmup_mode = RW_WARMUP_R_STEP;
    rw_schedule_at(&c, 0, &sch);
    ck_assert(sch.strategy == RW_LINUPPER && sch.r == 100.0);
    rw_schedule_at(&c, 9, &sch);
    ck_assert(sch.r == 100.0);
    rw_schedule_at(&c, 10, &sch);
    ck_assert(sch.r == 0.4);

    c.warmup_mode = RW_WARMUP_R_LINEAR;
    rw_schedule_at(&c, 0, &sch);
    ck_assert(sch.r == 100.0);
    rw_schedule_at(&c, 5, &sch);
    ck_assert(fabs(sch.r - 50.2) <= 1e-12);
    rw_schedule_at(&c, 9, &sch);
    ck_assert(fabs(sch.r - (100.0 - 0.9 * 99.6)) <= 1e-12);
    rw_schedule_at(&c, 10, &sch);
    ck_assert(sch.r == 0.4);
    rw_schedule_at(&c, 1000, &sch);
    ck_assert(sch.r == 0.4);

    /* peers have no temperature: uniform during warm-up in an r-mode as well */
    c.strategy = RW_DRO;
    rw_schedule_at(&c, 9, &sch);
    ck_assert(sch.strategy == RW_UNIFORM);
    rw_schedule_at(&c, 10, &sch);
    ck_assert(sch.strategy == RW_DRO && sch.r == c.dro_tau);
    c.strategy = RW_TOPQ;
    rw_schedule_at(&c, 10, &sch);
    ck_assert(sch.strategy == RW_TOPQ && sch.r == 0.0);

    /* no warm-up at all: step 0 already reweights */
    c.strategy = RW_QUADRATIC;
    c.warmup_steps = 0;
    rw_schedule_at(&c, 0, &sch);
    ck_assert(sch.strategy == RW_QUADRATIC && sch.r == 0.4);
}
END_TEST

START_TEST(state_serializes_little_endian_and_round_trips)
{
    struct rw_config c;
    struct rw_state s = { .rng = 0x0102030405060708ull, .calls = 0x1112131415161718ull,
                          .domain_seen = 0x8000000000000005ull, .outlier_seen = 0x3ull },
                    t = { .rng = 0 };
    s.domain_mean[0] = 1.5;   /* bits 0x3FF8000000000000 */
    s.domain_mean[63] = -2.0; /* bits 0xC000000000000000 */
    s.outlier_share[1] = 0.75; /* bits 0x3FE8000000000000 */
    struct herr e;
    unsigned char buf[RW_STATE_SERIAL_SIZE + 16];
    rw_config_default(&c);
    ck_assert_int_eq(rw_state_serialize(&s, NULL, 0), RW_STATE_SERIAL_SIZE);
    memset(buf, 0xAB, sizeof buf);
    ck_assert_int_eq(rw_state_serialize(&s, buf, RW_STATE_SERIAL_SIZE - 1), RW_STATE_SERIAL_SIZE);
    ck_assert(buf[0] == 0xAB); /* too small: nothing written */
    ck_assert_int_eq(rw_state_serialize(&s, buf, sizeof buf), RW_STATE_SERIAL_SIZE);
    ck_assert(memcmp(buf, "HRWS\3\0\0\0", 8) == 0);
    for (int i = 0; i < 8; i++) {
        ck_assert_int_eq(buf[8 + i], 8 - i);  /* least significant byte first */
        ck_assert_int_eq(buf[16 + i], 0x18 - i);
    }
    ck_assert(buf[24] == 0x05 && buf[31] == 0x80);            /* domain_seen */
    ck_assert(buf[32] == 0x03 && buf[33] == 0x00);            /* outlier_seen */
    ck_assert(buf[40 + 6] == 0xF8 && buf[40 + 7] == 0x3F);    /* mean[0] = 1.5 */
    ck_assert(buf[40 + 8 * 63 + 7] == 0xC0);                  /* mean[63] = -2 */
    ck_assert(buf[552 + 8 + 6] == 0xE8 && buf[552 + 8 + 7] == 0x3F); /* share[1] = .75 */
    ck_assert(rw_state_deserialize(&t, buf, RW_STATE_SERIAL_SIZE, &e) == 0);
    ck_assert(t.rng == s.rng && t.calls == s.calls && t.domain_seen == s.domain_seen);
    ck_assert(t.outlier_seen == s.outlier_seen);
    ck_assert(memcmp(t.domain_mean, s.domain_mean, sizeof s.domain_mean) == 0);
    ck_assert(memcmp(t.outlier_share, s.outlier_share, sizeof s.outlier_share) == 0);

    /* a restored InfoBatch state continues exactly where the saved one was */
    double L[40], w1[40], w2[40];
    for (int i = 0; i < 40; i++)
        L[i] = (double)((i * 7) % 13);
    config_for(&c, RW_INFOBATCH, 1.0);
    rw_state_init(&s, &c);
    ck_assert(rw_compute(&c, &s, 0, L, NULL, NULL, 0, 40, w1, NULL, &e) == 0);
    rw_state_serialize(&s, buf, sizeof buf);
    ck_assert(rw_state_deserialize(&t, buf, RW_STATE_SERIAL_SIZE, &e) == 0);
    ck_assert(rw_compute(&c, &s, 1, L, NULL, NULL, 0, 40, w1, NULL, &e) == 0);
    ck_assert(rw_compute(&c, &t, 1, L, NULL, NULL, 0, 40, w2, NULL, &e) == 0);
    ck_assert(memcmp(w1, w2, sizeof w1) == 0);
    ck_assert(s.calls == 2 && t.calls == 2);
}
END_TEST

START_TEST(corrupt_or_short_state_is_refused)
{
    struct rw_state s = { .rng = 12345, .calls = 6 }, t = { .rng = 1, .calls = 2 };
    struct herr e;
    unsigned char good[RW_STATE_SERIAL_SIZE + 1], bad[RW_STATE_SERIAL_SIZE + 1];
    rw_state_serialize(&s, good, sizeof good);

    ck_assert(rw_state_deserialize(&t, good, RW_STATE_SERIAL_SIZE - 1, &e) == -1);
    ck_assert_msg(strstr(e.msg, "2611 bytes"), "%s", e.msg);
    ck_assert(rw_state_deserialize(&t, good, RW_STATE_SERIAL_SIZE + 1, &e) == -1);
    ck_assert(rw_state_deserialize(&t, good, 3, &e) == -1);
    ck_assert(rw_state_deserialize(&t, NULL, 28, &e) == -1);
    for (int byte = 0; byte < RW_STATE_SERIAL_SIZE; byte++) {
        memcpy(bad, good, sizeof bad);
        bad[byte] ^= 0x10;
        ck_assert_msg(rw_state_deserialize(&t, bad, RW_STATE_SERIAL_SIZE, &e) == -1,
                      "flipped byte %d accepted", byte);
    }
    memcpy(bad, good, sizeof bad);
    bad[0] = 'X';
    rw_state_deserialize(&t, bad, RW_STATE_SERIAL_SIZE, &e);
    ck_assert_msg(strstr(e.msg, "magic"), "%s", e.msg);
    memcpy(bad, good, sizeof bad);
    bad[4] = 4;
    rw_state_deserialize(&t, bad, RW_STATE_SERIAL_SIZE, &e);
    ck_assert_msg(strstr(e.msg, "version 4"), "%s", e.msg);
    memcpy(bad, good, sizeof bad);
    bad[4] = 2; /* a version-2 header on a version-3 body: wrong size for version 2 */
    rw_state_deserialize(&t, bad, RW_STATE_SERIAL_SIZE, &e);
    ck_assert_msg(strstr(e.msg, "version 2 has exactly 1068"), "%s", e.msg);
    memcpy(bad, good, sizeof bad);
    bad[4] = 1; /* a version-1 header on a version-3 body: wrong size for version 1 */
    rw_state_deserialize(&t, bad, RW_STATE_SERIAL_SIZE, &e);
    ck_assert_msg(strstr(e.msg, "version 1 has exactly 28"), "%s", e.msg);
    memcpy(bad, good, sizeof bad);
    bad[9] ^= 1;
    rw_state_deserialize(&t, bad, RW_STATE_SERIAL_SIZE, &e);
    ck_assert_msg(strstr(e.msg, "checksum"), "%s", e.msg);
    ck_assert(t.rng == 1 && t.calls == 2); /* failures leave it alone */
}
END_TEST

/* A version-1 state (heft before domain centering, 28 bytes), built by hand:
 * python: b = b'HRWS' + struct.pack('<IQQ', 1, 12345, 6); FNV-1a 32 of b,
 *         appended little-endian. It restores rng and calls, and no domain means. */
START_TEST(version_1_state_is_read)
{
    static const unsigned char v1[28] = {
        0x48, 0x52, 0x57, 0x53, 0x01, 0x00, 0x00, 0x00, 0x39, 0x30, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9f, 0x26, 0x98, 0xc5,
    };
    struct rw_state t = { .rng = 1, .calls = 2, .domain_seen = 3, .outlier_seen = 4 };
    t.domain_mean[5] = 7.0;
    t.outlier_share[2] = 1.0;
    struct herr e;
    ck_assert_msg(rw_state_deserialize(&t, v1, sizeof v1, &e) == 0, "%s", e.msg);
    ck_assert(t.rng == 12345 && t.calls == 6 && t.domain_seen == 0 && t.domain_mean[5] == 0.0);
    ck_assert(t.outlier_seen == 0 && t.outlier_share[2] == 0.0);
    unsigned char bad[28];
    memcpy(bad, v1, sizeof bad);
    bad[27] ^= 1;
    ck_assert(rw_state_deserialize(&t, bad, sizeof bad, &e) == -1);
    ck_assert_msg(strstr(e.msg, "checksum"), "%s", e.msg);
}
END_TEST

/* 14 losses of 0.1 and one a bit below: their computed mean rounds above 0.1,
 * so every sample would look "below the mean" and could all be dropped (sum 0,
 * NaN weights). The largest loss must always stay. */
START_TEST(infobatch_keeps_the_top_when_the_mean_rounds_up)
{
    double L[15], w[15];
    for (int i = 0; i < 15; i++)
        L[i] = 0.1;
    L[7] = nextafter(0.1, 0.0);
    for (uint64_t seed = 0; seed < 20; seed++) {
        struct rw_config c;
        config_for(&c, RW_INFOBATCH, 1.0);
        c.infobatch_prune = 0.99;
        c.seed = seed;
        weigh(&c, L, NULL, 15, w, NULL);
        double sum = 0.0;
        for (int i = 0; i < 15; i++) {
            ck_assert_msg(isfinite(w[i]), "seed %d: w[%d] = %g", (int)seed, i, w[i]);
            sum += w[i];
            if (i != 7)
                ck_assert(w[i] > 0.0);
        }
        ck_assert(fabs(sum - 1.0) <= 1e-15);
    }
}
END_TEST

START_TEST(infobatch_is_reproducible_from_its_seed)
{
    double L[200], a[200], b[200], d[200];
    for (int i = 0; i < 200; i++)
        L[i] = sin(0.37 * i) + 1.5;
    struct rw_config c;
    struct rw_state sa, sb, sd;
    struct herr e;
    config_for(&c, RW_INFOBATCH, 1.0);
    c.seed = 7;
    rw_state_init(&sa, &c);
    rw_state_init(&sb, &c);
    c.seed = 8;
    rw_state_init(&sd, &c);
    int differs_from_other_seed = 0, differs_between_steps = 0;
    double prev[200];
    for (long step = 0; step < 5; step++) {
        ck_assert(rw_compute(&c, &sa, step, L, NULL, NULL, 0, 200, a, NULL, &e) == 0);
        ck_assert(rw_compute(&c, &sb, step, L, NULL, NULL, 0, 200, b, NULL, &e) == 0);
        ck_assert(rw_compute(&c, &sd, step, L, NULL, NULL, 0, 200, d, NULL, &e) == 0);
        ck_assert(memcmp(a, b, sizeof a) == 0);
        differs_from_other_seed |= memcmp(a, d, sizeof a) != 0;
        if (step > 0)
            differs_between_steps |= memcmp(a, prev, sizeof a) != 0;
        memcpy(prev, a, sizeof a);
    }
    ck_assert(differs_from_other_seed);
    ck_assert(differs_between_steps); /* the RNG advances from step to step */
}
END_TEST

/* e^x against libm where libm is accurate: within 2 ulp over the range the
 * weights use (x <= 0) and a little beyond. */
START_TEST(portable_exp_is_accurate)
{
    for (int i = 0; i <= 200000; i++) {
        double x = -745.0 + i * (760.0 / 200000.0) + 1e-7 * (i % 7);
        double want = exp(x), got = rw_exp(x);
        double tol = want < 0x1p-1022 ? 0x1p-1074 : 4.5e-16 * want;
        ck_assert_msg(fabs(got - want) <= tol, "rw_exp(%.17g) = %.17g, exp = %.17g", x, got, want);
    }
    ck_assert(rw_exp(0.0) == 1.0);
    ck_assert(rw_exp(-800.0) == 0.0);
    ck_assert(isinf(rw_exp(710.0)));
    ck_assert(isnan(rw_exp(NAN)));
}
END_TEST

static Suite *reweight_suite(void)
{
    Suite *s = suite_create("reweight");
    TCase *hand = tcase_create("hand-computed");
    tcase_add_test(hand, uniform_is_exactly_one_over_n);
    tcase_add_loop_test(hand, shape_strategies_match_python, 0,
                        (int)(sizeof shape_cases / sizeof shape_cases[0]));
    tcase_add_test(hand, tiny_loss_range_is_clamped);
    tcase_add_test(hand, rng_matches_python_splitmix64);
    tcase_add_test(hand, infobatch_matches_python);
    tcase_add_test(hand, topq_keeps_highest_and_breaks_ties_by_index);
    tcase_add_test(hand, topq_count_of_decimal_q);
    tcase_add_test(hand, dro_matches_python);
    tcase_add_test(hand, stats_match_python);
    tcase_add_test(hand, names_round_trip_and_unknown_lists_valid);
    tcase_add_test(hand, portable_exp_is_accurate);
    suite_add_tcase(s, hand);

    TCase *edge = tcase_create("edge cases");
    tcase_add_test(edge, nonfinite_and_empty_get_zero_and_are_counted);
    tcase_add_test(edge, all_equal_losses_give_uniform);
    tcase_add_test(edge, one_sample_gets_weight_one);
    tcase_add_test(edge, no_valid_sample_gives_zero_weights);
    tcase_add_test(edge, bad_config_fields_are_named);
    tcase_add_test(edge, bad_inputs_fail_and_touch_nothing);
    tcase_add_test(edge, warmup_modes_at_their_boundaries);
    tcase_add_test(edge, state_serializes_little_endian_and_round_trips);
    tcase_add_test(edge, version_1_state_is_read);
    tcase_add_test(edge, corrupt_or_short_state_is_refused);
    tcase_add_test(edge, infobatch_keeps_the_top_when_the_mean_rounds_up);
    tcase_add_test(edge, infobatch_is_reproducible_from_its_seed);
    suite_add_tcase(s, edge);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reweight_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
