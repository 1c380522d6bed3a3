/* reweight/rw_exp.c — a portable e^x for the softmax weights.
 *
 * Why not libm's exp: its last bit differs between C libraries and versions, and
 * ranks of one job may run on nodes with different ones; the weights must be the
 * same bits on every rank. This version uses only correctly rounded IEEE-754
 * operations in a fixed order, so it is bit-reproducible.
 *
 * Method: x = k ln2 + t with integer k and |t| <= ln2/2, e^x = 2^k e^t. ln2 is
 * split in a high part with trailing zero bits (k * LN2_HI is exact for
 * |k| < 2^11) and a low part, so t is accurate to about 1e-20. e^t is its Taylor
 * series to t^13: the first omitted term is below 0.35^14/14! ~ 4e-18, under
 * half an ulp of e^t >= 0.7.
 */
#include "reweight/rw_internal.h"

static const double LN2_HI = 6.93147180369123816490e-01; /* 0x3fe62e42fee00000 */
static const double LN2_LO = 1.90821492927058770002e-10; /* ln2 - LN2_HI */
static const double LOG2_E = 1.44269504088896338700e+00;

double rw_exp(double x)
{
    if (isnan(x))
        return x;
    if (x > 709.782712893384)   /* ln(DBL_MAX) */
        return HUGE_VAL;
    if (x < -745.1332191019412) /* below half the smallest subnormal */
        return 0.0;
    double k = floor(x * LOG2_E + 0.5);
    double t = (x - k * LN2_HI) - k * LN2_LO;
    /* Horner, innermost term 1/13!; the coefficients are exact rationals
     * rounded once at compile time. */
    double p = 1.0 / 6227020800.0;
    p = 1.0 / 479001600.0 + t * p;
    p = 1.0 / 39916800.0 + t * p;
    p = 1.0 / 3628800.0 + t * p;
    p = 1.0 / 362880.0 + t * p;
    p = 1.0 / 40320.0 + t * p;
    p = 1.0 / 5040.0 + t * p;
    p = 1.0 / 720.0 + t * p;
    p = 1.0 / 120.0 + t * p;
    p = 1.0 / 24.0 + t * p;
    p = 1.0 / 6.0 + t * p;
    p = 0.5 + t * p;
    p = 1.0 + t * p;
    p = 1.0 + t * p;
    return ldexp(p, (int)k);
}
