/* tests/test_mpi_plan.c — the planner (core/plan.h, models/model_plan.h):
 * parameter counts against GPT-2's published size and an independent count,
 * ZeRO-1 shards, the exchange volume, the time model, and its errors.
 * (tests/test_mpi_rss.sh checks its memory prediction against a real run.) */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "core/train_memory.h"

static struct plan_request request(const char *model, int W, int zero1)
{
    struct plan_request q;
    memset(&q, 0, sizeof q);
    q.model = model;
    q.ranks = W;
    q.batch = 4;
    q.seq = 256;
    q.grad_accum = 1;
    q.zero1 = zero1;
    q.efficiency = 1.0;
    q.link_gbps = 10.0;
    return q;
}

static struct plan planned(const struct plan_request *q)
{
    struct plan p;
    struct herr err = { { 0 } };
    ck_assert_msg(plan_compute(q, &p, &err) == 0, "%s", err.msg);
    return p;
}

/* GPT-2 counted by hand: token and position tables, per layer 12 C^2 of
 * matrices plus 13 C of biases and gains, and the final layer norm. */
static size_t hand_count(size_t L, size_t C, size_t Vp, size_t maxT)
{
    return Vp * C + maxT * C + L * (12 * C * C + 13 * C) + 2 * C;
}

START_TEST(gpt2_parameter_counts)
{
    static const struct { const char *name; size_t L, C; } sizes[] = {
        { "gpt2", 12, 768 }, { "gpt2-medium", 24, 1024 },
        { "gpt2-large", 36, 1280 }, { "gpt2-xl", 48, 1600 },
    };
    for (int i = 0; i < 4; i++) {
        struct plan_request q = request(sizes[i].name, 1, 0);
        struct plan p = planned(&q);
        ck_assert_uint_eq(p.shape.num_params, hand_count(sizes[i].L, sizes[i].C, 50304, 1024));
        ck_assert_double_eq(p.weights, 4.0 * (double)p.shape.num_params);
        ck_assert_double_eq(p.optimizer, 8.0 * (double)p.shape.num_params);
    }
    /* llm.c's figure for GPT-2 124M with the vocabulary padded to 50304 */
    struct plan_request q = request("gpt2", 1, 0);
    ck_assert_uint_eq(planned(&q).shape.num_params, 124475904);
    /* the full-width check's model: 2 layers of GPT-2 XL on 257 byte tokens */
    q = request("gpt2-xl", 1, 0);
    q.ov.layers = 2;
    q.ov.vocab = 257;
    ck_assert_uint_eq(planned(&q).shape.num_params, hand_count(2, 1600, 320, 1024));
}
END_TEST

START_TEST(zero1_shards_cover_the_buffer)
{
    static const size_t sizes[] = { 1, 15, 16, 17, 1000, 124475904 };
    for (int s = 0; s < 6; s++)
        for (int W = 1; W <= 9; W++) {
            size_t P = sizes[s], next = 0, first = 0;
            for (int k = 0; k < W; k++) {
                size_t lo, hi;
                train_shard_range(P, W, k, &lo, &hi);
                ck_assert_uint_eq(lo, next); /* consecutive, in rank order */
                ck_assert_uint_le(lo, hi);
                if (k == 0)
                    first = hi;
                ck_assert_uint_le(hi - lo, first); /* none larger than rank 0's */
                next = hi;
            }
            ck_assert_uint_eq(next, P);
            ck_assert_uint_le(first, (P + W - 1) / W + TRAIN_SHARD_ALIGN);
        }
    struct plan_request q = request("gpt2", 8, 1);
    struct plan p = planned(&q);
    double whole = 8.0 * (double)p.shape.num_params;
    ck_assert(p.optimizer >= whole / 8 && p.optimizer <= whole / 8 + 8.0 * TRAIN_SHARD_ALIGN);
    q.zero1 = 0;
    ck_assert_double_eq(planned(&q).optimizer, whole);
}
END_TEST

START_TEST(exchange_and_time)
{
    struct plan_request q = request("gpt2", 1, 0);
    q.gemm_gflops = 100.0;
    q.efficiency = 0.5;
    struct plan p = planned(&q);
    ck_assert_double_eq(p.comm_bytes, 0.0);
    ck_assert_double_eq(p.host_stage, 0.0);
    ck_assert_double_eq_tol(p.step_s, p.flops_rank / 100e9 / 0.5, 1e-12);
    for (int W = 2; W <= 8; W *= 2) {
        q.ranks = W;
        p = planned(&q);
        double P = (double)p.shape.num_params;
        ck_assert_double_eq_tol(p.comm_bytes, 2.0 * (W - 1) / W * 4.0 * P, 1.0);
        ck_assert_double_eq_tol(p.step_s, p.flops_rank / 50e9 + p.comm_bytes / 10e9, 1e-12);
        ck_assert_double_eq(p.flops_total, W * p.flops_rank);
        ck_assert_double_eq(p.tokens_per_step, W * 4.0 * 256.0);
        ck_assert(p.host_stage > 0);
    }
    /* K micro-batches: K times the work, the same memory */
    q.grad_accum = 3;
    struct plan p3 = planned(&q);
    ck_assert_double_eq(p3.flops_rank, 3 * p.flops_rank);
    ck_assert_double_eq(p3.activations, p.activations);
}
END_TEST

START_TEST(errors_name_the_problem)
{
    struct herr err = { { 0 } };
    struct plan p;
    struct plan_request q = request("gpt3", 1, 0);
    ck_assert_int_eq(plan_compute(&q, &p, &err), -1);
    ck_assert_msg(strstr(err.msg, "unknown model 'gpt3'") && strstr(err.msg, "gpt2-xl"), "%s",
                  err.msg);
    q = request("gpt2", 1, 0);
    q.seq = 2048;
    ck_assert_int_eq(plan_compute(&q, &p, &err), -1);
    ck_assert_msg(strstr(err.msg, "--seq 2048") && strstr(err.msg, "1024"), "%s", err.msg);
    q = request("gpt2", 0, 0);
    ck_assert_int_eq(plan_compute(&q, &p, &err), -1);
    ck_assert_msg(strstr(err.msg, "--ranks 0"), "%s", err.msg);
    q = request("gpt2", 1, 0);
    q.ov.heads = 7;
    ck_assert_int_eq(plan_compute(&q, &p, &err), -1);
    ck_assert_msg(strstr(err.msg, "not divisible"), "%s", err.msg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("plan");
    tcase_add_test(tc, gpt2_parameter_counts);
    tcase_add_test(tc, zero1_shards_cover_the_buffer);
    tcase_add_test(tc, exchange_and_time);
    tcase_add_test(tc, errors_name_the_problem);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
