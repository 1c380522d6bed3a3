/* core/train_log.c — what a run reports: one JSON line per step and per
 * validation in OUT/metrics.jsonl (rank 0), and a progress line for people. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ckpt_dir.h"
#include "core/gemm_rate.h"
#include "core/jsonl.h"
#include "core/train_internal.h"

double trainer_now(void) { return gemm_rate_clock(); }

void trainer_log_failed(struct trainer *t, const char *what, int errnum)
{
    if (t->log_error[0])
        return;
    snprintf(t->log_error, sizeof t->log_error, "writing %.600s: %s", what,
             errnum ? strerror(errnum) : "line too long");
}

int trainer_log_check(struct trainer *t, struct herr *err)
{
    if (!t->log_error[0])
        return 0;
    char latest[OPT_STRING_MAX + 64];
    struct herr none;
    if (ckpt_resolve(t->out_dir, latest, sizeof latest, &none) != 0)
        return herr_set(err, "%s; stopped after step %ld, before any checkpoint", t->log_error,
                        t->step);
    return herr_set(err, "%s; stopped after step %ld, before its checkpoint: %s is intact "
                         "(resume with --resume %s once the disk has room)",
                    t->log_error, t->step, latest, t->out_dir);
}

/* Writes a finished line to the metrics file. Unbuffered, so a failed write
 * leaves nothing pending; what part of the line reached the file is cut off
 * again, so the file stays whole JSON lines. */
static void emit(struct trainer *t, struct jsonl *j)
{
    if (!t->metrics || t->log_error[0])
        return;
    off_t at = ftello(t->metrics);
    errno = 0;
    if (jsonl_end(j, t->metrics) == 0)
        return;
    int e = j->overflow ? 0 : errno ? errno : EIO;
    char what[OPT_STRING_MAX + 48];
    snprintf(what, sizeof what, "metrics file %s/metrics.jsonl", t->out_dir);
    trainer_log_failed(t, what, e);
    clearerr(t->metrics);
    if (at >= 0 && ftruncate(fileno(t->metrics), at) == 0)
        fseeko(t->metrics, at, SEEK_SET);
}

/* Flushes a progress line; a failure stops the run like one of the metrics. */
static void progress_done(struct trainer *t)
{
    if (fflush(t->progress) != 0 || ferror(t->progress)) {
        trainer_log_failed(t, "progress lines (stdout)", errno ? errno : EIO);
        t->progress = NULL;
    }
}

/* A run killed in the middle of a metrics line left part of it: cut it off
 * before appending, so every line stays one JSON object. Returns the bytes
 * dropped. */
static long drop_partial_line(const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    long dropped = 0;
    char c = '\n';
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        pread(fd, &c, 1, st.st_size - 1) == 1 && c != '\n') {
        off_t end = st.st_size, keep = 0;
        char buf[4096];
        while (end > 0 && !keep) {
            off_t from = end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0;
            ssize_t n = pread(fd, buf, (size_t)(end - from), from);
            if (n <= 0)
                break;
            for (ssize_t i = n - 1; i >= 0; i--)
                if (buf[i] == '\n') {
                    keep = from + i + 1;
                    break;
                }
            end = from;
        }
        if (ftruncate(fd, keep) == 0)
            dropped = (long)(st.st_size - keep);
    }
    close(fd);
    return dropped;
}

