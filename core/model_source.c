/* core/model_source.c — see model_source.h. */
#include "core/model_source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/checkpoint.h"
#include "core/ckpt_dir.h"
#include "core/ckpt_meta.h"
#include "core/dataset.h"
#include "core/fileio.h"
#include "core/hf_dir.h"
#include "core/hf_json.h"
#include "core/model_file.h"
#include "core/text_codec.h"
#include "core/train_config.h"

static void dir_of(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(out, cap, ".");
}

const char *model_source_kind_name(const struct model_source *s)
{
    switch (s->kind) {
    case MODEL_SOURCE_CHECKPOINT: return "heft checkpoint";
    case MODEL_SOURCE_HF: return "Hugging Face directory";
    case MODEL_SOURCE_MODEL_FILE: default: return "model file";
    }
}

/* ---- the tokenizer ---------------------------------------------------------- */

/* What the run's recorded --data says: the dataset's tokenizer word and EOT
 * (opened without scanning its tokens), and a tokenizer file in a dataset
 * directory (core/text_codec.h says which names). */
static void tokenizer_from_data(struct model_source *s, const char *data, int vocab_hint)
{
    struct dataset *ds;
    struct herr err;
    if (dataset_open_scan(&ds, data, vocab_hint ? vocab_hint : 50257, 0, &err)) {
        snprintf(s->note, sizeof s->note, "the run's data (%.200s) cannot be opened from here, "
                                          "so its tokenizer is not known: %.250s", data, err.msg);
        return;
    }
    snprintf(s->tokenizer, sizeof s->tokenizer, "%s", dataset_tokenizer(ds));
    s->eot = dataset_eot(ds);
    if (hf_dir_is_dir(data))
        text_codec_find_in_dir(data, dataset_tokenizer(ds), s->tokenizer_file,
                               sizeof s->tokenizer_file);
    dataset_close(ds);
}

/* The run's recorded settings (the checkpoint's config section): its data. */
static void tokenizer_from_checkpoint(struct model_source *s, struct ckpt_reader *r)
{
    void *text = NULL;
    size_t len = 0;
    struct herr err;
    struct train_config tc;
    train_config_default(&tc);
    if (ckpt_reader_read_alloc(r, "config", &text, &len, &err) ||
        opts_parse_text(train_options(), &tc, text, "the checkpoint's settings", &err)) {
        snprintf(s->note, sizeof s->note, "the checkpoint's recorded settings cannot be read "
                                          "(%.300s), so its tokenizer is not known", err.msg);
        free(text);
        return;
    }
    free(text);
    tokenizer_from_data(s, tc.data, tc.vocab);
}

/* ---- the forms a model comes in --------------------------------------------- */

static int open_checkpoint(struct model_source *s, struct herr *err)
{
    struct ckpt_reader *r;
    if (ckpt_reader_open(&r, s->file, err))
        return -1;
    void *meta = NULL;
    size_t len = 0;
    char family[64];
    int64_t step = 0;
    struct model_field f[MODEL_MAX_FIELDS];
    int rc = ckpt_reader_read_alloc(r, "meta", &meta, &len, err);
    if (rc == 0)
        rc = ckpt_meta_get_str(meta, "model", family, sizeof family, err) ||
             ckpt_meta_get_int(meta, "step", &step, err);
    int nf = rc ? 0 : model_config_field_names(family, f, err);
    if (nf < 0)
        rc = -1;
    for (int i = 0; i < nf && rc == 0; i++)
        rc = ckpt_meta_get_double(meta, f[i].name, &f[i].value, err);
    if (rc == 0)
        rc = model_config_from_fields(family, f, nf, &s->cfg, err);
    free(meta);
    if (rc == 0) {
        s->step = (long)step;
        tokenizer_from_checkpoint(s, r);
    }
    ckpt_reader_close(r);
    return rc ? herr_wrap(err, "checkpoint %s: ", s->file) : 0;
}

