/* core/train_setup.c — everything a run needs before its first step, planned
 * once: settings (or a resumed run's recorded ones), backend, data, model,
 * optimizer, reweighting, host staging buffers, output directory. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/gemm_rate.h"
#include "core/model_file.h"
#include "core/textgen.h"
#include "core/train_internal.h"
#include "core/train_memory.h"

/* Options a resumed run may change: how it runs and reports, not what it
 * computes. Everything else must equal the checkpoint's record, except
 * --batch, which may change with the rank count (see below). The ZeRO stage
 * may change: a checkpoint holds whole sections whatever the sharding. */
static const char *const resume_may_change[] = {
    "backend", "device", "threads", "out", "resume", "ckpt-every", "keep", "val-every",
    "val-batches", "log-every", "quiet", "force", "stop-after", "steps", "zero", "zero1",
    "zero-prefetch", "recompute", "attn-chunk", "attn-heads", "comm-timeout", "trace", "loss-guard",
    "sample-every", NULL,
};

static int may_change_on_resume(const char *name)
{
    for (int i = 0; resume_may_change[i]; i++)
        if (!strcmp(resume_may_change[i], name))
            return 1;
    return 0;
}

/* The recorded settings and rank count of the run in dir, read by rank 0
 * and sent to the others (only rank 0 needs to see the checkpoint). */
static int read_recorded(struct comm *comm, const char *dir, struct train_config *recorded,
                         int *ranks, struct herr *err)
{
    struct { struct train_config cfg; int ranks; } rec;
    memset(&rec, 0, sizeof rec);
    if (comm_rank(comm) == 0 && trainer_read_recorded_config(dir, &rec.cfg, &rec.ranks, err))
        return -1; /* the front end ends the job; the others stop in the broadcast */
    if (comm_bcast(comm, &rec, sizeof rec, 0, err))
        return herr_wrap(err, "--resume %s: ", dir);
    *recorded = rec.cfg;
    *ranks = rec.ranks;
    return 0;
}

/* Settings of a resumed run: the recorded ones with the command line applied
 * on top; a flag that changes a recorded setting is refused, naming it.
 *
 * The rank count may change when the global batch (ranks x --batch) stays
 * the same: the data stream (core/loader.h), the weights (over the global
 * batch) and the checkpoint's contents do not depend on how the rows are
 * split over ranks, so the run continues the same computation (not bit for
 * bit: gradients are then summed in another order). */
static int merge_resume_config(struct train_config *cfg, const char *dir, int argc, char **argv,
                               int first_arg, struct comm *comm, struct herr *err)
{
    struct train_config recorded, merged;
    int ranks = 0;
    if (read_recorded(comm, dir, &recorded, &ranks, err) ||
        train_config_resolve_zero(&recorded, err)) /* older runs recorded --zero1 */
        return -1;
    merged = recorded;
    if (opts_parse_argv(train_options(), &merged, argc, argv, first_arg, "train", err))
        return -1;
    int world = comm_size(comm);
    for (const struct opt_spec *s = train_options(); s->name; s++) {
        /* --batch may change with the rank count: checked below */
        if (!s->help || may_change_on_resume(s->name) ||
            (!strcmp(s->name, "batch") && world != ranks))
            continue;
        char a[OPT_STRING_MAX], b[OPT_STRING_MAX];
        opts_format_value(s, &recorded, a, sizeof a);
        opts_format_value(s, &merged, b, sizeof b);
        if (strcmp(a, b) != 0)
            return herr_set(err, "--%s %s differs from the checkpoint in %s (%s = %s); a resumed run "
                                 "keeps its settings: drop the flag, or start a new run with --out",
                            s->name, b, dir, s->name, a);
    }
    long global = (long)recorded.batch * ranks, now = (long)merged.batch * world;
    if (global != now) {
        if (merged.batch != recorded.batch)
            return herr_set(err, "--batch %d with %d rank%s is a global batch of %ld rows, but the "
                                 "checkpoint in %s was trained with %d rank%s x --batch %d = %ld; "
                                 "keep ranks x --batch equal to %ld",
                            merged.batch, world, world == 1 ? "" : "s", now, dir, ranks,
                            ranks == 1 ? "" : "s", recorded.batch, global, global);
        if (global % world)
            return herr_set(err, "the checkpoint in %s was written by %d rank%s x --batch %d; "
                                 "resume it with mpiexec -n %d (a global batch of %ld rows does "
                                 "not split over %d ranks)",
                            dir, ranks, ranks == 1 ? "" : "s", recorded.batch, ranks, global,
                            world);
        return herr_set(err, "the checkpoint in %s was written by %d rank%s x --batch %d; resume "
                             "it with mpiexec -n %d, or keep the global batch of %ld rows with "
                             "--batch %ld on %d rank%s",
                        dir, ranks, ranks == 1 ? "" : "s", recorded.batch, ranks, global,
                        global / world, world, world == 1 ? "" : "s");
    }
    /* a resumed run writes where it was saved (the directory of a checkpoint
     * file given by name) unless told otherwise */
    if (!strcmp(merged.out, recorded.out) || !merged.out[0]) {
        struct stat st;
        snprintf(merged.out, sizeof merged.out, "%s", dir);
        if (stat(dir, &st) == 0 && S_ISREG(st.st_mode)) {
            char *slash = strrchr(merged.out, '/');
            if (slash)
                *slash = '\0';
            else
                strcpy(merged.out, ".");
        }
    }
    snprintf(merged.resume, sizeof merged.resume, "%s", dir);
    *cfg = merged;
    return 0;
}

