/* backends/opencl/cl_launch.c — setting kernel arguments, choosing work-group
 * sizes from the device's limits, and enqueueing kernels with errors that
 * name the kernel. */
#include <stdint.h>

#include "backends/opencl/opencl_internal.h"

static const char *const kernel_names[KERNEL_COUNT] = {
#define OPENCL_KERNEL_NAME(name) #name,
    OPENCL_KERNELS(OPENCL_KERNEL_NAME)
#undef OPENCL_KERNEL_NAME
};

const char *opencl_kernel_name(enum opencl_kernel_id id)
{
    return kernel_names[id];
}

/* Memory-bound kernels gain nothing from larger groups than this, and smaller
 * groups leave the scheduler more of them to balance; devices whose limits
 * are lower get their limit. */
enum { WG_TARGET = 256 };

int opencl_check_range(struct backend *be, const char *op, const char *arg, dptr p, size_t n)
{
    if (be->failed)
        return -1;
    if (!p.buf) {
        backend_fail(be, "%s: argument '%s' has no buffer (NULL)", op, arg);
        return -1;
    }
    const size_t capacity = p.buf->bytes / sizeof(float);
    if (p.off > capacity || n > capacity - p.off) {
        backend_fail(be,
                     "%s: argument '%s' needs elements [%zu, %zu) but its buffer holds "
                     "%zu elements",
                     op, arg, p.off, p.off + n, capacity);
        return -1;
    }
    return 0;
}

struct kcall kcall_begin(struct backend *be, enum opencl_kernel_id id)
{
    struct kcall c = { be, id, 0 };
    return c;
}

static void kcall_arg(struct kcall *c, size_t size, const void *value)
{
    if (c->be->failed)
        return;
    cl_kernel k = opencl_impl_of(c->be)->kernels[c->id];
    cl_int rc = clSetKernelArg(k, c->next_arg, size, value);
    if (rc != CL_SUCCESS)
        backend_fail(c->be, "clSetKernelArg(%s, arg %u): %s (%d)", kernel_names[c->id],
                     c->next_arg, cl_error_name(rc), rc);
    c->next_arg++;
}

void kcall_tensor(struct kcall *c, dptr p)
{
    kcall_mem(c, p.buf ? p.buf->mem : NULL);
    kcall_ulong(c, p.off);
}

void kcall_mem(struct kcall *c, cl_mem mem)
{
    kcall_arg(c, sizeof mem, &mem);
}

void kcall_int(struct kcall *c, int v)
{
    cl_int x = v;
    kcall_arg(c, sizeof x, &x);
}

void kcall_ulong(struct kcall *c, size_t v)
{
    cl_ulong x = v;
    kcall_arg(c, sizeof x, &x);
}

void kcall_float(struct kcall *c, float v)
{
    cl_float x = v;
    kcall_arg(c, sizeof x, &x);
}

void kcall_local(struct kcall *c, size_t bytes)
{
    kcall_arg(c, bytes, NULL);
}

/* One enqueue of the part [off, off + size) of the grid. */
static cl_int enqueue_part(struct kcall *c, cl_uint dims, const size_t *off, const size_t *size,
                           const size_t *local)
{
    struct opencl_impl *cl = opencl_impl_of(c->be);
    return clEnqueueNDRangeKernel(cl->queue, cl->kernels[c->id], dims, off, size, local, 0, NULL,
                                  NULL);
}

