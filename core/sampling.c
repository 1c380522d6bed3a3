/* core/sampling.c — see sampling.h. */
#include "core/sampling.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct candidate {
    float logit;
    int32_t id;
};

int sample_params_validate(const struct sample_params *p, struct herr *err)
{
    if (!(p->temperature >= 0 && p->temperature <= 1e6))
        return herr_set(err, "--temperature %g: must be in [0, 1e6] (0 = greedy)", p->temperature);
    if (p->top_k < 0)
        return herr_set(err, "--top-k %d: must be >= 0 (0 = all tokens)", p->top_k);
    if (!(p->top_p > 0 && p->top_p <= 1))
        return herr_set(err, "--top-p %g: must be in (0, 1] (1 = all tokens)", p->top_p);
    return 0;
}

int sampler_init(struct sampler *s, const struct sample_params *p, uint64_t seed, int V,
                 struct herr *err)
{
    memset(s, 0, sizeof *s);
    if (sample_params_validate(p, err))
        return -1;
    s->p = *p;
    s->V = V;
    prng_seed(&s->rng, seed);
    s->scratch = malloc((size_t)V * sizeof(struct candidate));
    s->weights = malloc((size_t)V * sizeof *s->weights);
    if (!s->scratch || !s->weights) {
        sampler_free(s);
        return herr_set(err, "out of memory for %d sampling candidates", V);
    }
    return 0;
}

void sampler_free(struct sampler *s)
{
    free(s->scratch);
    free(s->weights);
    s->scratch = NULL;
    s->weights = NULL;
}

/* highest logit first; ids break ties, so the order is total */
static int by_logit(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    if (x->logit != y->logit)
        return x->logit < y->logit ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

int32_t sampler_pick(struct sampler *s, const float *logits)
{
    const int V = s->V;
    if (s->p.temperature == 0) {
        int32_t best = 0;
        for (int v = 1; v < V; v++)
            if (logits[v] > logits[best])
                best = v;
        return best;
    }
    struct candidate *c = s->scratch;
    for (int v = 0; v < V; v++)
        c[v] = (struct candidate){ logits[v], v };
    qsort(c, (size_t)V, sizeof *c, by_logit);
    int keep = s->p.top_k > 0 && s->p.top_k < V ? s->p.top_k : V;
    /* softmax over the kept candidates at the temperature; c[0] is the max */
    double total = 0, *w = s->weights;
    for (int i = 0; i < keep; i++) {
        w[i] = exp(((double)c[i].logit - c[0].logit) / s->p.temperature);
        total += w[i];
    }
    /* nucleus: the fewest candidates whose probability reaches top_p */
    if (s->p.top_p < 1) {
        double acc = 0;
        int n = 0;
        while (n < keep && acc < s->p.top_p * total)
            acc += w[n++];
        keep = n > 0 ? n : 1;
        total = acc > 0 ? acc : w[0];
    }
    double u = (double)(prng_next(&s->rng) >> 11) * 0x1.0p-53 * total, acc = 0;
    int32_t id = c[keep - 1].id;
    for (int i = 0; i < keep; i++) {
        acc += w[i];
        if (u < acc) {
            id = c[i].id;
            break;
        }
    }
    return id;
}
