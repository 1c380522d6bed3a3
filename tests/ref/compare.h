/* tests/ref/compare.h — how tests measure the distance between a result and
 * its reference: the normalized error
 *     max_i |got_i - want_i| / max(max_i |want_i|, floor)
 * i.e. the worst absolute error relative to the reference's scale (floor
 * keeps an all-near-zero reference from turning round-off into a huge
 * ratio). One number per tensor, compared with a per-case tolerance. A NaN
 * where the reference has NaN matches; any other NaN or infinite difference
 * makes the error infinite. */
#ifndef HEFT_TESTS_REF_COMPARE_H
#define HEFT_TESTS_REF_COMPARE_H

#include <stddef.h>

struct ref_err {
    double err;   /* the normalized error */
    size_t worst; /* index of the largest |got - want| */
};

/* got in float64 (a reference computation), want in float32 (stored vectors) */
struct ref_err ref_err_d_f(const double *got, const float *want, size_t n, double floor);
/* got in float32 (a backend), want in float64 (the reference) */
struct ref_err ref_err_f_d(const float *got, const double *want, size_t n, double floor);

#endif
