/* tests/test_parity.c — backend parity: every op of BACKEND_COMPUTE_OPS on the
 * OpenCL backend against the CPU backend (the reference backend), and against
 * the float64 reference, through the case table of tests/op_cases.h: random
 * inputs in several shapes per op, odd sizes that divide no work-group size,
 * forward and backward ops, "+=" versus "=", offsets with guard bands, the
 * in-place forms backend.h allows, and gemm's transposes and batch grids.
 *
 * Tolerances: op_cases.c's per-op table of normalized errors
 * (max|got - want| / max(1, max|want|)), which the OpenCL backend meets as
 * is; every case prints its error next to its tolerance:
 *   fill, copy, embedding_forward              0 (bit-exact)
 *   add_bias, encoder_forward, rope_*, adamw   1e-6
 *   gelu_*, softmax_causal_forward, softmax_rows_forward,
 *   swiglu_*                                   5e-6
 *   col_sums, row_sums, encoder_backward, embedding_backward, layernorm_*,
 *   rmsnorm_*, softmax_causal_backward, crossentropy_*, sum_squares, gemm
 *                                              1e-5
 *
 * The run fails, naming the op, when an op has no case or either backend lacks
 * it; the last test checks that this holds for the OpenCL backend's table too
 * and that a wrong OpenCL op is caught.
 *
 * Exits 77 (SKIP) when no OpenCL platform is installed; runs without fork
 * (tests/test_opencl_common.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/cpu/cpu_backend.h"
#include "backends/opencl/opencl_backend.h"
#include "tests/op_cases.h"
#include "tests/test_opencl_common.h"

static struct backend *ocl, *cpu;

/* All cases on the OpenCL backend, expected values from ref (NULL: float64). */
static void expect_parity(struct backend *ref)
{
    struct op_cases_result res;
    int failures = op_cases_run(ocl, ref, stdout, &res);
    ck_assert_msg(failures == 0, "%d of %d cases failed; first: %s", failures, res.cases,
                  res.first);
    ck_assert_int_gt(res.cases, 100);
}

START_TEST(test_opencl_against_cpu)
{
    expect_parity(cpu);
}
END_TEST

START_TEST(test_opencl_against_f64_reference)
{
    expect_parity(NULL);
}
END_TEST

/* Every kernel launch cut into several at global offsets (a few groups per
 * launch along each dimension), and every GEMM through CLBlast in views of at
 * most 512 elements: batch grids cut down to single products, products cut
 * along m, n or k. Same cases, same tolerances: the cutting that very large
 * tensors need (past 2^30 elements per launch or per CLBlast operand) runs
 * here on small ones. */
START_TEST(test_opencl_cut_into_pieces)
{
    struct opencl_limits saved, small;
    ck_assert_int_eq(opencl_backend_limits(ocl, &saved), 0);
    small = saved;
    small.launch_items0 = 1000;
    small.launch_groups1 = 3;
    small.gemm_view_elements = 512;
    ck_assert_int_eq(opencl_backend_set_limits(ocl, &small), 0);
    struct op_cases_result res;
    int failures = op_cases_run(ocl, cpu, stdout, &res);
    ck_assert_int_eq(opencl_backend_set_limits(ocl, &saved), 0);
    ck_assert_msg(failures == 0, "%d of %d cases failed; first: %s", failures, res.cases,
                  res.first);
    ck_assert_int_gt(res.cases, 100);
}
END_TEST

/* Every case with its tensors near the end of one buffer as large as the
 * device allows in one allocation, but at most 2^32 + 4099 floats: on PoCL
 * (8 GiB) that puts every operand past byte 2^32 - 16 MiB, so offsets go to
 * the kernels as 64-bit values and every GEMM goes to CLBlast through a
 * sub-buffer view (past gemm_view_elements); a device with a larger limit
 * runs them past element 2^32. */
