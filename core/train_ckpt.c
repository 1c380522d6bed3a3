/* core/train_ckpt.c — a run's resumable checkpoints and its exported model.
 *
 * A checkpoint (core/checkpoint.h container) holds:
 *   meta      key=value: format, step, ranks, model shape, data position,
 *             parameter count, Adam's update count
 *   config    the run's settings as `name = value` lines (train_options())
 *   params    (P) float32, streamed from the device chunk by chunk
 *   adam_m    (P) float32, adam_v (P) float32
 *   reweight  the reweighting state (reweight/rw_state_serialize)
 * Parameters, optimizer state, data position and reweighting state are all a
 * step depends on, so a resumed run continues bit for bit.
 *
 * Ranks. Only rank 0 writes, and only rank 0 reads: on resume it hands the
 * state to the others (core/train_comm.c), so a checkpoint on rank 0's disk
 * is enough. Every section is whole, in the flat order of the model file,
 * whatever the rank count or ZeRO stage: sharded state (the Adam moments
 * under ZeRO-1, 2 and 3, the parameters under ZeRO-3) is gathered from its
 * owners for saving and scattered back on resume, so a checkpoint of one
 * stage and rank count resumes under any other. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/checkpoint.h"
#include "core/ckpt_dir.h"
#include "core/ckpt_meta.h"
#include "core/model_file.h"
#include "core/train_internal.h"

#define CKPT_FORMAT "heft-train-1"

/* Device memory streamed in bounded chunks, so a checkpoint of a large model
 * needs no second full copy on the host. */
struct device_stream {
    struct backend *be;
    dptr base;
};

static int produce_from_device(void *ctx, void *buf, uint64_t offset, size_t n, struct herr *err)
{
    struct device_stream *s = ctx;
    /* offsets are in bytes; every section here is whole floats */
    s->be->ops->download(s->be, buf, dptr_at(s->base, offset / sizeof(float)), n);
    return backend_check(s->be, err);
}

/* Sharded state, gathered from its owners chunk by chunk */
static int produce_from_rounds(void *ctx, void *buf, uint64_t offset, size_t n,
                               struct herr *err)
{
    return ckpt_rounds_fetch(ctx, buf, offset / sizeof(float), n / sizeof(float), err);
}

static int consume_to_rounds(void *ctx, const void *buf, uint64_t offset, size_t n,
                             struct herr *err)
{
    if (offset % sizeof(float) || n % sizeof(float))
        return herr_set(err, "section chunk at byte %llu is not whole floats",
                        (unsigned long long)offset);
    return ckpt_rounds_put(ctx, buf, offset / sizeof(float), n / sizeof(float), err);
}

static int build_meta(struct trainer *t, struct ckpt_meta *m, struct herr *err)
{
    struct loader_pos pos = loader_tell(t->ld);
    ckpt_meta_init(m);
    struct model_field f[MODEL_MAX_FIELDS];
    int nf = model_config_fields(&t->model.config, f);
    int rc = ckpt_meta_put_str(m, "format", CKPT_FORMAT, err) ||
             ckpt_meta_put_int(m, "step", t->step, err) ||
             ckpt_meta_put_int(m, "ranks", t->world, err) ||
             ckpt_meta_put_str(m, "model", t->model.family, err);
    /* the family's hyper-parameters, each under its own name */
    for (int i = 0; i < nf && !rc; i++)
        rc = f[i].is_int ? ckpt_meta_put_int(m, f[i].name, (int64_t)f[i].value, err)
                         : ckpt_meta_put_double(m, f[i].name, f[i].value, err);
    if (rc ||
        ckpt_meta_put_u64(m, "num_params", t->model.num_params, err) ||
        ckpt_meta_put_int(m, "adam_t", t->opt.t, err) ||
        ckpt_meta_put_u64(m, "data_epoch", pos.epoch, err) ||
        ckpt_meta_put_u64(m, "data_row", pos.row, err) ||
        ckpt_meta_put_u64(m, "data_fingerprint", dataset_fingerprint(t->ds), err) ||
        (t->ref && ckpt_meta_put_u64(m, "ref_losses_checksum", t->ref->checksum, err))) {
        ckpt_meta_free(m);
        return -1;
    }
    return 0;
}

