/* backends/cpu/cpu_layers.c — the element-wise and row-wise ops of a GPT-2
 * block on the CPU, and the embeddings (with positions for GPT-2, without for
 * the LLaMA family, whose other layers are in cpu_llama_layers.c).
 *
 * Determinism: every output element is produced by exactly one loop iteration
 * with a fixed internal order, so results do not depend on the thread count.
 * Row reductions are `omp simd` reductions: the compiler may split them into
 * vector lanes, a fixed order for a given build, so still deterministic.
 * Reductions across rows (bias and norm-gain gradients, token embeddings) are
 * therefore parallelized over column blocks, never over rows. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "backends/cpu/cpu_internal.h"
#include "backends/cpu/cpu_math.h"

void cpu_add_bias(struct backend *be, dptr out_p, dptr bias_p, int N, int OC)
{
    if (be->failed)
        return;
    float *out = cpu_f(out_p);        // (N, OC)
    const float *bias = cpu_f(bias_p); // (OC)
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (int n = 0; n < N; n++) {
        float *row = out + (size_t)n * OC;
        for (int o = 0; o < OC; o++)
            row[o] += bias[o];
    }
}

void cpu_col_sums(struct backend *be, dptr out_p, dptr in_p, int N, int OC)
{
    if (be->failed)
        return;
    float *out = cpu_f(out_p);     // (OC) +=
    const float *in = cpu_f(in_p); // (N, OC)
    int blocks = (OC + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (int blk = 0; blk < blocks; blk++) {
        int o0 = blk * COL_BLOCK, o1 = o0 + COL_BLOCK < OC ? o0 + COL_BLOCK : OC;
        float acc[COL_BLOCK] = { 0 };
        for (int n = 0; n < N; n++) {
            const float *row = in + (size_t)n * OC;
            for (int o = o0; o < o1; o++)
                acc[o - o0] += row[o];
        }
        for (int o = o0; o < o1; o++)
            out[o] += acc[o - o0];
    }
}

void cpu_row_sums(struct backend *be, dptr out_p, dptr in_p, int R, int K)
{
    if (be->failed)
        return;
    float *out = cpu_f(out_p);     // (R)
    const float *in = cpu_f(in_p); // (R, K)
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (int r = 0; r < R; r++) {
        double acc = 0.0; /* these sums feed the reweighting: keep them exact-ish */
        const float *row = in + (size_t)r * K;
#pragma omp simd reduction(+ : acc)
        for (int k = 0; k < K; k++)
            acc += row[k];
        out[r] = (float)acc;
    }
}

void cpu_encoder_forward(struct backend *be, dptr out_p, dptr tokens_p, dptr wte_p,
                         dptr wpe_p, int B, int T, int C)
{
    if (be->failed)
        return;
    float *out = cpu_f(out_p);            // (B, T, C)
    const int32_t *tok = cpu_i(tokens_p); // (B, T)
    const float *wte = cpu_f(wte_p);      // (V, C)
    const float *wpe = cpu_f(wpe_p);      // (maxT, C)
    const long BT = (long)B * T; /* an int product could wrap */
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (long bt = 0; bt < BT; bt++) {
        const float *e = wte + (size_t)tok[bt] * C, *p = wpe + (size_t)(bt % T) * C;
        float *o = out + (size_t)bt * C;
        for (int c = 0; c < C; c++)
            o[c] = e[c] + p[c];
    }
}

void cpu_encoder_backward(struct backend *be, dptr dwte_p, dptr dwpe_p, dptr dout_p,
                          dptr tokens_p, int B, int T, int C)
{
    if (be->failed)
        return;
    /* the token gradient's row count B*T is an int, as every N of backend.h */
    if ((long)B * T > INT_MAX) {
        backend_fail(be, "encoder_backward: B*T = %ld rows is more than an int", (long)B * T);
        return;
    }
    float *dwpe = cpu_f(dwpe_p);       // (maxT, C) +=
    const float *dout = cpu_f(dout_p); // (B, T, C)
    int nt = cpu_threads(be);
    /* position embedding: each t owns row t of dwpe */
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int t = 0; t < T; t++)
        for (int b = 0; b < B; b++) {
            const float *d = dout + ((size_t)b * T + t) * C;
            for (int c = 0; c < C; c++)
                dwpe[(size_t)t * C + c] += d[c];
        }
    /* token embedding: the LLaMA family's embedding gradient, same loops */
    cpu_embedding_backward(be, dwte_p, dout_p, tokens_p, B * T, C);
}

