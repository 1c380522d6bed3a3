/* backends/opencl/opencl_internal.h — state shared by the files of the OpenCL
 * backend (creation, memory, kernel launches, ops, GEMM). Not for use outside
 * backends/opencl/. */
#ifndef HEFT_OPENCL_INTERNAL_H
#define HEFT_OPENCL_INTERNAL_H

#include "backends/backend.h"
#include "backends/opencl/cl_errors.h"
#include "backends/opencl/opencl_backend.h"

/* Every kernel of the program, by its name in the .cl files in kernels/. */
#define OPENCL_KERNELS(X)                                                              \
    X(fill) X(add_bias) X(scale_matrix) X(col_sums) X(row_sums) X(sum_squares_partial) \
    X(encoder_forward) X(encoder_links) X(encoder_backward_wte) X(encoder_backward_wpe) \
    X(layernorm_forward) X(layernorm_backward_dinp) X(layernorm_backward_params)        \
    X(gelu_forward) X(gelu_backward) X(softmax_causal_forward)                          \
    X(softmax_causal_backward) X(softmax_rows_forward) X(embedding_forward)             \
    X(rmsnorm_forward)                                                                  \
    X(rmsnorm_backward_dinp) X(rmsnorm_backward_dw) X(rope) X(swiglu_forward)          \
    X(swiglu_backward) X(crossentropy_forward) X(crossentropy_backward) X(adamw)

enum opencl_kernel_id {
#define OPENCL_KERNEL_ENUM(name) KERNEL_##name,
    OPENCL_KERNELS(OPENCL_KERNEL_ENUM)
#undef OPENCL_KERNEL_ENUM
    KERNEL_COUNT
};

struct dev_buffer {
    cl_mem mem;
    size_t bytes; /* as requested (the cl_mem holds at least one byte) */
};

struct opencl_impl {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    cl_program program;
    cl_kernel kernels[KERNEL_COUNT];
    size_t kernel_wg[KERNEL_COUNT];       /* CL_KERNEL_WORK_GROUP_SIZE */
    size_t kernel_multiple[KERNEL_COUNT]; /* CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE */

    /* device limits */
    cl_ulong global_mem, max_alloc, local_mem;
    size_t max_item_sizes[3];
    size_t base_align; /* CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes: sub-buffer origins */

    /* heft's own limits (defaults in opencl_backend.c; tests shrink them
     * through opencl_backend_set_limits so the split paths run on small
     * inputs):
     *  - launch_items0: work-items along dimension 0 per kernel launch, and
     *    launch_groups1: work-groups along dimension 1. A larger grid is cut
     *    into several launches with global offsets (kcall_run): a device with
     *    a 32-bit size_t cannot express a grid past 2^32 items, and CUDA-based
     *    drivers allow at most 65535 groups along dimensions 1 and 2.
     *  - gemm_view_elements: CLBlast passes buffer offsets and computes
     *    indices as int inside its kernels, so no operand of one CLBlast call
     *    may reach past this many elements from the cl_mem it is given
     *    (opencl_gemm.c: sub-buffer views and split products). */
    size_t launch_items0, launch_groups1, gemm_view_elements;

    size_t allocated; /* bytes currently allocated through this backend */

    /* workspaces, allocated once at creation or grown on first need */
    struct dev_buffer *partials; /* sum_squares: one float per work-group */
    size_t max_partials;
    struct dev_buffer *links; /* encoder/embedding_backward: int2 per position */
    size_t links_capacity;    /* in positions */

    struct opencl_setup_info setup;
};

static inline struct opencl_impl *opencl_impl_of(struct backend *be)
{
    return (struct opencl_impl *)be->impl;
}

/* "1.50 GiB"-style size for messages. */
void opencl_format_bytes(char *out, size_t size, double bytes);

/* For an OpenCL error that means the device ran out of memory while backing
 * buffers (CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES; many drivers
 * allocate on first use, so it can surface at any enqueue): a sentence for
 * the message saying how much heft has allocated of what and what to do;
 * "" for any other error. */
void opencl_memory_hint(struct backend *be, cl_int rc, char *out, size_t cap);

/* Name of a kernel as in the .cl source. */
const char *opencl_kernel_name(enum opencl_kernel_id id);

/* 0 if elements [p.off, p.off + n) lie inside p's buffer; otherwise records a
 * sticky error naming the op and the argument and returns -1. Kernels do not
 * check buffer bounds, so every op checks its operands here first. */
int opencl_check_range(struct backend *be, const char *op, const char *arg, dptr p, size_t n);

/* ---- kernel launches (cl_launch.c) -------------------------------------- */

/* Arguments are appended in order; the first failure is recorded as a sticky
 * error naming the kernel and argument, and later calls do nothing. */
struct kcall {
    struct backend *be;
    enum opencl_kernel_id id;
    cl_uint next_arg;
};

struct kcall kcall_begin(struct backend *be, enum opencl_kernel_id id);
void kcall_tensor(struct kcall *c, dptr p); /* two arguments: buffer, element offset */
void kcall_mem(struct kcall *c, cl_mem mem);
void kcall_int(struct kcall *c, int v);
void kcall_ulong(struct kcall *c, size_t v);
void kcall_float(struct kcall *c, float v);
void kcall_local(struct kcall *c, size_t bytes);
/* Enqueues the kernel over `global` items (rounded up to multiples of
 * `local`); does nothing when a global size is 0. */
void kcall_run(struct kcall *c, cl_uint dims, const size_t *global, const size_t *local);

/* Work-group sizes, derived from the device's and the kernel's limits. */
/* For kernels whose items are independent, 1-D. */
size_t opencl_wg_linear(const struct opencl_impl *cl, enum opencl_kernel_id id);
/* For independent items on a 2-D grid of (n0, n1): fills local[2]. */
void opencl_wg_grid(const struct opencl_impl *cl, enum opencl_kernel_id id, size_t n0,
                    size_t n1, size_t local[2]);
/* For a kernel that tree-reduces rows of `len` elements in one work-group
 * with `floats_per_item` local floats per item: a power of two. */
size_t opencl_wg_rows(const struct opencl_impl *cl, enum opencl_kernel_id id, size_t len,
                      size_t floats_per_item);
/* For a column reduction over `rows` rows in 2-D groups of (columns, lanes):
 * fills local[2] with a power-of-two lane count. */
void opencl_wg_columns(const struct opencl_impl *cl, enum opencl_kernel_id id, size_t rows,
                       size_t floats_per_item, size_t local[2]);

/* ---- the ops (opencl_ops.c, opencl_gemm.c, opencl_memory.c) -------------- */
extern const struct backend_ops opencl_backend_ops;

struct dev_buffer *opencl_alloc(struct backend *be, size_t bytes);
void opencl_release(struct backend *be, struct dev_buffer *buf);
void opencl_upload(struct backend *be, dptr dst, const void *src, size_t bytes);
void opencl_download(struct backend *be, void *dst, dptr src, size_t bytes);
void opencl_fill(struct backend *be, dptr dst, float value, size_t n);
void opencl_copy(struct backend *be, dptr dst, dptr src, size_t n);
void opencl_finish(struct backend *be);
void opencl_destroy(struct backend *be);

void opencl_gemm(struct backend *be, int trans_a, int trans_b, int m, int n, int k, float alpha,
                 dptr a, int lda, dptr b, int ldb, float beta, dptr c, int ldc,
                 const struct gemm_batch *batch);

#endif
