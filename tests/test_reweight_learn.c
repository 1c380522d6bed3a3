/* tests/test_reweight_learn.c — reweight/'s learnability-aware rules
 * (reweight.h): reducible (loss minus a reference loss) and learnability
 * (each domain's recent loss decrease per unit of weight). Hand-computed
 * weights, missing reference losses, NaN, the cap e^(1/r), the state's
 * update, warm-up, serialization (version 3, and version 2 still read).
 *
 * Expected numbers come from /usr/bin/python3 (math.exp, numpy.quantile)
 * with reweight.h's formulas; the script lines are quoted next to them.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reweight/reweight.h"

#define TOL 1e-15

static void assert_weights(const double *got, const double *want, int N, double tol)
{
    for (int i = 0; i < N; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= tol, "w[%d] = %.17g, expected %.17g", i, got[i],
                      want[i]);
}

static void config_for(struct rw_config *c, enum rw_strategy s, double r)
{
    rw_config_default(c);
    c->strategy = s;
    c->r = r;
}

/* ------------------------------------------------------------ reducible */

/* python: L=[2,1,4,3,2.5]; ref=[1.5,.2,3.9,1,nan]; xs=[l-q for the four];
 *   med=np.quantile(xs,.5) -> 0.65 (sample 4 has no reference loss);
 *   xmin=.1, xmax=2; h=[((v-xmin)+(v-xmax))/(xmax-xmin)]; f=[.5*v+.5];
 *   softmax(f, r=0.5) */
START_TEST(reducible_matches_python)
{
    static const double L[5] = { 2.0, 1.0, 4.0, 3.0, 2.5 };
    const double ref[5] = { 1.5, 0.2, 3.9, 1.0, NAN };
    static const double want[5] = { 0.11051448005058051, 0.15155309524861474,
                                    0.07253679294116987, 0.5359784322788209,
                                    0.12941719948081384 };
    struct rw_config c;
    struct rw_state s;
    struct rw_stats st;
    struct herr e = { { 0 } };
    double w[5];
    config_for(&c, RW_REDUCIBLE, 0.5);
    rw_state_init(&s, &c);
    ck_assert_msg(rw_compute_ref(&c, &s, 0, L, ref, NULL, NULL, 0, 5, w, &st, &e) == 0, "%s",
                  e.msg);
    assert_weights(w, want, 5, TOL);
    ck_assert_int_eq(st.n_noref, 1);
    ck_assert(st.strategy_used == RW_REDUCIBLE && st.r_used == 0.5);
    /* the highest loss (4.0) is mostly explained by the reference: low weight;
     * sample 3 has the most reducible loss: the most weight */
    ck_assert(w[2] < w[0] && w[3] > w[1]);
}
END_TEST

/* No sample with a reference loss: every score is the same, weights exactly
 * uniform; the count says so. A reference past the end of the file reaches
 * reweight/ as NaN, as here. */
START_TEST(reducible_without_any_reference_is_uniform)
{
    static const double L[4] = { 1.0, 5.0, 2.0, 3.0 };
    const double ref[4] = { NAN, NAN, INFINITY, NAN };
    struct rw_config c;
    struct rw_state s;
    struct rw_stats st;
    struct herr e;
    double w[4];
    config_for(&c, RW_REDUCIBLE, 0.4);
    rw_state_init(&s, &c);
    ck_assert(rw_compute_ref(&c, &s, 0, L, ref, NULL, NULL, 0, 4, w, &st, &e) == 0);
    for (int i = 0; i < 4; i++)
        ck_assert_msg(w[i] == 0.25, "w[%d] = %.17g", i, w[i]);
    ck_assert_int_eq(st.n_noref, 4);
}
END_TEST

/* A sample without a reference loss is weighed as the median reducible loss
 * and does not widen the range: moving the missing sample's own loss changes
 * nothing. Invalid samples (NaN loss, no tokens) get 0 and their reference
 * losses are not part of the median. */
