/* models/llama/llama_hf.h — LLaMA's Hugging Face correspondence (models/hf.h)
 * and its config from checkpoint fields: the entries of llama_family's table. */
#ifndef HEFT_LLAMA_HF_H
#define HEFT_LLAMA_HF_H

#include "models/model_config.h"

struct hf_config;
struct hf_tensor;

extern const char *const llama_hf_ignored[];
int llama_hf_tensors(const struct model_config *cfg, struct hf_tensor *out);
void llama_hf_config_write(const struct model_config *cfg, struct hf_config *out);
int llama_hf_config_read(const struct hf_config *in, struct model_config *cfg, struct herr *err);
int llama_from_fields(struct model_config *cfg, const struct model_field *f, int n,
                     struct herr *err);

#endif
