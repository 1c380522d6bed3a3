/* backends/opencl/opencl_backend.h — the OpenCL backend: heft's own OpenCL C
 * kernels (the .cl files in kernels/, built into the binary) for every op but the GEMMs,
 * which go through CLBlast. Needs an OpenCL 1.2 device; float32 only. */
#ifndef HEFT_OPENCL_BACKEND_H
#define HEFT_OPENCL_BACKEND_H

#include <stdint.h>

#include "backends/backend.h"

/* Opens device opts->device (a global index over all platforms' devices, as
 * listed by opencl_list_devices), builds or loads the kernel program from the
 * on-disk cache, and returns the backend; NULL with a message in err when no
 * platform, no device or no such device exists, or the program fails to
 * build. */
struct backend *opencl_backend_create(const struct backend_options *opts, struct herr *err);

/* What one OpenCL device offers, for `heft devices`. */
struct opencl_device_info {
    int index;          /* global index: what backend_options.device takes */
    int platform;       /* index into opencl_device_list.platforms */
    char name[128];
    char vendor[128];
    char version[128];  /* CL_DEVICE_VERSION, e.g. "OpenCL 3.0 ..." */
    char driver[128];   /* CL_DRIVER_VERSION */
    char type[16];      /* "GPU", "CPU", "accelerator", ... */
    uint64_t global_mem;
    uint64_t max_alloc;
    uint64_t local_mem;
    unsigned compute_units;
    size_t max_work_group;
    int fp16, fp64;     /* cl_khr_fp16 / cl_khr_fp64 (or OpenCL 3.0 equivalents) */
};

struct opencl_platform_info {
    char name[128];
    char vendor[128];
    char version[128];
    int n_devices;
};

struct opencl_device_list {
    int n_platforms;
    struct opencl_platform_info *platforms;
    int n_devices;
    struct opencl_device_info *devices; /* in global index order */
};

/* Lists every platform and device the ICD loader finds. With no platform at
 * all it fails with a message that says how to install one. Free the list
 * with opencl_device_list_free (also after a failure). */
int opencl_list_devices(struct opencl_device_list *list, struct herr *err);
void opencl_device_list_free(struct opencl_device_list *list);

/* How the kernel program was obtained when the backend was created, so that
 * callers (the front end with --verbose, tests) can report or check it. */
struct opencl_setup_info {
    int cache_hit;          /* loaded from the on-disk program cache */
    int cache_written;      /* compiled and stored into the cache */
    int cache_rejected;     /* a cache entry existed but was corrupt or stale */
    double program_seconds; /* time to compile or load the program */
    char cache_file[1024];  /* "" when no cache directory could be used */
};

/* Fills info for a backend made by opencl_backend_create; -1 for any other. */
int opencl_backend_setup_info(const struct backend *be, struct opencl_setup_info *info);

/* Sizes past which the backend cuts work into pieces (why each exists:
 * backends/opencl/opencl_internal.h). The defaults are met only by very
 * large tensors; tests make them small so that the cutting code runs, and
 * must give the same results, on inputs of a few thousand elements. */
struct opencl_limits {
    size_t launch_items0;      /* work-items along dimension 0 per kernel launch */
    size_t launch_groups1;     /* work-groups along dimension 1 per kernel launch */
    size_t gemm_view_elements; /* elements one CLBlast operand may span */
    uint64_t max_alloc_bytes;  /* read only: CL_DEVICE_MAX_MEM_ALLOC_SIZE */
};
/* -1 for a backend that is not OpenCL's, or limits too small to work with
 * (launch limits of 0, a GEMM view shorter than four aligned blocks). */
int opencl_backend_set_limits(struct backend *be, const struct opencl_limits *limits);
int opencl_backend_limits(const struct backend *be, struct opencl_limits *limits);

#endif
