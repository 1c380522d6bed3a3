/* core/model_file.h — GPT-2 weights in llm.c's model file format.
 *
 * Layout (little-endian):
 *   int32 header[256]: [0] = 20240326 (magic), [1] = 3 (version: fp32
 *       parameters), [2] = maxT, [3] = V, [4] = L, [5] = NH, [6] = C, [7] = Vp,
 *       the rest 0
 *   float32 params[gpt2_num_params(cfg)] in the order of models/gpt2_config.h
 * The file is exactly 1024 + 4 * num_params bytes. llm.c's train_gpt2.py
 * writes such files (gpt2_124M.bin), and llm.c reads the ones heft writes.
 * Version 5 (bf16 parameters, written by llm.c's CUDA trainer) is recognized
 * and refused with a clear message: heft does not read it yet.
 */
#ifndef HEFT_CORE_MODEL_FILE_H
#define HEFT_CORE_MODEL_FILE_H

#include "core/error.h"
#include "models/gpt2_config.h"

#define MODEL_FILE_MAGIC 20240326
#define MODEL_FILE_VERSION_FP32 3
#define MODEL_FILE_VERSION_BF16 5
#define MODEL_FILE_HEADER_INTS 256

/* Reads and validates the header (magic, version, config, exact file size). */
int model_file_read_config(const char *path, struct gpt2_config *cfg, struct herr *err);
/* Reads the parameters into params (gpt2_num_params(cfg) floats); cfg must
 * match the file's header. */
int model_file_read_params(const char *path, const struct gpt2_config *cfg, float *params,
                           struct herr *err);
/* Both: *params is malloc'ed (caller frees). */
int model_file_load(const char *path, struct gpt2_config *cfg, float **params,
                    struct herr *err);
/* Writes config and parameters atomically. */
int model_file_write(const char *path, const struct gpt2_config *cfg, const float *params,
                     struct herr *err);

#endif
