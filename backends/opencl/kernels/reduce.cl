/* reduce.cl - column sums, row sums and the sum of squares. */

/* out (OC) += sum over n of in (N, OC). 2-D groups of (lx columns, ly lanes):
 * lane ly sums rows ly, ly + ly_size, ... in order, then the lanes are added
 * by a fixed tree. Global size (OC rounded up, ly_size): one group row. */
__kernel void col_sums(__global float *out, ulong out_off, __global const float *in,
                       ulong in_off, int N, int OC, __local float *scratch)
{
    const int c = (int)get_global_id(0);
    const int lane = (int)get_local_id(1), lanes = (int)get_local_size(1);
    float acc = 0.0f;
    if (c < OC)
        for (int n = lane; n < N; n += lanes)
            acc += in[in_off + (size_t)n * OC + c];
    const float total = group_sum_columns(scratch, acc);
    if (c < OC && lane == 0)
        out[out_off + c] += total;
}

/* out (R) = sum over k of in (R, K); one work-group per row. */
__kernel void row_sums(__global float *out, ulong out_off, __global const float *in,
                       ulong in_off, int R, int K, __local float *scratch)
{
    const size_t r = group_index();
    const int lid = (int)get_local_id(0), L = (int)get_local_size(0);
    if (r >= (size_t)R)
        return; /* whole group leaves together: no barrier is skipped by part of it */
    __global const float *row = in + in_off + (size_t)r * K;
    float acc = 0.0f;
    for (int k = lid; k < K; k += L)
        acc += row[k];
    const float total = group_sum(scratch, acc);
    if (lid == 0)
        out[out_off + r] = total;
}

/* partials (number of groups) = per-group sums of x^2 over x (n); the host
 * adds the partials in double. Group g owns the chunk [g*chunk, (g+1)*chunk)
 * and its items read it in steps of the group size: contiguous across items
 * at every step (coalesced on GPUs) and one cache-friendly block per group on
 * CPUs. The partition depends only on n and the launch, never on timing. */
__kernel void sum_squares_partial(__global float *partials, __global const float *x,
                                  ulong x_off, ulong n, ulong chunk, __local float *scratch)
{
    const size_t g = group_index();
    const size_t begin = g * chunk;
    const size_t end = begin + chunk < n ? begin + chunk : n;
    float acc = 0.0f;
    for (size_t i = begin + get_local_id(0); i < end; i += get_local_size(0)) {
        const float v = x[x_off + i];
        acc += v * v;
    }
    const float total = group_sum(scratch, acc);
    if (get_local_id(0) == 0)
        partials[g] = total;
}