void cpu_embedding_forward(struct backend *be, dptr out_p, dptr tokens_p, dptr wte_p, int N,
                           int C)
{
    if (be->failed)
        return;
    float *out = cpu_f(out_p);            // (N, C)
    const int32_t *tok = cpu_i(tokens_p); // (N)
    const float *wte = cpu_f(wte_p);      // (V, C)
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * C, wte + (size_t)tok[n] * C, (size_t)C * sizeof(float));
}

void cpu_embedding_backward(struct backend *be, dptr dwte_p, dptr dout_p, dptr tokens_p, int N,
                            int C)
{
    if (be->failed)
        return;
    float *dwte = cpu_f(dwte_p);          // (V, C) +=
    const float *dout = cpu_f(dout_p);    // (N, C)
    const int32_t *tok = cpu_i(tokens_p); // (N)
    /* a token may repeat, so split by channel block and walk the positions in
     * order (no atomics, fixed summation order) */
    int blocks = (C + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (int blk = 0; blk < blocks; blk++) {
        int c0 = blk * COL_BLOCK, c1 = c0 + COL_BLOCK < C ? c0 + COL_BLOCK : C;
        for (int n = 0; n < N; n++) {
            float *w = dwte + (size_t)tok[n] * C;
            const float *d = dout + (size_t)n * C;
            for (int c = c0; c < c1; c++)
                w[c] += d[c];
        }
    }
}

void cpu_layernorm_forward(struct backend *be, dptr out_p, dptr mean_p, dptr rstd_p,
                           dptr inp_p, dptr w_p, dptr b_p, int N, int C)
{
    if (be->failed)
        return;
    float *out = cpu_f(out_p);       // (N, C)
    float *mean = cpu_f(mean_p);     // (N)
    float *rstd = cpu_f(rstd_p);     // (N)
    const float *inp = cpu_f(inp_p); // (N, C)
    const float *w = cpu_f(w_p), *b = cpu_f(b_p); // (C)
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float m = 0.0f;
#pragma omp simd reduction(+ : m)
        for (int c = 0; c < C; c++)
            m += x[c];
        m /= C;
        float var = 0.0f; /* two passes: no cancellation for large means */
#pragma omp simd reduction(+ : var)
        for (int c = 0; c < C; c++)
            var += (x[c] - m) * (x[c] - m);
        var /= C;
        float s = 1.0f / sqrtf(var + 1e-5f);
        float *o = out + (size_t)n * C;
        for (int c = 0; c < C; c++)
            o[c] = (x[c] - m) * s * w[c] + b[c];
        mean[n] = m;
        rstd[n] = s;
    }
}

void cpu_layernorm_backward(struct backend *be, dptr dinp_p, dptr dw_p, dptr db_p,
                            dptr dout_p, dptr inp_p, dptr w_p, dptr mean_p, dptr rstd_p,
                            int N, int C)
{
    if (be->failed)
        return;
    float *dinp = cpu_f(dinp_p);                           // (N, C) +=
    float *dw = cpu_f(dw_p), *db = cpu_f(db_p);            // (C) +=
    const float *dout = cpu_f(dout_p), *inp = cpu_f(inp_p); // (N, C)
    const float *w = cpu_f(w_p);                           // (C)
    const float *mean = cpu_f(mean_p), *rstd = cpu_f(rstd_p); // (N)
    int nt = cpu_threads(be);
    /* dinp, row by row:
     * out = norm * w + b, norm = (x - mean) * rstd
     * dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)), dnorm = dout * w */
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
        float m = mean[n], s = rstd[n];
        float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
#pragma omp simd reduction(+ : dnorm_mean, dnorm_norm_mean)
        for (int c = 0; c < C; c++) {
            float dnorm = w[c] * dy[c];
            dnorm_mean += dnorm;
            dnorm_norm_mean += dnorm * (x[c] - m) * s;
        }
        dnorm_mean /= C;
        dnorm_norm_mean /= C;
        float *dx = dinp + (size_t)n * C;
        for (int c = 0; c < C; c++) {
            float norm = (x[c] - m) * s;
            dx[c] += (w[c] * dy[c] - dnorm_mean - norm * dnorm_norm_mean) * s;
        }
    }
    /* dw = sum_n dout * norm, db = sum_n dout: column blocks, rows in order */
    int blocks = (C + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int blk = 0; blk < blocks; blk++) {
        int c0 = blk * COL_BLOCK, c1 = c0 + COL_BLOCK < C ? c0 + COL_BLOCK : C;
        float aw[COL_BLOCK] = { 0 }, ab[COL_BLOCK] = { 0 };
        for (int n = 0; n < N; n++) {
            const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
            float m = mean[n], s = rstd[n];
            for (int c = c0; c < c1; c++) {
                aw[c - c0] += dy[c] * (x[c] - m) * s;
                ab[c - c0] += dy[c];
            }
        }
        for (int c = c0; c < c1; c++) {
            dw[c] += aw[c - c0];
            db[c] += ab[c - c0];
        }
    }
}

