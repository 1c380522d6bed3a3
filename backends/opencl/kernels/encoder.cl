/* encoder.cl - token + position embeddings (GPT-2), the token embedding alone
 * (LLaMA family), and their gradients.
 *
 * The wte gradient must add up every position that holds the same token.
 * Without float atomics (and to stay deterministic) each distinct token is
 * handled by the item that owns its first position, which walks a chain of
 * later positions with the same token, in position order. Both families'
 * token gradients are encoder_links + encoder_backward_wte over their N rows. */

/* out (B, T, C) = wte[tokens[b, t]] + wpe[t]; 2-D grid (C, B*T). */
__kernel void encoder_forward(__global float *out, ulong out_off, __global const int *tokens,
                              ulong tokens_off, __global const float *wte, ulong wte_off,
                              __global const float *wpe, ulong wpe_off, int BT, int T, int C)
{
    const int c = (int)get_global_id(0), p = (int)get_global_id(1);
    if (c >= C || p >= BT)
        return;
    const int token = tokens[tokens_off + p];
    const int t = p % T;
    out[out_off + (size_t)p * C + c] =
        wte[wte_off + (size_t)token * C + c] + wpe[wpe_off + (size_t)t * C + c];
}

/* out (N, C) = wte[tokens[n]]; 2-D grid (C, N). */
__kernel void embedding_forward(__global float *out, ulong out_off, __global const int *tokens,
                                ulong tokens_off, __global const float *wte, ulong wte_off, int N,
                                int C)
{
    const int c = (int)get_global_id(0), n = (int)get_global_id(1);
    if (c >= C || n >= N)
        return;
    out[out_off + (size_t)n * C + c] = wte[wte_off + (size_t)tokens[tokens_off + n] * C + c];
}

/* links (BT, 2): links[p].x = 1 if p is the first position of its token,
 * links[p].y = the next position with the same token, or -1. One item per
 * position; O(BT) work each, which is small next to the gradient itself. */
__kernel void encoder_links(__global int2 *links, __global const int *tokens, ulong tokens_off,
                            int BT)
{
    const int p = (int)get_global_id(0);
    if (p >= BT)
        return;
    __global const int *tok = tokens + tokens_off;
    const int token = tok[p];
    int first = 1;
    for (int q = 0; q < p && first; q++)
        if (tok[q] == token)
            first = 0;
    int next = -1;
    for (int q = p + 1; q < BT && next < 0; q++)
        if (tok[q] == token)
            next = q;
    links[p] = (int2)(first, next);
}

/* dwte (V, C) += dout (B*T, C) gathered by token; 2-D grid (C, B*T). Adds the
 * positions of a token to dwte in increasing position order, like a
 * sequential loop over (b, t) would. */
__kernel void encoder_backward_wte(__global float *dwte, ulong dwte_off,
                                   __global const float *dout, ulong dout_off,
                                   __global const int *tokens, ulong tokens_off,
                                   __global const int2 *links, int BT, int C)
{
    const int c = (int)get_global_id(0), p = (int)get_global_id(1);
    if (c >= C || p >= BT || !links[p].x)
        return;
    const size_t dst = dwte_off + (size_t)tokens[tokens_off + p] * C + c;
    float acc = dwte[dst];
    for (int q = p; q >= 0; q = links[q].y)
        acc += dout[dout_off + (size_t)q * C + c];
    dwte[dst] = acc;
}

/* dwpe (maxT, C) += sum over b of dout (B, T, C); 2-D grid (C, T). */
__kernel void encoder_backward_wpe(__global float *dwpe, ulong dwpe_off,
                                   __global const float *dout, ulong dout_off, int B, int T,
                                   int C)
{
    const int c = (int)get_global_id(0), t = (int)get_global_id(1);
    if (c >= C || t >= T)
        return;
    const size_t dst = dwpe_off + (size_t)t * C + c;
    float acc = dwpe[dst];
    for (int b = 0; b < B; b++)
        acc += dout[dout_off + ((size_t)b * T + t) * C + c];
    dwpe[dst] = acc;
}
