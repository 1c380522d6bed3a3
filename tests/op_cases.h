/* tests/op_cases.h — the op parity cases: every compute op of backends/backend.h
 * (BACKEND_COMPUTE_OPS) on random inputs of several shapes, compared with the
 * float64 reference (tests/ref/ref_ops_f64.h) or with another backend.
 *
 * Reusable by every backend's test: test_cpu_ops runs it on the CPU backend
 * against the float64 reference; an OpenCL test runs the same cases on its
 * backend, against the reference or against the CPU backend.
 *
 * What each case checks
 *  - the outputs, by normalized error max|got - want| / max(max|want|, 1)
 *    against a per-op tolerance (listed in op_cases.c and printed per case);
 *  - "+=" outputs are pre-filled with random values, "=" outputs with
 *    garbage, so accumulation versus overwrite is observed;
 *  - every tensor sits at a non-zero offset in its own buffer between guard
 *    bands that must come back bit-identical, and inputs must be unchanged
 *    (catches out-of-bounds writes, ignored offsets, clobbered inputs);
 *  - the in-place forms backend.h allows (gelu, softmax, crossentropy_backward
 *    with dlogits = logits, gelu_backward with dinp = dout), and rope, which is
 *    in place only: on heads inside wider rows (q or k of a fused qkv row),
 *    whose columns outside the heads must come back unchanged;
 *  - gemm with beta = 0 does not read C (BLAS convention; models write
 *    products into uninitialized activation memory), all four transpose
 *    combinations, padded leading dimensions, the two-level batch grid.
 * The run fails, naming the op, when an op of BACKEND_COMPUTE_OPS has no case
 * here or the backend lacks it.
 */
#ifndef HEFT_TESTS_OP_CASES_H
#define HEFT_TESTS_OP_CASES_H

#include <stdio.h>

#include "backends/backend.h"

struct op_cases_result {
    int cases;           /* cases run */
    int failures;        /* cases that failed (plus missing ops) */
    char first[1024];    /* the first failure, for an assertion message */
};

/* Runs all cases on `be`. Expected values come from `ref` when it is not NULL
 * (another backend, same float32 inputs), else from the float64 reference.
 * One line per case goes to `log` (NULL for none): op, shape, normalized
 * error and tolerance, and the details of any failure. Returns failures. */
int op_cases_run(struct backend *be, struct backend *ref, FILE *log,
                 struct op_cases_result *res);

/* The same cases with be's tensors (not ref's) at element offsets of base and
 * more: each case's tensors, guards included, follow one another from
 * element `base` of one buffer allocated at base + their size. With base past
 * 2^31 every op indexes past 2^31 elements and 8 GiB. On the CPU backend
 * the pages below base are never touched: they cost address space, not
 * memory. */
int op_cases_run_at(struct backend *be, struct backend *ref, FILE *log,
                    struct op_cases_result *res, size_t base);

#endif
