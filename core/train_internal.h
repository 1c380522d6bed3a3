/* core/train_internal.h — the state of a training run, shared by the files
 * that implement core/train.h (set-up, step, validation, logging,
 * checkpoints). Not for use outside core/train_*.c. */
#ifndef HEFT_CORE_TRAIN_INTERNAL_H
#define HEFT_CORE_TRAIN_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "backends/backend.h"
#include "core/comm.h"
#include "core/dataset.h"
#include "core/loader.h"
#include "core/optim.h"
#include "core/ref_losses.h"
#include "core/train.h"
#include "core/val_iter.h"
#include "models/model.h"
#include "reweight/reweight.h"

/* What one optimizer step reports (rank 0 logs it). */
struct step_report {
    long step;
    double loss;          /* unweighted mean per-sample loss over the global step */
    double loss_weighted; /* sum_i w_i l_i over the step (the objective) */
    double lr, grad_norm, clip_scale;
    double seconds;
    double comm_seconds;      /* this rank's time inside collectives */
    double comm_mean, comm_max; /* the same over all ranks (seconds) */
    double exchange_seconds;  /* the gradient (and ZeRO-1 parameter) exchange alone,
                                 staging copies included, timed after a barrier so
                                 that waiting for a slower rank is not in it */
    double exchange_mean;     /* over all ranks */
    struct rw_stats rw;   /* statistics of the last reweighting of the step */
    int rw_calls;         /* reweightings in the step (1, or K for --rw-normalize micro) */
};

struct trainer {
    struct train_config cfg;
    struct comm *comm;
    int rank, world;
    FILE *progress; /* rank 0 only; NULL = quiet */

    struct backend *be;
    struct dataset *ds;
    struct loader *ld;
    struct model model;
    struct optim_config ocfg;
    struct adamw opt;
    struct rw_config rwcfg;
    struct rw_state rwstate;
    int normalize_step; /* 1: weights over the whole optimizer step */
    int num_domains;

    long step; /* next step to run (= steps done) */
    int K;     /* micro-batches per step */

    /* host staging, sized at set-up (core/train_memory.h): nothing is
     * allocated in the step loop. The gathered per-sample arrays (_all) are
     * in global row order, micro-batch major: index (k * W + rank) * B + b,
     * the order in which one process holding all W * B rows would see them. */
    int32_t *inputs, *targets, *domains; /* (K, B, T), (K, B, T), (K, B) */
    float *row_sums;                     /* (B) */
    float *row_scale;                    /* (B) */
    double *loss_local;                  /* (K, B) */
    int32_t *ntok_local;                 /* (K, B) */
    double *gather_send;                 /* (K, B, 3): loss, n_i, domain per row */
    double *gather_recv;                 /* (W, K, B, 3) rank-major as gathered */
    double *loss_all;                    /* (K, W, B) */
    int32_t *ntok_all, *dom_all;         /* (K, W, B) */
    double *weights;                     /* (K, W, B) */
    float *stage;                        /* (stage_floats) host bucket for gradient
                                            reduction and checkpoint rounds */
    size_t stage_floats;

    /* ZeRO-1: rank k owns the optimizer state of [shard_lo[k], shard_hi[k]);
     * without it every rank owns [0, P) */
    int zero1;
    size_t *shard_lo, *shard_hi; /* (W) */
    size_t *counts;              /* (W) scratch for gather/scatter rounds */

    /* reference losses (--ref-losses; core/train_ref.c), NULL when not given */
    struct ref_losses *ref;
    struct loader_pos *ref_pos; /* (K) loader position before each micro-batch */
    uint64_t *ref_win;          /* (W * B) windows of one micro-batch's global rows */
    double *ref_all;            /* (K, W, B) like loss_all; NaN = no reference loss */

    /* validation */
    struct val_iter *val;  /* (num_domains) iterators; NULL where a domain has no val data */
    double last_val_loss;

    /* output */
    char out_dir[OPT_STRING_MAX];
    FILE *metrics; /* rank 0 */
    FILE *trace;   /* rank 0, --trace */
    double gemm_gflops; /* measured at start-up, for MFU */
    int mfu_stale;      /* a step beat that rate: it was measured while the machine was
                           busier, so MFU is no longer reported (null in the metrics) */
    long tokens_per_step;
};

/* train_setup.c */
int trainer_setup(struct trainer *t, const struct train_config *cfg, int argc, char **argv,
                  int first_arg, struct comm *comm, FILE *progress, struct herr *err);
void trainer_teardown(struct trainer *t);

