/* tests/test_mpi_plan.c — the planner (core/plan.h, models/model_plan.h):
 * parameter counts against GPT-2's published size and an independent count,
 * ZeRO-1 shards, ZeRO-2/3's layout (core/zero_layout.h) and per-rank memory,
 * the exchange volume, the time model, and its errors.
 * (tests/test_mpi_rss.sh checks its memory prediction against a real run.) */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/plan.h"
#include "core/train_memory.h"
#include "core/zero_layout.h"

static struct plan_request request(const char *model, int W, int zero1)
{
    struct plan_request q;
    memset(&q, 0, sizeof q);
    q.model = model;
    q.ranks = W;
    q.batch = 4;
    q.seq = 256;
    q.grad_accum = 1;
    q.zero = zero1;
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
    q.zero = 0;
    ck_assert_double_eq(planned(&q).optimizer, whole);
}
END_TEST

/* Every element of the flat buffer has exactly one owner, in a piece that sits
 * at the same place of every rank's shard; slices cover [0, P) in order; a
 * group's gathered buffer holds its slices one after another. */
START_TEST(zero_layout_covers_the_buffer)
{
    static const char *const models[] = { "tiny", "llama-tiny", "gpt2" };
    for (int m = 0; m < 3; m++)
        for (int W = 1; W <= 5; W++) {
            struct plan_request q = request(models[m], W, 3);
            struct plan p = planned(&q);
            struct zero_layout z;
            struct herr err = { { 0 } };
            ck_assert_msg(zero_layout_build(&z, &p.shape.config, W, &err) == 0, "%s", err.msg);
            ck_assert_uint_eq(z.num_params, p.shape.num_params);
            size_t next = 0, shard = 0;
            for (int i = 0; i < z.nslices; i++) {
                const struct zero_slice *s = &z.slices[z.flat_order[i]];
                ck_assert_uint_eq(s->flat, next);
                next += s->count;
                size_t owned = 0;
                for (int k = 0; k < W; k++)
                    owned += zero_piece_valid(s, k);
                ck_assert_uint_eq(owned, s->count);
                ck_assert_uint_eq(s->piece % TRAIN_SHARD_ALIGN, 0);
                ck_assert_uint_ge(s->piece * W, s->count);
                ck_assert_uint_lt(s->piece * W, s->count + W * TRAIN_SHARD_ALIGN);
            }
            ck_assert_uint_eq(next, p.shape.num_params);
            for (int g = 0; g < z.ngroups; g++) {
                const struct zero_group *grp = &z.groups[g];
                ck_assert_uint_eq(grp->shard, shard);
                size_t local = 0;
                for (int i = grp->first; i < grp->first + grp->count; i++) {
                    ck_assert_uint_eq(z.slices[i].shard, shard);
                    ck_assert_uint_eq(z.slices[i].local, local);
                    shard += z.slices[i].piece;
                    local += z.slices[i].count;
                }
                ck_assert_uint_eq(local, grp->floats);
            }
            ck_assert_uint_eq(shard, z.shard_floats);
            /* the plan's shards are the layout's */
            ck_assert_double_eq(p.weights, 4.0 * (double)z.shard_floats);
            ck_assert_double_eq(p.optimizer, 8.0 * (double)z.shard_floats);
            zero_layout_free(&z);
        }
}
END_TEST

/* What each stage keeps per rank, and what its exchange moves. */
START_TEST(stages_memory_and_exchange)
{
    for (int W = 1; W <= 8; W *= 2) {
        struct plan p[4];
        for (int z = 0; z < 4; z++) {
            struct plan_request q = request("gpt2", W, z);
            p[z] = planned(&q);
        }
        double P = 4.0 * (double)p[0].shape.num_params;
        ck_assert_double_eq(p[0].weights, P);
        ck_assert_double_eq(p[2].weights, P);             /* stage 2: weights whole */
        ck_assert(p[2].grads >= P / W && p[2].grads < P / W + 1e6);
        ck_assert_double_eq(p[3].weights, p[3].grads);    /* stage 3: both shards */
        ck_assert_double_eq(p[3].optimizer, p[2].optimizer);
        ck_assert(p[3].gathered_weights > 0 && p[2].gathered_weights == 0);
        ck_assert(p[2].gathered_grads > 0 && p[1].gathered_grads == 0);
        if (W == 1) {
            ck_assert_double_eq(p[0].comm_bytes, 0.0);
            ck_assert_double_eq(p[3].comm_bytes, 0.0);
            continue;
        }
        /* 0 and 1 move 2 (W-1)/W of the gradients; 2 a reduce-scatter and an
         * all-gather of the padded shards; 3 reduce-scatters once and gathers
         * the outer group once, the 12 layers in the forward and 10 of them
         * again in the backward (it starts with the last two still gathered) */
        double dp = 2.0 * (W - 1) / W * P;
        ck_assert_double_eq_tol(p[0].comm_bytes, dp, 1.0);
        ck_assert(p[1].comm_bytes >= dp && p[1].comm_bytes < dp * 1.001);
        ck_assert(p[2].comm_bytes >= dp && p[2].comm_bytes < dp * 1.001);
        struct zero_layout z;
        struct herr err = { { 0 } };
        ck_assert(zero_layout_build(&z, &p[3].shape.config, W, &err) == 0);
        double pieces = (double)z.shard_floats + (double)z.groups[12].pieces +
                        22.0 * (double)z.groups[0].pieces;
        ck_assert_double_eq_tol(p[3].comm_bytes, 4.0 * (W - 1) * pieces, 1.0);
        /* GPT-2's tied embedding (a third of it) is gathered once: 1.28x, not 1.5x */
        ck_assert_msg(p[3].comm_bytes > 1.25 * dp && p[3].comm_bytes < 1.5 * dp, "%g",
                      p[3].comm_bytes / dp);
        zero_layout_free(&z);
    }
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
    tcase_add_test(tc, zero_layout_covers_the_buffer);
    tcase_add_test(tc, stages_memory_and_exchange);
    tcase_add_test(tc, exchange_and_time);
    tcase_add_test(tc, errors_name_the_problem);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
