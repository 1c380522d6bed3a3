/* core/train_eval.c — validation: the mean token loss of every domain's
 * validation windows, each window counted once over all ranks. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/train_internal.h"

static int has_val(const struct trainer *t, int d)
{
    return dataset_num_windows(t->ds, DATA_VAL, d, t->cfg.seq) > 0;
}

int trainer_val_setup(struct trainer *t, struct herr *err)
{
    t->val = calloc((size_t)t->num_domains, sizeof *t->val);
    if (!t->val)
        return herr_set(err, "out of memory");
    for (int d = 0; d < t->num_domains; d++) {
        if (!has_val(t, d))
            continue; /* this domain has no validation split */
        if (val_iter_init(&t->val[d], t->ds, d, t->cfg.batch, t->cfg.seq, t->rank, t->world,
                          err))
            return herr_wrap(err, "validation data of domain %s: ",
                             dataset_domain_name(t->ds, d));
    }
    return 0;
}

void trainer_val_free(struct trainer *t)
{
    if (!t->val)
        return;
    for (int d = 0; d < t->num_domains; d++)
        if (has_val(t, d))
            val_iter_free(&t->val[d]);
    free(t->val);
    t->val = NULL;
}

int trainer_has_val_data(const struct trainer *t)
{
    return dataset_num_windows(t->ds, DATA_VAL, -1, t->cfg.seq) > 0;
}

int trainer_validate(struct trainer *t, struct herr *err)
{
    const int B = t->cfg.batch, T = t->cfg.seq, D = t->num_domains;
    /* no validation split at all: nothing to report (the start said so) */
    if (!trainer_has_val_data(t))
        return 0;
    double sums[2 * DATASET_MAX_DOMAINS] = { 0 }; /* loss sum, token count per domain */
    for (int d = 0; d < D; d++) {
        struct val_iter *it = &t->val[d];
        if (!has_val(t, d))
            continue;
        val_iter_rewind(it);
        uint64_t batches = val_iter_num_batches(it);
        if (t->cfg.val_batches > 0 && batches > (uint64_t)t->cfg.val_batches)
            batches = (uint64_t)t->cfg.val_batches;
        for (uint64_t i = 0; i < batches; i++) {
            int rc = val_iter_next(it, t->inputs, t->targets, t->domains, NULL, err);
            if (rc < 0)
                return herr_wrap(err, "validation of domain %s: ", dataset_domain_name(t->ds, d));
            if (rc == 0)
                break;
            zero_begin_pass(t, ZERO_PASS_FORWARD);
            if (t->model.ops->forward(t->model.impl, t->inputs, t->targets, err) ||
                t->model.ops->row_loss_sums(t->model.impl, t->row_sums, err))
                return herr_wrap(err, "validation of domain %s: ", dataset_domain_name(t->ds, d));
            for (int b = 0; b < B; b++) {
                sums[2 * d] += t->row_sums[b];
                sums[2 * d + 1] += row_num_targets(t->targets + (size_t)b * T, T);
            }
        }
    }
    if (comm_allreduce_sum_f64(t->comm, sums, 2 * (size_t)D, err))
        return herr_wrap(err, "validation: ");
    double loss[DATASET_MAX_DOMAINS], tokens[DATASET_MAX_DOMAINS], mean = 0.0;
    int counted = 0;
    for (int d = 0; d < D; d++) {
        tokens[d] = sums[2 * d + 1];
        loss[d] = tokens[d] > 0 ? sums[2 * d] / tokens[d] : NAN;
        if (tokens[d] > 0) {
            mean += loss[d];
            counted++;
        }
    }
    /* the headline validation loss weighs domains equally, so a domain's size
     * in the validation split does not decide the figure */
    t->last_val_loss = counted ? mean / counted : NAN;
    trainer_log_val(t, loss, tokens);
    return trainer_log_check(t, err);
}
