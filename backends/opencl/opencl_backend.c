/* backends/opencl/opencl_backend.c — opening a device: context, queue,
 * kernel program, device limits and workspaces; and tearing it down. */
#include "backends/opencl/opencl_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/opencl/cl_devices.h"
#include "backends/opencl/cl_program.h"
#include "backends/opencl/opencl_internal.h"

/* The sum_squares partial sums: more groups than this add host work without
 * adding parallelism on any device we know. */
enum { MAX_PARTIALS = 1024 };

/* Default per-launch and per-GEMM limits (opencl_internal.h says why each
 * exists). 2^30 items per launch is far past what a launch needs to fill any
 * device; 65535 groups is CUDA's grid limit along y; 2^30 elements per
 * CLBlast operand keeps CLBlast's int indices, and the padded copies it makes
 * of an operand, clear of 2^31. */
#define DEFAULT_LAUNCH_ITEMS0 ((size_t)1 << 30)
#define DEFAULT_LAUNCH_GROUPS1 ((size_t)65535)
#define DEFAULT_GEMM_VIEW_ELEMENTS ((size_t)1 << 30)

void opencl_destroy(struct backend *be)
{
    if (!be)
        return;
    struct opencl_impl *cl = opencl_impl_of(be);
    if (cl) {
        if (cl->queue)
            clFinish(cl->queue); /* nothing may still use the buffers below */
        opencl_release(be, cl->partials);
        opencl_release(be, cl->links);
        for (int i = 0; i < KERNEL_COUNT; i++)
            if (cl->kernels[i])
                clReleaseKernel(cl->kernels[i]);
        if (cl->program)
            clReleaseProgram(cl->program);
        if (cl->queue)
            clReleaseCommandQueue(cl->queue);
        if (cl->context)
            clReleaseContext(cl->context);
        free(cl);
    }
    free(be);
}

