/* rmsnorm.cl - RMS normalization over the last axis (LLaMA family): no mean
 * is subtracted and there is no bias; eps is the model's. */

/* out (N, C) = inp * rstd * w, rstd (N) = 1 / sqrt(mean(inp^2) + eps); one
 * work-group per row. */
__kernel void rmsnorm_forward(__global float *out, ulong out_off, __global float *rstd,
                              ulong rstd_off, __global const float *inp, ulong inp_off,
                              __global const float *w, ulong w_off, int N, int C, float eps,
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
        acc += x[i] * x[i];
    const float s = 1.0f / sqrt(group_sum(scratch, acc) / C + eps);

    for (int i = lid; i < C; i += L)
        y[i] = x[i] * s * w[w_off + i];
    if (lid == 0)
        rstd[rstd_off + n] = s;
}

/* dinp (N, C) += rstd * (dnorm - norm * mean(dnorm * norm)), with
 * norm = inp * rstd and dnorm = w * dout (d rstd / dx_c = -rstd^3 x_c / C);
 * one group per row. */
__kernel void rmsnorm_backward_dinp(__global float *dinp, ulong dinp_off,
                                    __global const float *dout, ulong dout_off,
                                    __global const float *inp, ulong inp_off,
                                    __global const float *w, ulong w_off,
                                    __global const float *rstd, ulong rstd_off, int N, int C,
                                    __local float *scratch)
{
    const size_t n = group_index();
    const int lid = (int)get_local_id(0), L = (int)get_local_size(0);
    if (n >= (size_t)N)
        return;
    const size_t row = (size_t)n * C;
    const float s = rstd[rstd_off + n];

    float acc = 0.0f;
    for (int i = lid; i < C; i += L)
        acc += w[w_off + i] * dout[dout_off + row + i] * (inp[inp_off + row + i] * s);
    const float mean_dnorm_norm = group_sum(scratch, acc) / C;

    for (int i = lid; i < C; i += L) {
        const float dnorm = w[w_off + i] * dout[dout_off + row + i];
        dinp[dinp_off + row + i] += (dnorm - inp[inp_off + row + i] * s * mean_dnorm_norm) * s;
    }
}

/* dw (C) += sum over n of dout * inp * rstd. Same 2-D (columns, lanes) layout
 * as col_sums; scratch holds lx * ly floats. */
__kernel void rmsnorm_backward_dw(__global float *dw, ulong dw_off, __global const float *dout,
                                  ulong dout_off, __global const float *inp, ulong inp_off,
                                  __global const float *rstd, ulong rstd_off, int N, int C,
                                  __local float *scratch)
{
    const int c = (int)get_global_id(0);
    const int lane = (int)get_local_id(1), lanes = (int)get_local_size(1);
    float acc = 0.0f;
    if (c < C)
        for (int n = lane; n < N; n += lanes) {
            const size_t i = (size_t)n * C + c;
            acc += dout[dout_off + i] * (inp[inp_off + i] * rstd[rstd_off + n]);
        }
    const float total = group_sum_columns(scratch, acc);
    if (c < C && lane == 0)
        dw[dw_off + c] += total;
}
