/* core/hf_dir.h — a Hugging Face model directory, as transformers'
 * save_pretrained writes it and from_pretrained reads it:
 *
 *   config.json                    the family's config (GPT2Config, LlamaConfig)
 *   model.safetensors              every parameter tensor, by transformers' names
 *   (or model.safetensors.index.json + the shards its weight_map names)
 *
 * The family (models/hf.h) says which tensor is where in heft's flat buffer;
 * this file moves them, streaming: writing asks for each tensor in chunks
 * (transposing GPT-2's Conv1D weights on the way), reading preads each tensor
 * straight into the flat buffer. Neither keeps a second copy of the model.
 *
 * Reading checks, before any data is read, that config.json describes a model
 * heft can build, that each tensor the family needs is there with the shape
 * the config implies and a dtype heft converts (F32, F16, BF16), and that the
 * files hold nothing else but buffers the family lists as ignorable. */
#ifndef HEFT_CORE_HF_DIR_H
#define HEFT_CORE_HF_DIR_H

#include "core/error.h"
#include "models/model_config.h"

#define HF_CONFIG_FILE "config.json"
#define HF_WEIGHTS_FILE "model.safetensors"
#define HF_INDEX_FILE "model.safetensors.index.json"

/* What config.json says beyond the model's shape: the tokenizer's special
 * ids (-1: unknown, written as null). */
struct hf_extra {
    int bos_token_id, eos_token_id;
};

/* 1 if path is a directory (the caller then treats it as a Hugging Face one). */
int hf_dir_is_dir(const char *path);

/* Creates dir if needed and writes config.json and model.safetensors from the
 * flat buffer params (model_config_num_params(cfg) floats). */
int hf_dir_write(const char *dir, const struct model_config *cfg, const float *params,
                 const struct hf_extra *extra, struct herr *err);

/* Copies file src into dir as `name` (the tokenizer files that go with a
 * model), atomically. */
int hf_dir_add_file(const char *dir, const char *name, const char *src, struct herr *err);

/* The model config.json describes. */
int hf_dir_read_config(const char *dir, struct model_config *cfg, struct herr *err);
/* The parameters into params (model_config_num_params(cfg) floats; padding
 * rows zero); cfg must be what config.json describes. */
int hf_dir_read_params(const char *dir, const struct model_config *cfg, float *params,
                       struct herr *err);

#endif
