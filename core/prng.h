/* core/prng.h — the deterministic random numbers of heft's data pipeline.
 *
 * Everything that must be identical on every machine and every run (the
 * order of training rows, the built-in dataset's text) uses these integer
 * generators, never rand() (whose sequence differs between C libraries):
 *
 *  - splitmix64 (Steele, Lea, Flood 2014): a 64-bit counter plus a mixing
 *    function; used to expand a seed into generator state and to hash small
 *    integers together.
 *  - xoshiro256** (Blackman, Vigna 2018): the stream generator, seeded from
 *    splitmix64 as its authors recommend.
 *  - prng_below(n): an unbiased integer in [0, n) by rejection: draws whose
 *    value falls in the incomplete top copy of [0, n) are redrawn.
 *
 * The state lives in a caller-owned struct; there is no global generator.
 */
#ifndef HEFT_CORE_PRNG_H
#define HEFT_CORE_PRNG_H

#include <stdint.h>

/* Advances *state by the golden-ratio increment and returns its mix. */
uint64_t splitmix64_next(uint64_t *state);

/* Mixes two 64-bit values into one (order matters): a stream id for
 * (seed, epoch) or (domain, split). */
uint64_t prng_mix(uint64_t a, uint64_t b);

struct prng {
    uint64_t s[4];
};

/* Seeds xoshiro256** from splitmix64(seed). */
void prng_seed(struct prng *g, uint64_t seed);
uint64_t prng_next(struct prng *g);
/* Uniform in [0, n); n must be >= 1. */
uint64_t prng_below(struct prng *g, uint64_t n);
/* Standard normal from two uniform draws (Box-Muller): deterministic given
 * the generator, identical on every platform with IEEE doubles and libm.
 * Models draw their initial weights with it. */
double prng_normal(struct prng *g);

#endif