START_TEST(reducible_missing_and_invalid_samples)
{
    double L[6] = { 2.0, 1.0, 4.0, 3.0, 2.5, NAN };
    const double ref[6] = { 1.5, 0.2, 3.9, 1.0, NAN, -100.0 };
    static const int ntok[6] = { 3, 3, 3, 3, 3, 3 };
    struct rw_config c;
    struct rw_state s;
    struct herr e;
    double a[6], b[6];
    config_for(&c, RW_REDUCIBLE, 0.5);
    rw_state_init(&s, &c);
    ck_assert(rw_compute_ref(&c, &s, 0, L, ref, ntok, NULL, 0, 6, a, NULL, &e) == 0);
    ck_assert(a[5] == 0.0);
    L[4] = 1000.0; /* its score stays the median */
    ck_assert(rw_compute_ref(&c, &s, 0, L, ref, ntok, NULL, 0, 6, b, NULL, &e) == 0);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    /* the same five as reducible_matches_python: the NaN-loss sample changes nothing */
    static const double want[5] = { 0.11051448005058051, 0.15155309524861474,
                                    0.07253679294116987, 0.5359784322788209,
                                    0.12941719948081384 };
    assert_weights(a, want, 5, TOL);
}
END_TEST

START_TEST(reducible_needs_reference_losses)
{
    static const double L[3] = { 1.0, 2.0, 3.0 };
    struct rw_config c;
    struct rw_state s;
    struct herr e = { { 0 } };
    double w[3] = { 7, 7, 7 };
    config_for(&c, RW_REDUCIBLE, 0.4);
    rw_state_init(&s, &c);
    ck_assert(rw_compute(&c, &s, 0, L, NULL, NULL, 0, 3, w, NULL, &e) == -1);
    ck_assert_msg(strstr(e.msg, "--ref-losses"), "%s", e.msg);
    ck_assert(w[0] == 7 && s.calls == 0); /* untouched */
}
END_TEST

/* xorshift64*: the test's own generator. */
static double next_unit(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}

/* Random losses and reference losses (some missing): a distribution, and
 * max w / min w <= e^(1/r) at every r. */
START_TEST(reducible_keeps_the_cap)
{
    static const double rs[4] = { 0.1, 0.4, 1.0, 3.0 };
    enum { N = 97 };
    double L[N], ref[N], w[N];
    uint64_t rng = 0x5eed0700u;
    struct rw_config c;
    struct rw_state s;
    struct herr e;
    for (int t = 0; t < 40; t++) {
        for (int i = 0; i < N; i++) {
            L[i] = 0.5 + 8.0 * next_unit(&rng);
            ref[i] = next_unit(&rng) < 0.1 ? NAN : L[i] - 2.0 + 3.0 * next_unit(&rng);
        }
        config_for(&c, RW_REDUCIBLE, rs[t % 4]);
        rw_state_init(&s, &c);
        ck_assert(rw_compute_ref(&c, &s, 0, L, ref, NULL, NULL, 0, N, w, NULL, &e) == 0);
        double sum = 0, wmax = 0, wmin = 1;
        for (int i = 0; i < N; i++) {
            sum += w[i];
            wmax = fmax(wmax, w[i]);
            wmin = fmin(wmin, w[i]);
        }
        ck_assert(fabs(sum - 1.0) < 1e-12 && wmin > 0);
        ck_assert_msg(wmax / wmin <= exp(1.0 / c.r) * (1 + 1e-12), "r %g: ratio %g", c.r,
                      wmax / wmin);
    }
}
END_TEST

/* ------------------------------------------------------------ learnability */

/* A state with a history for domains 0, 1, 2 (not 3):
 * python: ef,es=.9,.98; lag=es/(1-es)-ef/(1-ef) -> 39.99999999999996
 *   fast={0:3.0,1:2.5,2:4.6}; slow={0:3.2,1:2.55,2:4.58}; share={0:1.0,1:.5,2:1.2}
 *   lam={d:(slow[d]-fast[d])/lag/max(share[d],1e-3)}
 *     -> 0.00500000000000001, 0.002499999999999994, -0.0004166666666666583
 *   f = max(lam,0)/max -> 1, 0.49999999999999784, 0; domain 3 (no history):
 *   np.quantile([0, .5, 1], .5) -> 0.49999999999999784 */
static void learn_state(struct rw_state *s, const struct rw_config *c)
{
    rw_state_init(s, c);
    static const double fast[3] = { 3.0, 2.5, 4.6 }, slow[3] = { 3.2, 2.55, 4.58 },
                        share[3] = { 1.0, 0.5, 1.2 };
    for (int d = 0; d < 3; d++) {
        s->learn_fast[d] = fast[d];
        s->learn_slow[d] = slow[d];
        s->learn_share[d] = share[d];
    }
    s->learn_seen = 0x7;
}

