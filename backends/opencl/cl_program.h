/* backends/opencl/cl_program.h — building heft's kernel program for a device:
 * from the on-disk binary cache when a valid entry exists, otherwise from the
 * embedded source (and then into the cache). */
#ifndef HEFT_CL_PROGRAM_H
#define HEFT_CL_PROGRAM_H

#include "backends/opencl/cl_errors.h"
#include "backends/opencl/opencl_backend.h"
#include "core/error.h"

/* Builds the program and creates the n kernels named in names (into
 * kernels[]). cache_dir overrides the default cache directory (NULL: see
 * program_cache_dir). info records how the program was obtained. Returns the
 * program, or NULL with err set when the source does not build (the message
 * carries the start of the build log). */
cl_program opencl_program_build(cl_context context, cl_platform_id platform, cl_device_id device,
                                const char *cache_dir, const char *const *names, size_t n,
                                cl_kernel *kernels, struct opencl_setup_info *info,
                                struct herr *err);

#endif
