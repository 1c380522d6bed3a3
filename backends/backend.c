/* backends/backend.c — choosing a backend at run time, and the error plumbing
 * shared by all backends. */
#include "config.h"

#include "backends/backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backends/cpu/cpu_backend.h"
#ifdef HAVE_OPENCL
#include "backends/opencl/opencl_backend.h"
#endif

const char *backend_available(void)
{
#ifdef HAVE_OPENCL
    return "cpu opencl";
#else
    return "cpu";
#endif
}

struct backend *backend_create(const struct backend_options *opts, struct herr *err)
{
    const char *name = opts->name ? opts->name : "cpu";
    if (strcmp(name, "cpu") == 0)
        return cpu_backend_create(opts, err);
    if (strcmp(name, "opencl") == 0) {
#ifdef HAVE_OPENCL
        return opencl_backend_create(opts, err);
#else
        herr_set(err, "backend 'opencl' is not built into this heft "
                      "(configure found no OpenCL/CLBlast, or --without-opencl was given); "
                      "available: %s", backend_available());
        return NULL;
#endif
    }
    herr_set(err, "unknown backend '%s' (available: %s)", name, backend_available());
    return NULL;
}

void backend_fail(struct backend *be, const char *fmt, ...)
{
    if (be->failed)
        return; /* keep the first error: later ones are usually its consequences */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(be->error, sizeof be->error, fmt, ap);
    va_end(ap);
    be->failed = 1;
}

int backend_check(struct backend *be, struct herr *err)
{
    if (!be->failed)
        return 0;
    return herr_set(err, "%s backend (%s): %s", be->name, be->device, be->error);
}

dptr backend_alloc_floats(struct backend *be, size_t n)
{
    dptr p = { be->ops->alloc(be, (n ? n : 1) * sizeof(float)), 0 };
    return p;
}

dptr backend_alloc_named(struct backend *be, size_t n, const char *what)
{
    int failed_before = be->failed;
    dptr p = backend_alloc_floats(be, n);
    if (!p.buf && be->failed && !failed_before) {
        char first[sizeof be->error];
        memcpy(first, be->error, sizeof first);
        /* the precision only tells the compiler the result is cut to fit */
        snprintf(be->error, sizeof be->error, "%s: %.*s", what, (int)sizeof first - 4, first);
    }
    return p;
}

void backend_release_ptr(struct backend *be, dptr p)
{
    if (p.buf)
        be->ops->release(be, p.buf);
}