void kcall_run(struct kcall *c, cl_uint dims, const size_t *global, const size_t *local)
{
    if (c->be->failed)
        return;
    if (dims < 1 || dims > 2) {
        backend_fail(c->be, "%s: %u-dimensional launch (heft's kernels use 1 or 2)",
                     kernel_names[c->id], dims);
        return;
    }
    size_t rounded[2] = { 1, 1 }, step[2] = { 1, 1 };
    for (cl_uint d = 0; d < dims; d++) {
        if (global[d] == 0)
            return;
        rounded[d] = (global[d] + local[d] - 1) / local[d] * local[d];
    }
    /* A grid larger than the per-launch limits (opencl_internal.h) goes as
     * several launches, each a whole number of work-groups at a global
     * offset. Items are independent across groups, so the parts compute
     * exactly what one launch would; the in-order queue runs them in turn. */
    const struct opencl_impl *cl = opencl_impl_of(c->be);
    step[0] = cl->launch_items0 / local[0] * local[0];
    if (step[0] < local[0])
        step[0] = local[0];
    if (dims > 1)
        step[1] = (cl->launch_groups1 ? cl->launch_groups1 : 1) * local[1];
    for (size_t o1 = 0; o1 < rounded[1]; o1 += step[1])
        for (size_t o0 = 0; o0 < rounded[0]; o0 += step[0]) {
            size_t off[2] = { o0, o1 };
            size_t size[2] = { rounded[0] - o0 < step[0] ? rounded[0] - o0 : step[0],
                               rounded[1] - o1 < step[1] ? rounded[1] - o1 : step[1] };
            cl_int rc = enqueue_part(c, dims, off, size, local);
            if (rc != CL_SUCCESS) {
                char hint[320];
                opencl_memory_hint(c->be, rc, hint, sizeof hint);
                backend_fail(c->be,
                             "clEnqueueNDRangeKernel(%s, %zu x %zu items at %zu, %zu of a "
                             "%zu x %zu grid): %s (%d)%s",
                             kernel_names[c->id], size[0], size[1], o0, o1, rounded[0],
                             rounded[1], cl_error_name(rc), rc, hint);
                return;
            }
        }
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static size_t pow2_floor(size_t x)
{
    size_t p = 1;
    while (p <= x / 2)
        p *= 2;
    return p;
}

static size_t pow2_ceil(size_t x)
{
    size_t p = 1;
    while (p < x)
        p *= 2;
    return p;
}

/* The most items one group of this kernel may have along dimension 0. */
static size_t kernel_limit(const struct opencl_impl *cl, enum opencl_kernel_id id)
{
    size_t limit = min_size(cl->kernel_wg[id], cl->max_item_sizes[0]);
    return limit ? limit : 1;
}

size_t opencl_wg_linear(const struct opencl_impl *cl, enum opencl_kernel_id id)
{
    size_t limit = min_size(kernel_limit(cl, id), WG_TARGET);
    size_t multiple = cl->kernel_multiple[id];
    if (multiple > 0 && limit >= multiple)
        limit -= limit % multiple; /* whole SIMD groups / warps */
    return limit;
}

void opencl_wg_grid(const struct opencl_impl *cl, enum opencl_kernel_id id, size_t n0,
                    size_t n1, size_t local[2])
{
    size_t group = opencl_wg_linear(cl, id);
    size_t multiple = cl->kernel_multiple[id] ? cl->kernel_multiple[id] : 1;
    /* Along dimension 0 take whole multiples up to n0, the rest along dim 1,
     * so a short dimension 0 (a few channels) does not waste the group. */
    size_t x = (n0 + multiple - 1) / multiple * multiple;
    local[0] = min_size(group, x ? x : 1);
    local[1] = min_size(min_size(group / local[0], cl->max_item_sizes[1]), pow2_ceil(n1 ? n1 : 1));
    if (local[1] == 0)
        local[1] = 1;
}

size_t opencl_wg_rows(const struct opencl_impl *cl, enum opencl_kernel_id id, size_t len,
                      size_t floats_per_item)
{
    size_t limit = min_size(kernel_limit(cl, id), WG_TARGET);
    size_t by_local = (size_t)(cl->local_mem / (sizeof(float) * floats_per_item));
    limit = min_size(limit, by_local ? by_local : 1);
    limit = min_size(limit, pow2_ceil(len ? len : 1));
    return pow2_floor(limit);
}

void opencl_wg_columns(const struct opencl_impl *cl, enum opencl_kernel_id id, size_t rows,
                       size_t floats_per_item, size_t local[2])
{
    size_t limit = min_size(kernel_limit(cl, id), WG_TARGET);
    size_t columns = cl->kernel_multiple[id] ? cl->kernel_multiple[id] : 1;
    if (columns > limit)
        columns = limit;
    size_t lanes = limit / columns;
    size_t by_local = (size_t)(cl->local_mem / (sizeof(float) * floats_per_item * columns));
    lanes = min_size(lanes, by_local ? by_local : 1);
    lanes = min_size(lanes, cl->max_item_sizes[1]);
    lanes = min_size(lanes, pow2_ceil(rows ? rows : 1));
    local[0] = columns;
    local[1] = pow2_floor(lanes ? lanes : 1);
}
