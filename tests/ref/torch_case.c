/* tests/ref/torch_case.c — see torch_case.h. */
#include "tests/ref/torch_case.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/ref/ref_gpt2_f64.h"

int torch_case_load(struct torch_case *tc, const char *dir, struct herr *err)
{
    char path[4096];
    memset(tc, 0, sizeof *tc);
    snprintf(path, sizeof path, "%s/gpt2_tiny_model.bin", dir);
    if (ref_gpt2_read_llmc(path, &tc->cfg, &tc->params, err))
        return -1;
    snprintf(path, sizeof path, "%s/gpt2_tiny_vectors.bin", dir);
    if (ref_vectors_load(&tc->vec, path, err))
        goto fail;
    const int32_t *c = ref_vectors_i32(&tc->vec, "config", 8, err);
    if (!c)
        goto fail;
    if (c[0] != tc->cfg.max_seq_len || c[1] != tc->cfg.vocab_size ||
        c[2] != tc->cfg.padded_vocab_size || c[3] != tc->cfg.num_layers ||
        c[4] != tc->cfg.num_heads || c[5] != tc->cfg.channels || c[6] < 1 || c[7] < 1) {
        herr_set(err, "%s: config record does not match the model file's header", path);
        goto fail;
    }
    tc->B = c[6];
    tc->T = c[7];
    size_t BT = (size_t)tc->B * tc->T;
    tc->inputs = ref_vectors_i32(&tc->vec, "inputs", BT, err);
    tc->targets = ref_vectors_i32(&tc->vec, "targets", BT, err);
    if (!tc->inputs || !tc->targets)
        goto fail;
    return 0;
fail:
    torch_case_free(tc);
    return -1;
}

void torch_case_free(struct torch_case *tc)
{
    free(tc->params);
    ref_vectors_free(&tc->vec);
    memset(tc, 0, sizeof *tc);
}
