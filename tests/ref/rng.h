/* tests/ref/rng.h — a small deterministic random generator for tests
 * (splitmix64), so every test draws the same numbers on every machine. The
 * state is the caller's: no globals. */
#ifndef HEFT_TESTS_REF_RNG_H
#define HEFT_TESTS_REF_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s;
};

static inline struct rng rng_seed(uint64_t seed)
{
    struct rng r = { seed };
    return r;
}

static inline uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 random bits. */
static inline double rng_uniform(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n). */
static inline int rng_int(struct rng *r, int n)
{
    return (int)(rng_uniform(r) * n);
}

/* Standard normal (Box-Muller; one draw per call keeps the state simple). */
double rng_normal(struct rng *r);

#endif