static int mkdir_p(const char *path, struct herr *err)
{
    char buf[OPT_STRING_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) && errno != EEXIST)
            return herr_set(err, "creating directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return herr_set(err, "creating directory %s: %s", buf, strerror(errno));
    struct stat st;
    if (stat(buf, &st) || !S_ISDIR(st.st_mode))
        return herr_set(err, "--out %s exists and is not a directory", path);
    return 0;
}

/* The first shape flag set (the file given to --init-from sets the shape). */
static const char *shape_flag_set(const struct model_overrides *o)
{
    if (o->layers) return "--layers";
    if (o->heads) return "--heads";
    if (o->channels) return "--channels";
    if (o->max_seq_len) return "--max-seq-len";
    if (o->kv_heads) return "--kv-heads";
    if (o->ffn) return "--ffn";
    if (o->rope_theta != 0) return "--rope-theta";
    if (o->norm_eps != 0) return "--norm-eps";
    if (o->tie_embeddings) return "--tie-embeddings";
    return NULL;
}

static int build_model_config(struct trainer *t, struct model_config *mc, struct herr *err)
{
    const struct train_config *c = &t->cfg;
    int V = dataset_vocab_size(t->ds);
    if (c->init_from[0]) {
        const char *flag = shape_flag_set(&c->shape);
        if (flag)
            return herr_set(err, "%s cannot be combined with --init-from: the model file %s sets "
                                 "the shape", flag, c->init_from);
        if (model_file_read_config(c->init_from, mc, err))
            return herr_wrap(err, "--init-from: ");
        struct model_dims d;
        model_config_dims(mc, &d);
        if (d.vocab_size < V)
            return herr_set(err, "--init-from %s has a vocabulary of %d but the data uses %d token ids",
                            c->init_from, d.vocab_size, V);
        return 0;
    }
    if (model_config_preset(c->model, V, mc, err))
        return herr_wrap(err, "--model: ");
    return model_config_override(mc, &c->shape, err);
}

static int build_reweight_config(struct trainer *t, struct herr *err)
{
    const struct train_config *c = &t->cfg;
    struct rw_config *r = &t->rwcfg;
    rw_config_default(r);
    if (rw_strategy_parse(c->reweight, &r->strategy, err))
        return herr_wrap(err, "--reweight: ");
    if (rw_warmup_mode_parse(c->rw_warmup_mode, &r->warmup_mode, err))
        return herr_wrap(err, "--rw-warmup-mode: ");
    r->r = c->r;
    r->warmup_steps = c->rw_warmup;
    r->r_start = c->rw_r_start;
    r->infobatch_prune = c->infobatch_prune;
    r->topq_q = c->topq;
    r->dro_tau = c->dro_tau;
    r->outlier_k = c->rw_outlier_k;
    r->outlier_by_domain = c->rw_outlier_domains;
    r->domain_ema = c->rw_domain_ema;
    r->learn_fast = c->rw_learn_fast;
    r->learn_slow = c->rw_learn_slow;
    r->learn_raw = c->rw_learn_raw;
    r->seed = c->seed;
    if (rw_config_validate(r, err))
        return -1;
    rw_state_init(&t->rwstate, r);
    t->normalize_step = !strcmp(c->rw_normalize, "step");
    return 0;
}