static const double LL[5] = { 2.9, 3.1, 2.4, 4.7, 3.5 };
static const int LD[5] = { 0, 0, 1, 2, 3 };

/* python: softmax([f[d] for d in dom], r=0.4); then the update, per domain d
 *   m = mean loss, sh = N * sum(w of d) / count:
 *   fast = ef*fast + (1-ef)*m, slow = es*slow + (1-es)*m, share = es*share + (1-es)*sh;
 *   domain 3 starts at m = 3.5, sh = 0.5395378335790731 */
START_TEST(learnability_matches_python)
{
    static const double want[5] = { 0.37663441554338944, 0.37663441554338944,
                                    0.10790756671581463, 0.03091603548159205,
                                    0.10790756671581463 };
    struct rw_config c;
    struct rw_state s;
    struct rw_stats st;
    struct herr e = { { 0 } };
    double w[5];
    config_for(&c, RW_LEARNABILITY, 0.4);
    learn_state(&s, &c);
    ck_assert_msg(rw_compute(&c, &s, 0, LL, NULL, LD, 4, 5, w, &st, &e) == 0, "%s", e.msg);
    assert_weights(w, want, 5, TOL);
    /* the statistics carry each domain's lambda (none for the new domain) */
    ck_assert(st.domain[0].has_learn && fabs(st.domain[0].learn - 0.00500000000000001) < 1e-17);
    ck_assert(fabs(st.domain[1].learn - 0.002499999999999994) < 1e-17);
    ck_assert(fabs(st.domain[2].learn + 0.0004166666666666583) < 1e-17);
    ck_assert(!st.domain[3].has_learn);
    /* the update */
    ck_assert(fabs(s.learn_fast[0] - 3.0) < TOL && fabs(s.learn_slow[0] - 3.196) < TOL);
    ck_assert(fabs(s.learn_share[0] - 1.0176634415543389) < TOL);
    ck_assert(fabs(s.learn_fast[1] - 2.4899999999999998) < TOL);
    ck_assert(fabs(s.learn_slow[1] - 2.5469999999999997) < TOL);
    ck_assert(fabs(s.learn_share[1] - 0.5007907566715815) < TOL);
    ck_assert(fabs(s.learn_fast[2] - 4.609999999999999) < TOL);
    ck_assert(fabs(s.learn_slow[2] - 4.582400000000001) < TOL);
    ck_assert(fabs(s.learn_share[2] - 1.1790916035481591) < TOL);
    ck_assert(s.learn_seen == 0xF);
    ck_assert(s.learn_fast[3] == 3.5 && s.learn_slow[3] == 3.5);
    ck_assert(fabs(s.learn_share[3] - 0.5395378335790731) < TOL);
}
END_TEST

/* learn_raw: lambda is the slope itself, not divided by the weight share.
 * python: lam={d:(slow[d]-fast[d])/lag} -> 0.00500000000000001,
 *   0.001249999999999997, -0.0004999999999999899; f -> 1, 0.24999999999999892, 0,
 *   domain 3: the median 0.24999999999999892; softmax(r=0.4) */
START_TEST(learnability_raw_matches_python)
{
    static const double want[5] = { 0.41862111580729683, 0.41862111580729683,
                                    0.0641976273352148, 0.03436251371497694,
                                    0.0641976273352148 };
    struct rw_config c;
    struct rw_state s;
    struct rw_stats st;
    struct herr e = { { 0 } };
    double w[5];
    config_for(&c, RW_LEARNABILITY, 0.4);
    c.learn_raw = 1;
    learn_state(&s, &c);
    ck_assert_msg(rw_compute(&c, &s, 0, LL, NULL, LD, 4, 5, w, &st, &e) == 0, "%s", e.msg);
    assert_weights(w, want, 5, TOL);
    ck_assert(fabs(st.domain[1].learn - 0.001249999999999997) < 1e-17);
    c.learn_raw = 2;
    ck_assert(rw_config_validate(&c, &e) == -1);
    ck_assert_msg(strstr(e.msg, "learn_raw = 2"), "%s", e.msg);
}
END_TEST

