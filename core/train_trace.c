/* core/train_trace.c — --trace FILE: what the weights were computed from and
 * what they came out as, exactly.
 *
 * Rank 0 writes one JSON line per reweighting call and one per step, every
 * number with %.17g (a double read back from it is the same double), so two
 * runs can be compared bit for bit: W ranks against one process, OpenCL
 * against the CPU, a resumed run against a straight one.
 *
 *   {"type":"weights","step":S,"call":C,"n":N,"strategy":"linupper","r":R,
 *    "losses":[N],"ntokens":[N],"domains":[N],"weights":[N]}
 *   ("ref_losses":[N] after "losses" with --ref-losses: null = none)
 *   {"type":"step","step":S,"loss":L,"loss_weighted":LW,"grad_norm":G,
 *    "clip":X,"lr":LR}
 *
 * Samples are in global row order (core/train_internal.h), so the arrays of
 * a W-rank run and of one process with W times the batch line up. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "core/train_internal.h"

int trainer_trace_open(struct trainer *t, struct herr *err)
{
    if (t->rank != 0 || !t->cfg.trace[0])
        return 0;
    t->trace = fopen(t->cfg.trace, "w");
    if (!t->trace)
        return herr_set(err, "--trace %s: %s", t->cfg.trace, strerror(errno));
    return 0;
}

void trainer_trace_close(struct trainer *t)
{
    if (t->trace)
        fclose(t->trace);
    t->trace = NULL;
}

/* a double exactly, or null (JSON has no NaN) */
static void put_double(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.17g", v);
    else
        fputs("null", f);
}

static void put_doubles(FILE *f, const char *key, const double *v, int n)
{
    fprintf(f, ",\"%s\":[", key);
    for (int i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        put_double(f, v[i]);
    }
    fputc(']', f);
}

static void put_ints(FILE *f, const char *key, const int32_t *v, int n)
{
    fprintf(f, ",\"%s\":[", key);
    for (int i = 0; i < n; i++)
        fprintf(f, i ? ",%d" : "%d", (int)v[i]);
    fputc(']', f);
}

void trainer_trace_weights(struct trainer *t, int call, int N, const struct rw_stats *st)
{
    FILE *f = t->trace;
    if (!f)
        return;
    fprintf(f, "{\"type\":\"weights\",\"step\":%ld,\"call\":%d,\"n\":%d,\"strategy\":\"%s\","
               "\"r\":",
            t->step, call, N, rw_strategy_name(st->strategy_used));
    put_double(f, st->r_used);
    put_doubles(f, "losses", t->loss_all, N);
    if (t->ref)
        put_doubles(f, "ref_losses", t->ref_all, N);
    put_ints(f, "ntokens", t->ntok_all, N);
    put_ints(f, "domains", t->dom_all, N);
    put_doubles(f, "weights", t->weights, N);
    fputs("}\n", f);
}

void trainer_trace_step(struct trainer *t, const struct step_report *rep)
{
    FILE *f = t->trace;
    if (!f)
        return;
    static const char *const keys[] = { "loss", "loss_weighted", "grad_norm", "clip", "lr" };
    double v[] = { rep->loss, rep->loss_weighted, rep->grad_norm, rep->clip_scale, rep->lr };
    fprintf(f, "{\"type\":\"step\",\"step\":%ld", rep->step);
    for (int i = 0; i < 5; i++) {
        fprintf(f, ",\"%s\":", keys[i]);
        put_double(f, v[i]);
    }
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f)) {
        char what[OPT_STRING_MAX + 16];
        snprintf(what, sizeof what, "--trace %s", t->cfg.trace);
        trainer_log_failed(t, what, errno ? errno : EIO);
        fclose(f);
        t->trace = NULL;
    }
}