/* A file: a heft checkpoint by its magic, else a model file. */
static int open_file(struct model_source *s, struct herr *err)
{
    char magic[8] = { 0 };
    FILE *fp = fopen(s->file, "rb");
    if (!fp)
        return herr_set(err, "%s: cannot open: %s", s->file, strerror(errno));
    size_t got = fread(magic, 1, sizeof magic, fp);
    fclose(fp);
    if (got == sizeof magic && !memcmp(magic, CKPT_MAGIC, sizeof magic)) {
        s->kind = MODEL_SOURCE_CHECKPOINT;
        return open_checkpoint(s, err);
    }
    s->kind = MODEL_SOURCE_MODEL_FILE;
    return model_file_read_config(s->file, &s->cfg, err);
}

/* config.json's eos_token_id, the end of a text for sampling. */
static void tokenizer_from_hf(struct model_source *s)
{
    char path[MODEL_SOURCE_PATH_MAX];
    struct hf_config hc;
    struct herr err;
    if (path_join(path, sizeof path, s->file, HF_CONFIG_FILE, &err) == 0 &&
        hf_json_read(path, &hc, &err) == 0) {
        const struct hf_kv *eos = hf_find(&hc, "eos_token_id");
        if (eos && eos->kind == HF_INT)
            s->eot = (int)eos->num;
    }
    text_codec_find_in_dir(s->file, "", s->tokenizer_file, sizeof s->tokenizer_file);
}

int model_source_open(struct model_source *s, const char *path, struct herr *err)
{
    memset(s, 0, sizeof *s);
    s->step = -1;
    s->eot = -1;
    struct stat st;
    if (stat(path, &st) != 0)
        return herr_set(err, "%s: %s", path, strerror(errno));
    if (strlen(path) >= sizeof s->file)
        return herr_set(err, "%s: path too long", path);
    if (!S_ISDIR(st.st_mode)) {
        snprintf(s->file, sizeof s->file, "%s", path);
        dir_of(path, s->run_dir, sizeof s->run_dir);
        if (open_file(s, err))
            return -1;
        if (s->kind != MODEL_SOURCE_CHECKPOINT)
            s->run_dir[0] = '\0'; /* a model file may lie anywhere */
    } else if (file_in_dir(path, HF_CONFIG_FILE, s->file, sizeof s->file)) {
        s->kind = MODEL_SOURCE_HF;
        snprintf(s->file, sizeof s->file, "%s", path);
        if (hf_dir_read_config(path, &s->cfg, err))
            return -1;
        tokenizer_from_hf(s);
    } else {
        /* a run directory: its newest state */
        snprintf(s->run_dir, sizeof s->run_dir, "%s", path);
        char latest[MODEL_SOURCE_PATH_MAX];
        if (file_in_dir(path, CKPT_LATEST_NAME, latest, sizeof latest)) {
            if (ckpt_resolve(path, s->file, sizeof s->file, err))
                return -1;
            s->kind = MODEL_SOURCE_CHECKPOINT;
            if (open_checkpoint(s, err))
                return -1;
        } else if (file_in_dir(path, "model.bin", s->file, sizeof s->file)) {
            s->kind = MODEL_SOURCE_MODEL_FILE;
            if (model_file_read_config(s->file, &s->cfg, err))
                return -1;
            snprintf(s->note, sizeof s->note, "the run has no checkpoint, so its data and "
                                              "tokenizer are not known");
        } else {
            return herr_set(err, "%s: a directory with no %s (Hugging Face), no %s checkpoint "
                                 "pointer and no model.bin (heft run)",
                            path, HF_CONFIG_FILE, CKPT_LATEST_NAME);
        }
    }
    /* a tokenizer kept in the run's directory wins over the dataset's */
    char own[MODEL_SOURCE_PATH_MAX];
    if (s->run_dir[0] && text_codec_find_in_dir(s->run_dir, "", own, sizeof own))
        snprintf(s->tokenizer_file, sizeof s->tokenizer_file, "%s", own);
    return 0;
}

int model_source_read_params(const struct model_source *s, float *params, struct herr *err)
{
    size_t P = model_config_num_params(&s->cfg);
    if (s->kind != MODEL_SOURCE_CHECKPOINT)
        return model_file_read_params(s->file, &s->cfg, params, err);
    struct ckpt_reader *r;
    if (ckpt_reader_open(&r, s->file, err))
        return -1;
    int rc = ckpt_reader_read(r, "params", params, P * sizeof *params, err);
    ckpt_reader_close(r);
    return rc;
}
