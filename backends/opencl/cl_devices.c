/* backends/opencl/cl_devices.c — platform/device enumeration and queries,
 * and the device listing behind `heft devices`. */
#include "backends/opencl/cl_devices.h"

#include <stdlib.h>
#include <string.h>

#include "backends/opencl/opencl_backend.h"

static const char no_platform_help[] =
    "install an OpenCL driver (ICD): pocl-opencl-icd for CPUs, or the GPU vendor's "
    "OpenCL driver; `clinfo -l` should then list it";

void cl_device_string(cl_device_id device, cl_uint param, char *out, size_t size)
{
    out[0] = '\0';
    if (clGetDeviceInfo(device, param, size, out, NULL) != CL_SUCCESS)
        out[0] = '\0';
    out[size - 1] = '\0';
}

void cl_platform_string(cl_platform_id platform, cl_uint param, char *out, size_t size)
{
    out[0] = '\0';
    if (clGetPlatformInfo(platform, param, size, out, NULL) != CL_SUCCESS)
        out[0] = '\0';
    out[size - 1] = '\0';
}

cl_ulong cl_device_ulong(cl_device_id device, cl_uint param)
{
    cl_ulong v = 0;
    return clGetDeviceInfo(device, param, sizeof v, &v, NULL) == CL_SUCCESS ? v : 0;
}

size_t cl_device_size(cl_device_id device, cl_uint param)
{
    size_t v = 0;
    return clGetDeviceInfo(device, param, sizeof v, &v, NULL) == CL_SUCCESS ? v : 0;
}

void cl_device_table_free(struct cl_device_table *table)
{
    free(table->platforms);
    free(table->devices);
    memset(table, 0, sizeof *table);
}

int cl_device_table_load(struct cl_device_table *table, struct herr *err)
{
    memset(table, 0, sizeof *table);
    cl_uint n = 0;
    cl_int rc = clGetPlatformIDs(0, NULL, &n);
    /* The ICD loader answers CL_PLATFORM_NOT_FOUND_KHR when no driver is
     * installed; some loaders answer success with zero platforms. */
    if (rc == CL_PLATFORM_NOT_FOUND_KHR || (rc == CL_SUCCESS && n == 0))
        return herr_set(err, "no OpenCL platform found: %s", no_platform_help);
    if (rc != CL_SUCCESS)
        return herr_set(err, "clGetPlatformIDs: %s (%d); %s", cl_error_name(rc), rc,
                        no_platform_help);
    table->platforms = calloc(n, sizeof *table->platforms);
    if (!table->platforms)
        return herr_set(err, "out of host memory listing %u OpenCL platforms", n);
    rc = clGetPlatformIDs(n, table->platforms, NULL);
    if (rc != CL_SUCCESS)
        return herr_set(err, "clGetPlatformIDs: %s (%d)", cl_error_name(rc), rc);
    table->n_platforms = n;

    for (cl_uint p = 0; p < n; p++) {
        cl_uint count = 0;
        rc = clGetDeviceIDs(table->platforms[p], CL_DEVICE_TYPE_ALL, 0, NULL, &count);
        if (rc == CL_DEVICE_NOT_FOUND || count == 0)
            continue; /* a platform without devices is not an error */
        if (rc != CL_SUCCESS)
            return herr_set(err, "clGetDeviceIDs(platform %u): %s (%d)", p, cl_error_name(rc),
                            rc);
        cl_device_id *ids = calloc(count, sizeof *ids);
        struct cl_device_ref *grown =
            realloc(table->devices, (table->n_devices + count) * sizeof *grown);
        if (!ids || !grown) {
            free(ids);
            if (grown)
                table->devices = grown;
            return herr_set(err, "out of host memory listing OpenCL devices");
        }
        table->devices = grown;
        rc = clGetDeviceIDs(table->platforms[p], CL_DEVICE_TYPE_ALL, count, ids, NULL);
        if (rc != CL_SUCCESS) {
            free(ids);
            return herr_set(err, "clGetDeviceIDs(platform %u): %s (%d)", p, cl_error_name(rc),
                            rc);
        }
        for (cl_uint d = 0; d < count; d++) {
            struct cl_device_ref *ref = &table->devices[table->n_devices++];
            ref->platform = table->platforms[p];
            ref->device = ids[d];
            ref->platform_index = (int)p;
        }
        free(ids);
    }
    return 0;
}