static int build_optim_config(struct trainer *t, struct herr *err)
{
    const struct train_config *c = &t->cfg;
    struct optim_config *o = &t->ocfg;
    optim_config_default(o);
    if (lr_schedule_parse(c->schedule, &o->schedule, err))
        return herr_wrap(err, "--schedule: ");
    o->lr = c->lr;
    o->min_lr_frac = c->min_lr_frac;
    o->warmup_steps = c->warmup;
    o->total_steps = c->steps;
    o->beta1 = c->beta1;
    o->beta2 = c->beta2;
    o->eps = c->adam_eps;
    o->weight_decay = c->weight_decay;
    o->grad_clip = c->grad_clip;
    return optim_config_validate(o, err);
}

static int alloc_staging(struct trainer *t, struct herr *err)
{
    size_t B = (size_t)t->cfg.batch, T = (size_t)t->cfg.seq, K = (size_t)t->K;
    size_t W = (size_t)t->world, P = t->model.num_params;
    struct train_host_sizes hs;
    train_host_sizes(t->world, t->K, t->cfg.batch, t->cfg.seq, P, &hs);
    t->inputs = calloc(K * B * T, sizeof *t->inputs);
    t->targets = calloc(K * B * T, sizeof *t->targets);
    t->domains = calloc(K * B, sizeof *t->domains);
    t->row_sums = calloc(B, sizeof *t->row_sums);
    t->row_scale = calloc(B, sizeof *t->row_scale);
    t->loss_local = calloc(K * B, sizeof *t->loss_local);
    t->ntok_local = calloc(K * B, sizeof *t->ntok_local);
    t->gather_send = calloc(3 * K * B, sizeof *t->gather_send);
    t->gather_recv = calloc(3 * W * K * B, sizeof *t->gather_recv);
    t->loss_all = calloc(W * K * B, sizeof *t->loss_all);
    t->ntok_all = calloc(W * K * B, sizeof *t->ntok_all);
    t->dom_all = calloc(W * K * B, sizeof *t->dom_all);
    t->weights = calloc(W * K * B, sizeof *t->weights);
    t->shard_lo = calloc(W, sizeof *t->shard_lo);
    t->shard_hi = calloc(W, sizeof *t->shard_hi);
    t->counts = calloc(W, sizeof *t->counts);
    /* the stage carries gradients between ranks and checkpoint sections on
     * resume; a fresh single-process run never touches it */
    t->stage_floats = hs.stage_floats;
    int staged = t->world > 1 || t->cfg.resume[0] || t->zero >= 2;
    if (staged)
        t->stage = malloc(t->stage_floats * sizeof *t->stage);
    if (!t->inputs || !t->targets || !t->domains || !t->row_sums || !t->row_scale ||
        !t->loss_local || !t->ntok_local || !t->gather_send || !t->gather_recv ||
        !t->loss_all || !t->ntok_all || !t->dom_all || !t->weights || !t->shard_lo ||
        !t->shard_hi || !t->counts || (staged && !t->stage))
        return herr_set(err, "out of host memory for the step's staging buffers");
    for (int k = 0; k < t->world; k++) {
        if (t->zero1)
            train_shard_range(P, t->world, k, &t->shard_lo[k], &t->shard_hi[k]);
        else
            t->shard_hi[k] = P;
    }
    /* ZeRO-1's shards are the one-slice layout (checkpoint rounds use it) */
    if (t->zero1 && zero_layout_whole(&t->z1, P, t->world, err))
        return -1;
    return 0;
}

/* ZeRO-2/3: rank 0 makes (or reads) the initial parameters and hands them
 * out in rounds, as a resume does: the other ranks hold no host copy. */
