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
#include "core/run_lock.h"
#include "core/ref_losses.h"
#include "core/train.h"
#include "core/val_iter.h"
#include "core/zero_layout.h"
#include "core/train_memory.h"
#include "models/model.h"
#include "reweight/reweight.h"

struct textgen;

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
    double gather_wait_seconds; /* ZeRO-3: the main thread waiting for layer gathers (in
                                   line or prefetched), part of exchange_seconds */
    double gather_wait_mean;    /* over all ranks */
    double prefetch_seconds;    /* ZeRO-3: the prefetches' own time on the comm thread */
    double exchange_bytes;    /* this rank's share of the exchange's collectives: (W-1)
                                 x the block of every all-gather and reduce-scatter, and
                                 2 (W-1)/W x each all-reduced bucket */
    struct rw_stats rw;   /* statistics of the last reweighting of the step */
    int rw_calls;         /* reweightings in the step (1, or K for --rw-normalize micro) */
};

/* The model pass a trainer is about to run, for ZeRO-3's prefetch: which
 * layer it asks for next (core/train_prefetch.c). */
enum zero_pass { ZERO_PASS_NONE, ZERO_PASS_FORWARD, ZERO_PASS_BACKWARD };

/* ZeRO-3's gather on the communication thread: what it gathers and what it
 * reports back. Written by the main thread before the job starts, by the job
 * while it runs, read by the main thread after it waited. */
struct zero_fetch {
    struct trainer *t;
    int g, b;       /* layer g into layer buffer b */
    long step;      /* for messages */
    double bytes;   /* moved (as zero_state's bytes counts them) */
    double seconds; /* the job's time: overlapped with the main thread's work */
};

/* ZeRO-2/3 (core/train_zero.c): this rank's shards, the gathered buffers the
 * model's hooks lend, and what the step moved. */
struct zero_state {
    struct zero_layout lay;
    struct optim_span *spans;  /* AdamW over this rank's pieces */
    size_t nspans;
    dptr pshard, gshard;       /* this rank's pieces of the parameters (stage 3) and
                                  of the gradients, summed over ranks */
    dptr outer_p, outer_g;     /* the outer group gathered (stage 3); its gradients */
    dptr layer_p[TRAIN_LAYER_BUFFERS], layer_g; /* a layer's weights (stage 3); its
                                                   gradients */
    int held[TRAIN_LAYER_BUFFERS]; /* the layer each buffer holds; -1 none */
    int outer_held;
    int backwards;             /* this step's backwards so far: later ones add */
    float *acc;                /* host: the shard's round, for adding (K > 1) */
    double bytes, seconds;     /* moved and spent in the hooks this step: the main
                                  thread's time, a prefetch's only as far as the main
                                  thread waited for it */
    double wait_seconds;       /* of that: waiting for layer gathers (in line, or a
                                  prefetch not yet done) */
    double prefetch_seconds;   /* the prefetches' own time this step (overlapped) */
    long gathers_inline;       /* layer gathers since start-up: made when asked for, */
    long gathers_prefetched;   /* and prefetched (the right guess is all of them) */

    /* stage 3's prefetch (core/train_prefetch.c) */
    int prefetch;              /* on: the next layer is gathered on the comm thread */
    char prefetch_note[320];   /* why it is off although asked for or auto ("" if not) */
    enum zero_pass pass;       /* the model pass in progress, as the trainer said */
    int fetching;              /* fetch is started and not collected */
    struct zero_fetch fetch;
    float *pstage;             /* host: the prefetch's own stage */
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

