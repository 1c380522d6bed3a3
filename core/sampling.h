/* core/sampling.h — picking the next token from a model's logits: greedy,
 * or a draw at a temperature from the top-k / top-p (nucleus) candidates.
 *
 * Deterministic: the draw comes from heft's xoshiro256** stream (core/prng.h)
 * and the candidates are ordered by logit, then by id, so a seed gives the
 * same tokens on every machine for the same logits. Probabilities are
 * computed in double. */
#ifndef HEFT_CORE_SAMPLING_H
#define HEFT_CORE_SAMPLING_H

#include <stdint.h>

#include "core/error.h"
#include "core/prng.h"

struct sample_params {
    double temperature; /* 0: greedy (the highest logit; the lowest id on a tie) */
    int top_k;          /* keep the k highest logits; 0: all */
    double top_p;       /* then the fewest of them whose probability reaches p; 1: all */
};

int sample_params_validate(const struct sample_params *p, struct herr *err);

struct sampler {
    struct sample_params p;
    struct prng rng;
    int V;
    void *scratch;   /* V candidates */
    double *weights; /* V */
};

int sampler_init(struct sampler *s, const struct sample_params *p, uint64_t seed, int V,
                 struct herr *err);
void sampler_free(struct sampler *s);
/* The next token from logits[0..V) (left unchanged). */
int32_t sampler_pick(struct sampler *s, const float *logits);

#endif
