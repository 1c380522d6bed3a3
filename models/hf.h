/* models/hf.h — how a family's models look to Hugging Face transformers,
 * without any file or JSON code: the tensors of its model.safetensors and the
 * entries of its config.json.
 *
 * A family (models/family.h) lists its tensors as `struct hf_tensor`: the
 * Hugging Face name and shape, where the tensor starts in heft's flat float32
 * buffer, and whether heft holds it transposed (GPT-2's Conv1D weights). Its
 * config.json is a flat list of key/value pairs (`struct hf_config`) that the
 * family writes from its config and reads back into one. core/hf_dir.c turns
 * both into files (core/safetensors.c, jansson) and back; nothing in models/
 * touches a file.
 *
 * The correspondence is exact: every float of heft's buffer that is not
 * padding (the vocabulary's padding rows) is one float of one tensor, so an
 * export followed by an import gives back the same bits. */
#ifndef HEFT_MODELS_HF_H
#define HEFT_MODELS_HF_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "models/model_config.h"

#define HF_NAME_MAX 96

struct hf_tensor {
    char name[HF_NAME_MAX]; /* "model.layers.3.self_attn.k_proj.weight" */
    int ndim;               /* 1 or 2 */
    int64_t shape[2];       /* Hugging Face's shape, row-major */
    size_t offset;          /* its first float in heft's flat buffer */
    /* 2-D only: heft holds the transpose, (shape[1], shape[0]) row-major, at
     * offset (GPT-2's Conv1D stores x W, heft's linear x W^T) */
    int transposed;
};

static inline size_t hf_tensor_count(const struct hf_tensor *t)
{
    return t->ndim == 1 ? (size_t)t->shape[0] : (size_t)t->shape[0] * (size_t)t->shape[1];
}

/* ---- config.json as key/value pairs -------------------------------------- */

/* HF_LIST: a list whose first element is a string (`architectures`); HF_OTHER:
 * anything else that is not a scalar (objects, other lists), which a family
 * can only accept as "present" or refuse. */
enum hf_kind { HF_NULL, HF_BOOL, HF_INT, HF_REAL, HF_STRING, HF_LIST, HF_OTHER };

#define HF_KEY_MAX 64
#define HF_STR_MAX 96
#define HF_CONFIG_MAX 128

struct hf_kv {
    char key[HF_KEY_MAX];
    enum hf_kind kind;
    double num;            /* HF_BOOL (0/1), HF_INT, HF_REAL */
    char str[HF_STR_MAX];  /* HF_STRING, HF_LIST (its first string) */
};

struct hf_config {
    int n;
    struct hf_kv kv[HF_CONFIG_MAX];
};

/* Appending (a key already present is replaced). */
void hf_put_int(struct hf_config *c, const char *key, long long v);
/* A float32 hyper-parameter, as the shortest decimal that reads back as the
 * same float (1e-05, not 9.99999974737875e-06). */
void hf_put_float(struct hf_config *c, const char *key, float v);
void hf_put_real(struct hf_config *c, const char *key, double v);
void hf_put_bool(struct hf_config *c, const char *key, int v);
void hf_put_str(struct hf_config *c, const char *key, const char *v);
void hf_put_null(struct hf_config *c, const char *key);
void hf_put_list(struct hf_config *c, const char *key, const char *first);

/* The entry named key, or NULL. */
const struct hf_kv *hf_find(const struct hf_config *c, const char *key);

/* Readers for families. Errors name the key and what it holds ("config.json:
 * n_head is 3.5, not an integer"). `_or` forms give def when the key is
 * absent or null, as transformers' config classes do. */
int hf_get_int(const struct hf_config *c, const char *key, int lo, int hi, int *out,
               struct herr *err);
int hf_get_int_or(const struct hf_config *c, const char *key, int def, int lo, int hi, int *out,
                  struct herr *err);
int hf_get_real_or(const struct hf_config *c, const char *key, double def, double *out,
                   struct herr *err);
int hf_get_bool_or(const struct hf_config *c, const char *key, int def, int *out,
                   struct herr *err);
/* A string key that must be one of the NULL-terminated `allowed` values (or
 * absent when def names the default transformers assumes). */
int hf_expect_str(const struct hf_config *c, const char *key, const char *def,
                  const char *const *allowed, struct herr *err);
/* A key that heft has no counterpart for must be absent, null or false. */
int hf_expect_unset(const struct hf_config *c, const char *key, const char *why,
                    struct herr *err);

/* ---- dispatch to the families (models/registry.c) ------------------------ */

/* The family whose config.json says "model_type": name, or NULL. */
const struct model_family *hf_family_by_type(const char *model_type);
/* "gpt2 (GPT2LMHeadModel), llama (LlamaForCausalLM)" for messages. */
void hf_known_types(char *buf, size_t cap);

/* config.json entries of cfg: architectures, model_type, the family's own,
 * torch_dtype float32. */
void hf_config_of(const struct model_config *cfg, struct hf_config *out);
/* The config a config.json describes (family by model_type), validated. */
int hf_config_read(const struct hf_config *in, struct model_config *cfg, struct herr *err);

/* The tensors of cfg's model.safetensors, malloc'ed into *list (caller frees). */
int hf_tensors_of(const struct model_config *cfg, struct hf_tensor **list, int *n,
                  struct herr *err);
/* Name matching on import: a file may name tensors without the family's
 * optional prefix (GPT-2 files saved from GPT2Model lack "transformer."), and
 * may carry buffers that are not parameters (GPT-2's attn.bias causal mask,
 * LLaMA's rotary_emb.inv_freq), which are skipped. */
const char *hf_name_prefix(const struct model_config *cfg);
int hf_name_ignored(const struct model_config *cfg, const char *name);

#endif
