/* tests/test_modelcmp.c — compares two model files (core/model_file.h) for
 * the ZeRO equivalence test (tests/test_zero.sh).
 *
 *   test_modelcmp A B [--rtol X]
 *       The headers must be equal and the parameters, as vectors a and b,
 *       within |a - b| <= rtol |a| (2-norms; default rtol 0: bit for bit).
 *       Normwise, not parameter by parameter: AdamW moves a parameter by
 *       about lr whatever its gradient's size (m / sqrt(v)), so a parameter
 *       whose gradient is near zero can move apart by a rounding of that
 *       gradient much more, relatively, than the model does. Prints one
 *       line: "identical", or how many parameters differ, the normwise
 *       difference and the largest one; exits 0 when within, 1 otherwise. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HEADER_BYTES = 1024, CHUNK = 1 << 16 };

int main(int argc, char **argv)
{
    double rtol = 0;
    const char *path[2] = { NULL, NULL };
    int np = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rtol") && i + 1 < argc)
            rtol = atof(argv[++i]);
        else if (np < 2)
            path[np++] = argv[i];
        else
            np = 3;
    }
    if (np != 2) {
        fprintf(stderr, "usage: test_modelcmp A B [--rtol X]\n");
        return 2;
    }
    FILE *f[2];
    for (int k = 0; k < 2; k++)
        if (!(f[k] = fopen(path[k], "rb"))) {
            printf("cannot open %s\n", path[k]);
            return 1;
        }
    unsigned char h[2][HEADER_BYTES];
    if (fread(h[0], 1, HEADER_BYTES, f[0]) != HEADER_BYTES ||
        fread(h[1], 1, HEADER_BYTES, f[1]) != HEADER_BYTES || memcmp(h[0], h[1], HEADER_BYTES)) {
        printf("the headers differ (or a file is shorter than one)\n");
        return 1;
    }
    static float a[CHUNK], b[CHUNK];
    double sum_a2 = 0, sum_d2 = 0, max_abs = 0;
    uint64_t n = 0, differ = 0;
    for (;;) {
        size_t na = fread(a, sizeof *a, CHUNK, f[0]), nb = fread(b, sizeof *b, CHUNK, f[1]);
        if (na != nb) {
            printf("the files hold different numbers of parameters\n");
            return 1;
        }
        for (size_t i = 0; i < na; i++) {
            double x = a[i], d = fabs(x - (double)b[i]);
            sum_a2 += x * x;
            if (memcmp(&a[i], &b[i], sizeof *a) == 0)
                continue;
            differ++;
            sum_d2 += d * d;
            if (d > max_abs || isnan(d))
                max_abs = d;
        }
        n += na;
        if (na < CHUNK)
            break;
    }
    fclose(f[0]);
    fclose(f[1]);
    if (!differ) {
        printf("identical (%llu parameters)\n", (unsigned long long)n);
        return 0;
    }
    double rel = sqrt(sum_d2) / sqrt(sum_a2);
    printf("%llu of %llu parameters differ: |a-b|/|a| %.3g (tolerance %g), max |a_i-b_i| %.3g "
           "(rms |a_i| %.3g)\n",
           (unsigned long long)differ, (unsigned long long)n, rel, rtol, max_abs,
           n ? sqrt(sum_a2 / (double)n) : 0.0);
    return rel <= rtol ? 0 : 1;
}