int trainer_log_open(struct trainer *t, int resumed, struct herr *err)
{
    if (t->rank != 0)
        return 0;
    if (trainer_trace_open(t, err))
        return -1;
    char path[OPT_STRING_MAX + 32];
    snprintf(path, sizeof path, "%s/metrics.jsonl", t->out_dir);
    /* a resumed run appends: the file then holds the whole run's history, with
     * a "resume" event where it continued */
    long dropped = resumed ? drop_partial_line(path) : 0;
    t->metrics = fopen(path, resumed ? "a" : "w");
    if (!t->metrics)
        return herr_set(err, "opening metrics file %s: %s", path, strerror(errno));
    setvbuf(t->metrics, NULL, _IONBF, 0);
    struct jsonl j;
    jsonl_begin(&j);
    jsonl_str(&j, "type", resumed ? "resume" : "start");
    jsonl_int(&j, "step", t->step);
    jsonl_str(&j, "model", t->model.family);
    jsonl_int(&j, "params", (long long)t->model.num_params);
    struct model_dims dims;
    model_config_dims(&t->model.config, &dims);
    char shape[256];
    model_config_describe(&t->model.config, shape, sizeof shape);
    jsonl_str(&j, "shape", shape);
    jsonl_int(&j, "layers", dims.num_layers);
    jsonl_int(&j, "channels", dims.channels);
    jsonl_int(&j, "heads", dims.num_heads);
    jsonl_int(&j, "vocab", dims.vocab_size);
    jsonl_int(&j, "batch", t->cfg.batch);
    jsonl_int(&j, "seq", t->cfg.seq);
    jsonl_int(&j, "grad_accum", t->K);
    jsonl_int(&j, "ranks", t->world);
    jsonl_str(&j, "comm", comm_describe(t->comm));
    jsonl_int(&j, "zero", t->zero);
    jsonl_int(&j, "zero1", t->zero1);
    if (t->zero == 3)
        jsonl_str(&j, "zero_prefetch", t->zs.prefetch ? "on" : "off");
    jsonl_str(&j, "backend", t->be->name);
    jsonl_str(&j, "device", t->be->device);
    jsonl_str(&j, "reweight", t->cfg.reweight);
    jsonl_str(&j, "data", t->cfg.data);
    jsonl_obj(&j, "domains");
    for (int d = 0; d < t->num_domains; d++)
        jsonl_int(&j, dataset_domain_name(t->ds, d), d);
    jsonl_close(&j);
    emit(t, &j);
    if (t->out_note[0])
        trainer_log_event(t, "note", t->out_note);
    if (t->zs.prefetch_note[0])
        trainer_log_event(t, "note", t->zs.prefetch_note);
    if (!trainer_has_val_data(t)) {
        char note[OPT_STRING_MAX + 200];
        snprintf(note, sizeof note, "%s has no validation data (no shard is in the val split: "
                 "llm.c shards named *_val*, or 'shard val' lines in dataset.txt), so no "
                 "validation loss is reported", t->cfg.data);
        trainer_log_event(t, "note", note);
    }
    if (dropped > 0) {
        char note[160];
        snprintf(note, sizeof note, "metrics.jsonl ended in part of a line (an interrupted "
                 "write): %ld bytes dropped", dropped);
        trainer_log_event(t, "note", note);
    }
    if (t->progress && t->world > 1) {
        static const char *const what[] = {
            "whole on every rank", "optimizer state sharded over the ranks (ZeRO-1)",
            "optimizer state and gradients sharded over the ranks (ZeRO-2)",
            "optimizer state, gradients and parameters sharded over the ranks, each layer "
            "gathered when used (ZeRO-3)",
        };
        fprintf(t->progress, "heft: %s; %s\n", comm_describe(t->comm), what[t->zero]);
        progress_done(t);
    }
    return trainer_log_check(t, err);
}

/* Peak resident memory of this process so far, MiB (getrusage: KiB on Linux). */
static double peak_rss_mib(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return NAN;
    return (double)ru.ru_maxrss / 1024.0;
}

void trainer_log_close(struct trainer *t)
{
    trainer_trace_close(t);
    if (t->metrics) {
        /* rank 0's peak, for comparison with `heft plan` (the trainer's
         * memory is planned, core/train_memory.h) */
        struct jsonl j;
        jsonl_begin(&j);
        jsonl_str(&j, "type", "end");
        jsonl_int(&j, "step", t->step);
        jsonl_num(&j, "peak_rss_mib", peak_rss_mib());
        emit(t, &j);
        fclose(t->metrics);
    }
    t->metrics = NULL;
}

static void format_duration(double s, char *buf, size_t cap)
{
    if (!isfinite(s) || s < 0)
        s = 0;
    long x = (long)(s + 0.5);
    if (x >= 3600)
        snprintf(buf, cap, "%ldh%02ldm", x / 3600, (x / 60) % 60);
    else
        snprintf(buf, cap, "%ldm%02lds", x / 60, x % 60);
}

