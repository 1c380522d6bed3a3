/* tests/fuzz/fuzz_model_file.c — llm.c GPT-2 model files (core/model_file.h):
 * header, config validation, size, and the parameters of what is accepted. */
#include "tests/fuzz/fuzz_util.h"

#include "core/model_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    const char *path = fuzz_file(data, n);
    struct gpt2_config cfg;
    struct herr err;
    float *params = NULL;
    if (model_file_load(path, &cfg, &params, &err) == 0) {
        if ((size_t)n != 1024 + 4 * gpt2_num_params(&cfg))
            abort(); /* accepted a file of the wrong size */
        free(params);
    }
    return 0;
}
