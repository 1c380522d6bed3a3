/* core/prng.c — see prng.h. */
#include "core/prng.h"

#include <math.h>

uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

uint64_t prng_mix(uint64_t a, uint64_t b)
{
    uint64_t s = a;
    uint64_t h = splitmix64_next(&s);
    s = h ^ b;
    return splitmix64_next(&s);
}

void prng_seed(struct prng *g, uint64_t seed)
{
    uint64_t s = seed;
    for (int i = 0; i < 4; i++)
        g->s[i] = splitmix64_next(&s);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t prng_next(struct prng *g)
{
    uint64_t *s = g->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

uint64_t prng_below(struct prng *g, uint64_t n)
{
    /* Values >= limit belong to an incomplete last copy of [0, n) and would
     * favour small results; redraw them (at most half of draws, usually ~0). */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = prng_next(g);
    } while (x >= limit);
    return x % n;
}

double prng_normal(struct prng *g)
{
    double u1 = ((double)(prng_next(g) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
    double u2 = (double)(prng_next(g) >> 11) * 0x1.0p-53;         /* [0, 1) */
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
