/* core/model_file.c — see model_file.h. */
#include "core/model_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"

#define HEADER_BYTES (MODEL_FILE_HEADER_INTS * 4)

/* Opens the file and checks everything but the parameter values; returns the
 * open descriptor in *fd. */
static int open_checked(const char *path, struct gpt2_config *cfg, int *fd, struct herr *err)
{
    uint64_t size = 0;
    if (open_regular_file(path, "model file", fd, &size, err))
        return -1;
    if (size < HEADER_BYTES)
        return herr_set(err, "model file %s: truncated: %llu bytes, shorter than the %d-byte "
                        "header", path, (unsigned long long)size, HEADER_BYTES);
    int32_t h[8];
    if (read_exact_at(*fd, h, sizeof h, 0, "model file", path, err))
        return -1;
    if (h[0] != MODEL_FILE_MAGIC)
        return herr_set(err, "model file %s: bad magic %d (expected %d)%s", path, (int)h[0],
                        MODEL_FILE_MAGIC,
                        h[0] == 20240520 ? ": this is a token shard, not a model" : "");
    if (h[1] == MODEL_FILE_VERSION_BF16)
        return herr_set(err, "model file %s: version 5 (bf16 parameters, as llm.c's CUDA "
                        "trainer writes) is not supported yet; heft reads version 3 (fp32)",
                        path);
    if (h[1] != MODEL_FILE_VERSION_FP32)
        return herr_set(err, "model file %s: unsupported version %d (heft reads version %d, "
                        "fp32)", path, (int)h[1], MODEL_FILE_VERSION_FP32);
    cfg->max_seq_len = h[2];
    cfg->vocab_size = h[3];
    cfg->num_layers = h[4];
    cfg->num_heads = h[5];
    cfg->channels = h[6];
    cfg->padded_vocab_size = h[7];
    if (gpt2_config_validate(cfg, err))
        return herr_wrap(err, "model file %s: ", path);
    const uint64_t expect = HEADER_BYTES + 4 * (uint64_t)gpt2_num_params(cfg);
    if (size < expect)
        return herr_set(err, "model file %s: truncated: %llu bytes, but its config needs %llu "
                        "(%zu parameters)", path, (unsigned long long)size,
                        (unsigned long long)expect, gpt2_num_params(cfg));
    if (size > expect)
        return herr_set(err, "model file %s: %llu bytes, %llu more than its config needs",
                        path, (unsigned long long)size, (unsigned long long)(size - expect));
    return 0;
}

int model_file_read_config(const char *path, struct gpt2_config *cfg, struct herr *err)
{
    int fd;
    int rc = open_checked(path, cfg, &fd, err);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int same_config(const struct gpt2_config *a, const struct gpt2_config *b)
{
    return a->max_seq_len == b->max_seq_len && a->vocab_size == b->vocab_size &&
           a->padded_vocab_size == b->padded_vocab_size && a->num_layers == b->num_layers &&
           a->num_heads == b->num_heads && a->channels == b->channels;
}

int model_file_read_params(const char *path, const struct gpt2_config *cfg, float *params,
                           struct herr *err)
{
    struct gpt2_config file_cfg;
    int fd;
    int rc = open_checked(path, &file_cfg, &fd, err);
    if (rc == 0 && !same_config(cfg, &file_cfg))
        rc = herr_set(err, "model file %s: holds maxT=%d V=%d Vp=%d L=%d NH=%d C=%d, not the "
                      "requested maxT=%d V=%d Vp=%d L=%d NH=%d C=%d", path,
                      file_cfg.max_seq_len, file_cfg.vocab_size, file_cfg.padded_vocab_size,
                      file_cfg.num_layers, file_cfg.num_heads, file_cfg.channels,
                      cfg->max_seq_len, cfg->vocab_size, cfg->padded_vocab_size,
                      cfg->num_layers, cfg->num_heads, cfg->channels);
    if (rc == 0)
        rc = read_exact_at(fd, params, gpt2_num_params(cfg) * sizeof(float), HEADER_BYTES,
                           "model file", path, err);
    if (fd >= 0)
        close(fd);
    return rc;
}

int model_file_load(const char *path, struct gpt2_config *cfg, float **params,
                    struct herr *err)
{
    *params = NULL;
    if (model_file_read_config(path, cfg, err))
        return -1;
    float *p = malloc(gpt2_num_params(cfg) * sizeof *p);
    if (!p)
        return herr_set(err, "model file %s: out of memory for %zu parameters", path,
                        gpt2_num_params(cfg));
    if (model_file_read_params(path, cfg, p, err)) {
        free(p);
        return -1;
    }
    *params = p;
    return 0;
}

int model_file_write(const char *path, const struct gpt2_config *cfg, const float *params,
                     struct herr *err)
{
    if (gpt2_config_validate(cfg, err))
        return herr_wrap(err, "model file %s: ", path);
    int32_t h[MODEL_FILE_HEADER_INTS] = {0};
    h[0] = MODEL_FILE_MAGIC;
    h[1] = MODEL_FILE_VERSION_FP32;
    h[2] = cfg->max_seq_len;
    h[3] = cfg->vocab_size;
    h[4] = cfg->num_layers;
    h[5] = cfg->num_heads;
    h[6] = cfg->channels;
    h[7] = cfg->padded_vocab_size;
    struct atomic_file af;
    if (atomic_file_open(&af, path, err))
        return herr_wrap(err, "model file: ");
    if (atomic_file_write(&af, h, sizeof h, err) ||
        atomic_file_write(&af, params, gpt2_num_params(cfg) * sizeof(float), err)) {
        atomic_file_abort(&af);
        return herr_wrap(err, "model file: ");
    }
    return atomic_file_commit(&af, err) ? herr_wrap(err, "model file: ") : 0;
}
