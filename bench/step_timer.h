/* bench/step_timer.h — one GPT-2 training step (forward, per-row loss sums,
 * backward with row scales, gradient norm, AdamW), timed by phase. Shared by
 * the step benchmarks so that they all time the same thing. */
#ifndef HEFT_BENCH_STEP_TIMER_H
#define HEFT_BENCH_STEP_TIMER_H

#include "backends/backend.h"
#include "models/gpt2/gpt2_config.h"

struct step_times {
    double fwd_ms, bwd_ms, opt_ms; /* medians over the timed steps */
};

/* Builds a GPT-2 for (B, T) on be with random token ids, runs one untimed
 * warm-up step (kernel compiles, page faults) and `steps` timed ones. */
int step_timer_run(struct backend *be, const struct gpt2_config *cfg, int B, int T, int steps,
                   struct step_times *out, struct herr *err);

#endif
