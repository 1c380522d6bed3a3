/* tests/ref/torch_case.h — the committed PyTorch reference case: the tiny
 * GPT-2 of tests/ref/gpt2_tiny_model.bin and the vectors computed from it by
 * tests/ref/make_gpt2_vectors.py (see that script for every record). */
#ifndef HEFT_TESTS_REF_TORCH_CASE_H
#define HEFT_TESTS_REF_TORCH_CASE_H

#include <stdint.h>

#include "core/error.h"
#include "models/gpt2/gpt2_config.h"
#include "tests/ref/vectors.h"

struct torch_case {
    struct gpt2_config cfg;
    float *params;               /* (gpt2_num_params(cfg)), llm.c order */
    struct ref_vectors vec;
    int B, T;
    const int32_t *inputs;       /* (B, T) */
    const int32_t *targets;      /* (B, T), -1 = ignored */
};

/* Loads both files from dir and checks that they describe the same model. */
int torch_case_load(struct torch_case *tc, const char *dir, struct herr *err);
void torch_case_free(struct torch_case *tc);

#endif
