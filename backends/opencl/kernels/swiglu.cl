/* swiglu.cl - SwiGLU (LLaMA family's MLP gate): out = silu(g) * u with
 * inp (N, 2F) = [g | u], the w1 and w3 products of one GEMM. */

/* The logistic function s(g) = 1 / (1 + e^-g) and 1 - s(g), both from
 * e = e^(-|g|) in (0, 1]: e^-g itself overflows to inf below g = -88 (and
 * inf * 0 is NaN), and 1 - s by subtraction loses its digits as s nears 1. */
void sigmoid_pair(float g, float *s, float *one_minus_s)
{
    const float e = exp(-fabs(g));
    const float q = 1.0f / (1.0f + e), eq = e * q;
    *s = g >= 0.0f ? q : eq;
    *one_minus_s = g >= 0.0f ? eq : q;
}

/* out (N, F) = g s(g) u; 2-D grid (F, N). */
__kernel void swiglu_forward(__global float *out, ulong out_off, __global const float *inp,
                             ulong inp_off, int N, int F)
{
    const int f = (int)get_global_id(0), n = (int)get_global_id(1);
    if (f >= F || n >= N)
        return;
    const size_t gi = inp_off + (size_t)n * 2 * F + f;
    const float g = inp[gi], u = inp[gi + F];
    float s, oms;
    sigmoid_pair(g, &s, &oms);
    out[out_off + (size_t)n * F + f] = g * s * u;
}

/* dinp (N, 2F) = [dg | du]: with s' = s (1 - s),
 * dg = dout u s (1 + g (1 - s)), du = dout g s; 2-D grid (F, N). */
__kernel void swiglu_backward(__global float *dinp, ulong dinp_off, __global const float *inp,
                              ulong inp_off, __global const float *dout, ulong dout_off, int N,
                              int F)
{
    const int f = (int)get_global_id(0), n = (int)get_global_id(1);
    if (f >= F || n >= N)
        return;
    const size_t gi = inp_off + (size_t)n * 2 * F + f;
    const float g = inp[gi], u = inp[gi + F], d = dout[dout_off + (size_t)n * F + f];
    float s, oms;
    sigmoid_pair(g, &s, &oms);
    const size_t at = dinp_off + (size_t)n * 2 * F + f;
    dinp[at] = d * u * s * (1.0f + g * oms);
    dinp[at + F] = d * g * s;
}
