/* tests/test_data_builtin.c — the built-in dataset: deterministic, sized, and
 * its domains really differ in the ways they are meant to. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/builtin_data.h"
#include "core/checksum.h"
#include "tests/test_data_util.h"

/* FNV-1a 64 of all generated tokens (uint16, domain by domain, train then val)
 * for BUILTIN_VERSION 1. */
#define BUILTIN_GOLDEN_HASH 0x5e981406a7cb3812ULL

struct text {
    uint16_t *tok;
    size_t n;
};

static struct text gen(int d, enum data_split split)
{
    struct text t;
    struct herr err;
    ck_assert_msg(builtin_generate(d, split, &t.tok, &t.n, &err) == 0, "%s", err.msg);
    return t;
}

static uint64_t hash_all(void)
{
    uint64_t h = FNV1A64_INIT;
    for (int d = 0; d < BUILTIN_NUM_DOMAINS; d++)
        for (int s = 0; s < DATA_NUM_SPLITS; s++) {
            struct text t = gen(d, (enum data_split)s);
            h = fnv1a64_update(h, t.tok, t.n * sizeof *t.tok);
            free(t.tok);
        }
    return h;
}

START_TEST(test_deterministic)
{
    uint64_t a = hash_all(), b = hash_all();
    ck_assert_uint_eq(a, b);
    /* The same bytes on every machine: this value was produced once by
     * BUILTIN_VERSION's generator. Change the generator on purpose only, then
     * bump BUILTIN_VERSION and update the value printed here. */
    ck_assert_msg(a == BUILTIN_GOLDEN_HASH, "builtin data hash 0x%016llx",
                  (unsigned long long)a);
}
END_TEST

START_TEST(test_fast)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hash_all();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    ck_assert_msg(s < 1.0, "generation took %.3f s", s);
}
END_TEST

START_TEST(test_sizes_and_tokens)
{
    size_t train = 0;
    for (int d = 0; d < BUILTIN_NUM_DOMAINS; d++) {
        struct text tr = gen(d, DATA_TRAIN), va = gen(d, DATA_VAL);
        train += tr.n;
        /* val is about 1/16 of train (whole documents, so not exactly). */
        ck_assert_msg(va.n * 16 > tr.n * 9 / 10 && va.n * 16 < tr.n * 12 / 10,
                      "%s: train %zu val %zu", builtin_domain_name(d), tr.n, va.n);
        struct text *both[2] = {&tr, &va};
        for (int s = 0; s < 2; s++) {
            ck_assert_uint_eq(both[s]->tok[0], BUILTIN_EOT); /* a document starts it */
            /* Counted, then asserted once: each Check assertion costs a write. */
            size_t eots = 0, outside = 0;
            for (size_t i = 0; i < both[s]->n; i++) {
                outside += both[s]->tok[i] >= BUILTIN_VOCAB_SIZE;
                eots += both[s]->tok[i] == BUILTIN_EOT;
            }
            ck_assert_uint_eq(outside, 0);
            ck_assert_uint_gt(eots, 1);
        }
        free(tr.tok);
        free(va.tok);
    }
    ck_assert_msg(train > 1500000 && train < 3000000, "train tokens %zu", train);
}
END_TEST

/* Bits per byte of the unigram distribution (EOT excluded). */
static double unigram_entropy(const struct text *t)
{
    double count[256] = {0}, total = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->tok[i] < 256) {
            count[t->tok[i]]++;
            total++;
        }
    double h = 0;
    for (int b = 0; b < 256; b++)
        if (count[b] > 0)
            h -= count[b] / total * log2(count[b] / total);
    return h;
}

static int only_bytes_from(const struct text *t, const char *allowed)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->tok[i] < 256 && !strchr(allowed, (char)t->tok[i]))
            return 0;
    return 1;
}

static int contains(const struct text *t, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= t->n; i++) {
        size_t k = 0;
        while (k < m && t->tok[i + k] == (unsigned char)needle[k])
            k++;
        if (k == m)
            return 1;
    }
    return 0;
}

