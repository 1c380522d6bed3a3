/* backends/cpu/cpu_math.h — exp and tanh that the compiler can vectorize.
 *
 * libm's expf/tanhf are calls, which keep the loops around them scalar (glibc
 * offers vector versions only under -ffast-math, which heft does not use: it
 * would let the compiler reorder sums). These are plain arithmetic, inlined,
 * so GELU, softmax and cross-entropy loops over thousands of elements run in
 * SIMD registers. Accuracy: a few float ulps (checked against the float64
 * reference in tests/test_cpu_ops). */
#ifndef HEFT_CPU_MATH_H
#define HEFT_CPU_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* e^x. Range reduction x = n ln2 + r with |r| <= ln2/2 (ln2 split in a high
 * part exact in float and a low correction), e^r by its Taylor series to
 * r^7 (truncation below 1.1e-8 relative on that range), times 2^n built in
 * the exponent bits. n is clamped to [-126, 127] as an integer and r to
 * [-1/2, 1/2]: below x = -87.3 the result is a tiny normal number (~1e-38)
 * rather than a subnormal or 0, above x = 88.7 it saturates near FLT_MAX.
 * The clamps are on the integer and after the reduction because GCC keeps a
 * loop scalar when a float clamp comes before a float-to-int conversion.
 * NaN stays NaN. */
static inline float cpu_expf(float x)
{
    float t = x * 1.44269504088896341f;
    int32_t k = (int32_t)(t + (t >= 0.0f ? 0.5f : -0.5f)); /* round(x / ln2) */
    k = k < -126 ? -126 : k;
    k = k > 127 ? 127 : k;
    float n = (float)k;
    float r = x - n * 0.693145751953125f;  /* ln2 high part: 16 bits, exact products */
    r = r - n * 1.42860682030941723e-6f;   /* ln2 - high part */
    r = r < -0.5f ? -0.5f : r;
    r = r > 0.5f ? 0.5f : r;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    uint32_t bits = (uint32_t)(k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* tanh(u) = sign(u) (1 - e) / (1 + e) with e = e^(-2|u|) in (0, 1]. Near 0
 * the subtraction loses relative (not absolute) precision: |error| stays below
 * ~1e-7, which is what GELU, 0.5 x (1 + tanh), needs. */
static inline float cpu_tanhf(float u)
{
    float e = cpu_expf(-2.0f * fabsf(u));
    return copysignf((1.0f - e) / (1.0f + e), u);
}

/* sech^2(u) = 4 e / (1 + e)^2 with e = e^(-2|u|): no cancellation where tanh
 * is near +-1 (1 - tanh^2 would lose it), and nothing overflows. */
static inline float cpu_sech2f(float u)
{
    float e = cpu_expf(-2.0f * fabsf(u));
    float d = 1.0f + e;
    return 4.0f * e / (d * d);
}

#endif
