/* tests/test_modelcmp.c — compares two model files (core/model_file.h) for
 * the ZeRO equivalence test (tests/test_zero.sh).
 *
 *   test_modelcmp A B [--rtol X]
 *       The headers must be equal and every parameter a of A and b of B
 *       within |a - b| <= rtol * max(|a|, |b|, s), s the root mean square of
 *       A's parameters: relative to the parameter, or to a typical parameter
 *       for those near zero (AdamW moves a parameter by about lr whatever
 *       its size, so one that crosses zero differs relatively much more than
 *       the model does). Default rtol 0: bit for bit. Prints one line:
 *       "identical", or how many parameters differ and the largest
 *       differences; exits 0 when every parameter is within, 1 otherwise. */
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
    /* s first: one pass over A */
    static float a[CHUNK], b[CHUNK];
    double sum2 = 0;
    uint64_t n = 0;
    for (size_t na; (na = fread(a, sizeof *a, CHUNK, f[0])) > 0; n += na)
        for (size_t i = 0; i < na; i++)
            sum2 += (double)a[i] * a[i];
    double s = n ? sqrt(sum2 / (double)n) : 0;
    if (fseek(f[0], HEADER_BYTES, SEEK_SET)) {
        printf("cannot read %s again\n", path[0]);
        return 1;
    }
    double max_abs = 0, max_rel = 0;
    uint64_t differ = 0, outside = 0;
    n = 0;
    for (;;) {
        size_t na = fread(a, sizeof *a, CHUNK, f[0]), nb = fread(b, sizeof *b, CHUNK, f[1]);
        if (na != nb) {
            printf("the files hold different numbers of parameters\n");
            return 1;
        }
        for (size_t i = 0; i < na; i++) {
            if (memcmp(&a[i], &b[i], sizeof *a) == 0)
                continue;
            double x = a[i], y = b[i], d = fabs(x - y), m = fmax(fmax(fabs(x), fabs(y)), s);
            differ++;
            if (!(d <= rtol * m))
                outside++;
            if (d > max_abs || isnan(d))
                max_abs = d;
            if (d / m > max_rel || isnan(d))
                max_rel = d / m;
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
    printf("%llu of %llu parameters differ: max |a-b| %.3g, max |a-b|/max(|a|,|b|,rms %.3g) "
           "%.3g (tolerance %g)\n",
           (unsigned long long)differ, (unsigned long long)n, max_abs, s, max_rel, rtol);
    return outside ? 1 : 0;
}