START_TEST(test_domains_distinct)
{
    ck_assert_str_eq(builtin_domain_name(0), "arith");
    ck_assert_int_eq(builtin_domain_index("noise"), 4);
    ck_assert_int_eq(builtin_domain_index("nope"), -1);
    struct text t[BUILTIN_NUM_DOMAINS];
    double h[BUILTIN_NUM_DOMAINS];
    for (int d = 0; d < BUILTIN_NUM_DOMAINS; d++) {
        t[d] = gen(builtin_domain_index(builtin_domain_name(d)), DATA_TRAIN);
        h[d] = unigram_entropy(&t[d]);
    }
    const int arith = 0, prose = 1, code = 2, repeat = 3, noise = 4;
    ck_assert(only_bytes_from(&t[arith], "0123456789+-*=\n"));
    ck_assert(contains(&t[prose], " the ") && contains(&t[prose], ". "));
    ck_assert(contains(&t[code], "for (size_t i = 0; i < ") && contains(&t[code], "return "));
    ck_assert(!contains(&t[prose], "for (") && !contains(&t[code], "Anna"));
    /* Noise is near-uniform over 95 printable bytes (log2 95 = 6.57); the
     * structured domains are far below. */
    ck_assert_msg(h[noise] > 6.5, "noise entropy %.3f", h[noise]);
    for (int d = 0; d < noise; d++)
        ck_assert_msg(h[d] < 5.0, "%s entropy %.3f", builtin_domain_name(d), h[d]);
    /* Repeat is made of few distinct documents: count distinct first 80 bytes
     * of its documents. */
    int distinct = 0;
    uint64_t seen[64];
    for (size_t i = 0; i + 81 < t[repeat].n; i++)
        if (t[repeat].tok[i] == BUILTIN_EOT) {
            uint64_t hh = fnv1a64_update(FNV1A64_INIT, t[repeat].tok + i + 1, 80);
            int found = 0;
            for (int k = 0; k < distinct; k++)
                found |= seen[k] == hh;
            if (!found) {
                ck_assert_int_lt(distinct, 64);
                seen[distinct++] = hh;
            }
        }
    ck_assert_int_le(distinct, 8);
    for (int d = 0; d < BUILTIN_NUM_DOMAINS; d++)
        free(t[d].tok);
}
END_TEST

/* Every arithmetic line is correct: the rule is learnable. */
START_TEST(test_arith_correct)
{
    struct text t = gen(0, DATA_TRAIN);
    char line[64];
    size_t len = 0, lines = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (t.tok[i] == BUILTIN_EOT)
            continue;
        if (t.tok[i] != '\n') {
            if (len < sizeof line - 1)
                line[len++] = (char)t.tok[i];
            continue;
        }
        line[len] = '\0';
        long a, b, c;
        char op;
        int ok = sscanf(line, "%ld%c%ld=%ld", &a, &op, &b, &c) == 4 && strchr("+-*", op);
        long want = ok ? (op == '+' ? a + b : op == '-' ? a - b : a * b) : -1;
        if (!ok || c != want || c < 0)
            ck_abort_msg("wrong line: '%s'", line);
        len = 0;
        lines++;
    }
    ck_assert_uint_gt(lines, 10000);
    free(t.tok);
}
END_TEST

/* Validation text is new text, except for `repeat` (memorization by design). */
START_TEST(test_val_differs_from_train)
{
    for (int d = 0; d < BUILTIN_NUM_DOMAINS; d++) {
        struct text tr = gen(d, DATA_TRAIN), va = gen(d, DATA_VAL);
        /* val's first document, cut to 300 bytes (a window's worth of text) */
        char probe[301];
        size_t k = 0;
        for (size_t i = 1; i < va.n && k < 300 && va.tok[i] != BUILTIN_EOT; i++)
            probe[k++] = (char)va.tok[i];
        probe[k] = '\0';
        ck_assert_uint_gt(k, 20);
        if (d == builtin_domain_index("repeat"))
            ck_assert_msg(contains(&tr, probe), "repeat val is not train's paragraphs");
        else
            ck_assert_msg(!contains(&tr, probe), "%s val repeats train",
                          builtin_domain_name(d));
        free(tr.tok);
        free(va.tok);
    }
}
END_TEST

START_TEST(test_bad_domain)
{
    uint16_t *tok;
    size_t n;
    struct herr err;
    ck_assert_int_eq(builtin_generate(5, DATA_TRAIN, &tok, &n, &err), -1);
    ck_assert_msg_has(err.msg, "no domain 5");
}
END_TEST

static Suite *builtin_suite(void)
{
    Suite *s = suite_create("data_builtin");
    TCase *tc = tcase_create("builtin");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_deterministic);
    tcase_add_test(tc, test_fast);
    tcase_add_test(tc, test_sizes_and_tokens);
    tcase_add_test(tc, test_domains_distinct);
    tcase_add_test(tc, test_arith_correct);
    tcase_add_test(tc, test_val_differs_from_train);
    tcase_add_test(tc, test_bad_domain);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return run_suite(builtin_suite());
}