/* The cap: the most and least learnable domains are exactly e^(1/r) apart
 * (f = 1 and f = 0); nothing is further apart. */
START_TEST(learnability_cap_is_e_to_the_one_over_r)
{
    struct rw_config c;
    struct rw_state s;
    struct herr e;
    double w[5];
    config_for(&c, RW_LEARNABILITY, 0.4);
    learn_state(&s, &c);
    ck_assert(rw_compute(&c, &s, 0, LL, NULL, LD, 4, 5, w, NULL, &e) == 0);
    ck_assert(fabs(w[0] / w[3] - exp(1.0 / 0.4)) < 1e-12);
}
END_TEST

/* No domain with a history, or none whose loss falls: uniform, exactly. */
START_TEST(learnability_without_a_falling_domain_is_uniform)
{
    struct rw_config c;
    struct rw_state s;
    struct herr e;
    double w[5];
    config_for(&c, RW_LEARNABILITY, 0.4);
    rw_state_init(&s, &c);
    ck_assert(rw_compute(&c, &s, 0, LL, NULL, LD, 4, 5, w, NULL, &e) == 0);
    for (int i = 0; i < 5; i++)
        ck_assert(w[i] == 0.2);
    learn_state(&s, &c);
    for (int d = 0; d < 3; d++)
        s.learn_slow[d] = s.learn_fast[d] - 0.1; /* every loss rose */
    ck_assert(rw_compute(&c, &s, 0, LL, NULL, LD, 4, 5, w, NULL, &e) == 0);
    for (int i = 0; i < 5; i++)
        ck_assert_msg(w[i] == 0.2, "w[%d] = %.17g", i, w[i]);
}
END_TEST

/* During a uniform warm-up the weights are uniform, yet the EMAs are updated
 * (so the rule has a history when it starts) and the lambdas are reported. */
START_TEST(learnability_learns_during_warmup)
{
    struct rw_config c;
    struct rw_state s;
    struct rw_stats st;
    struct herr e;
    double w[5];
    config_for(&c, RW_LEARNABILITY, 0.4);
    c.warmup_steps = 10;
    learn_state(&s, &c);
    ck_assert(rw_compute(&c, &s, 3, LL, NULL, LD, 4, 5, w, &st, &e) == 0);
    for (int i = 0; i < 5; i++)
        ck_assert(w[i] == 0.2);
    ck_assert(st.strategy_used == RW_UNIFORM);
    ck_assert(st.domain[1].has_learn && fabs(st.domain[1].learn - 0.002499999999999994) < 1e-17);
    /* uniform weights: every domain's share moves toward exactly 1 */
    ck_assert(fabs(s.learn_share[1] - (0.98 * 0.5 + 0.02 * 1.0)) < TOL);
    ck_assert(s.learn_seen == 0xF && s.learn_slow[3] == 3.5);
}
END_TEST

/* A NaN loss or an empty row neither weighs nor moves its domain's EMAs. */
START_TEST(learnability_ignores_invalid_samples)
{
    double L[6] = { 2.9, 3.1, 2.4, 4.7, 3.5, NAN };
    int D[6] = { 0, 0, 1, 2, 3, 1 };
    int ntok[6] = { 5, 5, 5, 5, 5, 5 };
    struct rw_config c;
    struct rw_state a, b;
    struct herr e;
    double wa[6], wb[5];
    config_for(&c, RW_LEARNABILITY, 0.4);
    learn_state(&a, &c);
    learn_state(&b, &c);
    ck_assert(rw_compute(&c, &a, 0, L, ntok, D, 4, 6, wa, NULL, &e) == 0);
    ck_assert(rw_compute(&c, &b, 0, LL, NULL, LD, 4, 5, wb, NULL, &e) == 0);
    ck_assert(wa[5] == 0.0 && memcmp(wa, wb, sizeof wb) == 0);
    ck_assert(memcmp(&a, &b, sizeof a) == 0);
    L[5] = 1.0;
    ntok[5] = 0; /* empty */
    learn_state(&a, &c);
    ck_assert(rw_compute(&c, &a, 0, L, ntok, D, 4, 6, wa, NULL, &e) == 0);
    ck_assert(memcmp(&a, &b, sizeof a) == 0);
}
END_TEST