static int init_params_rounds(struct trainer *t, struct herr *err)
{
    size_t P = t->model.num_params;
    struct ckpt_rounds r;
    ckpt_rounds_init(&r, t, trainer_params_state(t), trainer_params_layout(t));
    int rc = 0;
    if (t->rank != 0) {
        rc = ckpt_rounds_receive(&r, err);
    } else {
        float *host = malloc(P * sizeof(float));
        if (!host)
            return herr_set(err, "out of host memory for %zu parameters", P);
        if (t->cfg.init_from[0])
            rc = model_file_read_params(t->cfg.init_from, &t->model.config, host, err);
        else
            model_init_params(&t->model, t->cfg.seed, host);
        if (rc == 0)
            rc = ckpt_rounds_put(&r, host, 0, P, err) || ckpt_rounds_flush(&r, err);
        free(host);
    }
    if (rc)
        return herr_wrap(err, "sending the initial parameters: ");
    zero_params_changed(t);
    return 0;
}

/* Rank 0 makes (or reads) the initial parameters and sends them to every
 * rank: all ranks start from the same bits even when their --init-from files
 * differ, and only rank 0 needs to read the parameters. */
static int init_params(struct trainer *t, struct herr *err)
{
    if (t->zero >= 2)
        return init_params_rounds(t, err);
    float *host = malloc(t->model.num_params * sizeof(float));
    if (!host)
        return herr_set(err, "out of host memory for %zu parameters", t->model.num_params);
    int rc = 0;
    if (t->rank == 0 && t->cfg.init_from[0])
        rc = model_file_read_params(t->cfg.init_from, &t->model.config, host, err);
    else if (t->rank == 0)
        model_init_params(&t->model, t->cfg.seed, host);
    if (rc == 0 && comm_bcast(t->comm, host, t->model.num_params * sizeof(float), 0, err))
        rc = herr_wrap(err, "sending the initial parameters: ");
    if (rc == 0)
        rc = t->model.ops->upload_params(t->model.impl, host, err);
    free(host);
    return rc;
}