/* Picks the device at the global index and records its limits. */
static int open_device(struct backend *be, int index, struct herr *err)
{
    struct opencl_impl *cl = opencl_impl_of(be);
    struct cl_device_table table;
    if (cl_device_table_load(&table, err) != 0) {
        cl_device_table_free(&table);
        return -1;
    }
    if (table.n_devices == 0) {
        cl_device_table_free(&table);
        return herr_set(err, "OpenCL: %u platform%s but no device; install a driver (ICD) for "
                             "your device, e.g. pocl-opencl-icd for CPUs",
                        table.n_platforms, table.n_platforms == 1 ? "" : "s");
    }
    if (index < 0 || index >= table.n_devices) {
        int n = table.n_devices;
        cl_device_table_free(&table);
        return herr_set(err, "OpenCL device %d does not exist: %d device%s found (indices 0..%d; "
                             "see `heft devices`)",
                        index, n, n == 1 ? "" : "s", n - 1);
    }
    cl->platform = table.devices[index].platform;
    cl->device = table.devices[index].device;
    cl_device_table_free(&table);

    cl->global_mem = cl_device_ulong(cl->device, CL_DEVICE_GLOBAL_MEM_SIZE);
    cl->max_alloc = cl_device_ulong(cl->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
    cl->local_mem = cl_device_ulong(cl->device, CL_DEVICE_LOCAL_MEM_SIZE);
    size_t sizes[3] = { 1, 1, 1 };
    clGetDeviceInfo(cl->device, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof sizes, sizes, NULL);
    memcpy(cl->max_item_sizes, sizes, sizeof sizes);
    cl_uint align_bits = 0;
    clGetDeviceInfo(cl->device, CL_DEVICE_MEM_BASE_ADDR_ALIGN, sizeof align_bits, &align_bits,
                    NULL);
    /* in bytes, at least one float; 4096 bytes if the device does not say */
    cl->base_align = align_bits >= 32 ? align_bits / 8 : 4096;

    char platform[96], device[96], driver[48];
    cl_platform_string(cl->platform, CL_PLATFORM_NAME, platform, sizeof platform);
    cl_device_string(cl->device, CL_DEVICE_NAME, device, sizeof device);
    cl_device_string(cl->device, CL_DRIVER_VERSION, driver, sizeof driver);
    snprintf(be->device, sizeof be->device, "%s / %s (%s)", platform, device, driver);
    return 0;
}

/* Context, in-order queue, program and the per-kernel work-group limits. */
static int open_runtime(struct backend *be, const char *cache_dir, struct herr *err)
{
    struct opencl_impl *cl = opencl_impl_of(be);
    cl_int rc;
    cl_context_properties props[] = { CL_CONTEXT_PLATFORM, (cl_context_properties)cl->platform,
                                      0 };
    cl->context = clCreateContext(props, 1, &cl->device, NULL, NULL, &rc);
    if (rc != CL_SUCCESS)
        return herr_set(err, "clCreateContext(%s): %s (%d)", be->device, cl_error_name(rc), rc);
    cl->queue = clCreateCommandQueue(cl->context, cl->device, 0, &rc);
    if (rc != CL_SUCCESS)
        return herr_set(err, "clCreateCommandQueue(%s): %s (%d)", be->device, cl_error_name(rc),
                        rc);

    const char *names[KERNEL_COUNT];
    for (int i = 0; i < KERNEL_COUNT; i++)
        names[i] = opencl_kernel_name((enum opencl_kernel_id)i);
    cl->program = opencl_program_build(cl->context, cl->platform, cl->device, cache_dir, names,
                                       KERNEL_COUNT, cl->kernels, &cl->setup, err);
    if (!cl->program)
        return herr_wrap(err, "%s: ", be->device);

    for (int i = 0; i < KERNEL_COUNT; i++) {
        size_t wg = 0, multiple = 0;
        clGetKernelWorkGroupInfo(cl->kernels[i], cl->device, CL_KERNEL_WORK_GROUP_SIZE,
                                 sizeof wg, &wg, NULL);
        clGetKernelWorkGroupInfo(cl->kernels[i], cl->device,
                                 CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE, sizeof multiple,
                                 &multiple, NULL);
        cl->kernel_wg[i] = wg ? wg : 1;
        cl->kernel_multiple[i] = multiple ? multiple : 1;
    }
    return 0;
}

struct backend *opencl_backend_create(const struct backend_options *opts, struct herr *err)
{
    struct backend *be = calloc(1, sizeof *be);
    struct opencl_impl *cl = calloc(1, sizeof *cl);
    if (!be || !cl) {
        free(be);
        free(cl);
        herr_set(err, "out of host memory creating the OpenCL backend");
        return NULL;
    }
    be->ops = &opencl_backend_ops;
    be->name = "opencl";
    be->impl = cl;
    /* concurrent_transfers stays 0: OpenCL allows a second thread to enqueue
     * a read or write on the same queue, but heft has one in-order queue,
     * so that thread's blocking transfer would wait behind every kernel the
     * main thread had enqueued: nothing would overlap, and a transfer on a
     * second queue would need events to order it against the kernels that
     * use the buffer. ZeRO-3 gathers in line on this backend. */
    cl->launch_items0 = DEFAULT_LAUNCH_ITEMS0;
    cl->launch_groups1 = DEFAULT_LAUNCH_GROUPS1;
    cl->gemm_view_elements = DEFAULT_GEMM_VIEW_ELEMENTS;
    if (open_device(be, opts ? opts->device : 0, err) != 0 ||
        open_runtime(be, opts ? opts->cache_dir : NULL, err) != 0) {
        opencl_destroy(be);
        return NULL;
    }
    cl->max_partials = MAX_PARTIALS;
    cl->partials = opencl_alloc(be, MAX_PARTIALS * sizeof(float));
    if (!cl->partials) {
        herr_set(err, "%s: workspace: %s", be->device, be->error);
        opencl_destroy(be);
        return NULL;
    }
    return be;
}

int opencl_backend_setup_info(const struct backend *be, struct opencl_setup_info *info)
{
    if (!be || be->ops != &opencl_backend_ops)
        return -1;
    *info = ((const struct opencl_impl *)be->impl)->setup;
    return 0;
}

int opencl_backend_set_limits(struct backend *be, const struct opencl_limits *limits)
{
    if (!be || be->ops != &opencl_backend_ops)
        return -1;
    struct opencl_impl *cl = opencl_impl_of(be);
    /* a view starts up to one aligned block before its operand: leave room */
    if (limits->launch_items0 < 1 || limits->launch_groups1 < 1 ||
        limits->gemm_view_elements < 4 * (cl->base_align / sizeof(float)))
        return -1;
    cl->launch_items0 = limits->launch_items0;
    cl->launch_groups1 = limits->launch_groups1;
    cl->gemm_view_elements = limits->gemm_view_elements;
    return 0;
}

int opencl_backend_limits(const struct backend *be, struct opencl_limits *limits)
{
    if (!be || be->ops != &opencl_backend_ops)
        return -1;
    const struct opencl_impl *cl = be->impl;
    limits->launch_items0 = cl->launch_items0;
    limits->launch_groups1 = cl->launch_groups1;
    limits->gemm_view_elements = cl->gemm_view_elements;
    limits->max_alloc_bytes = cl->max_alloc;
    return 0;
}