    /* ZeRO stage in effect: --zero, except that ZeRO-1 on one rank is plain
     * (there is nothing to shard); stages 2 and 3 run their hooks on one
     * rank too (core/train_zero.c). */
    int zero;
    /* ZeRO-1: rank k owns the optimizer state of [shard_lo[k], shard_hi[k]);
     * without it every rank owns [0, P) */
    int zero1;
    size_t *shard_lo, *shard_hi; /* (W) */
    size_t *counts;              /* (W) scratch for gather/scatter rounds */
    struct zero_layout z1;       /* ZeRO-1's shards as a layout, for checkpoints */
    struct zero_state zs;        /* stages 2 and 3 */

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
    struct run_lock lock; /* rank 0: OUT is this run's (core/train_rundir.c) */
    char out_note[1024];  /* what claiming OUT found, logged as a note ("" if nothing) */
    FILE *metrics; /* rank 0 */
    FILE *trace;   /* rank 0, --trace */
    char log_error[768]; /* the first failed write of metrics, trace or progress ("" if none):
                            the run stops at the next check (trainer_log_check) */
    double gemm_gflops; /* measured at start-up, for MFU */
    int mfu_stale;      /* a step beat that rate: it was measured while the machine was
                           busier, so MFU is no longer reported (null in the metrics) */
    long tokens_per_step;
    double step_s_recent; /* decaying maximum of step times (auto --comm-timeout) */
    struct textgen *textgen; /* --sample-every's KV cache (rank 0), made at the first sample */
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
/* Checkpoint sections (and, for stages 2 and 3, the initial parameters and
 * the exported model) travel in rounds of at most stage_floats through rank
 * 0, in the flat order of the file formats. A round stays inside one slice
 * of the layout, where the owners' parts follow one another in rank order,
 * so a gatherv (scatterv) to (from) rank 0 puts them in flat order. */
struct ckpt_rounds {
    struct trainer *t;
    dptr state;      /* this rank's pieces (lay), or all P */
    const struct zero_layout *lay; /* NULL: every rank holds the whole section */
    size_t lo, hi;   /* the round now in the stage: elements [lo, hi) */
    size_t done;     /* elements delivered (resuming) */
    int next;        /* the round's slice: lay->flat_order[next] */
};
void ckpt_rounds_init(struct ckpt_rounds *r, struct trainer *t, dptr state,
                      const struct zero_layout *lay);
/* The layout of the Adam moments (NULL: whole), of the parameters, and the
 * device buffer that holds this rank's parameters. */
const struct zero_layout *trainer_state_layout(const struct trainer *t);
const struct zero_layout *trainer_params_layout(const struct trainer *t);
dptr trainer_params_state(const struct trainer *t);
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

/* train_zero.c: ZeRO stages 2 and 3 */
int zero_setup(struct trainer *t, struct herr *err);
void zero_teardown(struct trainer *t);
void zero_begin_step(struct trainer *t);
int zero_grad_sumsq(struct trainer *t, double *sumsq, struct herr *err);
int zero_update(struct trainer *t, double lr, double clip_scale, struct herr *err);
/* After the update: stage 2 all-gathers the pieces into the parameters;
 * stage 3 forgets the gathered copies. */
int zero_share_params(struct trainer *t, struct herr *err);
/* The parameters changed outside a step (restore): gathered copies are stale. */
void zero_params_changed(struct trainer *t);
/* The model pass about to run (forward or backward; validation too): the
 * order in which it will ask for layers. Every model forward and backward
 * of a stage-3 trainer says so first; a pass that did not would still be
 * right, only without prefetch. */
void zero_begin_pass(struct trainer *t, enum zero_pass pass);
/* Group g's gathers of this rank's parameter pieces into dst through stage
 * (W rounds of the trainer's round size), without checking the backend:
 * what the prefetch thread runs. */
int zero_gather_layer(struct trainer *t, int g, dptr dst, float *stage, long step,
                      double *bytes, struct herr *err);

/* train_prefetch.c: ZeRO-3's prefetch of the next layer */
/* After the rank check: prefetch on or off (the same on every rank), its
 * stage allocated. */
int zero_prefetch_setup(struct trainer *t, struct herr *err);
/* The model asked for group g and has it: start gathering the layer the pass
 * asks for next, unless its buffer holds it. */
int zero_prefetch_next(struct trainer *t, int g, struct herr *err);
/* Waits for the gather in flight, if any: its layer's buffer then holds it;
 * its error, if it failed. */
int zero_prefetch_collect(struct trainer *t, struct herr *err);
/* Waits for a gather in flight and forgets it (its buffer holds nothing
 * known): on an error path, or when the parameters change. */
void zero_prefetch_drop(struct trainer *t);
void zero_prefetch_teardown(struct trainer *t);

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
/* Whether any domain has validation windows. */
int trainer_has_val_data(const struct trainer *t);

/* train_log.c */
int trainer_log_open(struct trainer *t, int resumed, struct herr *err);
void trainer_log_close(struct trainer *t);
void trainer_log_step(struct trainer *t, const struct step_report *rep);
void trainer_log_val(struct trainer *t, const double *dom_loss, const double *dom_tokens);
void trainer_log_event(struct trainer *t, const char *event, const char *detail);
double trainer_now(void);
/* Records the first failed write (what: "metrics file X"; errnum 0 for a line
 * too long); later writes are skipped. */
void trainer_log_failed(struct trainer *t, const char *what, int errnum);
/* -1 with a message when a write of the run's logs failed: the caller stops
 * before its next checkpoint, so the last one stays as it was. */
int trainer_log_check(struct trainer *t, struct herr *err);

/* train_guard.c */
/* After each step (rank 0's logs, every rank's checks): stops the run when a
 * log write failed (trainer_log_check) or the run diverged; sets the
 * collective watchdog's limit from the step times (--comm-timeout -1). */
int trainer_after_step(struct trainer *t, const struct step_report *rep, struct herr *err);
/* The watchdog's limit for waits that are not a step's: start-up, resume,
 * validation, checkpoints (--comm-timeout, or 600 s when it is auto). */
void trainer_watch_long(struct trainer *t);
/* Validation and checkpoints under that limit; a checkpoint ends with a
 * barrier, so that the ranks wait for rank 0's write there rather than in
 * the next step, under the step limit. */
int trainer_validate_watched(struct trainer *t, struct herr *err);
int trainer_save_watched(struct trainer *t, struct herr *err);

/* train_rundir.c */
/* Rank 0 locks OUT (refusing a directory another heft holds) and deletes the
 * temporary files interrupted writes left there. */
int trainer_claim_out_dir(struct trainer *t, int argc, char **argv, int first_arg,
                          struct herr *err);
void trainer_release_out_dir(struct trainer *t);

/* train_datacheck.c */
struct ckpt_reader;
/* The "data" section of a checkpoint: the shards this run trains on. */
int trainer_data_record(const struct trainer *t, char **text, size_t *len, struct herr *err);
/* Sets a message naming how this run's data differs from the checkpoint's
 * (its "data" section) and returns -1. */
int trainer_data_mismatch(const struct trainer *t, struct ckpt_reader *r, const char *path,
                          struct herr *err);
/* Reads the checkpoint's "data" section (if any), so that a damaged one is
 * refused like any other section. */
int trainer_data_verify(const struct trainer *t, struct ckpt_reader *r, struct herr *err);

/* train_sample.c: --sample-every's sample, printed and logged (rank 0) */
int trainer_sample(struct trainer *t, struct herr *err);

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