#define GELU_SCALE 0.7978845608028654f /* sqrt(2 / pi) */

void cpu_gelu_forward(struct backend *be, dptr out_p, dptr inp_p, size_t n)
{
    if (be->failed)
        return;
    float *out = cpu_f(out_p);
    const float *x = cpu_f(inp_p);
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        out[i] = 0.5f * v * (1.0f + cpu_tanhf(GELU_SCALE * (v + 0.044715f * v * v * v)));
    }
}

void cpu_gelu_backward(struct backend *be, dptr dinp_p, dptr inp_p, dptr dout_p, size_t n)
{
    if (be->failed)
        return;
    float *dinp = cpu_f(dinp_p);
    const float *x = cpu_f(inp_p), *dout = cpu_f(dout_p);
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float u = GELU_SCALE * (v + 0.044715f * v * v * v);
        float th = cpu_tanhf(u), sech2 = cpu_sech2f(u);
        float grad = 0.5f * (1.0f + th) +
                     0.5f * v * sech2 * GELU_SCALE * (1.0f + 3.0f * 0.044715f * v * v);
        dinp[i] = grad * dout[i];
    }
}

void cpu_softmax_causal_forward(struct backend *be, dptr att_p, dptr pre_p, int R, int T)
{
    if (be->failed)
        return;
    float *att = cpu_f(att_p);       // (R, T, T)
    const float *pre = cpu_f(pre_p); // (R, T, T), may alias att
    long rows = (long)R * T;
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (long r = 0; r < rows; r++) {
        int i = (int)(r % T);
        const float *x = pre + (size_t)r * T;
        float *y = att + (size_t)r * T;
        float mx = x[0];
#pragma omp simd reduction(max : mx)
        for (int j = 1; j <= i; j++)
            mx = x[j] > mx ? x[j] : mx;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int j = 0; j <= i; j++) {
            y[j] = cpu_expf(x[j] - mx);
            sum += y[j];
        }
        float inv = 1.0f / sum;
        for (int j = 0; j <= i; j++)
            y[j] *= inv;
        for (int j = i + 1; j < T; j++)
            y[j] = 0.0f;
    }
}

/* The causal forward's loops without the mask: every row keeps all n columns. */
void cpu_softmax_rows_forward(struct backend *be, dptr out_p, dptr inp_p, int R, int n, int ld)
{
    if (be->failed || n <= 0)
        return;
    float *out = cpu_f(out_p);       // (R, ld), first n columns
    const float *inp = cpu_f(inp_p); // (R, ld), may alias out
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be)) if (R > 1)
    for (int r = 0; r < R; r++) {
        const float *x = inp + (size_t)r * ld;
        float *y = out + (size_t)r * ld;
        float mx = x[0];
#pragma omp simd reduction(max : mx)
        for (int j = 1; j < n; j++)
            mx = x[j] > mx ? x[j] : mx;
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int j = 0; j < n; j++) {
            y[j] = cpu_expf(x[j] - mx);
            sum += y[j];
        }
        float inv = 1.0f / sum;
        for (int j = 0; j < n; j++)
            y[j] *= inv;
    }
}

void cpu_softmax_causal_backward(struct backend *be, dptr dpre_p, dptr datt_p, dptr att_p,
                                 int R, int T)
{
    if (be->failed)
        return;
    float *dpre = cpu_f(dpre_p);                           // (R, T, T)
    const float *datt = cpu_f(datt_p), *att = cpu_f(att_p); // (R, T, T), datt may alias dpre
    long rows = (long)R * T;
#pragma omp parallel for schedule(static) num_threads(cpu_threads(be))
    for (long r = 0; r < rows; r++) {
        int i = (int)(r % T);
        const float *a = att + (size_t)r * T, *da = datt + (size_t)r * T;
        float *dp = dpre + (size_t)r * T;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int j = 0; j <= i; j++)
            dot += a[j] * da[j];
        for (int j = 0; j <= i; j++)
            dp[j] = a[j] * (da[j] - dot);
        for (int j = i + 1; j < T; j++)
            dp[j] = 0.0f;
    }
}
