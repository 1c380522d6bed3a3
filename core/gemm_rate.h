/* core/gemm_rate.h — the matrix-multiply rate a backend actually reaches, the
 * ceiling that MFU and benchmark figures are stated against. */
#ifndef HEFT_CORE_GEMM_RATE_H
#define HEFT_CORE_GEMM_RATE_H

#include "backends/backend.h"

/* GFLOP/s of an n x n x n sgemm on the backend: one untimed warm-up call (it
 * may compile kernels), then the best of `reps` rounds of back-to-back calls
 * of at least 0.1 s each. Returns 0 when the buffers cannot be allocated (the
 * caller then reports no MFU). */
double gemm_rate_measure(struct backend *be, int n, int reps);

/* Same, for an (m, k) x (k, n) product, e.g. a model's own GEMM shapes. */
double gemm_rate_measure_shape(struct backend *be, int m, int n, int k, int reps);

/* Monotonic seconds. */
double gemm_rate_clock(void);

#endif
