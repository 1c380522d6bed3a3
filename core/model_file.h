/* core/model_file.h — a model's weights in a model file: a 1024-byte header
 * (256 int32) followed by the flat float32 parameters.
 *
 * header[0] is the family's magic (models/registry.c lists them):
 *  - 20240326, llm.c's GPT-2 file: [1] = 3 (version: fp32 parameters),
 *    [2] = maxT, [3] = V, [4] = L, [5] = NH, [6] = C, [7] = Vp, the rest 0;
 *    parameters in the order of models/gpt2/gpt2_config.h. llm.c's
 *    train_gpt2.py writes such files (gpt2_124M.bin), and llm.c reads the ones
 *    heft writes. Version 5 (bf16 parameters, written by llm.c's CUDA
 *    trainer) is recognized and refused with a clear message.
 *  - 20241210, heft's LLaMA file (models/llama/llama_config.h, docs/FORMATS.md).
 * The file is exactly 1024 + 4 * num_params bytes.
 *
 * Reading also takes a Hugging Face model directory (config.json +
 * model.safetensors, core/hf_dir.h) wherever a model file goes: a path that
 * is a directory is read as one, so `heft train --init-from DIR` continues
 * pretraining a transformers GPT-2 or LLaMA checkpoint.
 */
#ifndef HEFT_CORE_MODEL_FILE_H
#define HEFT_CORE_MODEL_FILE_H

#include "core/error.h"
#include "models/model_config.h"

/* Reads and validates the header (magic, version, config, exact file size),
 * or a Hugging Face directory's config.json. */
int model_file_read_config(const char *path, struct model_config *cfg, struct herr *err);
/* Reads the parameters into params (model_config_num_params(cfg) floats); cfg
 * must match the file's header. */
int model_file_read_params(const char *path, const struct model_config *cfg, float *params,
                           struct herr *err);
/* Both: *params is malloc'ed (caller frees). */
int model_file_load(const char *path, struct model_config *cfg, float **params,
                    struct herr *err);
/* Writes config and parameters atomically. */
int model_file_write(const char *path, const struct model_config *cfg, const float *params,
                     struct herr *err);

#endif
