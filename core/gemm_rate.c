/* core/gemm_rate.c — see gemm_rate.h. */
#include "core/gemm_rate.h"

#include <time.h>

double gemm_rate_clock(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double gemm_rate_measure_shape(struct backend *be, int m, int n, int k, int reps)
{
    if (be->failed)
        return 0.0;
    dptr a = backend_alloc_floats(be, (size_t)m * k);
    dptr b = backend_alloc_floats(be, (size_t)k * n);
    dptr c = backend_alloc_floats(be, (size_t)m * n);
    double best = 0.0;
    if (!be->failed) {
        be->ops->fill(be, a, 0.5f, (size_t)m * k);
        be->ops->fill(be, b, 0.25f, (size_t)k * n);
        /* one untimed call (it may compile kernels), then `reps` rounds of
         * back-to-back calls lasting at least 0.1 s each: single calls of a
         * few milliseconds are at the mercy of thread wake-ups */
        for (int r = 0; r <= reps && !be->failed; r++) {
            double t0 = gemm_rate_clock(), dt;
            int calls = 0;
            do {
                be->ops->gemm(be, 0, 1, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n, NULL);
                be->ops->finish(be);
                calls++;
                dt = gemm_rate_clock() - t0;
            } while (r > 0 && dt < 0.1);
            double rate = 2.0 * m * n * k * calls / dt / 1e9;
            if (r > 0 && rate > best)
                best = rate;
        }
    }
    backend_release_ptr(be, a);
    backend_release_ptr(be, b);
    backend_release_ptr(be, c);
    return be->failed ? 0.0 : best;
}

double gemm_rate_measure(struct backend *be, int n, int reps)
{
    return gemm_rate_measure_shape(be, n, n, n, reps);
}
