/* backends/cpu/cpu_loss.c — fused softmax + cross-entropy on the CPU. The
 * probabilities are never stored: the backward recomputes them from the
 * logits and the saved log-sum-exp, so a (N, Vp) buffer is needed only once. */
#include <math.h>

#include "backends/cpu/cpu_internal.h"
#include "backends/cpu/cpu_math.h"

void cpu_crossentropy_forward(struct backend *be, dptr losses_p, dptr lse_p, dptr logits_p,
                              dptr targets_p, int N, int V, int Vp)
{
    if (be->failed)
        return;
    float *losses = cpu_f(losses_p);          // (N)
    float *lse = cpu_f(lse_p);                // (N)
    const float *logits = cpu_f(logits_p);    // (N, Vp)
    const int32_t *targets = cpu_i(targets_p); // (N)
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * Vp;
        float mx = z[0];
#pragma omp simd reduction(max : mx)
        for (int v = 1; v < V; v++)
            mx = z[v] > mx ? z[v] : mx;
        double sum = 0.0;
#pragma omp simd reduction(+ : sum)
        for (int v = 0; v < V; v++)
            sum += cpu_expf(z[v] - mx);
        float l = mx + (float)log(sum);
        lse[n] = l;
        int t = targets[n];
        losses[n] = t < 0 ? 0.0f : l - z[t];
    }
}

void cpu_crossentropy_backward(struct backend *be, dptr dlogits_p, dptr logits_p, dptr lse_p,
                               dptr targets_p, dptr row_scale_p, int T, int N, int V, int Vp)
{
    if (be->failed)
        return;
    float *dlogits = cpu_f(dlogits_p);          // (N, Vp), may alias logits
    const float *logits = cpu_f(logits_p);      // (N, Vp)
    const float *lse = cpu_f(lse_p);            // (N)
    const int32_t *targets = cpu_i(targets_p);  // (N)
    const float *row_scale = cpu_f(row_scale_p); // (N / T)
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (int n = 0; n < N; n++) {
        const float *z = logits + (size_t)n * Vp;
        float *dz = dlogits + (size_t)n * Vp;
        int t = targets[n];
        float s = t < 0 ? 0.0f : row_scale[n / T];
        if (s == 0.0f) {
            for (int v = 0; v < Vp; v++)
                dz[v] = 0.0f;
            continue;
        }
        float l = lse[n];
#pragma omp simd
        for (int v = 0; v < V; v++)
            dz[v] = s * cpu_expf(z[v] - l);
        dz[t] -= s;
        for (int v = V; v < Vp; v++)
            dz[v] = 0.0f;
    }
}
