/* core/plan.h — `heft plan`: what a training run will need, before running
 * it. Bytes per rank under a ZeRO stage (weights, gradients, the optimizer
 * shard, the gathered layer buffers, activations and the recompute workspace,
 * the trainer's host buffers), whether that fits a device, FLOPs and the
 * exchange's bytes per step, and a step-time estimate from a GEMM rate.
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
    int zero;                   /* ZeRO stage 0..3 */
    int normalize_step;         /* --rw-normalize step (stage 3 re-forwards: more gathers) */
    int zero_prefetch;          /* --zero-prefetch on or auto: stage 3's prefetch may run
                                   and has its own stage (counted: auto decides by the
                                   node's cores, which the plan does not know) */
    struct model_memory mem;    /* recompute mode */
    double device_mem;          /* bytes of one device (0 = no fit check) */
    int no_export;              /* the run stops before --steps (--stop-after): rank 0
                                   exports no model at its end */
    double gemm_gflops;         /* per rank; 0 = no time estimate */
    double efficiency;          /* share of the GEMM rate a whole step reaches, (0, 1] */
    double link_gbps;           /* GB/s per rank for the gradient exchange */
    double baseline_bytes;      /* resident size of a process before the model */
};

struct plan {
    struct model_shape shape;
    double tokens_per_step;     /* all ranks */
    int zero;                   /* the stage in effect (ZeRO-1 on one rank is 0) */
    /* bytes per rank */
    double weights, grads, optimizer;  /* whole, or this rank's shard (train_memory.h) */
    double gathered_weights;    /* ZeRO-3: the outer group + TRAIN_LAYER_BUFFERS layers */
    double gathered_grads;      /* ZeRO-2/3: the outer group's + one layer's gradients */
    double layer_weights, outer_weights; /* one layer's, the outer group's (gathered) */
    int layer_buffers;          /* ZeRO-3's (train_layer_buffers) */
    double activations, device_total;
    double recompute_workspace; /* of activations: what the recompute mode works in */
    double activations_saved;   /* what the recompute mode saves against keeping everything */
    double headroom;            /* device_mem - device_total (with device_mem) */
    int fits;                   /* device_total <= device_mem */
    double host_staging;        /* per-step buffers */
    double host_stage;          /* the exchange's stage: buckets and gather/reduce-scatter
                                   rounds (W > 1, or ZeRO-2/3) */
    double host_acc;            /* ZeRO-2/3 with K > 1: adds a reduced round to the shard */
    double host_prefetch;       /* ZeRO-3 with the prefetch: its own stage */
    double host_transient;      /* largest short-lived buffer: parameter copy at start
                                   and export, or a checkpoint chunk */
    double host_total;          /* staging + stage + transient + baseline */
    /* Peak resident size of a process on the CPU backend, where device memory
     * is host memory. Rank 0 holds a host copy of the parameters at the start
     * (to make or read them), when the activations and the gathered buffers
     * are not written yet, and at the export, next to everything. Under
     * ZeRO-0/1 every rank holds that copy at the start; under 2/3 only rank 0
     * (the others receive rounds). */
    double cpu_peak_rss;        /* rank 0 */
    double cpu_peak_rss_others; /* any other rank */
    /* work and time per optimizer step */
    double flops_rank, flops_total;
    double comm_bytes;          /* sent (and received) per rank: train_exchange_bytes */
    double comm_bytes_dp;       /* the same for plain data parallelism, for comparison */
    double compute_s;           /* at the GEMM rate: a lower bound */
    double comm_s, step_s, tokens_per_s;
};

int plan_compute(const struct plan_request *req, struct plan *out, struct herr *err);

#endif
