/* backends/opencl/cl_program.c — compile or load the kernel program. */
#include "backends/opencl/cl_program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/opencl/cl_devices.h"
#include "backends/opencl/kernel_source.h"
#include "backends/opencl/program_cache.h"
#include "core/checksum.h"

/* The kernels need nothing beyond OpenCL C 1.1/1.2 and no extension, and
 * exact (non-relaxed) math so that results stay close to the CPU reference. */
static const char build_options[] = "";

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The cache key: everything that changes the compiled binary. */
static void make_key(cl_platform_id platform, cl_device_id device, char *key, size_t size)
{
    char pname[256], pver[256], dname[256], dver[256], driver[256];
    cl_platform_string(platform, CL_PLATFORM_NAME, pname, sizeof pname);
    cl_platform_string(platform, CL_PLATFORM_VERSION, pver, sizeof pver);
    cl_device_string(device, CL_DEVICE_NAME, dname, sizeof dname);
    cl_device_string(device, CL_DEVICE_VERSION, dver, sizeof dver);
    cl_device_string(device, CL_DRIVER_VERSION, driver, sizeof driver);
    uint64_t h = FNV1A64_INIT;
    for (size_t i = 0; i < opencl_program_line_count; i++)
        h = fnv1a64_update(h, opencl_program_lines[i], strlen(opencl_program_lines[i]));
    h = fnv1a64_str(h, build_options);
    snprintf(key, size,
             "heft opencl program\nplatform: %s | %s\ndevice: %s | %s\ndriver: %s\n"
             "source+options: %016llx\noptions: %s\n",
             pname, pver, dname, dver, driver, (unsigned long long)h, build_options);
}

static void release_kernels(cl_kernel *kernels, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (kernels[i]) {
            clReleaseKernel(kernels[i]);
            kernels[i] = NULL;
        }
}

/* Creates all kernels; on failure names the kernel in err. */
static int create_kernels(cl_program program, const char *const *names, size_t n,
                          cl_kernel *kernels, struct herr *err)
{
    for (size_t i = 0; i < n; i++) {
        cl_int rc;
        kernels[i] = clCreateKernel(program, names[i], &rc);
        if (rc != CL_SUCCESS) {
            kernels[i] = NULL;
            release_kernels(kernels, i);
            return herr_set(err, "clCreateKernel(%s): %s (%d)", names[i], cl_error_name(rc), rc);
        }
    }
    return 0;
}

/* The start of the build log, for an error message. */
static void build_log(cl_program program, cl_device_id device, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, NULL, &len) !=
            CL_SUCCESS ||
        len == 0)
        return;
    char *log = malloc(len + 1);
    if (!log)
        return;
    if (clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, len, log, NULL) ==
        CL_SUCCESS) {
        log[len] = '\0';
        snprintf(out, size, "%s", log);
    }
    free(log);
}

static cl_program build_from_source(cl_context context, cl_device_id device, struct herr *err)
{
    cl_int rc;
    cl_program program =
        clCreateProgramWithSource(context, (cl_uint)opencl_program_line_count,
                                  (const char **)opencl_program_lines, NULL, &rc);
    if (rc != CL_SUCCESS) {
        herr_set(err, "clCreateProgramWithSource: %s (%d)", cl_error_name(rc), rc);
        return NULL;
    }
    rc = clBuildProgram(program, 1, &device, build_options, NULL, NULL);
    if (rc != CL_SUCCESS) {
        char log[600];
        build_log(program, device, log, sizeof log);
        clReleaseProgram(program);
        herr_set(err, "clBuildProgram(heft kernels): %s (%d); build log: %s", cl_error_name(rc),
                 rc, log[0] ? log : "(empty)");
        return NULL;
    }
    return program;
}

/* A program from a cached binary, or NULL if the runtime rejects it. */
static cl_program build_from_binary(cl_context context, cl_device_id device,
                                    const unsigned char *binary, size_t size)
{
    cl_int rc, status;
    cl_program program =
        clCreateProgramWithBinary(context, 1, &device, &size, &binary, &status, &rc);
    if (rc != CL_SUCCESS || status != CL_SUCCESS) {
        if (program)
            clReleaseProgram(program);
        return NULL;
    }
    if (clBuildProgram(program, 1, &device, build_options, NULL, NULL) != CL_SUCCESS) {
        clReleaseProgram(program);
        return NULL;
    }
    return program;
}

/* The program's binary for its one device (malloc'ed), or NULL. */
static unsigned char *program_binary(cl_program program, size_t *size)
{
    size_t n = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof n, &n, NULL) != CL_SUCCESS ||
        n == 0)
        return NULL;
    unsigned char *binary = malloc(n);
    if (!binary)
        return NULL;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binary, &binary, NULL) !=
        CL_SUCCESS) {
        free(binary);
        return NULL;
    }
    *size = n;
    return binary;
}

cl_program opencl_program_build(cl_context context, cl_platform_id platform, cl_device_id device,
                                const char *cache_dir, const char *const *names, size_t n,
                                cl_kernel *kernels, struct opencl_setup_info *info,
                                struct herr *err)
{
    memset(info, 0, sizeof *info);
    double start = now_seconds();
    char key[2048], dir[1024];
    make_key(platform, device, key, sizeof key);
    int have_cache = program_cache_dir(cache_dir, dir, sizeof dir) == 0 &&
                     program_cache_path(dir, key, info->cache_file, sizeof info->cache_file) == 0;
    if (!have_cache)
        info->cache_file[0] = '\0';

    if (have_cache) {
        unsigned char *binary;
        size_t size;
        enum program_cache_status status =
            program_cache_load(info->cache_file, key, &binary, &size);
        if (status == PROGRAM_CACHE_HIT) {
            cl_program program = build_from_binary(context, device, binary, size);
            free(binary);
            struct herr ignored;
            if (program && create_kernels(program, names, n, kernels, &ignored) == 0) {
                info->cache_hit = 1;
                info->program_seconds = now_seconds() - start;
                return program;
            }
            if (program)
                clReleaseProgram(program);
            status = PROGRAM_CACHE_CORRUPT; /* the runtime refused the binary */
        }
        info->cache_rejected = status == PROGRAM_CACHE_CORRUPT;
    }

    cl_program program = build_from_source(context, device, err);
    if (!program)
        return NULL;
    if (create_kernels(program, names, n, kernels, err) != 0) {
        clReleaseProgram(program);
        return NULL;
    }
    if (have_cache) {
        size_t size = 0;
        unsigned char *binary = program_binary(program, &size);
        info->cache_written =
            binary && program_cache_store(dir, info->cache_file, key, binary, size) == 0;
        free(binary);
    }
    info->program_seconds = now_seconds() - start;
    return program;
}