START_TEST(learnability_needs_domains_and_sane_decays)
{
    struct rw_config c;
    struct rw_state s;
    struct herr e = { { 0 } };
    double w[5];
    config_for(&c, RW_LEARNABILITY, 0.4);
    rw_state_init(&s, &c);
    ck_assert(rw_compute(&c, &s, 0, LL, NULL, NULL, 0, 5, w, NULL, &e) == -1);
    ck_assert_msg(strstr(e.msg, "domain ids"), "%s", e.msg);
    c.learn_fast = 0.98; /* not below learn_slow */
    ck_assert(rw_config_validate(&c, &e) == -1);
    ck_assert_msg(strstr(e.msg, "learn_fast = 0.98"), "%s", e.msg);
    c.learn_fast = 0.5;
    c.learn_slow = 1.0;
    ck_assert(rw_config_validate(&c, &e) == -1);
    c.learn_slow = NAN;
    ck_assert(rw_config_validate(&c, &e) == -1);
    c.learn_fast = -0.1;
    c.learn_slow = 0.5;
    ck_assert(rw_config_validate(&c, &e) == -1);
    c.learn_fast = 0.0; /* a fast "EMA" that is the last call's mean is fine */
    ck_assert(rw_config_validate(&c, &e) == 0);
}
END_TEST

/* Over many calls with random losses the weights stay a distribution within
 * the cap, and a state saved and restored mid-way continues bit for bit. */
START_TEST(learnability_is_capped_and_resumes_exactly)
{
    enum { N = 48, D = 6, CALLS = 120 };
    double L[N], wa[N], wb[N];
    int dom[N];
    uint64_t rng = 0x5eed0800u;
    struct rw_config c;
    struct rw_state a, b;
    struct herr e;
    unsigned char buf[RW_STATE_SERIAL_SIZE];
    config_for(&c, RW_LEARNABILITY, 0.7);
    c.warmup_steps = 20;
    rw_state_init(&a, &c);
    for (int t = 0; t < CALLS; t++) {
        for (int i = 0; i < N; i++) {
            dom[i] = (int)(next_unit(&rng) * D);
            /* domain d falls at its own rate; noise on top */
            L[i] = 5.0 - (0.01 * dom[i]) * t + 0.3 * next_unit(&rng);
        }
        if (t == 60) {
            ck_assert(rw_state_serialize(&a, buf, sizeof buf) == RW_STATE_SERIAL_SIZE);
            ck_assert(rw_state_deserialize(&b, buf, sizeof buf, &e) == 0);
        }
        ck_assert(rw_compute(&c, &a, t, L, NULL, dom, D, N, wa, NULL, &e) == 0);
        if (t >= 60) {
            ck_assert(rw_compute(&c, &b, t, L, NULL, dom, D, N, wb, NULL, &e) == 0);
            ck_assert(memcmp(wa, wb, sizeof wa) == 0);
        }
        double sum = 0, wmax = 0, wmin = 1;
        for (int i = 0; i < N; i++) {
            sum += wa[i];
            wmax = fmax(wmax, wa[i]);
            wmin = fmin(wmin, wa[i]);
        }
        ck_assert(fabs(sum - 1.0) < 1e-12);
        ck_assert(wmax / wmin <= exp(1.0 / c.r) * (1 + 1e-12));
    }
    /* after the warm-up the fastest-falling domain (5) outweighs the flat one (0) */
    double w5 = 0, w0 = 0;
    for (int i = 0; i < N; i++) {
        w5 = dom[i] == 5 ? wa[i] : w5;
        w0 = dom[i] == 0 ? wa[i] : w0;
    }
    ck_assert_msg(w5 > 2 * w0, "w5 %g w0 %g", w5, w0);
}
END_TEST

/* ------------------------------------------------------------ state format */

