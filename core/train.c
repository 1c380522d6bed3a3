/* core/train.c — the step loop of a run. */
#include "core/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/cpu/cpu_backend.h"
#include "core/train_internal.h"

static void describe_run(struct trainer *t)
{
    FILE *f = t->progress;
    if (!f)
        return;
    char shape[256];
    model_config_describe(&t->model.config, shape, sizeof shape);
    fprintf(f, "heft: %s, %zu parameters (%s), B=%d x T=%d x K=%d x %d rank%s"
               " = %ld tokens/step\n",
            t->model.family, t->model.num_params, shape, t->cfg.batch, t->cfg.seq, t->K, t->world,
            t->world == 1 ? "" : "s", t->tokens_per_step);
    fprintf(f, "heft: data %s: %d domain%s,", t->cfg.data, t->num_domains,
            t->num_domains == 1 ? "" : "s");
    for (int d = 0; d < t->num_domains; d++)
        fprintf(f, " %s", dataset_domain_name(t->ds, d));
    fprintf(f, "; %llu train windows of %d tokens\n",
            (unsigned long long)loader_num_windows(t->ld), t->cfg.seq);
    fprintf(f, "heft: backend %s (%s); GEMM rate %.1f GFLOP/s (measured; the MFU ceiling)\n",
            t->be->name, t->be->device, t->gemm_gflops);
    if (!strcmp(t->be->name, "cpu") && cpu_blas_core_is_fallback())
        fprintf(f, "heft: note: OpenBLAS runs its generic '%s' kernels on this CPU, several times "
                   "slower than it could; try OPENBLAS_CORETYPE=SkylakeX (AVX-512) or Haswell (AVX2)\n",
                cpu_blas_core());
    fprintf(f, "heft: reweighting %s", t->cfg.reweight);
    if (strcmp(t->cfg.reweight, "uniform") != 0)
        fprintf(f, " (r=%g, warm-up %ld steps %s, normalized per %s)", t->cfg.r,
                t->cfg.rw_warmup, t->cfg.rw_warmup_mode, t->normalize_step ? "step" : "micro-batch");
    fprintf(f, "; writing to %s/\n", t->out_dir);
    fflush(f);
}

static int run_loop(struct trainer *t, struct train_result *res, struct herr *err)
{
    long stop = t->cfg.steps;
    if (t->cfg.stop_after > 0 && t->step + t->cfg.stop_after < stop)
        stop = t->step + t->cfg.stop_after;
    struct step_report rep;
    memset(&rep, 0, sizeof rep);
    rep.loss = NAN;
    while (t->step < stop) {
        if (trainer_step(t, &rep, err))
            return -1;
        trainer_log_step(t, &rep);
        if (trainer_after_step(t, &rep, err))
            return -1;
        int last = t->step == stop;
        if ((t->cfg.val_every > 0 && t->step % t->cfg.val_every == 0) ||
            (last && t->step == t->cfg.steps)) {
            if (trainer_validate_watched(t, err))
                return -1;
        }
        if ((t->cfg.ckpt_every > 0 && t->step % t->cfg.ckpt_every == 0) || last) {
            if (trainer_save_watched(t, err))
                return -1;
        }
        if (t->cfg.sample_every > 0 && t->step % t->cfg.sample_every == 0 &&
            trainer_sample(t, err))
            return -1;
    }
    res->steps_done = t->step;
    res->last_loss = rep.loss;
    res->last_val_loss = t->last_val_loss;
    return 0;
}

int train_run(const struct train_config *cfg, int argc, char **argv, int first_arg,
              struct comm *comm, FILE *progress, struct train_result *res, struct herr *err)
{
    struct trainer t;
    memset(res, 0, sizeof *res);
    res->last_loss = res->last_val_loss = NAN;
    int rc = trainer_setup(&t, cfg, argc, argv, first_arg, comm, progress, err);
    if (rc == 0) {
        describe_run(&t);
        snprintf(res->out_dir, sizeof res->out_dir, "%s", t.out_dir);
        res->has_val_data = trainer_has_val_data(&t);
        if (t.step >= t.cfg.steps)
            trainer_log_event(&t, "note", "the run already reached --steps; nothing to do "
                                          "(raise --steps to continue it)");
        rc = run_loop(&t, res, err);
        if (rc == 0 && t.step == t.cfg.steps)
            rc = trainer_export_model(&t, err);
        if (rc == 0)
            rc = trainer_log_check(&t, err);
    }
    trainer_teardown(&t);
    return rc;
}
