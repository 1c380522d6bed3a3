/* backends/cpu/cpu_llama_layers.c — the LLaMA family's block layers on the
 * CPU: RMSNorm, rotary position embedding (RoPE) and SwiGLU. Their token
 * embedding sits with GPT-2's in cpu_layers.c.
 *
 * Determinism as in cpu_layers.c: each output is written by one loop
 * iteration in a fixed order; row sums are `omp simd` reductions; the RMSNorm
 * gain gradient, a sum over rows, is split by column blocks and adds the rows
 * in order, so nothing depends on the thread count. */
#include <math.h>

#include "backends/cpu/cpu_internal.h"
#include "backends/cpu/cpu_math.h"

void cpu_rmsnorm_forward(struct backend *be, dptr out_p, dptr rstd_p, dptr inp_p, dptr w_p,
                         int N, int C, float eps)
{
    if (be->failed)
        return;
    float *out = cpu_f(out_p);       // (N, C)
    float *rstd = cpu_f(rstd_p);     // (N)
    const float *inp = cpu_f(inp_p); // (N, C)
    const float *w = cpu_f(w_p);     // (C)
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        /* a sum of squares: no cancellation, so one float pass (as layernorm's
         * sums) is as accurate as the float output */
        float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
        for (int c = 0; c < C; c++)
            ss += x[c] * x[c];
        float s = 1.0f / sqrtf(ss / C + eps);
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++)
            o[c] = x[c] * s * w[c];
        rstd[n] = s;
    }
}

void cpu_rmsnorm_backward(struct backend *be, dptr dinp_p, dptr dw_p, dptr dout_p, dptr inp_p,
                          dptr w_p, dptr rstd_p, int N, int C)
{
    if (be->failed)
        return;
    float *dinp = cpu_f(dinp_p);                            // (N, C) +=
    float *dw = cpu_f(dw_p);                                // (C) +=
    const float *dout = cpu_f(dout_p), *inp = cpu_f(inp_p); // (N, C)
    const float *w = cpu_f(w_p);                            // (C)
    const float *rstd = cpu_f(rstd_p);                      // (N)
    int nt = cpu_threads(be);
    /* dinp, row by row:
     * out = norm * w, norm = x * rstd, rstd = (mean(x^2) + eps)^(-1/2), so
     * d rstd / dx_c = -rstd^3 x_c / C and, with dnorm = dout * w,
     * dx = rstd * (dnorm - norm * mean(dnorm * norm)) */
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
        float s = rstd[n];
        float dnorm_norm_mean = 0.0f;
#pragma omp simd reduction(+ : dnorm_norm_mean)
        for (int c = 0; c < C; c++)
            dnorm_norm_mean += w[c] * dy[c] * (x[c] * s);
        dnorm_norm_mean /= C;
        float *dx = dinp + (size_t)n * C;
        for (int c = 0; c < C; c++)
            dx[c] += (w[c] * dy[c] - x[c] * s * dnorm_norm_mean) * s;
    }
    /* dw = sum_n dout * norm: column blocks, rows in order */
    int blocks = (C + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int blk = 0; blk < blocks; blk++) {
        int c0 = blk * COL_BLOCK, c1 = c0 + COL_BLOCK < C ? c0 + COL_BLOCK : C;
        float aw[COL_BLOCK] = { 0 };
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
            float s = rstd[n];
            for (int c = c0; c < c1; c++)
                aw[c - c0] += dy[c] * (x[c] * s);
        }
        for (int c = c0; c < c1; c++)
            dw[c] += aw[c - c0];
    }
}

/* Rotates the pairs (i, i + hs/2) of heads 0..nh-1 of each row by the table's
 * angle of the row's position; dir = -1 flips the sine's sign, which is the
 * inverse rotation and, a rotation being orthogonal, the backward. Each pair
 * is read and written by one iteration, so in place is safe. */
static void rope_rotate(struct backend *be, dptr x_p, dptr freqs_p, int B, int T, int nh,
                        int hs, int ld, float dir)
{
    if (be->failed)
        return;
    float *x = cpu_f(x_p);               // B*T rows of ld, heads at h * hs
    const float *freqs = cpu_f(freqs_p); // (T, hs/2, 2)
    const int half = hs / 2;
    const long rows = (long)B * T;
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (long r = 0; r < rows; r++) {
        const float *f = freqs + (size_t)(r % T) * half * 2;
        for (int h = 0; h < nh; h++) {
            float *lo = x + (size_t)r * ld + (size_t)h * hs, *hi = lo + half;
#pragma omp simd
            for (int i = 0; i < half; i++) {
                float cs = f[2 * i], sn = dir * f[2 * i + 1];
                float x0 = lo[i], x1 = hi[i];
                lo[i] = x0 * cs - x1 * sn;
                hi[i] = x0 * sn + x1 * cs;
            }
        }
    }
}

void cpu_rope_forward(struct backend *be, dptr x, dptr freqs, int B, int T, int nh, int hs,
                      int ld)
{
    rope_rotate(be, x, freqs, B, T, nh, hs, ld, 1.0f);
}

void cpu_rope_backward(struct backend *be, dptr dx, dptr freqs, int B, int T, int nh, int hs,
                       int ld)
{
    rope_rotate(be, dx, freqs, B, T, nh, hs, ld, -1.0f);
}

/* The logistic function s(g) = 1 / (1 + e^-g) and 1 - s(g), both from
 * e = e^(-|g|) in (0, 1]: e^-g itself would overflow for g below -88, and
 * 1 - s computed by subtraction loses all its digits once s is near 1. */
static inline void cpu_sigmoid2f(float g, float *s, float *one_minus_s)
{
    float e = cpu_expf(-fabsf(g));
    float q = 1.0f / (1.0f + e), eq = e * q;
    *s = g >= 0.0f ? q : eq;
    *one_minus_s = g >= 0.0f ? eq : q;
}

void cpu_swiglu_forward(struct backend *be, dptr out_p, dptr inp_p, int N, int F)
{
    if (be->failed)
        return;
    float *out = cpu_f(out_p);       // (N, F)
    const float *inp = cpu_f(inp_p); // (N, 2F) = [g | u]
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (int n = 0; n < N; n++) {
        const float *g = inp + (size_t)n * 2 * F, *u = g + F;
        float *o = out + (size_t)n * F;
#pragma omp simd
        for (int f = 0; f < F; f++) {
            float s, oms;
            cpu_sigmoid2f(g[f], &s, &oms);
            o[f] = g[f] * s * u[f];
        }
    }
}

void cpu_swiglu_backward(struct backend *be, dptr dinp_p, dptr inp_p, dptr dout_p, int N, int F)
{
    if (be->failed)
        return;
    float *dinp = cpu_f(dinp_p);       // (N, 2F) = [dg | du]
    const float *inp = cpu_f(inp_p);   // (N, 2F) = [g | u]
    const float *dout = cpu_f(dout_p); // (N, F)
    /* out = g s(g) u, s' = s (1 - s): dg = dout u s (1 + g (1 - s)), du = dout g s */
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (int n = 0; n < N; n++) {
        const float *g = inp + (size_t)n * 2 * F, *u = g + F, *d = dout + (size_t)n * F;
        float *dg = dinp + (size_t)n * 2 * F, *du = dg + F;
#pragma omp simd
        for (int f = 0; f < F; f++) {
            float s, oms;
            cpu_sigmoid2f(g[f], &s, &oms);
            dg[f] = d[f] * u[f] * s * (1.0f + g[f] * oms);
            du[f] = d[f] * g[f] * s;
        }
    }
}
