/* models/family.h — what a model family implements.
 *
 * A family is one folder of models/ (gpt2/, llama/) exporting one
 * `const struct model_family`, listed in models/registry.c. Everything outside
 * models/ goes through models/model_config.h and models/model.h, which
 * dispatch here. To add a family: write its config (presets, validation,
 * parameter layout), describe its network as a `struct decoder_spec`
 * (models/nn/decoder.h: norms, attention, MLP, embedding, head) or write its
 * own forward/backward, fill this table, and add one line to the registry. */
#ifndef HEFT_MODEL_FAMILY_H
#define HEFT_MODEL_FAMILY_H

#include "backends/backend.h"
#include "models/model_config.h"

struct model;
struct decoder_spec;
struct param_span;
struct hf_config;
struct hf_tensor;

struct model_family {
    const char *name;        /* "gpt2" */
    const char *file_name;   /* how its model files are called in messages */
    int32_t file_magic;      /* header[0] of its model files */
    const char *(*preset_names)(void); /* space-separated */
    int default_vocab;       /* the family's own tokenizer's vocabulary */

    int (*preset)(const char *name, int vocab, struct model_config *cfg, struct herr *err);
    int (*override)(struct model_config *cfg, const struct model_overrides *ov,
                    struct herr *err);
    int (*validate)(const struct model_config *cfg, struct herr *err);
    void (*dims)(const struct model_config *cfg, struct model_dims *out);
    void (*describe)(const struct model_config *cfg, char *buf, size_t cap);
    int (*fields)(const struct model_config *cfg, struct model_field out[MODEL_MAX_FIELDS]);

    /* Deterministic initial parameters into host memory of num_params floats. */
    void (*init_params)(const struct model_config *cfg, uint64_t seed, float *host);

    int (*header_read)(const int32_t h[MODEL_FILE_HEADER_INTS], struct model_config *cfg,
                       struct herr *err);
    void (*header_write)(const struct model_config *cfg, int32_t h[MODEL_FILE_HEADER_INTS]);

    /* The family as a decoder spec (models/nn/decoder.h): the model is built
     * from it, and parameter counts, FLOPs, activation memory and the
     * parameter groups all come from it (models/registry.c, models/model.c). */
    void (*spec)(const struct model_config *cfg, struct decoder_spec *out);
    /* The named tensors of the flat parameter layout, for the optimizer's
     * decay flags and for messages; returns how many (<= MODEL_MAX_SPANS). */
    int (*spans)(const struct model_config *cfg, struct param_span *out);

    /* The config from its named fields (as fields() lists them; a
     * checkpoint's meta records them), unvalidated. */
    int (*from_fields)(struct model_config *cfg, const struct model_field *f, int n,
                       struct herr *err);

    /* Hugging Face transformers (models/hf.h). */
    const char *hf_model_type;     /* config.json "model_type": "gpt2" */
    const char *hf_architecture;   /* "GPT2LMHeadModel" */
    const char *hf_name_prefix;    /* a prefix tensor names may lack, or NULL */
    const char *const *hf_ignored; /* NULL-terminated name suffixes of buffers to skip */
    /* config.json entries from cfg (after architectures and model_type) */
    void (*hf_config_write)(const struct model_config *cfg, struct hf_config *out);
    /* cfg (family already set) from config.json; validated by the caller */
    int (*hf_config_read)(const struct hf_config *in, struct model_config *cfg, struct herr *err);
    /* The tensors of model.safetensors: fills out (when not NULL) and
     * returns how many there are. */
    int (*hf_tensors)(const struct model_config *cfg, struct hf_tensor *out);
};

/* The registry (models/registry.c). */
int model_num_families(void);
const struct model_family *model_family_at(int i);
const struct model_family *model_family_by_name(const char *name);
const struct model_family *model_family_by_magic(int32_t magic);
const struct model_family *model_family_by_preset(const char *preset);

/* The value of field `name` among f[0..n) (for from_fields); an error
 * naming it when absent. */
int model_field_get(const struct model_field *f, int n, const char *name, double *v,
                    struct herr *err);

/* A family's own config struct inside the opaque one. */
static inline void *model_config_body(struct model_config *cfg) { return cfg->body.bytes; }
static inline const void *model_config_cbody(const struct model_config *cfg)
{
    return cfg->body.bytes;
}

#endif