void trainer_log_step(struct trainer *t, const struct step_report *r)
{
    double tok_s = r->seconds > 0 ? (double)t->tokens_per_step / r->seconds : 0.0;
    double mfu = t->gemm_gflops > 0 && r->seconds > 0
                     ? t->model.flops_per_step * t->K / r->seconds / (t->gemm_gflops * 1e9)
                     : NAN;
    if (mfu > 1.0 && !t->mfu_stale) {
        t->mfu_stale = 1;
        if (t->progress)
            fprintf(t->progress,
                    "heft: note: steps now run faster than the GEMM rate measured at start-up "
                    "(%.1f GFLOP/s; the machine was busier then); MFU is not reported from here on\n",
                    t->gemm_gflops);
    }
    if (t->mfu_stale)
        mfu = NAN;
    if (t->metrics) {
        const struct rw_stats *s = &r->rw;
        struct jsonl j;
        jsonl_begin(&j);
        jsonl_str(&j, "type", "train");
        jsonl_int(&j, "step", r->step);
        jsonl_num(&j, "loss", r->loss);
        jsonl_num(&j, "loss_weighted", r->loss_weighted);
        jsonl_num(&j, "lr", r->lr);
        jsonl_num(&j, "grad_norm", r->grad_norm);
        jsonl_num(&j, "clip", r->clip_scale);
        jsonl_num(&j, "ms", r->seconds * 1e3);
        jsonl_num(&j, "comm_ms", r->comm_mean * 1e3);
        jsonl_num(&j, "comm_ms_max", r->comm_max * 1e3);
        jsonl_num(&j, "exchange_ms", r->exchange_mean * 1e3);
        jsonl_num(&j, "exchange_mib", r->exchange_bytes / 1048576.0);
        if (t->zero == 3) {
            jsonl_num(&j, "gather_wait_ms", r->gather_wait_mean * 1e3);
            jsonl_num(&j, "prefetch_ms", r->prefetch_seconds * 1e3);
            /* rank 0's layer gathers since start-up, validation's included */
            jsonl_int(&j, "gathers_inline", t->zs.gathers_inline);
            jsonl_int(&j, "gathers_prefetched", t->zs.gathers_prefetched);
        }
        jsonl_num(&j, "tokens_per_s", tok_s);
        jsonl_num(&j, "mfu", mfu);
        jsonl_int(&j, "tokens", (long long)(r->step + 1) * t->tokens_per_step);
        jsonl_obj(&j, "rw");
        jsonl_str(&j, "strategy", rw_strategy_name(s->strategy_used));
        jsonl_num(&j, "r", s->r_used);
        jsonl_num(&j, "ess", s->ess);
        jsonl_num(&j, "w_max", s->w_max);
        jsonl_num(&j, "w_min", s->w_min);
        jsonl_num(&j, "entropy", s->entropy);
        jsonl_num(&j, "loss_q10", s->loss_q[0]);
        jsonl_num(&j, "loss_q25", s->loss_q[1]);
        jsonl_num(&j, "loss_q50", s->loss_q[2]);
        jsonl_num(&j, "loss_q75", s->loss_q[3]);
        jsonl_num(&j, "loss_q90", s->loss_q[4]);
        jsonl_int(&j, "n", s->n);
        jsonl_int(&j, "n_nonfinite", s->n_nonfinite);
        jsonl_int(&j, "n_empty", s->n_empty);
        jsonl_int(&j, "n_zero_weight", s->n_zero_weight);
        if (t->ref)
            jsonl_int(&j, "n_noref", s->n_noref);
        jsonl_close(&j);
        jsonl_obj(&j, "domains");
        for (int d = 0; d < s->num_domains && d < t->num_domains; d++) {
            if (s->domain[d].count == 0)
                continue;
            jsonl_obj(&j, dataset_domain_name(t->ds, d));
            jsonl_int(&j, "n", s->domain[d].count);
            jsonl_num(&j, "loss", s->domain[d].loss_mean);
            jsonl_num(&j, "weight", s->domain[d].weight_mean);
            if (s->domain[d].ref_count > 0) /* --ref-losses: mean reference loss */
                jsonl_num(&j, "ref", s->domain[d].ref_mean);
            if (s->domain[d].has_learn)     /* learnability's lambda */
                jsonl_num(&j, "learn", s->domain[d].learn);
            jsonl_close(&j);
        }
        jsonl_close(&j);
        emit(t, &j);
    }
    long done = r->step + 1;
    if (t->progress && (done % t->cfg.log_every == 0 || done == 1 || done == t->cfg.steps)) {
        char eta[32];
        format_duration(r->seconds * (double)(t->cfg.steps - done), eta, sizeof eta);
        fprintf(t->progress,
                "step %*ld/%ld | loss %.4f | lr %.2e | gnorm %6.3f | %8.0f tok/s | %7.1f ms",
                (int)snprintf(NULL, 0, "%ld", t->cfg.steps), done, t->cfg.steps, r->loss, r->lr,
                r->grad_norm, tok_s, r->seconds * 1e3);
        if (isfinite(mfu))
            fprintf(t->progress, " | MFU %4.1f%%", 100.0 * mfu);
        if (t->world > 1)
            fprintf(t->progress, " | comm %5.1f ms", r->comm_mean * 1e3);
        if (strcmp(t->cfg.reweight, "uniform") != 0)
            fprintf(t->progress, " | ESS %.2f wmax %.2f", r->rw.ess, r->rw.w_max);
        fprintf(t->progress, " | ETA %s\n", eta);
        progress_done(t);
    }
}

void trainer_log_val(struct trainer *t, const double *loss, const double *tokens)
{
    if (t->metrics) {
        struct jsonl j;
        jsonl_begin(&j);
        jsonl_str(&j, "type", "val");
        jsonl_int(&j, "step", t->step);
        jsonl_num(&j, "loss", t->last_val_loss);
        jsonl_obj(&j, "domains");
        for (int d = 0; d < t->num_domains; d++)
            if (tokens[d] > 0)
                jsonl_num(&j, dataset_domain_name(t->ds, d), loss[d]);
        jsonl_close(&j);
        emit(t, &j);
    }
    if (t->progress) {
        fprintf(t->progress, "val  step %ld | loss %.4f |", t->step, t->last_val_loss);
        for (int d = 0; d < t->num_domains; d++)
            if (tokens[d] > 0)
                fprintf(t->progress, " %s %.3f", dataset_domain_name(t->ds, d), loss[d]);
        fprintf(t->progress, "\n");
        progress_done(t);
    }
}

void trainer_log_event(struct trainer *t, const char *event, const char *detail)
{
    if (t->metrics) {
        struct jsonl j;
        jsonl_begin(&j);
        jsonl_str(&j, "type", event);
        jsonl_int(&j, "step", t->step);
        jsonl_str(&j, "detail", detail);
        emit(t, &j);
    }
    if (t->progress) {
        fprintf(t->progress, "%s: %s\n", event, detail);
        progress_done(t);
    }
}
