/* elementwise.cl - ops that map each element independently: fill, bias, GELU. */

__kernel void fill(__global float *dst, ulong dst_off, float value, ulong n)
{
    const size_t i = get_global_id(0);
    if (i < n)
        dst[dst_off + i] = value;
}

/* out (N, OC) += bias (OC); 2-D grid (OC, N). */
__kernel void add_bias(__global float *out, ulong out_off, __global const float *bias,
                       ulong bias_off, int N, int OC)
{
    const int c = (int)get_global_id(0), n = (int)get_global_id(1);
    if (c >= OC || n >= N)
        return;
    out[out_off + (size_t)n * OC + c] += bias[bias_off + c];
}

#define GELU_SCALE 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_CUBE 0.044715f

/* out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))); out may alias inp. */
__kernel void gelu_forward(__global float *out, ulong out_off, __global const float *inp,
                           ulong inp_off, ulong n)
{
    const size_t i = get_global_id(0);
    if (i >= n)
        return;
    const float x = inp[inp_off + i];
    const float u = GELU_SCALE * (x + GELU_CUBE * x * x * x);
    out[out_off + i] = 0.5f * x * (1.0f + tanh(u));
}

/* dinp = GELU'(x) dout, the derivative of the line above:
 * 0.5 (1 + tanh u) + 0.5 x sech^2(u) du/dx, du/dx = sqrt(2/pi)(1 + 3 * 0.044715 x^2).
 * tanh and sech^2 both come from e = exp(-2|u|) in (0, 1]:
 * tanh |u| = (1 - e) / (1 + e), sech^2 u = 4e / (1 + e)^2. Computing sech^2 as
 * 1 - tanh^2 would cancel catastrophically once tanh nears 1 and amplify the
 * few-ulp error OpenCL allows its tanh. dinp may alias dout. */
__kernel void gelu_backward(__global float *dinp, ulong dinp_off, __global const float *inp,
                            ulong inp_off, __global const float *dout, ulong dout_off, ulong n)
{
    const size_t i = get_global_id(0);
    if (i >= n)
        return;
    const float x = inp[inp_off + i];
    const float u = GELU_SCALE * (x + GELU_CUBE * x * x * x);
    const float e = exp(-2.0f * fabs(u));
    const float th = copysign((1.0f - e) / (1.0f + e), u);
    const float sech2 = 4.0f * e / ((1.0f + e) * (1.0f + e));
    const float grad = 0.5f * (1.0f + th)
                       + 0.5f * x * sech2 * GELU_SCALE * (1.0f + 3.0f * GELU_CUBE * x * x);
    dinp[dinp_off + i] = grad * dout[dout_off + i];
}

/* c = beta * c on an (m, n) block of a row-major matrix with leading
 * dimension ldc: a GEMM with k = 0. beta = 0 writes zeros, as BLAS does, so
 * an uninitialized c (even NaN) is overwritten. 2-D grid (n, m). */
__kernel void scale_matrix(__global float *c, ulong c_off, int m, int n, int ldc, float beta)
{
    const int j = (int)get_global_id(0), i = (int)get_global_id(1);
    if (j >= n || i >= m)
        return;
    const size_t at = c_off + (size_t)i * ldc + j;
    c[at] = beta == 0.0f ? 0.0f : beta * c[at];
}
