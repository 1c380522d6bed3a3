/* backends/cpu/cpu_backend.h — the CPU backend: OpenMP threads and OpenBLAS
 * sgemm. It is the reference every other backend is compared against. */
#ifndef HEFT_CPU_BACKEND_H
#define HEFT_CPU_BACKEND_H

#include "backends/backend.h"

struct backend *cpu_backend_create(const struct backend_options *opts, struct herr *err);

/* The OpenBLAS kernel set in use ("SkylakeX", "Haswell", "Prescott", ...). A
 * generic core such as Prescott on a new CPU means Debian's OpenBLAS did not
 * recognise the processor and runs several times slower than it could; setting
 * OPENBLAS_CORETYPE (e.g. SkylakeX) fixes it. */
const char *cpu_blas_core(void);

/* 1 if the active core set looks like a generic fallback on a CPU that has
 * AVX2/AVX-512 (so the user should be told about OPENBLAS_CORETYPE). */
int cpu_blas_core_is_fallback(void);

/* The OpenBLAS kernel set this CPU can run: "SkylakeX" (AVX-512 F/CD/BW/DQ/VL),
 * "Haswell" (AVX2 + FMA), or NULL (none better than a generic set is known). */
const char *cpu_blas_core_for_this_cpu(void);

/* Set in the environment by the heft program when it restarted itself with
 * OPENBLAS_CORETYPE=cpu_blas_core_for_this_cpu() because OpenBLAS had fallen
 * back to a generic kernel set; its value is that generic set's name. */
#define CPU_BLAS_FALLBACK_ENV "HEFT_OPENBLAS_FALLBACK"

/* "OpenBLAS core SkylakeX", plus how it came about when that matters: chosen
 * by heft over a generic fallback, or a generic fallback (set OPENBLAS_CORETYPE). */
void cpu_blas_core_describe(char *buf, size_t cap);

#endif
