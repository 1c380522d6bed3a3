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
 * step depends on, so a resumed run continues bit for bit. Only rank 0 writes. */
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

static int consume_to_device(void *ctx, const void *buf, uint64_t offset, size_t n,
                             struct herr *err)
{
    struct device_stream *s = ctx;
    if (offset % sizeof(float) || n % sizeof(float))
        return herr_set(err, "section chunk at byte %llu is not whole floats",
                        (unsigned long long)offset);
    s->be->ops->upload(s->be, dptr_at(s->base, offset / sizeof(float)), buf, n);
    return backend_check(s->be, err);
}

static int build_meta(struct trainer *t, struct ckpt_meta *m, struct herr *err)
{
    const struct gpt2_config *c = &t->model.config;
    struct loader_pos pos = loader_tell(t->ld);
    ckpt_meta_init(m);
    if (ckpt_meta_put_str(m, "format", CKPT_FORMAT, err) ||
        ckpt_meta_put_int(m, "step", t->step, err) ||
        ckpt_meta_put_int(m, "ranks", t->world, err) ||
        ckpt_meta_put_str(m, "model", t->model.family, err) ||
        ckpt_meta_put_int(m, "max_seq_len", c->max_seq_len, err) ||
        ckpt_meta_put_int(m, "vocab_size", c->vocab_size, err) ||
        ckpt_meta_put_int(m, "padded_vocab_size", c->padded_vocab_size, err) ||
        ckpt_meta_put_int(m, "num_layers", c->num_layers, err) ||
        ckpt_meta_put_int(m, "num_heads", c->num_heads, err) ||
        ckpt_meta_put_int(m, "channels", c->channels, err) ||
        ckpt_meta_put_u64(m, "num_params", t->model.num_params, err) ||
        ckpt_meta_put_int(m, "adam_t", t->opt.t, err) ||
        ckpt_meta_put_u64(m, "data_epoch", pos.epoch, err) ||
        ckpt_meta_put_u64(m, "data_row", pos.row, err) ||
        ckpt_meta_put_u64(m, "data_fingerprint", dataset_fingerprint(t->ds), err)) {
        ckpt_meta_free(m);
        return -1;
    }
    return 0;
}

int trainer_save(struct trainer *t, struct herr *err)
{
    if (t->rank != 0)
        return 0;
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
            ckpt_writer_add_stream(w, "params", P * sizeof(float), produce_from_device, &sp,
                                   err) ||
            ckpt_writer_add_stream(w, "adam_m", P * sizeof(float), produce_from_device, &sm,
                                   err) ||
            ckpt_writer_add_stream(w, "adam_v", P * sizeof(float), produce_from_device, &sv,
                                   err) ||
            ckpt_writer_add_copy(w, "reweight", rw, rw_len, err))
            ckpt_writer_abort(w);
        else
            rc = ckpt_writer_commit(w, err);
    }
    free(config);
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
    return 0;
}