int trainer_save(struct trainer *t, struct herr *err)
{
    const struct zero_layout *pl = trainer_params_layout(t), *sl = trainer_state_layout(t);
    struct ckpt_rounds rp, rm, rv;
    ckpt_rounds_init(&rp, t, trainer_params_state(t), pl);
    ckpt_rounds_init(&rm, t, t->opt.m, sl);
    ckpt_rounds_init(&rv, t, t->opt.v, sl);
    if (t->rank != 0) {
        /* rank 0 gathers sharded sections as it writes them, in file order */
        if ((pl && ckpt_rounds_serve(&rp, err)) ||
            (sl && (ckpt_rounds_serve(&rm, err) || ckpt_rounds_serve(&rv, err))))
            return herr_wrap(err, "saving checkpoint at step %ld: ", t->step);
        return 0;
    }
    char path[OPT_STRING_MAX + 64];
    if (ckpt_dir_create(t->out_dir, err) ||
        ckpt_dir_path(path, sizeof path, t->out_dir, (uint64_t)t->step, err))
        return -1;
    struct ckpt_meta meta;
    if (build_meta(t, &meta, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    static const size_t config_cap = 64 * 1024;
    char *config = malloc(config_cap);
    unsigned char rw[RW_STATE_SERIAL_SIZE];
    size_t rw_len = rw_state_serialize(&t->rwstate, rw, sizeof rw);
    char *data = NULL;
    size_t data_len = 0;
    if (trainer_data_record(t, &data, &data_len, err)) {
        ckpt_meta_free(&meta);
        return herr_wrap(err, "checkpoint %s: ", path);
    }
    size_t P = t->model.num_params;
    struct device_stream sp = { t->be, t->model.params }, sm = { t->be, t->opt.m },
                         sv = { t->be, t->opt.v };
    struct ckpt_writer *w = NULL;
    int rc = -1;
    if (!config)
        herr_set(err, "out of memory");
    else if (opts_write_all(train_options(), &t->cfg, config, config_cap))
        herr_set(err, "settings too long to record");
    else if (ckpt_writer_begin(&w, path, err) == 0) {
        if (ckpt_writer_add_copy(w, "meta", meta.text, meta.len, err) ||
            ckpt_writer_add_copy(w, "config", config, strlen(config), err) ||
            ckpt_writer_add_stream(w, "params", P * sizeof(float),
                                   pl ? produce_from_rounds : produce_from_device,
                                   pl ? (void *)&rp : (void *)&sp, err) ||
            ckpt_writer_add_stream(w, "adam_m", P * sizeof(float),
                                   sl ? produce_from_rounds : produce_from_device,
                                   sl ? (void *)&rm : (void *)&sm, err) ||
            ckpt_writer_add_stream(w, "adam_v", P * sizeof(float),
                                   sl ? produce_from_rounds : produce_from_device,
                                   sl ? (void *)&rv : (void *)&sv, err) ||
            ckpt_writer_add_copy(w, "reweight", rw, rw_len, err) ||
            ckpt_writer_add_copy(w, "data", data, data_len, err))
            ckpt_writer_abort(w);
        else
            rc = ckpt_writer_commit(w, err);
    }
    free(config);
    free(data);
    ckpt_meta_free(&meta);
    if (rc == 0)
        rc = ckpt_dir_set_latest(t->out_dir, path, err);
    if (rc == 0)
        rc = ckpt_dir_prune(t->out_dir, t->cfg.keep, NULL, err);
    if (rc)
        return herr_wrap(err, "saving checkpoint at step %ld: ", t->step);
    char detail[2 * OPT_STRING_MAX];
    snprintf(detail, sizeof detail, "saved %s", path);
    trainer_log_event(t, "checkpoint", detail);
    return trainer_log_check(t, err);
}

int trainer_read_recorded_config(const char *dir, struct train_config *recorded, int *ranks,
                                 struct herr *err)
{
    char path[OPT_STRING_MAX + 64];
    if (ckpt_resolve(dir, path, sizeof path, err))
        return herr_wrap(err, "--resume: ");
    struct ckpt_reader *r;
    if (ckpt_reader_open(&r, path, err))
        return herr_wrap(err, "--resume: ");
    void *text = NULL, *meta = NULL;
    size_t len = 0;
    int64_t n = 0;
    int rc = ckpt_reader_read_alloc(r, "meta", &meta, &len, err);
    if (rc == 0)
        rc = ckpt_meta_get_int(meta, "ranks", &n, err);
    if (rc == 0)
        rc = ckpt_reader_read_alloc(r, "config", &text, &len, err);
    ckpt_reader_close(r);
    free(meta);
    if (rc) {
        free(text);
        return herr_wrap(err, "--resume %s: ", path);
    }
    if (n < 1 || n > 1 << 24) {
        free(text);
        return herr_set(err, "--resume %s: recorded rank count %lld is invalid", path,
                        (long long)n);
    }
    *ranks = (int)n;
    train_config_default(recorded);
    char source[2 * OPT_STRING_MAX];
    snprintf(source, sizeof source, "settings recorded in %s", path);
    rc = opts_parse_text(train_options(), recorded, text, source, err);
    free(text);
    return rc;
}

/* A recorded integer must equal what this run has. */
static int expect_int(const char *meta, const char *key, int64_t have, const char *path,
                      const char *what, struct herr *err)
{
    int64_t v;
    if (ckpt_meta_get_int(meta, key, &v, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    if (v != have)
        return herr_set(err, "checkpoint %s has %s = %lld but this run has %lld%s", path, key,
                        (long long)v, (long long)have, what);
    return 0;
}

/* A recorded hyper-parameter of the model must equal this run's. */
static int expect_field(const char *meta, const struct model_field *f, const char *path,
                        struct herr *err)
{
    const char *what = !strcmp(f->name, "vocab_size") ? " (the data's vocabulary)" : "";
    if (f->is_int)
        return expect_int(meta, f->name, (int64_t)f->value, path, what, err);
    double v;
    if (ckpt_meta_get_double(meta, f->name, &v, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    if (v != f->value)
        return herr_set(err, "checkpoint %s has %s = %.9g but this run has %.9g", path, f->name, v,
                        f->value);
    return 0;
}

/* What rank 0 reads of a checkpoint's small sections, sent to every rank. */
struct restore_head {
    int64_t step, adam_t;
    uint64_t epoch, row;
    uint64_t rw_len;
    unsigned char rw[RW_STATE_SERIAL_SIZE];
};

/* Rank 0: checks the checkpoint against this run and reads its small parts. */
static int read_head(struct trainer *t, struct ckpt_reader *r, const char *path,
                     const char *meta, struct restore_head *h, struct herr *err)
{
    char format[64], family[64];
    if (ckpt_meta_get_str(meta, "format", format, sizeof format, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    if (strcmp(format, CKPT_FORMAT) != 0)
        return herr_set(err, "checkpoint %s has format '%s'; this heft reads '%s'", path, format,
                        CKPT_FORMAT);
    /* the rank count was checked with the settings (it may change when the
     * global batch does not) */
    if (ckpt_meta_get_str(meta, "model", family, sizeof family, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    if (strcmp(family, t->model.family) != 0)
        return herr_set(err, "checkpoint %s holds a %s model but this run builds a %s model "
                             "(--model)", path, family, t->model.family);
    struct model_field f[MODEL_MAX_FIELDS];
    int nf = model_config_fields(&t->model.config, f);
    for (int i = 0; i < nf; i++)
        if (expect_field(meta, &f[i], path, err))
            return -1;
    if (expect_int(meta, "num_params", (int64_t)t->model.num_params, path, "", err))
        return -1;
    uint64_t fp;
    if (ckpt_meta_get_u64(meta, "data_fingerprint", &fp, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    /* (checkpoints of heft before content hashes hold the older fingerprint) */
    if (fp != dataset_fingerprint(t->ds) && fp != dataset_fingerprint_v1(t->ds))
        return trainer_data_mismatch(t, r, path, err);
    /* the same path may hold other reference losses now */
    uint64_t ref_sum;
    if (t->ref && ckpt_meta_get_u64(meta, "ref_losses_checksum", &ref_sum, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    if (t->ref && ref_sum != t->ref->checksum)
        return herr_set(err, "checkpoint %s was trained with other reference losses than %s now "
                             "holds (checksum %016llx, now %016llx)", path, t->cfg.ref_losses,
                        (unsigned long long)ref_sum, (unsigned long long)t->ref->checksum);
    if (ckpt_meta_get_int(meta, "step", &h->step, err) ||
        ckpt_meta_get_int(meta, "adam_t", &h->adam_t, err) ||
        ckpt_meta_get_u64(meta, "data_epoch", &h->epoch, err) ||
        ckpt_meta_get_u64(meta, "data_row", &h->row, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    static const char *const big[] = { "params", "adam_m", "adam_v" };
    for (int i = 0; i < 3; i++) {
        uint64_t bytes;
        if (ckpt_reader_size(r, big[i], &bytes, err))
            return herr_wrap(err, "checkpoint %s: ", path);
        if (bytes != t->model.num_params * sizeof(float))
            return herr_set(err, "checkpoint %s: section %s has %llu bytes, expected %zu", path,
                            big[i], (unsigned long long)bytes,
                            t->model.num_params * sizeof(float));
    }
    void *rw = NULL;
    size_t rw_len = 0;
    if (ckpt_reader_read_alloc(r, "reweight", &rw, &rw_len, err))
        return -1; /* the reader's messages name the file and section already */
    if (rw_len > sizeof h->rw) {
        free(rw);
        return herr_set(err, "checkpoint %s: reweighting state of %zu bytes (expected %d)", path,
                        rw_len, RW_STATE_SERIAL_SIZE);
    }
    memcpy(h->rw, rw, rw_len);
    h->rw_len = rw_len;
    free(rw);
    return 0;
}

/* Rank 0 streams a big section to every rank's copy (or shard) of it. */
static int restore_section(struct trainer *t, struct ckpt_reader *r, const char *name,
                           dptr state, const struct zero_layout *lay, struct herr *err)
{
    struct ckpt_rounds rounds;
    ckpt_rounds_init(&rounds, t, state, lay);
    if (t->rank != 0) {
        if (ckpt_rounds_receive(&rounds, err))
            return herr_wrap(err, "receiving checkpoint section %s from rank 0: ", name);
        return 0;
    }
    /* the reader's messages name the file and section already */
    if (ckpt_reader_read_stream(r, name, consume_to_rounds, &rounds, err))
        return -1;
    if (ckpt_rounds_flush(&rounds, err))
        return herr_wrap(err, "checkpoint section %s: ", name);
    return 0;
}

/* The counters a run does arithmetic with must be in the range a run can
 * reach (--steps is at most 1e12, one Adam update per step): a checkpoint
 * whose checksums hold but whose numbers do not (made by hand, or by another
 * program) is refused instead of overflowing a counter. */
#define MAX_STEPS 1000000000000LL

static int check_head_ranges(const struct restore_head *h, const char *path, struct herr *err)
{
    if (h->step < 0 || h->step > MAX_STEPS)
        return herr_set(err, "checkpoint %s: step %lld is out of range [0, %lld]", path,
                        (long long)h->step, MAX_STEPS);
    if (h->adam_t < 0 || h->adam_t > h->step)
        return herr_set(err, "checkpoint %s: Adam's update count %lld is out of range [0, step "
                             "%lld]", path, (long long)h->adam_t, (long long)h->step);
    if (h->epoch > (uint64_t)MAX_STEPS)
        return herr_set(err, "checkpoint %s: data epoch %llu is out of range [0, %lld]", path,
                        (unsigned long long)h->epoch, MAX_STEPS);
    if (h->rw_len > RW_STATE_SERIAL_SIZE)
        return herr_set(err, "checkpoint %s: reweighting state of %llu bytes (at most %d)", path,
                        (unsigned long long)h->rw_len, RW_STATE_SERIAL_SIZE);
    return 0;
}

/* Everything a step depends on; rank 0 reads, every rank applies. */
static int restore_all(struct trainer *t, struct ckpt_reader *r, const char *path,
                       struct herr *err)
{
    struct restore_head h;
    memset(&h, 0, sizeof h);
    if (t->rank == 0) {
        void *meta = NULL;
        size_t len = 0;
        int rc = ckpt_reader_read_alloc(r, "meta", &meta, &len, err);
        if (rc == 0)
            rc = read_head(t, r, path, meta, &h, err);
        if (rc == 0)
            rc = trainer_data_verify(t, r, err);
        free(meta);
        if (rc)
            return -1; /* the front end ends the job; the others stop in the broadcast */
    }
    if (comm_bcast(t->comm, &h, sizeof h, 0, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    if (check_head_ranges(&h, path, err))
        return -1;
    if (rw_state_deserialize(&t->rwstate, h.rw, (size_t)h.rw_len, err))
        return herr_wrap(err, "checkpoint %s, reweighting state: ", path);
    struct loader_pos pos = { h.epoch, h.row };
    if (loader_seek(t->ld, pos, err))
        return herr_wrap(err, "checkpoint %s, data position: ", path);
    const struct zero_layout *sl = trainer_state_layout(t);
    if (restore_section(t, r, "params", trainer_params_state(t), trainer_params_layout(t), err) ||
        restore_section(t, r, "adam_m", t->opt.m, sl, err) ||
        restore_section(t, r, "adam_v", t->opt.v, sl, err))
        return -1;
    if (t->zero >= 2)
        zero_params_changed(t);
    t->step = (long)h.step;
    t->opt.t = (long)h.adam_t;
    return 0;
}

int trainer_restore(struct trainer *t, struct herr *err)
{
    char path[OPT_STRING_MAX + 64] = "";
    struct ckpt_reader *r = NULL;
    if (t->rank == 0) {
        if (ckpt_resolve(t->cfg.resume, path, sizeof path, err) ||
            ckpt_reader_open(&r, path, err))
            return herr_wrap(err, "--resume: ");
    }
    int rc = restore_all(t, r, path, err);
    if (r)
        ckpt_reader_close(r);
    if (rc == 0 && t->progress)
        fprintf(t->progress, "heft: resumed from %s at step %ld\n", path, t->step);
    return rc;
}

int trainer_check_fresh_out(struct trainer *t, struct herr *err)
{
    char path[OPT_STRING_MAX + 64];
    struct herr ignore;
    if (t->cfg.force || ckpt_resolve(t->out_dir, path, sizeof path, &ignore) != 0)
        return 0;
    return herr_set(err, "--out %s already holds a run (%s); continue it with --resume %s, "
                         "choose another --out, or add --force to start over in it",
                    t->out_dir, path, t->out_dir);
}

int trainer_export_model(struct trainer *t, struct herr *err)
{
    /* ZeRO-3: the parameters are gathered from their owners */
    const struct zero_layout *pl = trainer_params_layout(t);
    struct ckpt_rounds rounds;
    ckpt_rounds_init(&rounds, t, trainer_params_state(t), pl);
    if (t->rank != 0) {
        if (pl && ckpt_rounds_serve(&rounds, err))
            return herr_wrap(err, "exporting the model: ");
        return 0;
    }
    float *host = malloc(t->model.num_params * sizeof(float));
    if (!host)
        return herr_set(err, "out of host memory exporting the model");
    char path[OPT_STRING_MAX + 32];
    snprintf(path, sizeof path, "%s/model.bin", t->out_dir);
    int rc = pl ? ckpt_rounds_fetch(&rounds, host, 0, t->model.num_params, err)
                : t->model.ops->download_params(t->model.impl, host, err);
    if (rc == 0)
        rc = model_file_write(path, &t->model.config, host, err);
    free(host);
    if (rc)
        return herr_wrap(err, "exporting the model: ");
    char detail[2 * OPT_STRING_MAX];
    snprintf(detail, sizeof detail, "wrote %s (%s format)", path,
             model_config_file_format(&t->model.config));
    trainer_log_event(t, "export", detail);
    return 0;
}
