/* tests/ref/ref_ops_f64.c — see ref_ops_f64.h. Each backward sits next to its
 * forward and names the forward expression it differentiates. */
#include "tests/ref/ref_ops_f64.h"

#include <math.h>

void ref_fill(double *dst, double value, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = value;
}

void ref_copy(double *dst, const double *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

/* ---- linear algebra -------------------------------------------------------- */

/* One product of the batch. op(A)[i][p] is A[i*lda + p], or A[p*lda + i] when
 * transposed; likewise op(B)[p][j]. */
static void gemm_one(int trans_a, int trans_b, int m, int n, int k, double alpha,
                     const double *a, int lda, const double *b, int ldb, double beta, double *c,
                     int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0.0;
            for (int p = 0; p < k; p++) {
                double av = trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double bv = trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                acc += av * bv;
            }
            double *cij = &c[(size_t)i * ldc + j];
            /* BLAS convention: beta == 0 means C is write-only (may be NaN). */
            *cij = alpha * acc + (beta == 0.0 ? 0.0 : beta * *cij);
        }
}

void ref_gemm(int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a,
              int lda, const double *b, int ldb, double beta, double *c, int ldc,
              const struct gemm_batch *batch)
{
    if (!batch) {
        gemm_one(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    for (int o = 0; o < batch->outer; o++)
        for (int j = 0; j < batch->inner; j++)
            gemm_one(trans_a, trans_b, m, n, k, alpha,
                     a + o * batch->a_outer + j * batch->a_inner, lda,
                     b + o * batch->b_outer + j * batch->b_inner, ldb, beta,
                     c + o * batch->c_outer + j * batch->c_inner, ldc);
}

void ref_add_bias(double *out, const double *bias, int N, int OC)
{
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OC; o++)
            out[(size_t)i * OC + o] += bias[o];
}

void ref_col_sums(double *out, const double *in, int N, int OC)
{
    for (int o = 0; o < OC; o++) {
        double s = 0.0;
        for (int i = 0; i < N; i++)
            s += in[(size_t)i * OC + o];
        out[o] += s;
    }
}

void ref_row_sums(double *out, const double *in, int R, int K)
{
    for (int r = 0; r < R; r++) {
        double s = 0.0;
        for (int k = 0; k < K; k++)
            s += in[(size_t)r * K + k];
        out[r] = s;
    }
}

/* ---- embeddings ------------------------------------------------------------ */

void ref_encoder_forward(double *out, const int32_t *tokens, const double *wte,
                         const double *wpe, int B, int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            size_t bt = (size_t)b * T + t;
            const double *te = wte + (size_t)tokens[bt] * C, *pe = wpe + (size_t)t * C;
            for (int c = 0; c < C; c++)
                out[bt * C + c] = te[c] + pe[c];
        }
}

/* out[b,t] = wte[tokens[b,t]] + wpe[t]: both rows receive dout[b,t]. */
void ref_encoder_backward(double *dwte, double *dwpe, const double *dout,
                          const int32_t *tokens, int B, int T, int C)
{
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            size_t bt = (size_t)b * T + t;
            double *dte = dwte + (size_t)tokens[bt] * C, *dpe = dwpe + (size_t)t * C;
            for (int c = 0; c < C; c++) {
                dte[c] += dout[bt * C + c];
                dpe[c] += dout[bt * C + c];
            }
        }
}

/* ---- layer norm ------------------------------------------------------------ */

void ref_layernorm_forward(double *out, double *mean, double *rstd, const double *inp,
                           const double *w, const double *b, int N, int C)
{
    for (int i = 0; i < N; i++) {
        const double *x = inp + (size_t)i * C;
        double mu = 0.0, var = 0.0;
        for (int c = 0; c < C; c++)
            mu += x[c];
        mu /= C;
        for (int c = 0; c < C; c++)
            var += (x[c] - mu) * (x[c] - mu);
        var /= C; /* biased variance, as GPT-2 */
        double rs = 1.0 / sqrt(var + 1e-5);
        for (int c = 0; c < C; c++)
            out[(size_t)i * C + c] = (x[c] - mu) * rs * w[c] + b[c];
        mean[i] = mu;
        rstd[i] = rs;
    }
}

/* out = norm * w + b with norm = (x - mean) * rstd. Through the normalization:
 * dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)). */
void ref_layernorm_backward(double *dinp, double *dw, double *db, const double *dout,
                            const double *inp, const double *w, const double *mean,
                            const double *rstd, int N, int C)
{
    for (int i = 0; i < N; i++) {
        const double *x = inp + (size_t)i * C, *dy = dout + (size_t)i * C;
        double mean_dn = 0.0, mean_dn_n = 0.0;
        for (int c = 0; c < C; c++) {
            double norm = (x[c] - mean[i]) * rstd[i];
            double dnorm = dy[c] * w[c];
            mean_dn += dnorm;
            mean_dn_n += dnorm * norm;
        }
        mean_dn /= C;
        mean_dn_n /= C;
        for (int c = 0; c < C; c++) {
            double norm = (x[c] - mean[i]) * rstd[i];
            double dnorm = dy[c] * w[c];
            dw[c] += dy[c] * norm;
            db[c] += dy[c];
            dinp[(size_t)i * C + c] += rstd[i] * (dnorm - mean_dn - norm * mean_dn_n);
        }
    }
}

