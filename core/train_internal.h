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

    /* host staging, sized at set-up: nothing is allocated in the step loop */
    int32_t *inputs, *targets, *domains; /* (K, B, T), (K, B, T), (K, B) */
    float *row_sums;                     /* (B) */
    float *row_scale;                    /* (B) */
    double *loss_local;                  /* (K, B) */
    double *loss_all;                    /* (W, K, B) */
    int32_t *ntok_local, *ntok_all;      /* (K, B), (W, K, B) */
    int32_t *dom_all;                    /* (W, K, B) */
    double *weights;                     /* (W, K, B) */
    float *grad_host;                    /* (P) for the cross-rank sum; NULL when W = 1 */

    /* validation */
    struct val_iter *val;  /* (num_domains) iterators; NULL where a domain has no val data */
    double last_val_loss;

    /* output */
    char out_dir[OPT_STRING_MAX];
    FILE *metrics; /* rank 0 */
    double gemm_gflops; /* measured at start-up, for MFU */
    double t_start;
    long tokens_per_step;
};

/* train_setup.c */
int trainer_setup(struct trainer *t, const struct train_config *cfg, int argc, char **argv,
                  int first_arg, struct comm *comm, FILE *progress, struct herr *err);
void trainer_teardown(struct trainer *t);

/* train_step.c */
int trainer_step(struct trainer *t, struct step_report *rep, struct herr *err);

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
/* Reads the recorded settings of the run in dir (its latest checkpoint). */
int trainer_read_recorded_config(const char *dir, struct train_config *recorded,
                                 struct herr *err);
/* Restores parameters, optimizer, data position and reweighting state. */
int trainer_restore(struct trainer *t, struct herr *err);
int trainer_export_model(struct trainer *t, struct herr *err);
/* Refuses to start a new run in a directory that holds one (unless --force). */
int trainer_check_fresh_out(struct trainer *t, struct herr *err);

#endif
