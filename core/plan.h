/* core/plan.h — `heft plan`: what a training run will need, before running
 * it. Bytes per rank (weights, gradients, the optimizer shard, activations,
 * the trainer's host buffers), FLOPs per step, and a step-time estimate from
 * a GEMM rate.
 *
 * Model knowledge comes from models/model_plan.h (one function per family);
 * the trainer's own buffers from core/train_memory.h, the same definitions
 * the trainer allocates by, so a prediction is the run's actual allocation.
 * On the CPU backend the device is host memory: the peak resident size of a
 * rank is then device + host + the process baseline (libraries, MPI), which
 * the caller measures. */
#ifndef HEFT_CORE_PLAN_H
#define HEFT_CORE_PLAN_H

#include <stddef.h>

#include "core/error.h"
#include "models/model_plan.h"

struct plan_request {
    const char *model;          /* preset name */
    struct model_overrides ov;
    int ranks, batch, seq, grad_accum;
    int zero1;
    struct model_memory mem;    /* recompute mode */
    double gemm_gflops;         /* per rank; 0 = no time estimate */
    double efficiency;          /* share of the GEMM rate a whole step reaches, (0, 1] */
    double link_gbps;           /* GB/s per rank for the gradient exchange */
    double baseline_bytes;      /* resident size of a process before the model */
};

struct plan {
    struct model_shape shape;
    double tokens_per_step;     /* all ranks */
    /* bytes per rank */
    double weights, grads, optimizer, activations, device_total;
    double activations_saved;   /* what the recompute mode saves against keeping everything */
    double host_staging;        /* per-step buffers */
    double host_stage;          /* gradient/parameter stage (W > 1) */
    double host_transient;      /* largest short-lived buffer: parameter copy at start
                                   and export, or a checkpoint chunk */
    double host_total;          /* staging + stage + transient + baseline */
    double cpu_peak_rss;        /* device_total + host_total */
    /* work and time per optimizer step */
    double flops_rank, flops_total;
    double comm_bytes;          /* sent (and received) per rank */
    double compute_s;           /* at the GEMM rate: a lower bound */
    double comm_s, step_s, tokens_per_s;
};

int plan_compute(const struct plan_request *req, struct plan *out, struct herr *err);

#endif