START_TEST(test_opencl_at_large_offsets)
{
    struct opencl_limits lim;
    ck_assert_int_eq(opencl_backend_limits(ocl, &lim), 0);
    size_t room = (size_t)1 << 22; /* floats for the largest case, guards included */
    size_t floats = (size_t)(lim.max_alloc_bytes / sizeof(float));
    size_t base = floats - room;
    if (base > ((size_t)1 << 32) + 4099)
        base = ((size_t)1 << 32) + 4099;
    printf("tensors from element %zu (max allocation %llu bytes)\n", base,
           (unsigned long long)lim.max_alloc_bytes);
    ck_assert_msg(base > lim.gemm_view_elements, "device limit too small for the test");
    struct op_cases_result res;
    int failures = op_cases_run_at(ocl, cpu, stdout, &res, base);
    ck_assert_msg(failures == 0, "%d of %d cases failed; first: %s", failures, res.cases,
                  res.first);
    ck_assert_int_gt(res.cases, 100);
}
END_TEST

/* The OpenCL backend as the harness sees it, with one member of its ops table
 * replaced. */
struct patched {
    struct backend be;
    struct backend_ops ops;
};

static void patch(struct patched *p)
{
    p->be = *ocl; /* shares the device state; nothing is destroyed through it */
    p->ops = *ocl->ops;
    p->be.ops = &p->ops;
}

/* A layernorm_backward whose dinp overwrites instead of accumulating: run
 * the real op on a zeroed dinp would need a scratch buffer, so instead add
 * nothing at all to dw and db (a plausible bug). */
static void layernorm_backward_drops_params(struct backend *be, dptr dinp, dptr dw, dptr db,
                                            dptr dout, dptr inp, dptr w, dptr mean, dptr rstd,
                                            int N, int C)
{
    (void)dw;
    (void)db;
    /* dw/db go to a scratch allocation that is thrown away */
    dptr sink = backend_alloc_floats(be, 2 * (size_t)C);
    ocl->ops->layernorm_backward(be, dinp, sink, dptr_at(sink, C), dout, inp, w, mean, rstd, N,
                                 C);
    backend_release_ptr(be, sink);
}

START_TEST(test_missing_or_wrong_opencl_op_fails)
{
    struct patched p;
    struct op_cases_result res;

    patch(&p);
    p.ops.encoder_backward = NULL;
    ck_assert_int_gt(op_cases_run(&p.be, cpu, NULL, &res), 0);
    ck_assert_msg(strstr(res.first, "opencl backend lacks op encoder_backward"), "%s",
                  res.first);

    patch(&p);
    p.ops.layernorm_backward = layernorm_backward_drops_params;
    ck_assert_int_gt(op_cases_run(&p.be, cpu, NULL, &res), 0);
    ck_assert_msg(strncmp(res.first, "layernorm_backward", 18) == 0 &&
                      strstr(res.first, "normalized error"),
                  "%s", res.first);
    ck_assert_int_eq(ocl->failed, 0);
}
END_TEST

int main(void)
{
    int skip = opencl_test_need_device();
    if (skip)
        return skip;
    struct herr err = { "" };
    cpu = cpu_backend_create(&(struct backend_options){ .name = "cpu" }, &err);
    if (!cpu) {
        fprintf(stderr, "cannot create the CPU backend: %s\n", err.msg);
        return 1;
    }
    ocl = opencl_test_backend();
    if (!ocl) {
        cpu->ops->destroy(cpu);
        return 1;
    }

    Suite *s = suite_create("parity");
    TCase *tc = tcase_create("opencl vs cpu");
    tcase_set_timeout(tc, 300); /* the first run compiles CLBlast's kernels */
    tcase_add_test(tc, test_opencl_against_cpu);
    tcase_add_test(tc, test_opencl_against_f64_reference);
    tcase_add_test(tc, test_missing_or_wrong_opencl_op_fails);
    tcase_add_test(tc, test_opencl_cut_into_pieces);
    tcase_add_test(tc, test_opencl_at_large_offsets);
    suite_add_tcase(s, tc);
    int status = opencl_test_run(s);
    ocl->ops->destroy(ocl);
    cpu->ops->destroy(cpu);
    return status;
}
