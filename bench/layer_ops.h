/* bench/layer_ops.h — the time a model's elementwise layer ops take alone, at
 * the model's shapes: per layer two norms forward and backward and the MLP's
 * activation forward and backward (GELU or SwiGLU), plus RoPE forward and
 * backward where the family has it, and the final norm. What bench_step sets
 * against the whole step: the share of a step that is not GEMMs or the loss. */
#ifndef HEFT_BENCH_LAYER_OPS_H
#define HEFT_BENCH_LAYER_OPS_H

#include "backends/backend.h"
#include "models/model_config.h"

/* Median over `reps` runs of all of a step's layer ops, in milliseconds. */
int layer_ops_time(struct backend *be, const struct model_config *cfg, int B, int T, int reps,
                   double *ms, struct herr *err);

#endif
