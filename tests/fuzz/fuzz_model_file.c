/* tests/fuzz/fuzz_model_file.c — model files (core/model_file.h: llm.c's
 * GPT-2 and heft's LLaMA): header, config validation, size, and the
 * parameters of what is accepted. */
#include "tests/fuzz/fuzz_util.h"

#include "core/model_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *path = fuzz_file(data, n);
    struct model_config cfg;
    struct herr err;
    float *params = NULL;
    if (model_file_load(path, &cfg, &params, &err) == 0) {
        if ((size_t)n != 1024 + 4 * model_config_num_params(&cfg))
            abort(); /* accepted a file of the wrong size */
        free(params);
    }
    return 0;
}