int trainer_setup(struct trainer *t, const struct train_config *cfg, int argc, char **argv,
                  int first_arg, struct comm *comm, FILE *progress, struct herr *err)
{
    memset(t, 0, sizeof *t);
    t->cfg = *cfg;
    t->comm = comm;
    t->rank = comm_rank(comm);
    t->world = comm_size(comm);
    t->progress = t->rank == 0 && !cfg->quiet ? progress : NULL;
    t->last_val_loss = NAN;
    int resumed = cfg->resume[0] != '\0';
    trainer_watch_long(t);
    if (resumed && merge_resume_config(&t->cfg, cfg->resume, argc, argv, first_arg, comm, err))
        return -1;
    if (train_config_resolve_zero(&t->cfg, err) || train_config_validate(&t->cfg, err))
        return -1;
    t->zero = t->cfg.zero == 1 && t->world == 1 ? 0 : t->cfg.zero;
    t->zero1 = t->zero == 1;
    /* a sample runs on rank 0 from the whole parameters, which stage 3 never holds */
    if (t->zero == 3 && t->cfg.sample_every > 0)
        return herr_set(err, "--sample-every needs the whole parameters on rank 0, which "
                             "--zero 3 does not keep: sample from a checkpoint with heft sample "
                             "instead, or use --zero 2");
    trainer_watch_long(t);
    t->K = t->cfg.grad_accum;

    struct backend_options bo = { .name = t->cfg.backend, .device = t->cfg.device,
                                  .threads = t->cfg.threads };
    t->be = backend_create(&bo, err);
    if (!t->be)
        return -1;
    int vocab_hint = t->cfg.vocab ? t->cfg.vocab : 50257;
    if (dataset_open(&t->ds, t->cfg.data, vocab_hint, err))
        return herr_wrap(err, "--data: ");
    if (dataset_check_vocab_flag(t->ds, t->cfg.vocab, err))
        return -1;
    t->num_domains = dataset_num_domains(t->ds);

    struct model_config mc;
    if (build_model_config(t, &mc, err))
        return -1;
    struct model_dims md;
    model_config_dims(&mc, &md);
    if (t->cfg.seq > md.max_seq_len)
        return herr_set(err, "--seq %d is longer than the model's max_seq_len %d", t->cfg.seq,
                        md.max_seq_len);
    struct model_memory mem = { .recompute = MODEL_RECOMPUTE_NONE, .attn_chunk = t->cfg.attn_chunk,
                                .attn_heads = t->cfg.attn_heads,
                                .hook_params = t->zero == 3, .hook_grads = t->zero >= 2 };
    if (model_recompute_parse(t->cfg.recompute, &mem.recompute, err) ||
        model_create_mem(&t->model, t->be, &mc, t->cfg.batch, t->cfg.seq, &mem, err))
        return -1;
    if (build_optim_config(t, err) || build_reweight_config(t, err))
        return -1;
    if (loader_create(&t->ld, t->ds, t->cfg.batch, t->cfg.seq, t->rank, t->world, t->cfg.seed,
                      err))
        return herr_wrap(err, "--data %s: ", t->cfg.data);
    if (trainer_ref_setup(t, err))
        return -1;
    if (alloc_staging(t, err) || trainer_val_setup(t, err))
        return -1;
    if (t->zero >= 2 && zero_setup(t, err))
        return -1;
    /* ZeRO-1: the Adam state of this rank's shard only; 2 and 3: of its pieces */
    if (t->zero >= 2 ? adamw_create(&t->opt, t->be, 0, t->zs.lay.shard_floats, err)
                      : adamw_create(&t->opt, t->be, t->shard_lo[t->rank],
                                     t->shard_hi[t->rank], err))
        return -1;
    if (trainer_check_ranks_agree(t, err))
        return -1;
    if (t->zero == 3 && zero_prefetch_setup(t, err)) /* after: it takes a collective */
        return -1;
    t->tokens_per_step = (long)t->world * t->K * t->cfg.batch * t->cfg.seq;

    if (!t->cfg.out[0]) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        snprintf(t->cfg.out, sizeof t->cfg.out, "runs/%s", stamp);
    }
    snprintf(t->out_dir, sizeof t->out_dir, "%s", t->cfg.out);
    if (t->rank == 0 && mkdir_p(t->out_dir, err))
        return -1;
    if (trainer_claim_out_dir(t, argc, argv, first_arg, err))
        return -1;
    if (!resumed && t->rank == 0 && trainer_check_fresh_out(t, err))
        return -1;
    if (resumed) {
        if (trainer_restore(t, err))
            return -1;
    } else if (init_params(t, err)) {
        return -1;
    }
    if (trainer_log_open(t, resumed, err))
        return -1;
    /* the MFU ceiling: the best of a square product and the model's own MLP
     * product (libraries tune shapes differently; CLBlast on PoCL runs the
     * model's shapes faster than 1024^3) */
    double square = gemm_rate_measure(t->be, 1024, 3);
    struct model_dims dims;
    model_config_dims(&t->model.config, &dims);
    int C = dims.channels;
    double mlp = gemm_rate_measure_shape(t->be, t->cfg.batch * t->cfg.seq, 4 * C, C, 3);
    t->gemm_gflops = square > mlp ? square : mlp;
    return 0;
}

void trainer_teardown(struct trainer *t)
{
    textgen_destroy(t->textgen);
    trainer_log_close(t);
    trainer_release_out_dir(t);
    trainer_val_free(t);
    trainer_ref_free(t);
    if (t->ld)
        loader_destroy(t->ld);
    adamw_destroy(&t->opt);
    zero_teardown(t);
    zero_layout_free(&t->z1);
    model_destroy(&t->model);
    if (t->ds)
        dataset_close(t->ds);
    if (t->be)
        t->be->ops->destroy(t->be);
    free(t->inputs);
    free(t->targets);
    free(t->domains);
    free(t->row_sums);
    free(t->row_scale);
    free(t->loss_local);
    free(t->ntok_local);
    free(t->gather_send);
    free(t->gather_recv);
    free(t->loss_all);
    free(t->ntok_all);
    free(t->dom_all);
    free(t->weights);
    free(t->shard_lo);
    free(t->shard_hi);
    free(t->counts);
    free(t->stage);
    memset(t, 0, sizeof *t);
}
