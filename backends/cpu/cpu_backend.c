/* backends/cpu/cpu_backend.c — creation, memory and identity of the CPU
 * backend. The ops live in cpu_gemm.c, cpu_layers.c, cpu_llama_layers.c,
 * cpu_loss.c, cpu_optim.c. */
#include "config.h"

#include "backends/cpu/cpu_backend.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "backends/cpu/cpu_internal.h"

const char *cpu_blas_core(void)
{
#ifdef HAVE_OPENBLAS_GET_CORENAME
    return openblas_get_corename();
#else
    return "unknown";
#endif
}

int cpu_blas_core_is_fallback(void)
{
    /* OpenBLAS's DYNAMIC_ARCH picks Prescott (SSE3) or similar old kernels when
     * it does not know the CPU model; on a CPU with AVX2 that is a large loss. */
    static const char *const generic[] = { "Prescott", "Core2", "Penryn", "Nehalem",
                                           "Dunnington", "Atom", "generic" };
    const char *core = cpu_blas_core();
    int generic_core = 0;
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (strcasecmp(core, generic[i]) == 0)
            generic_core = 1;
    return generic_core && cpu_blas_core_for_this_cpu() != NULL;
}

void cpu_blas_core_describe(char *buf, size_t cap)
{
    const char *fallback = getenv(CPU_BLAS_FALLBACK_ENV);
    if (fallback != NULL)
        snprintf(buf, cap, "OpenBLAS core %s (chosen by heft over OpenBLAS's generic '%.24s'; "
                           "OPENBLAS_CORETYPE overrides)", cpu_blas_core(), fallback);
    else
        snprintf(buf, cap, "OpenBLAS core %s%s", cpu_blas_core(),
                 cpu_blas_core_is_fallback() ? " (generic fallback: set OPENBLAS_CORETYPE)" : "");
}

const char *cpu_blas_core_for_this_cpu(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return "Haswell";
#endif
    return NULL;
}

static struct dev_buffer *cpu_alloc(struct backend *be, size_t bytes)
{
    struct dev_buffer *b = malloc(sizeof *b);
    size_t padded = (bytes + 63) / 64 * 64;
    if (!b || posix_memalign(&b->data, 64, padded ? padded : 64) != 0) {
        free(b);
        backend_fail(be, "out of host memory allocating %zu bytes", bytes);
        return NULL;
    }
    b->bytes = bytes;
    return b;
}

static void cpu_release(struct backend *be, struct dev_buffer *b)
{
    (void)be;
    if (b) {
        free(b->data);
        free(b);
    }
}

static int in_bounds(struct backend *be, const char *what, dptr p, size_t bytes)
{
    if (!p.buf || p.off * 4 + bytes > p.buf->bytes) {
        backend_fail(be, "%s out of bounds: offset %zu elements + %zu bytes > buffer of %zu bytes",
                     what, p.off, bytes, p.buf ? p.buf->bytes : 0);
        return 0;
    }
    return 1;
}

static void cpu_upload(struct backend *be, dptr dst, const void *src, size_t bytes)
{
    if (!be->failed && in_bounds(be, "upload", dst, bytes))
        memcpy(cpu_f(dst), src, bytes);
}

static void cpu_download(struct backend *be, void *dst, dptr src, size_t bytes)
{
    if (!be->failed && in_bounds(be, "download", src, bytes))
        memcpy(dst, cpu_f(src), bytes);
}

static void cpu_fill(struct backend *be, dptr dst, float value, size_t n)
{
    if (be->failed)
        return;
    float *d = cpu_f(dst);
    if (value == 0.0f) {
        memset(d, 0, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++)
        d[i] = value;
}

static void cpu_copy(struct backend *be, dptr dst, dptr src, size_t n)
{
    if (!be->failed)
        memcpy(cpu_f(dst), cpu_f(src), n * sizeof(float));
}

static void cpu_finish(struct backend *be)
{
    (void)be; /* every CPU op completes before it returns */
}

static void cpu_destroy(struct backend *be)
{
    if (be) {
        free(be->impl);
        free(be);
    }
}

static const struct backend_ops cpu_ops = {
    .alloc = cpu_alloc,
    .release = cpu_release,
    .upload = cpu_upload,
    .download = cpu_download,
    .fill = cpu_fill,
    .copy = cpu_copy,
    .finish = cpu_finish,
    .destroy = cpu_destroy,
    .gemm = cpu_gemm,
    .add_bias = cpu_add_bias,
    .col_sums = cpu_col_sums,
    .row_sums = cpu_row_sums,
    .encoder_forward = cpu_encoder_forward,
    .encoder_backward = cpu_encoder_backward,
    .layernorm_forward = cpu_layernorm_forward,
    .layernorm_backward = cpu_layernorm_backward,
    .gelu_forward = cpu_gelu_forward,
    .gelu_backward = cpu_gelu_backward,
    .softmax_causal_forward = cpu_softmax_causal_forward,
    .softmax_causal_backward = cpu_softmax_causal_backward,
    .softmax_rows_forward = cpu_softmax_rows_forward,
    .embedding_forward = cpu_embedding_forward,
    .embedding_backward = cpu_embedding_backward,
    .rmsnorm_forward = cpu_rmsnorm_forward,
    .rmsnorm_backward = cpu_rmsnorm_backward,
    .rope_forward = cpu_rope_forward,
    .rope_backward = cpu_rope_backward,
    .swiglu_forward = cpu_swiglu_forward,
    .swiglu_backward = cpu_swiglu_backward,
    .crossentropy_forward = cpu_crossentropy_forward,
    .crossentropy_backward = cpu_crossentropy_backward,
    .adamw = cpu_adamw,
    .sum_squares = cpu_sum_squares,
};

struct backend *cpu_backend_create(const struct backend_options *opts, struct herr *err)
{
    if (opts->threads < 0 || opts->threads > 4096) {
        herr_set(err, "cpu backend: threads %d out of range [0, 4096]", opts->threads);
        return NULL;
    }
    struct backend *be = calloc(1, sizeof *be);
    struct cpu_impl *impl = calloc(1, sizeof *impl);
    if (!be || !impl) {
        free(be);
        free(impl);
        herr_set(err, "cpu backend: out of memory");
        return NULL;
    }
    int threads = opts->threads;
#ifdef _OPENMP
    if (threads == 0)
        threads = omp_get_max_threads();
#else
    if (threads == 0)
        threads = 1;
#endif
    impl->threads = threads;
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    /* heft splits products over its own threads (see cpu_gemm.c) */
    openblas_set_num_threads(1);
#endif
    be->ops = &cpu_ops;
    be->name = "cpu";
    be->impl = impl;
    /* upload and download are a memcpy on the calling thread (no OpenMP
     * team, no shared state but the error flag they read) */
    be->concurrent_transfers = 1;
    be->host_threads = threads;
    char core[160];
    cpu_blas_core_describe(core, sizeof core);
    snprintf(be->device, sizeof be->device, "%d threads, %s", threads, core);
    return be;
}
