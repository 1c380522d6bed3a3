/* core/train.h — a whole training run: set-up (or resume), the step loop,
 * validation, metrics, checkpoints and the exported model.
 *
 * One step, as data flows (see docs/ARCHITECTURE.md):
 *   loader -> B rows (T+1 tokens) + domain ids per rank and micro-batch
 *   model forward -> per-token cross-entropy on the device
 *   row sums -> host: per-sample mean loss l_i over the n_i kept tokens
 *   all-gather of (l_i, n_i, domain) over ranks -> reweight/: weights of the
 *     global set (a micro-batch, or the whole optimizer step)
 *   this rank's slice (by global rank) -> per-row scale w_i / n_i
 *   model backward seeded with it; gradients summed over ranks
 *   gradient norm, clipping, AdamW; metrics line; progress line
 */
#ifndef HEFT_CORE_TRAIN_H
#define HEFT_CORE_TRAIN_H

#include <stdio.h>

#include "core/comm.h"
#include "core/train_config.h"

struct train_result {
    long steps_done;       /* optimizer steps completed in total */
    double last_loss;      /* unweighted mean per-sample loss of the last step */
    double last_val_loss;  /* mean over domains of the last validation (NaN if none) */
    int has_val_data;      /* 0: the data has no validation split at all */
    char out_dir[OPT_STRING_MAX];
};

/* Runs training as configured. Progress lines go to `progress` on rank 0 (NULL
 * for none); the metrics file, checkpoints and the model go to cfg->out (or the
 * resumed run's directory). `argv_for_resume` are the command-line flags, which
 * on --resume are applied on top of the checkpoint's recorded settings. */
int train_run(const struct train_config *cfg, int argc, char **argv, int first_arg,
              struct comm *comm, FILE *progress, struct train_result *res, struct herr *err);

#endif