static const char *type_name(cl_device_type type)
{
    if (type & CL_DEVICE_TYPE_GPU)
        return "GPU";
    if (type & CL_DEVICE_TYPE_CPU)
        return "CPU";
    if (type & CL_DEVICE_TYPE_ACCELERATOR)
        return "accelerator";
    return "other";
}

static void describe_device(const struct cl_device_ref *ref, int index,
                            struct opencl_device_info *info)
{
    cl_device_id d = ref->device;
    memset(info, 0, sizeof *info);
    info->index = index;
    info->platform = ref->platform_index;
    cl_device_string(d, CL_DEVICE_NAME, info->name, sizeof info->name);
    cl_device_string(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
    cl_device_string(d, CL_DEVICE_VERSION, info->version, sizeof info->version);
    cl_device_string(d, CL_DRIVER_VERSION, info->driver, sizeof info->driver);
    cl_device_type type = 0;
    clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    strcpy(info->type, type_name(type));
    info->global_mem = cl_device_ulong(d, CL_DEVICE_GLOBAL_MEM_SIZE);
    info->max_alloc = cl_device_ulong(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
    info->local_mem = cl_device_ulong(d, CL_DEVICE_LOCAL_MEM_SIZE);
    cl_uint units = 0;
    clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    info->compute_units = units;
    info->max_work_group = cl_device_size(d, CL_DEVICE_MAX_WORK_GROUP_SIZE);
    /* Extensions can be long; read them into a buffer of the reported size. */
    size_t len = 0;
    if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &len) == CL_SUCCESS && len > 0) {
        char *ext = malloc(len + 1);
        if (ext && clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, len, ext, NULL) == CL_SUCCESS) {
            ext[len] = '\0';
            info->fp16 = strstr(ext, "cl_khr_fp16") != NULL;
            info->fp64 = strstr(ext, "cl_khr_fp64") != NULL;
        }
        free(ext);
    }
    if (!info->fp64) {
        cl_device_fp_config fp64 = 0;
        clGetDeviceInfo(d, CL_DEVICE_DOUBLE_FP_CONFIG, sizeof fp64, &fp64, NULL);
        info->fp64 = fp64 != 0;
    }
}

void opencl_device_list_free(struct opencl_device_list *list)
{
    free(list->platforms);
    free(list->devices);
    memset(list, 0, sizeof *list);
}

int opencl_list_devices(struct opencl_device_list *list, struct herr *err)
{
    memset(list, 0, sizeof *list);
    struct cl_device_table table;
    if (cl_device_table_load(&table, err) != 0) {
        cl_device_table_free(&table);
        return -1;
    }
    list->platforms = calloc(table.n_platforms, sizeof *list->platforms);
    list->devices = calloc(table.n_devices ? (size_t)table.n_devices : 1, sizeof *list->devices);
    if (!list->platforms || !list->devices) {
        cl_device_table_free(&table);
        opencl_device_list_free(list);
        return herr_set(err, "out of host memory listing OpenCL devices");
    }
    list->n_platforms = (int)table.n_platforms;
    for (cl_uint p = 0; p < table.n_platforms; p++) {
        struct opencl_platform_info *pi = &list->platforms[p];
        cl_platform_string(table.platforms[p], CL_PLATFORM_NAME, pi->name, sizeof pi->name);
        cl_platform_string(table.platforms[p], CL_PLATFORM_VENDOR, pi->vendor,
                           sizeof pi->vendor);
        cl_platform_string(table.platforms[p], CL_PLATFORM_VERSION, pi->version,
                           sizeof pi->version);
    }
    list->n_devices = table.n_devices;
    for (int i = 0; i < table.n_devices; i++) {
        describe_device(&table.devices[i], i, &list->devices[i]);
        list->platforms[table.devices[i].platform_index].n_devices++;
    }
    cl_device_table_free(&table);
    return 0;
}
