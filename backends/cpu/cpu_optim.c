/* backends/cpu/cpu_optim.c — AdamW and the gradient norm on the CPU. */
#include <math.h>

#include "backends/cpu/cpu_internal.h"

void cpu_adamw(struct backend *be, dptr params_p, dptr grads_p, dptr m_p, dptr v_p, size_t n,
               const struct adamw_args *a)
{
    if (be->failed)
        return;
    float *p = cpu_f(params_p), *m = cpu_f(m_p), *v = cpu_f(v_p);
    const float *g = cpu_f(grads_p);
    const float decay = 1.0f - a->lr * a->weight_decay;
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (size_t i = 0; i < n; i++) {
        float gi = g[i] * a->grad_scale;
        float mi = a->beta1 * m[i] + (1.0f - a->beta1) * gi;
        float vi = a->beta2 * v[i] + (1.0f - a->beta2) * gi * gi;
        float mhat = mi / a->bias_correction1;
        float vhat = vi / a->bias_correction2;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - a->lr * mhat / (sqrtf(vhat) + a->eps);
    }
}

/* Chunked so that the summation order depends on n alone, not on the thread
 * count: at most MAX_CHUNKS partial sums, added in order at the end. */
enum { MIN_CHUNK = 1 << 16, MAX_CHUNKS = 4096 };

double cpu_sum_squares(struct backend *be, dptr x_p, size_t n)
{
    if (be->failed || n == 0)
        return 0.0;
    const float *x = cpu_f(x_p);
    size_t chunk = (n + MAX_CHUNKS - 1) / MAX_CHUNKS;
    if (chunk < MIN_CHUNK)
        chunk = MIN_CHUNK;
    long chunks = (long)((n + chunk - 1) / chunk);
    double partial[MAX_CHUNKS];
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (long c = 0; c < chunks; c++) {
        size_t i0 = (size_t)c * chunk, i1 = i0 + chunk < n ? i0 + chunk : n;
        double acc = 0.0;
#pragma omp simd reduction(+ : acc)
        for (size_t i = i0; i < i1; i++)
            acc += (double)x[i] * x[i];
        partial[c] = acc;
    }
    double total = 0.0;
    for (long c = 0; c < chunks; c++)
        total += partial[c];
    return total;
}
