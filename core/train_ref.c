/* core/train_ref.c — reference losses in training (--ref-losses FILE, made by
 * `heft score`): each row's reference loss is looked up by its window index,
 * so a step does no extra forward.
 *
 * No communication: every rank knows the windows of every rank's rows from
 * the loader's position (core/loader.h: the global rows of a micro-batch are
 * W*B consecutive rows of the row stream, rank-major, which is exactly the
 * order core/train_step.c gathers the losses in), so every rank fills the
 * same reference losses for the whole gathered set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ref_losses.h"
#include "core/train_internal.h"

int trainer_ref_setup(struct trainer *t, struct herr *err)
{
    const char *path = t->cfg.ref_losses;
    if (!path[0]) {
        if (t->rwcfg.strategy == RW_REDUCIBLE)
            return herr_set(err, "--reweight reducible needs --ref-losses FILE: each training "
                            "window's reference loss, made by heft score (docs/REWEIGHTING.md)");
        return 0;
    }
    size_t W = (size_t)t->world, B = (size_t)t->cfg.batch, K = (size_t)t->K;
    t->ref = calloc(1, sizeof *t->ref);
    t->ref_pos = calloc(K, sizeof *t->ref_pos);
    t->ref_win = calloc(W * B, sizeof *t->ref_win);
    t->ref_all = calloc(K * W * B, sizeof *t->ref_all);
    if (!t->ref || !t->ref_pos || !t->ref_win || !t->ref_all)
        return herr_set(err, "out of host memory for the reference losses");
    if (ref_losses_read(path, t->ref, err))
        return herr_wrap(err, "--ref-losses: ");
    if (ref_losses_check(t->ref, path, t->cfg.seq, loader_num_windows(t->ld),
                         dataset_fingerprint(t->ds), err))
        return herr_wrap(err, "--ref-losses: ");
    if (t->progress)
        fprintf(t->progress, "heft: reference losses %s: %llu of %llu windows, from %s\n", path,
                (unsigned long long)t->ref->count, (unsigned long long)t->ref->windows,
                t->ref->model[0] ? t->ref->model : "an undescribed model");
    return 0;
}

void trainer_ref_free(struct trainer *t)
{
    if (t->ref)
        ref_losses_free(t->ref);
    free(t->ref);
    free(t->ref_pos);
    free(t->ref_win);
    free(t->ref_all);
    t->ref = NULL;
    t->ref_pos = NULL;
    t->ref_win = NULL;
    t->ref_all = NULL;
}

void trainer_ref_note(struct trainer *t, int k)
{
    if (t->ref)
        t->ref_pos[k] = loader_tell(t->ld);
}

void trainer_ref_lookup(struct trainer *t, int k0, int nk)
{
    if (!t->ref)
        return;
    size_t n = (size_t)t->world * t->cfg.batch;
    for (int kk = 0; kk < nk; kk++) {
        loader_windows(t->ld, t->ref_pos[k0 + kk], n, t->ref_win);
        for (size_t j = 0; j < n; j++)
            t->ref_all[kk * n + j] = ref_losses_at(t->ref, t->ref_win[j]);
    }
}

const double *trainer_ref_all(const struct trainer *t)
{
    return t->ref ? t->ref_all : NULL;
}