/* ---- GELU (tanh approximation) --------------------------------------------- */

#define GELU_K 0.7978845608028654 /* sqrt(2 / pi) */
#define GELU_A 0.044715

void ref_gelu_forward(double *out, const double *inp, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double x = inp[i];
        out[i] = 0.5 * x * (1.0 + tanh(GELU_K * (x + GELU_A * x * x * x)));
    }
}

/* d/dx 0.5 x (1 + tanh(u)), u = K (x + A x^3):
 * 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) K (1 + 3 A x^2). */
void ref_gelu_backward(double *dinp, const double *inp, const double *dout, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double x = inp[i];
        double th = tanh(GELU_K * (x + GELU_A * x * x * x));
        double d = 0.5 * (1.0 + th) + 0.5 * x * (1.0 - th * th) * GELU_K * (1.0 + 3.0 * GELU_A * x * x);
        dinp[i] = d * dout[i];
    }
}

/* ---- causal softmax -------------------------------------------------------- */

void ref_softmax_causal_forward(double *att, const double *pre, int R, int T)
{
    for (size_t row = 0; row < (size_t)R * T; row++) {
        int i = (int)(row % (size_t)T); /* query position: keeps columns 0..i */
        const double *x = pre + row * T;
        double *y = att + row * T;
        double mx = x[0];
        for (int j = 1; j <= i; j++)
            mx = x[j] > mx ? x[j] : mx;
        double sum = 0.0;
        for (int j = 0; j <= i; j++)
            sum += exp(x[j] - mx);
        /* Element j is read before it is written, so att may alias pre. */
        for (int j = 0; j < T; j++)
            y[j] = j <= i ? exp(x[j] - mx) / sum : 0.0;
    }
}

/* att = softmax(pre): dpre_j = att_j (datt_j - sum_k att_k datt_k). */
void ref_softmax_causal_backward(double *dpre, const double *datt, const double *att, int R,
                                 int T)
{
    for (size_t row = 0; row < (size_t)R * T; row++) {
        int i = (int)(row % (size_t)T);
        const double *a = att + row * T, *da = datt + row * T;
        double *dp = dpre + row * T;
        double dot = 0.0;
        for (int j = 0; j <= i; j++)
            dot += a[j] * da[j];
        for (int j = 0; j < T; j++)
            dp[j] = j <= i ? a[j] * (da[j] - dot) : 0.0;
    }
}

/* ---- cross-entropy --------------------------------------------------------- */

void ref_crossentropy_forward(double *losses, double *lse, const double *logits,
                              const int32_t *targets, int N, int V, int Vp)
{
    for (int i = 0; i < N; i++) {
        const double *z = logits + (size_t)i * Vp;
        double mx = z[0];
        for (int v = 1; v < V; v++)
            mx = z[v] > mx ? z[v] : mx;
        double sum = 0.0;
        for (int v = 0; v < V; v++)
            sum += exp(z[v] - mx);
        lse[i] = mx + log(sum);
        losses[i] = targets[i] < 0 ? 0.0 : lse[i] - z[targets[i]];
    }
}

/* loss = lse - z[t]: dz_v = softmax_v - [v == t], times the token's scale. */
void ref_crossentropy_backward(double *dlogits, const double *logits, const double *lse,
                               const int32_t *targets, const double *row_scale, int T, int N,
                               int V, int Vp)
{
    for (int i = 0; i < N; i++) {
        const double *z = logits + (size_t)i * Vp;
        double *dz = dlogits + (size_t)i * Vp;
        double scale = targets[i] < 0 ? 0.0 : row_scale[i / T];
        for (int v = 0; v < Vp; v++) {
            double g = v < V ? exp(z[v] - lse[i]) - (v == targets[i] ? 1.0 : 0.0) : 0.0;
            dz[v] = scale * g; /* z[v] was read first: dlogits may alias logits */
        }
    }
}

/* ---- optimizer ------------------------------------------------------------- */

void ref_adamw(double *params, const double *grads, double *m, double *v, size_t n,
               const struct adamw_args *a)
{
    for (size_t i = 0; i < n; i++) {
        double g = (double)grads[i] * a->grad_scale;
        params[i] *= 1.0 - (double)a->lr * a->weight_decay;
        m[i] = a->beta1 * m[i] + (1.0 - a->beta1) * g;
        v[i] = a->beta2 * v[i] + (1.0 - a->beta2) * g * g;
        double mhat = m[i] / a->bias_correction1, vhat = v[i] / a->bias_correction2;
        params[i] -= a->lr * mhat / (sqrt(vhat) + a->eps);
    }
}

double ref_sum_squares(const double *x, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    return s;
}
