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

void ref_softmax_rows_forward(double *out, const double *inp, int R, int n, int ld)
{
    for (size_t row = 0; row < (size_t)R; row++) {
        const double *x = inp + row * ld;
        double *y = out + row * ld;
        double mx = x[0];
        for (int j = 1; j < n; j++)
            mx = x[j] > mx ? x[j] : mx;
        double sum = 0.0;
        for (int j = 0; j < n; j++)
            sum += exp(x[j] - mx);
        /* Element j is read before it is written, so out may alias inp. */
        for (int j = 0; j < n; j++)
            y[j] = exp(x[j] - mx) / sum;
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

/* ---- LLaMA family: embedding, RMSNorm, RoPE, SwiGLU -------------------------- */

void ref_embedding_forward(double *out, const int32_t *tokens, const double *wte, int N, int C)
{
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++)
            out[(size_t)i * C + c] = wte[(size_t)tokens[i] * C + c];
}

/* out[n] = wte[tokens[n]]: row tokens[n] receives dout[n]. */
void ref_embedding_backward(double *dwte, const double *dout, const int32_t *tokens, int N,
                            int C)
{
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++)
            dwte[(size_t)tokens[i] * C + c] += dout[(size_t)i * C + c];
}

void ref_rmsnorm_forward(double *out, double *rstd, const double *inp, const double *w, int N,
                         int C, double eps)
{
    for (int i = 0; i < N; i++) {
        const double *x = inp + (size_t)i * C;
        double ms = 0.0;
        for (int c = 0; c < C; c++)
            ms += x[c] * x[c];
        double rs = 1.0 / sqrt(ms / C + eps);
        for (int c = 0; c < C; c++)
            out[(size_t)i * C + c] = x[c] * rs * w[c];
        rstd[i] = rs;
    }
}

/* out = norm * w with norm = x * rstd, rstd = (mean(x^2) + eps)^(-1/2), so
 * d rstd / dx_c = -rstd^3 x_c / C. With dnorm = dout * w:
 * dx = rstd * dnorm - x rstd^3 mean(dnorm * x) = rstd * (dnorm - norm * mean(dnorm * norm)). */
void ref_rmsnorm_backward(double *dinp, double *dw, const double *dout, const double *inp,
                          const double *w, const double *rstd, int N, int C)
{
    for (int i = 0; i < N; i++) {
        const double *x = inp + (size_t)i * C, *dy = dout + (size_t)i * C;
        double mean_dn_n = 0.0;
        for (int c = 0; c < C; c++)
            mean_dn_n += dy[c] * w[c] * x[c] * rstd[i];
        mean_dn_n /= C;
        for (int c = 0; c < C; c++) {
            double norm = x[c] * rstd[i];
            dw[c] += dy[c] * norm;
            dinp[(size_t)i * C + c] += rstd[i] * (dy[c] * w[c] - norm * mean_dn_n);
        }
    }
}

void ref_rope_table(double *freqs, int T, int hs, double theta)
{
    for (int t = 0; t < T; t++)
        for (int i = 0; i < hs / 2; i++) {
            double angle = t * pow(theta, -2.0 * i / hs);
            freqs[((size_t)t * (hs / 2) + i) * 2] = cos(angle);
            freqs[((size_t)t * (hs / 2) + i) * 2 + 1] = sin(angle);
        }
}

/* Rotates every pair of every head of every row by the table's angle, with
 * the sine's sign flipped by `dir` = -1 (the inverse, i.e. the transpose). */
static void rope_rotate(double *x, const double *freqs, int B, int T, int nh, int hs, int ld,
                        double dir)
{
    int half = hs / 2;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < nh; h++) {
                double *head = x + ((size_t)b * T + t) * ld + (size_t)h * hs;
                for (int i = 0; i < half; i++) {
                    double cs = freqs[((size_t)t * half + i) * 2];
                    double sn = dir * freqs[((size_t)t * half + i) * 2 + 1];
                    double x0 = head[i], x1 = head[i + half];
                    head[i] = x0 * cs - x1 * sn;
                    head[i + half] = x0 * sn + x1 * cs;
                }
            }
}

void ref_rope_forward(double *x, const double *freqs, int B, int T, int nh, int hs, int ld)
{
    rope_rotate(x, freqs, B, T, nh, hs, ld, 1.0);
}

/* The forward is x' = R x with R a rotation per pair; dx = R^T dx' = R(-angle) dx'. */
void ref_rope_backward(double *dx, const double *freqs, int B, int T, int nh, int hs, int ld)
{
    rope_rotate(dx, freqs, B, T, nh, hs, ld, -1.0);
}

static double sigmoid(double g)
{
    return 1.0 / (1.0 + exp(-g));
}

void ref_swiglu_forward(double *out, const double *inp, int N, int F)
{
    for (int i = 0; i < N; i++)
        for (int f = 0; f < F; f++) {
            double g = inp[(size_t)i * 2 * F + f], u = inp[(size_t)i * 2 * F + F + f];
            out[(size_t)i * F + f] = g * sigmoid(g) * u;
        }
}

/* out = g s(g) u with s the logistic function, s' = s (1 - s):
 * dg = dout u (s + g s (1 - s)), du = dout g s. */
void ref_swiglu_backward(double *dinp, const double *inp, const double *dout, int N, int F)
{
    for (int i = 0; i < N; i++)
        for (int f = 0; f < F; f++) {
            double g = inp[(size_t)i * 2 * F + f], u = inp[(size_t)i * 2 * F + F + f];
            double s = sigmoid(g), d = dout[(size_t)i * F + f];
            dinp[(size_t)i * 2 * F + f] = d * u * (s + g * s * (1.0 - s));
            dinp[(size_t)i * 2 * F + F + f] = d * g * s;
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
