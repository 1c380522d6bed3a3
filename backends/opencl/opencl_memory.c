/* backends/opencl/opencl_memory.c — device buffers, transfers, fill, copy,
 * and waiting for the queue. Transfers are the only place data crosses
 * between host and device. */
#include <stdio.h>
#include <stdlib.h>

#include "backends/opencl/opencl_internal.h"

void opencl_format_bytes(char *out, size_t size, double bytes)
{
    static const char *const units[] = { "bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
    int u = 0;
    while (bytes >= 1024.0 && u < 6) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(out, size, u ? "%.2f %s" : "%.0f %s", bytes, units[u]);
}

void opencl_memory_hint(struct backend *be, cl_int rc, char *out, size_t cap)
{
    out[0] = '\0';
    if (rc != CL_MEM_OBJECT_ALLOCATION_FAILURE && rc != CL_OUT_OF_RESOURCES)
        return;
    struct opencl_impl *cl = opencl_impl_of(be);
    char used[32], global[32];
    opencl_format_bytes(used, sizeof used, (double)cl->allocated);
    opencl_format_bytes(global, sizeof global, (double)cl->global_mem);
    snprintf(out, cap,
             "; the device could not back its buffers (heft holds %s of %s global memory): "
             "fewer elements per rank (ZeRO, more ranks), fewer activations (--recompute, a "
             "smaller --batch)",
             used, global);
}

/* Many drivers (NVIDIA's among them) reserve device memory only when a
 * buffer is first used, so an allocation the device cannot hold "succeeds"
 * and fails later inside some kernel, far from its cause. Writing one
 * element now, and waiting for it, makes the driver back the buffer here,
 * where the error can name it and its size. */
static cl_int back_now(struct opencl_impl *cl, cl_mem mem)
{
    const cl_uint zero = 0;
    return clEnqueueWriteBuffer(cl->queue, mem, CL_TRUE, 0, sizeof zero, &zero, 0, NULL, NULL);
}

struct dev_buffer *opencl_alloc(struct backend *be, size_t bytes)
{
    if (be->failed)
        return NULL;
    struct opencl_impl *cl = opencl_impl_of(be);
    char asked[32], global[32], limit[32], used[32];
    opencl_format_bytes(asked, sizeof asked, (double)bytes);
    opencl_format_bytes(global, sizeof global, (double)cl->global_mem);
    opencl_format_bytes(limit, sizeof limit, (double)cl->max_alloc);
    opencl_format_bytes(used, sizeof used, (double)cl->allocated);
    /* One cl_mem per heft buffer (see docs/ARCHITECTURE.md, "Buffers past
     * 4 GiB"): a request past the device's largest single allocation is
     * refused here, with what would make it fit, rather than by
     * clCreateBuffer's bare CL_INVALID_BUFFER_SIZE. */
    if (bytes > cl->max_alloc) {
        backend_fail(be,
                     "a buffer of %s (%zu bytes) is more than this device's largest single "
                     "allocation, CL_DEVICE_MAX_MEM_ALLOC_SIZE = %s (global memory %s). Make "
                     "the largest buffer smaller: shard the model states over more ranks "
                     "(ZeRO), keep fewer activations (--recompute, a smaller --batch), or use "
                     "a device with a larger limit",
                     asked, bytes, limit, global);
        return NULL;
    }
    if (bytes > cl->global_mem - cl->allocated) {
        backend_fail(be,
                     "a buffer of %s (%zu bytes): out of device memory (global memory %s, "
                     "%s already allocated by heft)",
                     asked, bytes, global, used);
        return NULL;
    }
    struct dev_buffer *buf = malloc(sizeof *buf);
    if (!buf) {
        backend_fail(be, "a buffer of %s: out of host memory for the buffer record", asked);
        return NULL;
    }
    cl_int rc;
    buf->mem = clCreateBuffer(cl->context, CL_MEM_READ_WRITE, bytes ? bytes : 1, NULL, &rc);
    if (rc == CL_SUCCESS && bytes >= sizeof(cl_uint)) {
        rc = back_now(cl, buf->mem);
        if (rc != CL_SUCCESS)
            clReleaseMemObject(buf->mem);
    }
    if (rc != CL_SUCCESS) {
        free(buf);
        backend_fail(be, "a buffer of %s (%zu bytes) could not be allocated: %s (%d) (global "
                         "memory %s, %s already allocated by heft)",
                     asked, bytes, cl_error_name(rc), rc, global, used);
        return NULL;
    }
    buf->bytes = bytes;
    cl->allocated += bytes;
    return buf;
}

void opencl_release(struct backend *be, struct dev_buffer *buf)
{
    /* Runs even after an error: releasing is how callers clean up. */
    if (!buf)
        return;
    struct opencl_impl *cl = opencl_impl_of(be);
    clReleaseMemObject(buf->mem);
    cl->allocated -= buf->bytes;
    free(buf);
}

/* Checks a byte range of a transfer: whole elements inside the buffer. */
static int check_bytes(struct backend *be, const char *op, dptr p, size_t bytes)
{
    if (bytes % sizeof(float) != 0) {
        backend_fail(be, "%s: %zu bytes is not a whole number of 4-byte elements", op, bytes);
        return -1;
    }
    return opencl_check_range(be, op, "buffer", p, bytes / sizeof(float));
}

/* Blocking write (upload) or read (download) of whole elements: the caller
 * may reuse or read its host memory at once, as with the CPU backend. */
static void transfer(struct backend *be, int write, dptr p, void *host, size_t bytes)
{
    const char *op = write ? "upload" : "download";
    if (be->failed || bytes == 0 || check_bytes(be, op, p, bytes))
        return;
    struct opencl_impl *cl = opencl_impl_of(be);
    size_t at = p.off * sizeof(float);
    cl_int rc = write ? clEnqueueWriteBuffer(cl->queue, p.buf->mem, CL_TRUE, at, bytes, host, 0,
                                             NULL, NULL)
                      : clEnqueueReadBuffer(cl->queue, p.buf->mem, CL_TRUE, at, bytes, host, 0,
                                            NULL, NULL);
    if (rc != CL_SUCCESS) {
        char hint[320];
        opencl_memory_hint(be, rc, hint, sizeof hint);
        backend_fail(be, "%s(%s of %zu bytes at element %zu): %s (%d)%s",
                     write ? "clEnqueueWriteBuffer" : "clEnqueueReadBuffer", op, bytes, p.off,
                     cl_error_name(rc), rc, hint);
    }
}

void opencl_upload(struct backend *be, dptr dst, const void *src, size_t bytes)
{
    transfer(be, 1, dst, (void *)src, bytes); /* only read from: clEnqueueWriteBuffer */
}

void opencl_download(struct backend *be, void *dst, dptr src, size_t bytes)
{
    transfer(be, 0, src, dst, bytes);
}

void opencl_fill(struct backend *be, dptr dst, float value, size_t n)
{
    if (opencl_check_range(be, "fill", "dst", dst, n))
        return;
    struct opencl_impl *cl = opencl_impl_of(be);
    struct kcall c = kcall_begin(be, KERNEL_fill);
    kcall_tensor(&c, dst);
    kcall_float(&c, value);
    kcall_ulong(&c, n);
    size_t local = opencl_wg_linear(cl, KERNEL_fill);
    kcall_run(&c, 1, &n, &local);
}

void opencl_copy(struct backend *be, dptr dst, dptr src, size_t n)
{
    if (opencl_check_range(be, "copy", "dst", dst, n) ||
        opencl_check_range(be, "copy", "src", src, n) || n == 0)
        return;
    struct opencl_impl *cl = opencl_impl_of(be);
    /* The runtime's own copy: the DMA engine where there is one, and it
     * reports overlapping ranges (CL_MEM_COPY_OVERLAP) instead of corrupting. */
    cl_int rc = clEnqueueCopyBuffer(cl->queue, src.buf->mem, dst.buf->mem,
                                    src.off * sizeof(float), dst.off * sizeof(float),
                                    n * sizeof(float), 0, NULL, NULL);
    if (rc != CL_SUCCESS) {
        char hint[320];
        opencl_memory_hint(be, rc, hint, sizeof hint);
        backend_fail(be, "clEnqueueCopyBuffer(copy of %zu elements): %s (%d)%s", n,
                     cl_error_name(rc), rc, hint);
    }
}

void opencl_finish(struct backend *be)
{
    if (be->failed)
        return;
    cl_int rc = clFinish(opencl_impl_of(be)->queue);
    if (rc != CL_SUCCESS)
        backend_fail(be, "clFinish: %s (%d)", cl_error_name(rc), rc);
}
