/* backends/opencl/cl_devices.h — enumerating OpenCL devices under one global
 * index over all platforms (platform 0's devices first, then platform 1's),
 * the numbering `heft devices` shows and backend_options.device takes. */
#ifndef HEFT_CL_DEVICES_H
#define HEFT_CL_DEVICES_H

#include "backends/opencl/cl_errors.h"
#include "core/error.h"

struct cl_device_ref {
    cl_platform_id platform;
    cl_device_id device;
    int platform_index;
};

struct cl_device_table {
    cl_uint n_platforms;
    cl_platform_id *platforms;
    int n_devices;
    struct cl_device_ref *devices;
};

/* Fills table with every platform and device. With no platform at all it
 * fails with a message saying how to install one. Free with
 * cl_device_table_free, also after a failure. */
int cl_device_table_load(struct cl_device_table *table, struct herr *err);
void cl_device_table_free(struct cl_device_table *table);

/* String and integer device queries that never fail: "" or 0 on error. */
void cl_device_string(cl_device_id device, cl_uint param, char *out, size_t size);
void cl_platform_string(cl_platform_id platform, cl_uint param, char *out, size_t size);
cl_ulong cl_device_ulong(cl_device_id device, cl_uint param);
size_t cl_device_size(cl_device_id device, cl_uint param);

#endif
