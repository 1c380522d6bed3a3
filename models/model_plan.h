/* models/model_plan.h — what the planner (core/plan.h) needs to know of a
 * model, without building it: parameter count, activation memory and FLOPs
 * for a micro-batch shape. Every family of the registry answers through
 * models/model_config.h, so the planner serves a new family unchanged. */
#ifndef HEFT_MODEL_PLAN_H
#define HEFT_MODEL_PLAN_H

#include <stddef.h>

#include "core/error.h"
#include "models/model_config.h"

struct model_shape {
    char family[16];       /* "gpt2", "llama" */
    char name[64];         /* the preset asked for */
    char summary[192];     /* hyper-parameters, for people */
    size_t num_params;     /* P: floats in the flat parameter buffer */
    size_t activation_floats; /* the device activation arena for (B, T) and the recompute mode */
    size_t activation_floats_kept; /* the same without recomputation, for comparison */
    double flops_per_step; /* forward + backward over one micro-batch of B x T */
    double matmul_params;  /* parameters that take part in matrix products */
};

/* The shape of preset `name` (whichever family has it) with overrides, for
 * micro-batches of B rows of T tokens. Fails naming the preset (with the
 * list of known ones) or the bad override. */
int model_plan_shape(const char *name, const struct model_overrides *ov, int B, int T,
                     const struct model_memory *mem, struct model_shape *out, struct herr *err);

/* "gpt2: tiny small gpt2 ...; llama: ..." for help texts. */
void model_plan_presets(char *buf, size_t cap);

#endif
