/* core/train_config.h — every setting of a training run, with one option
 * table that serves flags, config files, --help and checkpoint records. */
#ifndef HEFT_CORE_TRAIN_CONFIG_H
#define HEFT_CORE_TRAIN_CONFIG_H

#include <stdint.h>

#include "core/options.h"
#include "models/model_config.h"

struct train_config {
    /* model */
    char model[OPT_STRING_MAX];     /* preset name */
    char init_from[OPT_STRING_MAX]; /* a model file (GPT-2 or LLaMA) to start from */
    struct model_overrides shape;   /* 0 = the preset's; .vocab is unused here */
    /* data */
    char data[OPT_STRING_MAX]; /* "builtin", a dataset directory, or shard files */
    int vocab;                 /* vocabulary of raw shards without a manifest */
    int batch;                 /* rows per rank per micro-batch (B) */
    int seq;                   /* tokens per row (T) */
    int grad_accum;            /* micro-batches per optimizer step */
    /* optimizer */
    long steps;
    double lr, min_lr_frac;
    long warmup;
    char schedule[OPT_STRING_MAX];
    double weight_decay, beta1, beta2, adam_eps, grad_clip;
    double loss_guard; /* stop when the loss exceeds loss_guard x ln(V) after warm-up */
    /* reweighting */
    char reweight[OPT_STRING_MAX];
    double r;
    long rw_warmup;
    char rw_warmup_mode[OPT_STRING_MAX];
    double rw_r_start;
    char rw_normalize[OPT_STRING_MAX]; /* "micro" or "step" */
    double infobatch_prune, topq, dro_tau;
    double rw_outlier_k, rw_domain_ema; /* 0 = off */
    int rw_outlier_domains;             /* the cut removes whole domains */
    char ref_losses[OPT_STRING_MAX];    /* reducible: `heft score`'s side file; "" = none */
    double rw_learn_fast, rw_learn_slow; /* learnability's EMA decays */
    int rw_learn_raw;                    /* learnability: slope not divided by weight */
    /* run */
    uint64_t seed;
    char backend[OPT_STRING_MAX];
    int device, threads;
    char out[OPT_STRING_MAX];
    char resume[OPT_STRING_MAX];
    long ckpt_every;
    int keep;
    long val_every;
    int val_batches;
    long log_every;
    long stop_after; /* end this invocation after N steps (resumable); 0 = run to --steps */
    int zero;            /* ZeRO stage 0..3 (core/train_zero.h) */
    int zero1;           /* --zero1, an alias of --zero 1 (train_config_resolve_zero) */
    char zero_prefetch[OPT_STRING_MAX]; /* auto, on, off: stage 3's prefetch (core/train_prefetch.c) */
    char recompute[OPT_STRING_MAX]; /* none, attn, layer (models/model_config.h) */
    int attn_chunk;                 /* rows per attention pass when recomputing; 0 = auto */
    int attn_heads;                 /* key/value heads per attention pass when recomputing; 0 = auto */
    double comm_timeout; /* seconds a collective may wait; 0 = for ever; -1 = auto */
    char trace[OPT_STRING_MAX]; /* per-sample trace file (rank 0); "" = none */
    long sample_every;          /* print and log a generated sample every N steps; 0 = never */
    int quiet;
    int force;
};

/* The defaults: the built-in data and the tiny model, sized to show a clear
 * drop in loss within a few minutes on two cores. */
void train_config_default(struct train_config *c);

/* The option table for `heft train` (NULL-terminated). */
const struct opt_spec *train_options(void);

/* --zero1 becomes --zero 1 (an error next to another --zero N), so that
 * every later reader sees the stage in one field. */
int train_config_resolve_zero(struct train_config *c, struct herr *err);

/* Cross-field checks that a single option's range cannot express. */
int train_config_validate(const struct train_config *c, struct herr *err);

#endif