int trainer_read_recorded_config(const char *dir, struct train_config *recorded,
                                 struct herr *err)
{
    char path[OPT_STRING_MAX + 64];
    if (ckpt_resolve(dir, path, sizeof path, err))
        return herr_wrap(err, "--resume: ");
    struct ckpt_reader *r;
    if (ckpt_reader_open(&r, path, err))
        return herr_wrap(err, "--resume: ");
    void *text = NULL;
    size_t len = 0;
    int rc = ckpt_reader_read_alloc(r, "config", &text, &len, err);
    ckpt_reader_close(r);
    if (rc)
        return herr_wrap(err, "--resume: ");
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

static int restore_from(struct trainer *t, struct ckpt_reader *r, const char *path,
                        const char *meta, struct herr *err)
{
    const struct gpt2_config *c = &t->model.config;
    char format[64];
    if (ckpt_meta_get_str(meta, "format", format, sizeof format, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    if (strcmp(format, CKPT_FORMAT) != 0)
        return herr_set(err, "checkpoint %s has format '%s'; this heft reads '%s'", path, format,
                        CKPT_FORMAT);
    if (expect_int(meta, "ranks", t->world, path,
                   " ranks (resume with the same number of ranks: mpiexec -n N)", err) ||
        expect_int(meta, "num_layers", c->num_layers, path, "", err) ||
        expect_int(meta, "channels", c->channels, path, "", err) ||
        expect_int(meta, "num_heads", c->num_heads, path, "", err) ||
        expect_int(meta, "vocab_size", c->vocab_size, path, " (the data's vocabulary)", err) ||
        expect_int(meta, "padded_vocab_size", c->padded_vocab_size, path, "", err) ||
        expect_int(meta, "max_seq_len", c->max_seq_len, path, "", err) ||
        expect_int(meta, "num_params", (int64_t)t->model.num_params, path, "", err))
        return -1;
    uint64_t fp;
    if (ckpt_meta_get_u64(meta, "data_fingerprint", &fp, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    if (fp != dataset_fingerprint(t->ds))
        return herr_set(err, "checkpoint %s was trained on different data than %s now holds "
                             "(its content or shard sizes changed)", path, t->cfg.data);
    int64_t step, adam_t;
    struct loader_pos pos;
    if (ckpt_meta_get_int(meta, "step", &step, err) ||
        ckpt_meta_get_int(meta, "adam_t", &adam_t, err) ||
        ckpt_meta_get_u64(meta, "data_epoch", &pos.epoch, err) ||
        ckpt_meta_get_u64(meta, "data_row", &pos.row, err))
        return herr_wrap(err, "checkpoint %s: ", path);
    struct device_stream sp = { t->be, t->model.params }, sm = { t->be, t->opt.m },
                         sv = { t->be, t->opt.v };
    /* the reader's messages name the file and section already */
    if (ckpt_reader_read_stream(r, "params", consume_to_device, &sp, err) ||
        ckpt_reader_read_stream(r, "adam_m", consume_to_device, &sm, err) ||
        ckpt_reader_read_stream(r, "adam_v", consume_to_device, &sv, err))
        return -1;
    void *rw = NULL;
    size_t rw_len = 0;
    if (ckpt_reader_read_alloc(r, "reweight", &rw, &rw_len, err))
        return -1;
    int rc = rw_state_deserialize(&t->rwstate, rw, rw_len, err);
    free(rw);
    if (rc)
        return herr_wrap(err, "checkpoint %s, reweighting state: ", path);
    if (loader_seek(t->ld, pos, err))
        return herr_wrap(err, "checkpoint %s, data position: ", path);
    t->step = (long)step;
    t->opt.t = (long)adam_t;
    return 0;
}

int trainer_restore(struct trainer *t, struct herr *err)
{
    char path[OPT_STRING_MAX + 64];
    if (ckpt_resolve(t->cfg.resume, path, sizeof path, err))
        return herr_wrap(err, "--resume: ");
    struct ckpt_reader *r;
    if (ckpt_reader_open(&r, path, err))
        return herr_wrap(err, "--resume: ");
    void *meta = NULL;
    size_t len = 0;
    int rc = ckpt_reader_read_alloc(r, "meta", &meta, &len, err);
    if (rc == 0)
        rc = restore_from(t, r, path, meta, err);
    free(meta);
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
    if (t->rank != 0)
        return 0;
    float *host = malloc(t->model.num_params * sizeof(float));
    if (!host)
        return herr_set(err, "out of host memory exporting the model");
    char path[OPT_STRING_MAX + 32];
    snprintf(path, sizeof path, "%s/model.bin", t->out_dir);
    int rc = t->model.ops->download_params(t->model.impl, host, err);
    if (rc == 0)
        rc = model_file_write(path, &t->model.config, host, err);
    free(host);
    if (rc)
        return herr_wrap(err, "exporting the model: ");
    char detail[2 * OPT_STRING_MAX];
    snprintf(detail, sizeof detail, "wrote %s (llm.c GPT-2 format)", path);
    trainer_log_event(t, "export", detail);
    return 0;
}
