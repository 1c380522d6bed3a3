/* core/model_source.h — the model a command is pointed at, whatever form it
 * has: `heft export` and `heft sample` take any of
 *
 *   a run directory       its latest checkpoint (the newest state), or its
 *                         model.bin when it has no checkpoint
 *   a heft checkpoint     ckpt_*.heft: the config from its meta section, the
 *                         weights from its params section
 *   a model file          llm.c's GPT-2 file or heft's LLaMA file
 *   a Hugging Face dir    config.json + model.safetensors (core/hf_dir.h)
 *
 * and learn what is known of its tokenizer: a run records its --data, whose
 * manifest names the tokenizer's kind and EOT (heft's built-in and prepared
 * byte data: "bytes", 257 ids, EOT 256); a tokenizer file (tokenizer.json,
 * tokenizer.model) in the Hugging Face directory, the run directory or the
 * dataset directory is found, for `heft sample` to decode with and
 * `heft export` to copy (core/text_codec.h). */
#ifndef HEFT_CORE_MODEL_SOURCE_H
#define HEFT_CORE_MODEL_SOURCE_H

#include "core/error.h"
#include "models/model_config.h"

#define MODEL_SOURCE_PATH_MAX 4096

enum model_source_kind {
    MODEL_SOURCE_CHECKPOINT, MODEL_SOURCE_MODEL_FILE, MODEL_SOURCE_HF
};

struct model_source {
    enum model_source_kind kind;
    char file[MODEL_SOURCE_PATH_MAX];    /* what is read: checkpoint, model file or HF dir */
    char run_dir[MODEL_SOURCE_PATH_MAX]; /* the run it belongs to, "" if none */
    long step;                           /* the checkpoint's step, -1 if not known */
    struct model_config cfg;
    /* the tokenizer, as far as known */
    char tokenizer[32];                       /* "bytes", "gpt2", ...; "" unknown */
    int eot;                                  /* end-of-text id, -1 unknown */
    char tokenizer_file[MODEL_SOURCE_PATH_MAX]; /* a tokenizer file found, "" none */
    char note[1024];                          /* what could not be found out, "" */
};

/* Resolves path, reads the config and what is known of the tokenizer. */
int model_source_open(struct model_source *s, const char *path, struct herr *err);
/* The parameters into params (model_config_num_params(&s->cfg) floats). */
int model_source_read_params(const struct model_source *s, float *params, struct herr *err);
/* "heft checkpoint", "llm.c GPT-2 model file", "Hugging Face directory" */
const char *model_source_kind_name(const struct model_source *s);

#endif
