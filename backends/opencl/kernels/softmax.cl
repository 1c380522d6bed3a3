/* softmax.cl - causal softmax over attention rows and its gradient, and the
 * unmasked row softmax of one query over a KV cache (softmax_rows_forward).
 * Rows are (R*T) of length T (a count that can pass 2^31, hence ulong); row
 * g has query position i = g % T and keeps
 * columns j <= i. One work-group per row; att may alias pre and dpre may
 * alias datt because every item reads its own elements before writing them,
 * and the reductions finish (barrier) before any write. */

__kernel void softmax_causal_forward(__global float *att, ulong att_off,
                                     __global const float *pre, ulong pre_off, ulong rows, int T,
                                     __local float *scratch)
{
    const size_t g = group_index();
    const int lid = (int)get_local_id(0), L = (int)get_local_size(0);
    if (g >= rows)
        return;
    const int i = (int)(g % (size_t)T);
    __global const float *x = pre + pre_off + (size_t)g * T;
    __global float *y = att + att_off + (size_t)g * T;

    float best = -INFINITY;
    for (int j = lid; j <= i; j += L)
        best = fmax(best, x[j]);
    const float m = group_max(scratch, best);

    float acc = 0.0f;
    for (int j = lid; j <= i; j += L)
        acc += exp(x[j] - m);
    const float inv = 1.0f / group_sum(scratch, acc);

    for (int j = lid; j < T; j += L)
        y[j] = j <= i ? exp(x[j] - m) * inv : 0.0f;
}

/* dpre = att * (datt - sum_{j<=i} att * datt), 0 above the diagonal. */
__kernel void softmax_causal_backward(__global float *dpre, ulong dpre_off,
                                      __global const float *datt, ulong datt_off,
                                      __global const float *att, ulong att_off, ulong rows, int T,
                                      __local float *scratch)
{
    const size_t g = group_index();
    const int lid = (int)get_local_id(0), L = (int)get_local_size(0);
    if (g >= rows)
        return;
    const int i = (int)(g % (size_t)T);
    const size_t row = (size_t)g * T;

    float acc = 0.0f;
    for (int j = lid; j <= i; j += L)
        acc += att[att_off + row + j] * datt[datt_off + row + j];
    const float dot = group_sum(scratch, acc);

    for (int j = lid; j < T; j += L)
        dpre[dpre_off + row + j] =
            j <= i ? att[att_off + row + j] * (datt[datt_off + row + j] - dot) : 0.0f;
}

/* out = softmax of each of `rows` rows of n values, rows ld apart: one
 * query's scores over all the keys of a KV cache (nothing masked). */
__kernel void softmax_rows_forward(__global float *out, ulong out_off,
                                   __global const float *inp, ulong inp_off, int rows, int n,
                                   int ld, __local float *scratch)
{
    const size_t g = group_index();
    const int lid = (int)get_local_id(0), L = (int)get_local_size(0);
    if (g >= (size_t)rows)
        return;
    __global const float *x = inp + inp_off + g * (size_t)ld;
    __global float *y = out + out_off + g * (size_t)ld;

    float best = -INFINITY;
    for (int j = lid; j < n; j += L)
        best = fmax(best, x[j]);
    const float m = group_max(scratch, best);

    float acc = 0.0f;
    for (int j = lid; j < n; j += L)
        acc += exp(x[j] - m);
    const float inv = 1.0f / group_sum(scratch, acc);

    for (int j = lid; j < n; j += L)
        y[j] = exp(x[j] - m) * inv;
}
