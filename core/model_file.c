/* core/model_file.c — see model_file.h. */
#include "core/model_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/hf_dir.h"

#define HEADER_BYTES (MODEL_FILE_HEADER_INTS * 4)

/* Opens the file and checks everything but the parameter values; returns the
 * open descriptor in *fd. */
static int open_checked(const char *path, struct model_config *cfg, int *fd, struct herr *err)
{
    uint64_t size = 0;
    if (open_regular_file(path, "model file", fd, &size, err))
        return -1;
    if (size < HEADER_BYTES)
        return herr_set(err, "model file %s: truncated: %llu bytes, shorter than the %d-byte "
                        "header", path, (unsigned long long)size, HEADER_BYTES);
    int32_t h[MODEL_FILE_HEADER_INTS];
    if (read_exact_at(*fd, h, sizeof h, 0, "model file", path, err))
        return -1;
    if (model_config_from_header(h, cfg, err))
        return herr_wrap(err, "model file %s: ", path);
    size_t P = model_config_num_params(cfg);
    const uint64_t expect = HEADER_BYTES + 4 * (uint64_t)P;
    if (size < expect)
        return herr_set(err, "model file %s: truncated: %llu bytes, but its config needs %llu "
                        "(%zu parameters)", path, (unsigned long long)size,
                        (unsigned long long)expect, P);
    if (size > expect)
        return herr_set(err, "model file %s: %llu bytes, %llu more than its config needs",
                        path, (unsigned long long)size, (unsigned long long)(size - expect));
    return 0;
}

int model_file_read_config(const char *path, struct model_config *cfg, struct herr *err)
{
    if (hf_dir_is_dir(path))
        return hf_dir_read_config(path, cfg, err);
    int fd;
    int rc = open_checked(path, cfg, &fd, err);
    if (fd >= 0)
        close(fd);
    return rc;
}

int model_file_read_params(const char *path, const struct model_config *cfg, float *params,
                           struct herr *err)
{
    if (hf_dir_is_dir(path))
        return hf_dir_read_params(path, cfg, params, err);
    struct model_config file_cfg;
    int fd;
    int rc = open_checked(path, &file_cfg, &fd, err);
    if (rc == 0 && !model_config_equal(cfg, &file_cfg)) {
        char want[256], got[256];
        model_config_describe(cfg, want, sizeof want);
        model_config_describe(&file_cfg, got, sizeof got);
        rc = herr_set(err, "model file %s: holds %s %s, not the requested %s %s", path,
                      model_config_family(&file_cfg), got, model_config_family(cfg), want);
    }
    if (rc == 0)
        rc = read_exact_at(fd, params, model_config_num_params(cfg) * sizeof(float),
                           HEADER_BYTES, "model file", path, err);
    if (fd >= 0)
        close(fd);
    return rc;
}

int model_file_load(const char *path, struct model_config *cfg, float **params,
                    struct herr *err)
{
    *params = NULL;
    if (model_file_read_config(path, cfg, err))
        return -1;
    size_t P = model_config_num_params(cfg);
    float *p = malloc(P * sizeof *p);
    if (!p)
        return herr_set(err, "model file %s: out of memory for %zu parameters", path, P);
    if (model_file_read_params(path, cfg, p, err)) {
        free(p);
        return -1;
    }
    *params = p;
    return 0;
}

int model_file_write(const char *path, const struct model_config *cfg, const float *params,
                     struct herr *err)
{
    if (model_config_validate(cfg, err))
        return herr_wrap(err, "model file %s: ", path);
    int32_t h[MODEL_FILE_HEADER_INTS];
    model_config_to_header(cfg, h);
    struct atomic_file af;
    if (atomic_file_open(&af, path, err))
        return herr_wrap(err, "model file: ");
    if (atomic_file_write(&af, h, sizeof h, err) ||
        atomic_file_write(&af, params, model_config_num_params(cfg) * sizeof(float), err)) {
        atomic_file_abort(&af);
        return herr_wrap(err, "model file: ");
    }
    return atomic_file_commit(&af, err) ? herr_wrap(err, "model file: ") : 0;
}
