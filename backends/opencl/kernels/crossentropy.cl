/* crossentropy.cl - per-token cross-entropy over the first V of Vp logits.
 * Rows are padded to Vp columns; the padding never enters the softmax. */

/* lse (N) = log sum_{v<V} exp(logits), losses (N) = lse - logits[target]
 * (0 for target < 0); one work-group per row. */
__kernel void crossentropy_forward(__global float *losses, ulong losses_off,
                                   __global float *lse, ulong lse_off,
                                   __global const float *logits, ulong logits_off,
                                   __global const int *targets, ulong targets_off, int N, int V,
                                   int Vp, __local float *scratch)
{
    const size_t n = group_index();
    const int lid = (int)get_local_id(0), L = (int)get_local_size(0);
    if (n >= (size_t)N)
        return;
    __global const float *x = logits + logits_off + (size_t)n * Vp;

    float best = -INFINITY;
    for (int v = lid; v < V; v += L)
        best = fmax(best, x[v]);
    const float m = group_max(scratch, best);

    float acc = 0.0f;
    for (int v = lid; v < V; v += L)
        acc += exp(x[v] - m);
    const float total = group_sum(scratch, acc);

    if (lid == 0) {
        const float l = m + log(total);
        const int target = targets[targets_off + n];
        lse[lse_off + n] = l;
        losses[losses_off + n] = target < 0 ? 0.0f : l - x[target];
    }
}

/* dlogits (N, Vp) = scale_n (softmax - onehot(target)) for v < V, 0 for the
 * padding; scale_n = row_scale[n / T] for a kept target, 0 for an ignored one.
 * 2-D grid (Vp, N); dlogits may alias logits (each item reads then writes
 * its own element). */
__kernel void crossentropy_backward(__global float *dlogits, ulong dlogits_off,
                                    __global const float *logits, ulong logits_off,
                                    __global const float *lse, ulong lse_off,
                                    __global const int *targets, ulong targets_off,
                                    __global const float *row_scale, ulong row_scale_off, int T,
                                    int N, int V, int Vp)
{
    const int v = (int)get_global_id(0), n = (int)get_global_id(1);
    if (v >= Vp || n >= N)
        return;
    const size_t i = (size_t)n * Vp + v;
    const int target = targets[targets_off + n];
    float grad = 0.0f;
    if (v < V && target >= 0) {
        const float p = exp(logits[logits_off + i] - lse[lse_off + n]);
        grad = row_scale[row_scale_off + n / T] * (p - (v == target ? 1.0f : 0.0f));
    }
    dlogits[dlogits_off + i] = grad;
}
