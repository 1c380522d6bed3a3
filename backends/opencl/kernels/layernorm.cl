/* layernorm.cl - layer normalization over the last axis, eps = 1e-5 (GPT-2). */

#define LAYERNORM_EPS 1e-5f

/* out (N, C) = (inp - mean) * rstd * w + b, mean (N), rstd (N); one
 * work-group per row. The variance is the mean of squared deviations from the
 * already reduced mean (two passes), which is stabler than E[x^2] - E[x]^2. */
__kernel void layernorm_forward(__global float *out, ulong out_off, __global float *mean,
                                ulong mean_off, __global float *rstd, ulong rstd_off,
                                __global const float *inp, ulong inp_off,
                                __global const float *w, ulong w_off,
                                __global const float *b, ulong b_off, int N, int C,
                                __local float *scratch)
{
    const size_t n = group_index();
    const int lid = (int)get_local_id(0), L = (int)get_local_size(0);
    if (n >= (size_t)N)
        return; /* whole group leaves together */
    __global const float *x = inp + inp_off + (size_t)n * C;
    __global float *y = out + out_off + (size_t)n * C;

    float acc = 0.0f;
    for (int i = lid; i < C; i += L)
        acc += x[i];
    const float m = group_sum(scratch, acc) / C;

    acc = 0.0f;
    for (int i = lid; i < C; i += L) {
        const float d = x[i] - m;
        acc += d * d;
    }
    const float s = 1.0f / sqrt(group_sum(scratch, acc) / C + LAYERNORM_EPS);

    for (int i = lid; i < C; i += L)
        y[i] = (x[i] - m) * s * w[w_off + i] + b[b_off + i];
    if (lid == 0) {
        mean[mean_off + n] = m;
        rstd[rstd_off + n] = s;
    }
}

/* dinp (N, C) += rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm)),
 * with norm = (inp - mean) * rstd and dnorm = w * dout; one group per row. */
__kernel void layernorm_backward_dinp(__global float *dinp, ulong dinp_off,
                                      __global const float *dout, ulong dout_off,
                                      __global const float *inp, ulong inp_off,
                                      __global const float *w, ulong w_off,
                                      __global const float *mean, ulong mean_off,
                                      __global const float *rstd, ulong rstd_off, int N, int C,
                                      __local float *scratch)
{
    const size_t n = group_index();
    const int lid = (int)get_local_id(0), L = (int)get_local_size(0);
    if (n >= (size_t)N)
        return;
    const size_t row = (size_t)n * C;
    const float m = mean[mean_off + n], s = rstd[rstd_off + n];

    float acc_d = 0.0f, acc_dn = 0.0f;
    for (int i = lid; i < C; i += L) {
        const float norm = (inp[inp_off + row + i] - m) * s;
        const float dnorm = w[w_off + i] * dout[dout_off + row + i];
        acc_d += dnorm;
        acc_dn += dnorm * norm;
    }
    const float mean_dnorm = group_sum(scratch, acc_d) / C;
    const float mean_dnorm_norm = group_sum(scratch, acc_dn) / C;

    for (int i = lid; i < C; i += L) {
        const float norm = (inp[inp_off + row + i] - m) * s;
        const float dnorm = w[w_off + i] * dout[dout_off + row + i];
        dinp[dinp_off + row + i] += s * (dnorm - mean_dnorm - norm * mean_dnorm_norm);
    }
}

/* dw (C) += sum over n of dout * norm, db (C) += sum over n of dout. Same 2-D
 * (columns, lanes) layout as col_sums; scratch holds lx * ly floats. */
__kernel void layernorm_backward_params(__global float *dw, ulong dw_off, __global float *db,
                                        ulong db_off, __global const float *dout,
                                        ulong dout_off, __global const float *inp,
                                        ulong inp_off, __global const float *mean,
                                        ulong mean_off, __global const float *rstd,
                                        ulong rstd_off, int N, int C, __local float *scratch)
{
    const int c = (int)get_global_id(0);
    const int lane = (int)get_local_id(1), lanes = (int)get_local_size(1);
    float acc_w = 0.0f, acc_b = 0.0f;
    if (c < C)
        for (int n = lane; n < N; n += lanes) {
            const size_t i = (size_t)n * C + c;
            const float norm = (inp[inp_off + i] - mean[mean_off + n]) * rstd[rstd_off + n];
            const float d = dout[dout_off + i];
            acc_w += d * norm;
            acc_b += d;
        }
    const float total_w = group_sum_columns(scratch, acc_w);
    const float total_b = group_sum_columns(scratch, acc_b);
    if (c < C && lane == 0) {
        dw[dw_off + c] += total_w;
        db[db_off + c] += total_b;
    }
}
