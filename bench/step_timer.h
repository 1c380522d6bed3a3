/* bench/step_timer.h — one training step of any model family (forward, per-row loss sums,
 * backward with row scales, gradient norm, AdamW), timed by phase. Shared by
 * the step benchmarks so that they all time the same thing. */
#ifndef HEFT_BENCH_STEP_TIMER_H
#define HEFT_BENCH_STEP_TIMER_H

#include "backends/backend.h"
#include "models/model_config.h"

struct step_times {
    double fwd_ms, bwd_ms, opt_ms; /* medians over the timed steps */
};

/* Builds the model for (B, T) on be with random token ids, runs one untimed
 * warm-up step (kernel compiles, page faults) and `steps` timed ones. */
int step_timer_run(struct backend *be, const struct model_config *cfg, int B, int T, int steps,
                   struct step_times *out, struct herr *err);

#endif
