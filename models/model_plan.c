/* models/model_plan.c — see model_plan.h. */
#include "models/model_plan.h"

#include <stdio.h>
#include <string.h>

int model_plan_shape(const char *name, const struct model_overrides *ov, int B, int T,
                     const struct model_memory *mem, struct model_shape *out, struct herr *err)
{
    memset(out, 0, sizeof *out);
    if (B < 1 || T < 1)
        return herr_set(err, "batch %d x seq %d: both must be at least 1", B, T);
    struct model_config c;
    if (model_config_preset(name, ov->vocab, &c, err))
        return -1;
    if (model_config_override(&c, ov, err))
        return herr_wrap(err, "%s: ", name);
    struct model_dims d;
    model_config_dims(&c, &d);
    if (T > d.max_seq_len)
        return herr_set(err, "%s: --seq %d is longer than the model's max_seq_len %d", name, T,
                        d.max_seq_len);
    snprintf(out->family, sizeof out->family, "%s", model_config_family(&c));
    snprintf(out->name, sizeof out->name, "%s", name);
    model_config_describe(&c, out->summary, sizeof out->summary);
    out->num_params = model_config_num_params(&c);
    out->activation_floats = model_config_activation_floats(&c, B, T, mem);
    out->activation_floats_kept = model_config_activation_floats(&c, B, T, NULL);
    out->flops_per_step = model_config_flops_per_step(&c, B, T);
    out->matmul_params = model_config_matmul_params(&c);
    return 0;
}

void model_plan_presets(char *buf, size_t cap) { model_presets_list(buf, cap); }