START_TEST(state_v3_round_trips_learnability)
{
    struct rw_config c;
    struct rw_state s, t;
    struct herr e;
    unsigned char buf[RW_STATE_SERIAL_SIZE];
    config_for(&c, RW_LEARNABILITY, 0.4);
    learn_state(&s, &c);
    s.learn_fast[63] = -2.0; /* bits 0xC000000000000000 */
    ck_assert_int_eq(rw_state_serialize(&s, buf, sizeof buf), 2612);
    ck_assert(memcmp(buf, "HRWS\3\0\0\0", 8) == 0);
    ck_assert(buf[1064] == 0x07 && buf[1065] == 0);         /* learn_seen */
    ck_assert(buf[1072 + 7] == 0x40 && buf[1072 + 6] == 0x08); /* fast[0] = 3.0 */
    ck_assert(buf[1072 + 8 * 63 + 7] == 0xC0);               /* fast[63] = -2 */
    ck_assert(buf[1584 + 7] == 0x40);                        /* slow[0] = 3.2 */
    ck_assert(buf[2096 + 7] == 0x3F && buf[2096 + 6] == 0xF0); /* share[0] = 1.0 */
    memset(&t, 0xAB, sizeof t);
    ck_assert(rw_state_deserialize(&t, buf, sizeof buf, &e) == 0);
    ck_assert(memcmp(&s, &t, sizeof s) == 0);
}
END_TEST

/* 32-bit FNV-1a, as reweight/rw_state.c hashes */
static uint32_t fnv1a(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 16777619u;
    }
    return h;
}

/* A version-2 state (heft before learnability): the version-3 layout up to
 * byte 1064, then its hash. It restores the domain means and outlier shares
 * and reads as no learnability history. */
START_TEST(state_v2_is_read)
{
    struct rw_config c;
    struct rw_state s, t;
    struct herr e;
    unsigned char buf[RW_STATE_SERIAL_SIZE], v2[1068];
    rw_config_default(&c);
    learn_state(&s, &c);
    s.rng = 99;
    s.calls = 7;
    s.domain_seen = 0x3;
    s.domain_mean[1] = 2.25;
    s.outlier_seen = 0x1;
    s.outlier_share[0] = 0.125;
    rw_state_serialize(&s, buf, sizeof buf);
    memcpy(v2, buf, 1064);
    v2[4] = 2;
    uint32_t h = fnv1a(v2, 1064);
    for (int i = 0; i < 4; i++)
        v2[1064 + i] = (unsigned char)(h >> (8 * i));
    memset(&t, 0xAB, sizeof t);
    ck_assert_msg(rw_state_deserialize(&t, v2, sizeof v2, &e) == 0, "%s", e.msg);
    ck_assert(t.rng == 99 && t.calls == 7 && t.domain_seen == 0x3 && t.domain_mean[1] == 2.25);
    ck_assert(t.outlier_seen == 0x1 && t.outlier_share[0] == 0.125);
    ck_assert(t.learn_seen == 0 && t.learn_fast[0] == 0.0 && t.learn_share[2] == 0.0);
    v2[100] ^= 1;
    ck_assert(rw_state_deserialize(&t, v2, sizeof v2, &e) == -1);
    ck_assert_msg(strstr(e.msg, "checksum"), "%s", e.msg);
}
END_TEST

static Suite *learn_suite(void)
{
    Suite *s = suite_create("reweight learnability-aware rules");
    TCase *red = tcase_create("reducible");
    tcase_add_test(red, reducible_matches_python);
    tcase_add_test(red, reducible_without_any_reference_is_uniform);
    tcase_add_test(red, reducible_missing_and_invalid_samples);
    tcase_add_test(red, reducible_needs_reference_losses);
    tcase_add_test(red, reducible_keeps_the_cap);
    suite_add_tcase(s, red);
    TCase *lrn = tcase_create("learnability");
    tcase_add_test(lrn, learnability_matches_python);
    tcase_add_test(lrn, learnability_raw_matches_python);
    tcase_add_test(lrn, learnability_cap_is_e_to_the_one_over_r);
    tcase_add_test(lrn, learnability_without_a_falling_domain_is_uniform);
    tcase_add_test(lrn, learnability_learns_during_warmup);
    tcase_add_test(lrn, learnability_ignores_invalid_samples);
    tcase_add_test(lrn, learnability_needs_domains_and_sane_decays);
    tcase_add_test(lrn, learnability_is_capped_and_resumes_exactly);
    suite_add_tcase(s, lrn);
    TCase *fmt = tcase_create("state format");
    tcase_add_test(fmt, state_v3_round_trips_learnability);
    tcase_add_test(fmt, state_v2_is_read);
    suite_add_tcase(s, fmt);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(learn_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