/* train_step.c */
int trainer_step(struct trainer *t, struct step_report *rep, struct herr *err);

/* train_comm.c: gradients and parameters across ranks */
/* Sums the gradients over ranks: every rank then holds the full sum, or,
 * under ZeRO-1, the sum on its own shard. */
int trainer_reduce_grads(struct trainer *t, struct herr *err);
/* Sum of squares of the summed gradient (identical on every rank). */
int trainer_grad_sumsq(struct trainer *t, double *sumsq, struct herr *err);
/* ZeRO-1: every rank's updated shard of parameters to every rank. */
int trainer_share_params(struct trainer *t, struct herr *err);
/* Checkpoint sections that are not whole on every rank (ZeRO-1's Adam state)
 * travel in rounds of stage_floats through rank 0. */
struct ckpt_rounds {
    struct trainer *t;
    dptr state;      /* sharded: this rank's [shard_lo, shard_hi); else all P */
    int sharded;     /* 0: every rank holds the whole section */
    size_t lo, hi;   /* the round now in the stage: elements [lo, hi) */
    size_t done;     /* elements delivered (resuming) */
};
void ckpt_rounds_init(struct ckpt_rounds *r, struct trainer *t, dptr state, int sharded);
/* Saving: rank 0 asks for elements [off, off + n) in increasing order and
 * gets them in dst; the other ranks call ckpt_rounds_serve once per section. */
int ckpt_rounds_fetch(struct ckpt_rounds *r, float *dst, size_t off, size_t n,
                      struct herr *err);
int ckpt_rounds_serve(struct ckpt_rounds *r, struct herr *err);
/* Resuming: rank 0 hands in elements [off, off + n) in increasing order and
 * calls ckpt_rounds_flush at the end; the other ranks call
 * ckpt_rounds_receive once per section. */
int ckpt_rounds_put(struct ckpt_rounds *r, const float *src, size_t off, size_t n,
                    struct herr *err);
int ckpt_rounds_flush(struct ckpt_rounds *r, struct herr *err);
int ckpt_rounds_receive(struct ckpt_rounds *r, struct herr *err);

/* train_agree.c */
/* Every rank must train the same thing: compares the settings that define
 * the computation and the data's description across ranks and names the
 * first difference. */
int trainer_check_ranks_agree(struct trainer *t, struct herr *err);

/* train_trace.c (--trace) */
int trainer_trace_open(struct trainer *t, struct herr *err);
void trainer_trace_close(struct trainer *t);
/* One line per reweighting call: the N samples of its set in global order. */
void trainer_trace_weights(struct trainer *t, int call, int N, const struct rw_stats *st);
void trainer_trace_step(struct trainer *t, const struct step_report *rep);

/* train_ref.c: reference losses by window index (reducible) */
/* Reads and checks --ref-losses (and refuses reducible without it). */
int trainer_ref_setup(struct trainer *t, struct herr *err);
void trainer_ref_free(struct trainer *t);
/* Before micro-batch k is loaded: remembers where the loader stands. */
void trainer_ref_note(struct trainer *t, int k);
/* After gathering micro-batches [k0, k0 + nk): fills ref_all in the gathered
 * order (every rank alike). */
void trainer_ref_lookup(struct trainer *t, int k0, int nk);
/* ref_all, or NULL without --ref-losses. */
const double *trainer_ref_all(const struct trainer *t);

/* train_eval.c */
int trainer_val_setup(struct trainer *t, struct herr *err);
void trainer_val_free(struct trainer *t);
int trainer_validate(struct trainer *t, struct herr *err);

/* train_log.c */
int trainer_log_open(struct trainer *t, int resumed, struct herr *err);
void trainer_log_close(struct trainer *t);
void trainer_log_step(struct trainer *t, const struct step_report *rep);
void trainer_log_val(struct trainer *t, const double *dom_loss, const double *dom_tokens);
void trainer_log_event(struct trainer *t, const char *event, const char *detail);
double trainer_now(void);

/* train_ckpt.c */
int trainer_save(struct trainer *t, struct herr *err);
/* Reads the recorded settings and rank count of the run in dir (its latest
 * checkpoint). */
int trainer_read_recorded_config(const char *dir, struct train_config *recorded, int *ranks,
                                 struct herr *err);
/* Restores parameters, optimizer, data position and reweighting state. */
int trainer_restore(struct trainer *t, struct herr *err);
int trainer_export_model(struct trainer *t, struct herr *err);
/* Refuses to start a new run in a directory that holds one (unless --force). */
int trainer_check_fresh_out(struct trainer *t, struct herr *err);

#endif
