/* tools/cmd_devices.c — `heft devices`: the CPU, then every OpenCL platform
 * and device with its global index (the number the OpenCL backend's device
 * option takes) and the limits that matter for training: memory, largest
 * allocation, compute units, work-group size, fp16/fp64. */
#include "config.h"

#include "tools/cmd_devices.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#ifdef HAVE_OPENCL
#include "backends/opencl/opencl_backend.h"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "usage: heft devices [--help]\n"
            "\n"
            "Lists the devices heft can train on: the CPU backend, and each OpenCL\n"
            "platform's devices numbered by one global index over all platforms.\n"
            "That index selects the device of the OpenCL backend (--device N).\n");
}

/* The CPU's model name from /proc/cpuinfo, or "unknown CPU". */
static void cpu_model(char *out, size_t size)
{
    snprintf(out, size, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) != 0)
            continue;
        const char *colon = strchr(line, ':');
        if (colon) {
            colon++;
            while (*colon == ' ' || *colon == '\t')
                colon++;
            snprintf(out, size, "%s", colon);
            out[strcspn(out, "\n")] = '\0';
        }
        break;
    }
    fclose(f);
}

static void print_cpu(void)
{
    char model[256];
    cpu_model(model, sizeof model);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    char core[160];
    cpu_blas_core_describe(core, sizeof core);
    printf("cpu backend: %s, %ld logical CPUs, %s\n", model, cpus, core);
}

#ifdef HAVE_OPENCL
/* "1.50 GiB" */
static const char *human_bytes(char *out, size_t size, uint64_t bytes)
{
    static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB" };
    double v = (double)bytes;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    snprintf(out, size, u ? "%.2f %s" : "%.0f %s", v, units[u]);
    return out;
}

static void print_opencl(void)
{
    struct opencl_device_list list;
    struct herr err = { "" };
    if (opencl_list_devices(&list, &err) != 0) {
        printf("\nOpenCL: %s\n", err.msg);
        opencl_device_list_free(&list);
        return;
    }
    for (int p = 0; p < list.n_platforms; p++) {
        const struct opencl_platform_info *pi = &list.platforms[p];
        printf("\nOpenCL platform %d: %s (%s), %s\n", p, pi->name, pi->vendor, pi->version);
        if (pi->n_devices == 0)
            printf("  no devices\n");
        for (int i = 0; i < list.n_devices; i++) {
            const struct opencl_device_info *d = &list.devices[i];
            if (d->platform != p)
                continue;
            char global[32], alloc[32], local[32];
            printf("  [%d] %s\n", d->index, d->name);
            printf("      %s, vendor %s, %s, driver %s\n", d->type, d->vendor, d->version,
                   d->driver);
            printf("      global memory %s, max alloc %s, local memory %s\n",
                   human_bytes(global, sizeof global, d->global_mem),
                   human_bytes(alloc, sizeof alloc, d->max_alloc),
                   human_bytes(local, sizeof local, d->local_mem));
            printf("      compute units %u, max work-group %zu, fp16 %s, fp64 %s\n",
                   d->compute_units, d->max_work_group, d->fp16 ? "yes" : "no",
                   d->fp64 ? "yes" : "no");
        }
    }
    if (list.n_devices == 0)
        printf("\nOpenCL: platforms found but no device\n");
    opencl_device_list_free(&list);
}
#endif

int cmd_devices(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        fprintf(stderr, "heft devices: unknown argument '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    print_cpu();
#ifdef HAVE_OPENCL
    print_opencl();
#else
    printf("\nOpenCL: the OpenCL backend is not built into this heft (configure found no "
           "OpenCL or CLBlast, or --without-opencl was given); only the CPU is available\n");
#endif
    fflush(stdout);
    return 0;
}
