/* tests/ref/compare.c — see compare.h. */
#include "tests/ref/compare.h"

#include <math.h>

/* The two directions differ only in which array is float; one body via a
 * getter keeps them identical. */
static struct ref_err norm_err(const void *got, int got_is_double, const void *want,
                               size_t n, double floor)
{
    struct ref_err r = { 0.0, 0 };
    double worst = 0.0, scale = floor;
    int bad = 0; /* a NaN or infinite difference: the error is infinite */
    for (size_t i = 0; i < n; i++) {
        double g = got_is_double ? ((const double *)got)[i] : ((const float *)got)[i];
        double w = got_is_double ? ((const float *)want)[i] : ((const double *)want)[i];
        if (isnan(g) && isnan(w))
            continue; /* a NaN the reference also has (e.g. an untouched NaN fill) */
        double d = fabs(g - w);
        if (!isfinite(d)) {
            if (!bad)
                r.worst = i;
            bad = 1;
        } else if (!bad && d > worst) {
            worst = d;
            r.worst = i;
        }
        scale = fmax(scale, fabs(w));
    }
    r.err = bad ? INFINITY : worst / scale;
    return r;
}

struct ref_err ref_err_d_f(const double *got, const float *want, size_t n, double floor)
{
    return norm_err(got, 1, want, n, floor);
}

struct ref_err ref_err_f_d(const float *got, const double *want, size_t n, double floor)
{
    return norm_err(got, 0, want, n, floor);
}
