/* models/model_config.h — a model's hyper-parameters as the rest of heft sees
 * them: an opaque value with a family name.
 *
 * The trainer, checkpoints, the rank agreement check, the planner, model files
 * and the command line handle a `struct model_config` without knowing its
 * family's fields. They ask the family (models/family.h, found through the
 * registry in models/registry.c) for what they need: a preset, overrides from
 * flags, validation, a one-line description, the named fields a checkpoint
 * records and compares, the dimensions every decoder-only language model has,
 * parameter counts, and the model-file header. */
#ifndef HEFT_MODEL_CONFIG_H
#define HEFT_MODEL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "models/param_groups.h"

struct model_family;

/* Room for any family's config struct (checked at compile time by each). */
#define MODEL_CONFIG_BYTES 128

struct model_config {
    const struct model_family *family;
    union {
        unsigned char bytes[MODEL_CONFIG_BYTES];
        double align_d;
        int64_t align_i;
    } body;
};

/* What the backward may recompute instead of keeping from the forward:
 *  NONE  keep everything (fastest);
 *  ATTN  keep no T x T attention probabilities: the forward works through the
 *        batch a few rows at a time and the backward recomputes them;
 *  LAYER keep only each layer's input (the residual stream) and recompute the
 *        layer's forward inside the backward (about one more forward), with
 *        ATTN's chunked attention: activations grow as O(L B T C). */
enum model_recompute { MODEL_RECOMPUTE_NONE, MODEL_RECOMPUTE_ATTN, MODEL_RECOMPUTE_LAYER };
/* "none", "attn", "layer" -> the mode; an error naming the word otherwise. */
int model_recompute_parse(const char *word, enum model_recompute *out, struct herr *err);
const char *model_recompute_name(enum model_recompute r);

/* How a model spends activation memory (not a hyper-parameter: a run may
 * change it on resume, and results do not depend on it). */
struct model_memory {
    enum model_recompute recompute;
    int attn_chunk; /* rows per attention pass when recomputing; 0 = as many as fit 64 MiB */
    int attn_heads; /* key/value heads per pass when recomputing; 0 = as many as fit */
    /* ZeRO-2/3 (core/train_zero.h): the model keeps no flat gradient buffer
     * (hook_grads) or no flat parameter buffer (hook_params); a trainer lends
     * them group by group through models/param_groups.h's hooks */
    int hook_params, hook_grads;
};

/* Changes to a preset from flags or a planner request. 0 (or tie_embeddings
 * 0) keeps the preset's value. A change that a family does not have (e.g.
 * --kv-heads for GPT-2) is an error naming the flag. */
struct model_overrides {
    int layers, heads, channels, max_seq_len;
    int vocab;          /* the data's vocabulary (0 = the family's own tokenizer) */
    int kv_heads, ffn;  /* LLaMA: grouped-query attention, SwiGLU width */
    double rope_theta, norm_eps;
    int tie_embeddings; /* 1: the LM head is the token embedding */
};

/* What every decoder-only language model has, for logs and checks.
 * mlp_width: columns of the MLP's first product (GPT-2 4C, SwiGLU 2F). */
struct model_dims {
    int vocab_size, padded_vocab_size, max_seq_len, num_layers, num_heads, channels;
    int mlp_width;
};

/* A named hyper-parameter, as checkpoints record and compare it. */
struct model_field {
    const char *name; /* "num_layers" */
    double value;     /* integers are exact in a double up to 2^53 */
    int is_int;
};
#define MODEL_MAX_FIELDS 16

/* The model-file header: 256 int32 (1024 bytes), [0] = the family's magic. */
#define MODEL_FILE_HEADER_INTS 256

/* Preset `name` of whichever family has it, for a data vocabulary of `vocab`
 * token ids (0 = the family's own: 50257 for GPT-2, 32000 for LLaMA). */
int model_config_preset(const char *name, int vocab, struct model_config *cfg, struct herr *err);
/* Applies flag overrides, then validates. */
int model_config_override(struct model_config *cfg, const struct model_overrides *ov,
                          struct herr *err);
/* Sizes positive, divisible where they must be, parameter count in range. */
int model_config_validate(const struct model_config *cfg, struct herr *err);

const char *model_config_family(const struct model_config *cfg); /* "gpt2", "llama" */
/* What its model files are called: "llm.c GPT-2", "heft LLaMA" */
const char *model_config_file_format(const struct model_config *cfg);
void model_config_dims(const struct model_config *cfg, struct model_dims *out);
/* "L=4 C=128 NH=4 V=257/320 maxT=256" and family-specific parts */
void model_config_describe(const struct model_config *cfg, char *buf, size_t cap);
/* Fills out[] and returns how many. */
int model_config_fields(const struct model_config *cfg, struct model_field out[MODEL_MAX_FIELDS]);
/* The names (and kinds) of the fields family `family` records, values 0;
 * returns how many, or -1 for a family heft does not have. */
int model_config_field_names(const char *family, struct model_field out[MODEL_MAX_FIELDS],
                             struct herr *err);
/* The config of family `family` ("gpt2") with the named fields f[0..n) (a
 * checkpoint's record), validated; a missing or unknown field is an error. */
int model_config_from_fields(const char *family, const struct model_field *f, int n,
                             struct model_config *cfg, struct herr *err);
/* 1 if both are the same family with identical fields. */
int model_config_equal(const struct model_config *a, const struct model_config *b);

/* Parameters (floats in the flat buffer), the activation arena for B rows of
 * T tokens, FLOPs of a forward + backward over B*T tokens, and parameters
 * that take part in matrix products (for the planner and MFU). */
size_t model_config_num_params(const struct model_config *cfg);
size_t model_config_activation_floats(const struct model_config *cfg, int B, int T,
                                      const struct model_memory *mem);
/* The part of the activation arena the recompute mode works in (planner). */
size_t model_config_recompute_workspace(const struct model_config *cfg, int B, int T,
                                        const struct model_memory *mem);
double model_config_flops_per_step(const struct model_config *cfg, int B, int T);
double model_config_matmul_params(const struct model_config *cfg);

/* The parameter groups of models/param_groups.h: layers + 1. */
int model_config_num_groups(const struct model_config *cfg);
/* Group g's slices into out (returns how many) and its buffer's size. */
int model_config_group_slices(const struct model_config *cfg, int g,
                              struct param_slice out[PARAM_GROUP_MAX_SLICES], size_t *floats);

/* Model files: header <-> config. Reading finds the family by the magic and
 * checks the family's version and fields; `what` names the file in messages. */
int model_config_from_header(const int32_t h[MODEL_FILE_HEADER_INTS], struct model_config *cfg,
                             struct herr *err);
void model_config_to_header(const struct model_config *cfg, int32_t h[MODEL_FILE_HEADER_INTS]);
/* "20240326 (llm.c GPT-2), 20241210 (heft LLaMA)" for messages */
void model_file_magics(char *buf, size_t cap);

/* "gpt2: tiny small gpt2 ...; llama: llama-tiny ..." for help texts. */
void model_presets_list(char *buf, size_t cap);

#endif
