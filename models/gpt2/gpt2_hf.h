/* models/gpt2/gpt2_hf.h — GPT-2's Hugging Face correspondence (models/hf.h)
 * and its config from checkpoint fields: the entries of gpt2_family's table. */
#ifndef HEFT_GPT2_HF_H
#define HEFT_GPT2_HF_H

#include "models/model_config.h"

struct hf_config;
struct hf_tensor;

extern const char *const gpt2_hf_ignored[];
int gpt2_hf_tensors(const struct model_config *cfg, struct hf_tensor *out);
void gpt2_hf_config_write(const struct model_config *cfg, struct hf_config *out);
int gpt2_hf_config_read(const struct hf_config *in, struct model_config *cfg, struct herr *err);
int gpt2_from_fields(struct model_config *cfg, const struct model_field *f, int n,
                     struct herr *err);

#endif
